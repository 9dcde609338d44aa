/* SPDX-License-Identifier: MIT */
/* err.c - fills struct pod_err.  No I/O, no allocation. */
#include "pod/err.h"

#include <stdio.h>
#include <string.h>

int pod_err_set(struct pod_err *e, int code, int sys_errno, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        e->msg[0] = '\0';
    e->code = code;
    e->sys_errno = sys_errno;
    if (sys_errno) {
        size_t len = strlen(e->msg);
        snprintf(e->msg + len, sizeof e->msg - len, ": %s", strerror(sys_errno));
    }
    return -1;
}

int pod_err_wrap(struct pod_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char tmp[sizeof e->msg];
    if (snprintf(tmp, sizeof tmp, "%s: %s", prefix, e->msg) < 0) /* checked: gcc -O2 */
        return -1;
    memcpy(e->msg, tmp, sizeof tmp);
    return -1;
}

int pod_err_exit_code(const struct pod_err *e)
{
    switch (e->code) {
    case POD_E_OK:
        return POD_EXIT_OK;
    case POD_E_USAGE:
        return POD_EXIT_USAGE;
    case POD_E_INTERNAL:
        return POD_EXIT_INTERNAL;
    case POD_E_INVALID:
    case POD_E_CORRUPT:
    case POD_E_NOTFOUND:
    case POD_E_FAILED:
        return POD_EXIT_REJECTED;
    default:
        return POD_EXIT_SYSTEM;
    }
}
