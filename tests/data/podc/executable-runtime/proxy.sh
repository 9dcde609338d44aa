#!/bin/sh
echo "I am a proxy: $*"
