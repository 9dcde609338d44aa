/* SPDX-License-Identifier: MIT */
/* selfexe.c - the path that runs this executable again (see pod/util.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/util.h"

const char *pod_self_exe(void)
{
    static char path[4096];
    const char *v = getenv("POD_SELF_EXE_BY_PATH");
    if (!v || strcmp(v, "1") != 0)
        return "/proc/self/exe";
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0 || (size_t)n >= sizeof path - 1)
        return "/proc/self/exe";
    path[n] = 0;
    return path;
}
