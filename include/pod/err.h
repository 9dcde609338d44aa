/* SPDX-License-Identifier: MIT */
/* err.h - the error idiom shared by every module.
 *
 * A fallible function returns int (0 ok / -1 error) or a pointer (NULL on error) and takes
 * `struct pod_err *err` as its last parameter.  Library code never prints and never exits:
 * it fills the fixed buffer below and the program's main prints it once.
 * Nothing here allocates; a struct pod_err needs no release.
 */
#ifndef POD_ERR_H
#define POD_ERR_H

#include <stdarg.h>

/* Process exit codes (after s6).  Documented in SPEC.md "Exit codes". */
enum {
    POD_EXIT_OK = 0,
    POD_EXIT_REJECTED = 1, /* spec rejected / action failed */
    POD_EXIT_INTERNAL = 101,
    POD_EXIT_USAGE = 100,
    POD_EXIT_SYSTEM = 111,
};

enum pod_err_code {
    POD_E_OK = 0,
    POD_E_USAGE,    /* bad command line */
    POD_E_IO,       /* file system / OS call failed */
    POD_E_NOMEM,    /* allocation failed (only where we do not abort) */
    POD_E_INVALID,  /* bad input data (not a spec diagnostic) */
    POD_E_CORRUPT,  /* damaged embedded image, bad checksum */
    POD_E_NOTFOUND, /* something named does not exist */
    POD_E_TIMEOUT,  /* a deadline passed */
    POD_E_BACKEND,  /* container backend failed */
    POD_E_INTERNAL, /* "can't happen" */
    POD_E_FAILED,   /* an operation was refused or failed (podman said no): the action failed */
};

struct pod_err {
    int code;      /* enum pod_err_code */
    int sys_errno; /* errno at the failure, or 0 */
    char msg[512];
};

/* clang-format off */
#define POD_ERR_ZERO {.code = 0}
/* clang-format on */

#if defined(__GNUC__)
#define POD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define POD_WUR __attribute__((warn_unused_result))
#else
#define POD_PRINTF(a, b)
#define POD_WUR
#endif

/* Sets code/errno/message (appending ": strerror(errno)" when sys_errno != 0).  Returns -1. */
int pod_err_set(struct pod_err *e, int code, int sys_errno, const char *fmt, ...) POD_PRINTF(4, 5);
/* Prefixes the current message with "ctx: ".  Returns -1. */
int pod_err_wrap(struct pod_err *e, const char *fmt, ...) POD_PRINTF(2, 3);
/* Maps an error code to the process exit code (POD_EXIT_*). */
int pod_err_exit_code(const struct pod_err *e);

#endif
