/* SPDX-License-Identifier: MIT */
/* daemon_agent.h - the exec strategy of the daemon's podman backend: exec probes and signal
 * commands through the in-container agent (pod/agent.h), with `podman exec` as the fallback
 * (SPEC.md 7, "The exec agent").  Private to src/daemon.
 *
 * One agent per container instance that needs one (an exec probe or a signal cmd): when the
 * backend reports the instance's PID 1, `podman exec -d CTR /.podc/agent __agent ...` is
 * started as a child of the loop (a deadline, never waited for), then the client connects.
 * Until the agent said HELLO, and after its connection was lost, every request is declined
 * (the backend runs `podman exec` itself).  After an adoption an agent of the previous daemon
 * may still listen: its socket is tried first.  Every request taken gets exactly one result
 * through cfg.done (the daemon: backend_podman_exec_done): its own, BACKEND_CANCELLED once the
 * agent confirmed a cancel, or, when the instance ends, CANCELLED / UNKNOWN (its processes died
 * with the container's pid namespace). Ownership: the cfg strings are copied; loop and clock are
 * borrowed.
 */
#ifndef POD_DAEMON_AGENT_H
#define POD_DAEMON_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/loop.h"
#include "pod/podman.h"
#include "pod/spec.h"

#define DAGENT_START_TIMEOUT_MS 30000 /* `podman exec -d` of the agent */
#define DAGENT_CONNECT_MS 5000        /* from its start to HELLO */
#define DAGENT_PROBE_EXISTING_MS 500  /* an agent left by the previous daemon */
#define DAGENT_GRACE_MS 2000          /* the agent's timeout: the request's deadline + this */

struct dagent_cfg {
    struct loop *loop;
    const struct clk *clk;
    const struct pod_spec *spec; /* borrowed for the strategy's life */
    const char *pod_dir;         /* the cwd of podman */
    const char *run_dir;         /* <poddir>/.<b>.run: <ctr>/agent.sock inside */
    /* beneath: the sockets are reached as `<basename of run_dir>/<ctr>/agent.sock` beneath
     * pod_dirfd (borrowed; the daemon's), no link followed (SPEC 7.5.1): stat, unlink and
     * connect; false (tests): by their paths. */
    bool beneath;
    int pod_dirfd;
    const char *podman; /* the podman binary */
    bool enabled;       /* false: decline everything (the pod has no agent mounts) */
    /* A request's one result (called from the loop's callbacks and from dagent_tick and
     * dagent_instance, never from dagent_start/dagent_cancel). */
    void (*done)(void *arg, uint64_t tag, enum backend_result r, int code, const char *msg);
    void *done_arg;
};

struct dagent;

struct dagent *dagent_new(const struct dagent_cfg *cfg);
/* The struct podman_exec_ops functions (self = the dagent). */
int dagent_start(struct dagent *a, const struct backend_probe_req *req, struct pod_err *err);
int dagent_cancel(struct dagent *a, uint64_t tag, struct pod_err *err);
/* id: the instance's container id (its agent is started through it), NULL: by name. */
void dagent_instance(struct dagent *a, size_t ctr, uint64_t instance, int pid, const char *id);
int64_t dagent_next_deadline(struct dagent *a);
void dagent_tick(struct dagent *a);
void dagent_free(struct dagent *a);

/* Counters (tests, the bench, `pod ps`). */
struct dagent_stats {
    uint64_t starts, start_failures, ready, lost, runs, declined, cancels;
};
void dagent_stats(const struct dagent *a, struct dagent_stats *out);
/* Whether container ctr's current instance is served by its agent now. */
bool dagent_ready(const struct dagent *a, size_t ctr);

#endif
