/* SPDX-License-Identifier: MIT */
/* rt_podman.c - how the command line runs podman (pod/rt.h): one child per call from an argv
 * array, to its end, with a deadline, in the pod directory, without LD_PRELOAD/FAKETIME.
 * Nothing here decides anything about containers. */
#include "pod/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

const char *rt_podman_bin(void)
{
    const char *p = getenv("POD_PODMAN");
    return p && *p ? p : "podman";
}

void rt_argv_ctx(const struct rt_ctx *c, struct podman_argv_ctx *out)
{
    memset(out, 0, sizeof *out);
    out->spec = c->spec;
    out->podman = c->podman ? c->podman : rt_podman_bin();
    out->pod_dir = c->pod_dir;
}

int rt_podman_run(const struct rt_ctx *c, char *const *argv, int64_t timeout_ms,
                  struct proc_result *res, struct pod_err *err)
{
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.cwd = c->pod_dir;
    o.fd_out = PROC_FD_CAPTURE;
    o.fd_err = PROC_FD_CAPTURE;
    o.new_session = true;
    o.strip_preload = true;
    memset(res, 0, sizeof *res);
    if (proc_run(&o, timeout_ms, res, err) < 0) {
        err->code = POD_E_BACKEND; /* podman missing or not executable: a system failure */
        return -1;
    }
    return 0;
}

void rt_podman_why(const struct proc_result *res, char *buf, size_t cap)
{
    if (res->timed_out) {
        snprintf(buf, cap, "podman timed out");
        return;
    }
    podman_error_line(res->err ? res->err : "", res->err_len, buf, cap);
    if (buf[0])
        return;
    if (res->signal)
        snprintf(buf, cap, "podman killed by signal %d", res->signal);
    else
        snprintf(buf, cap, "podman exited %d", res->code);
}
