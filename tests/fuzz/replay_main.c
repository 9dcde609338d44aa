/* SPDX-License-Identifier: MIT */
/* replay_main.c - a plain main for every fuzz target (`make fuzz-replay`, part of `make test`):
 * feeds each file named on the command line to LLVMFuzzerTestOneInput once, so the seed corpora
 * run under the normal, asan and valgrind builds without libFuzzer. */
#include "pod/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        struct pod_err err = POD_ERR_ZERO;
        if (pod_read_file(argv[i], 8u << 20, &buf, &len, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        free(buf);
    }
    printf("replayed %d input(s)\n", argc - 1);
    return 0;
}
