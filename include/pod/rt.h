/* SPDX-License-Identifier: MIT */
/* rt.h - the compiled pod executable's command line (the Pod API). */
#ifndef POD_RT_H
#define POD_RT_H

#include "pod/spec.h"

#define POD_RUNTIME_VERSION "podman 1.0.0"

/* Runs one Pod API action.  self_path is the pod executable (its directory is the pod
 * directory).  spec is borrowed.  Returns the exit code. */
int rt_main(int argc, char **argv, const char *self_path, const struct pod_spec *spec);

#endif
