/* SPDX-License-Identifier: MIT */
/* podman_infra.c - the podman pod's infra container, watched (see podman_int.h, SPEC.md 7.8
 * "Infra container", 8.11).
 *
 * The infra container holds the pod's network namespace (its published ports, the localhost
 * the containers share).  When its process dies, podman 4.3.1 either starts a new infra (a new
 * namespace) at the next `run --pod`, leaving the running containers in the old one, or, when
 * its conmon died too, fails every later start in the pod ("failed to open /proc/PID/ns/ipc").
 * The backend learns the infra's PID 1 once a container of the pod started (one `ps -a
 * --filter pod=P`), watches it with a pidfd like a container's, and reports
 * BACKEND_EV_INFRA_DOWN once when it is gone, or when a failed start finds it not running.
 * It decides nothing: the supervisor answers with POD_CREATE, which then removes the old pod
 * first (backend_podman.c).
 */
#include "podman_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pod/loop.h"
#include "pod/pidfd.h"

static void infra_close(struct pm *pm)
{
    if (pm->infra.pidfd > 0) {
        loop_del(pm->cfg.loop, pm->infra.pidfd);
        close(pm->infra.pidfd);
    }
    pm->infra.pidfd = -1;
}

static void infra_down(struct pm *pm, const char *msg)
{
    infra_close(pm);
    pm->infra.st = IW_DOWN;
    pm->infra.recreate = true;
    pm_event(pm, BACKEND_EV_INFRA_DOWN, SIZE_MAX, 0, msg);
}

static void on_infra_pidfd(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct pm *pm = arg;
    char msg[160];
    snprintf(msg, sizeof msg, "its process (pid %d) exited", pm->infra.pid);
    infra_down(pm, msg);
}

void infra_want(struct pm *pm, size_t ctr, bool failed)
{
    if (ctr >= pm->n || pm->spec->containers[ctr].network_host || pm->infra.st != IW_NONE)
        return;
    pm->infra.after_failure = failed;
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_infra_ps(&pm->actx, &err);
    if (!argv)
        return;
    struct call *c = call_new(CALL_INFRA, argv, SIZE_MAX, 0, PODMAN_SHORT_TIMEOUT_MS);
    c->capture_out = true;
    pm->infra.st = IW_LOOKUP;
    call_submit(pm, c);
}

void infra_lookup_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    (void)c;
    if (pm->infra.st != IW_LOOKUP)
        return; /* the pod was made anew meanwhile */
    pm->infra.st = IW_NONE;
    struct podman_ctr_info *v = NULL;
    size_t n = 0;
    struct pod_err err = POD_ERR_ZERO;
    if (!(r->spawned && r->exited && r->code == 0) ||
        podman_parse_ps(r->out, r->out_len, &v, &n, &err) < 0) {
        pod_log(POD_LOG_DEBUG, "podman backend: infra lookup failed: %s",
                r->msg[0] ? r->msg : err.msg);
        return; /* looked up again at the next start */
    }
    const struct podman_ctr_info *in = NULL;
    for (size_t i = 0; i < n && !in; i++)
        if (v[i].is_infra)
            in = &v[i];
    char msg[160] = "";
    if (!in && pm->infra.after_failure) {
        /* a start failed and the pod has no infra (a removal half done): made anew too.  Only
         * then: after a good start a listing without it proves nothing (and must not loop) */
        snprintf(msg, sizeof msg, "the pod has no infra container");
    } else if (!in) {
        pod_log(POD_LOG_DEBUG, "podman backend: the pod has no infra container");
    } else if (in->state != PODMAN_ST_RUNNING || in->pid <= 0) {
        snprintf(msg, sizeof msg, "infra container %s is %s", in->name,
                 in->state == PODMAN_ST_EXITED ? "exited" : "not running");
    } else {
        int fd = pod_pidfd_open(in->pid);
        if (fd < 0) {
            snprintf(msg, sizeof msg, "infra container %s: its process (pid %d) is gone", in->name,
                     in->pid);
        } else {
            /* A pid that does not look like the infra's (a recycled one) is watched all the
             * same: a wrong identity check must never make the pod restart again and again;
             * the worst is one restart more, or a death seen only at the next failed start. */
            if (!es_pid_is_container(in->pid, in->id, in->started_wall_ns))
                pod_log(POD_LOG_DEBUG, "podman backend: infra pid %d: identity not confirmed",
                        in->pid);
            struct pod_err lerr = POD_ERR_ZERO;
            if (loop_add(pm->cfg.loop, fd, LOOP_IN, on_infra_pidfd, pm, &lerr) == 0) {
                pm->infra.pid = in->pid;
                pm->infra.pidfd = fd;
                pm->infra.st = IW_ARMED;
            } else {
                pod_log(POD_LOG_WARN, "podman backend: %s", lerr.msg);
                close(fd);
            }
        }
    }
    podman_ctr_infos_free(v, n);
    if (msg[0])
        infra_down(pm, msg);
}

void infra_reset(struct pm *pm)
{
    infra_close(pm);
    pm->infra.st = IW_NONE;
    pm->infra.pid = 0;
}

void infra_free(struct pm *pm)
{
    infra_close(pm);
}
