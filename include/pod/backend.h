/* SPDX-License-Identifier: MIT */
/* backend.h - the container backend seam: a const ops table with a `void *self`, one
 * implementation per file (podman: src/backend/backend_podman.c, the runtime issue; simulated:
 * sim/backend_sim.c).  Its only caller is the driver (src/drv), which turns sup actions into
 * backend calls and backend events into sup events; the supervisor never includes this file
 * (the event types it shares with the backend are in pod/event.h).
 *
 * A backend carries out calls and reports what happened; it does not decide: a call that
 * cannot be made returns -1 with err saying why and is not retried or escalated inside the
 * backend (the driver hands the failure to the supervisor, SUP_EV_CALL_FAILED, which decides).
 * A call that returned 0 and fails later (podman exits non-zero, its deadline passes) reports
 * BACKEND_EV_CALL_FAILED (pod/event.h: op, ctr, instance, tag, the signal, why); the driver
 * hands that to the supervisor the same way (SPEC.md 10.1).
 *
 * All long operations are asynchronous: a call only starts the work and returns; completion
 * arrives later as a struct backend_event from poll_events().  Every container operation names
 * the container by spec index and by *instance* (a number the supervisor assigns to each start),
 * so a late event about an older instance can be recognised and dropped.  Every exec/probe has a
 * tag (unique per request) and a deadline, and reports exactly one EXEC_DONE(tag); cancel()
 * must stop the work *inside* the container (killing only a `podman exec` client leaves the
 * command running; podman 4.3 has no exec timeout) and that EXEC_DONE confirms it is gone
 * (below).  The supervisor never credits the result of a request it cancelled.
 */
#ifndef POD_BACKEND_H
#define POD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/event.h"
#include "pod/spec.h"

struct backend_ops {
    const char *name;
    /* Pod-level (a later failure: CALL_FAILED op POD_CREATE / POD_REMOVE, ctr SIZE_MAX).
     * pod_create after the backend reported BACKEND_EV_INFRA_DOWN makes the pod anew: the pod
     * with the dead infra is removed first (SPEC.md 7.8, 8.11). */
    int (*pod_create)(void *self, struct pod_err *err);
    int (*pod_remove)(void *self, struct pod_err *err);
    /* Removes any previous container of ctr, creates and starts `instance`.  Async: STARTED or
     * START_FAILED follows. */
    int (*ctr_start)(void *self, size_t ctr, uint64_t instance, struct pod_err *err);
    /* Graceful stop: the container's stop signal, then SIGKILL after timeout_ms.  EXITED
     * follows (a later failure: CALL_FAILED op STOP). */
    int (*ctr_stop)(void *self, size_t ctr, uint64_t instance, int64_t timeout_ms,
                    struct pod_err *err);
    /* Sends sig (a kill, or a configured signal).  A later failure: CALL_FAILED op KILL with
     * exit_code = sig. */
    int (*ctr_kill)(void *self, size_t ctr, uint64_t instance, int sig, struct pod_err *err);
    /* Removes ctr's container whatever its state (podman rm -f NAME): a running one is killed
     * (EXITED follows), and one that is created but not started yet can never start afterwards
     * (a `podman run` still in flight fails).  No event marks the end: inspect shows the
     * container gone.  A later failure: CALL_FAILED op REMOVE. */
    int (*ctr_remove)(void *self, size_t ctr, struct pod_err *err);
    /* Starts an exec (signal cmd) or a probe.  Async: exactly one EXEC_DONE with req->tag
     * follows, whether or not the request is cancelled. */
    int (*probe)(void *self, const struct backend_probe_req *req, struct pod_err *err);
    /* Stops request `tag`, killing its process inside the container.  After it returned 0,
     * either the request's EXEC_DONE(tag) follows once the process is gone, with result
     * BACKEND_CANCELLED (or its own result, when it ended by itself first; nothing more when
     * that was already reported), or, when the cancel could not be done, CALL_FAILED with op
     * CANCEL and the tag (the request goes on, and its EXEC_DONE comes when it ends).  The
     * supervisor cancels again until the EXEC_DONE (SPEC.md 8.6). */
    int (*cancel)(void *self, uint64_t tag, struct pod_err *err);
    /* Synchronous truth about one container. */
    int (*inspect)(void *self, size_t ctr, struct backend_ctr_state *out, struct pod_err *err);
    /* Drains up to max pending events into evs; returns the count (0 = none). */
    int (*poll_events)(void *self, struct backend_event *evs, size_t max, struct pod_err *err);
    /* Earliest time (mono ms) at which the backend itself has something to report, or
     * INT64_MAX.  The sim uses it to schedule; podman returns INT64_MAX and wakes up the loop
     * through its file descriptors instead. */
    int64_t (*next_deadline)(void *self);
    /* Optional (NULL: nothing to do).  An operator cycles ctr (`rerun NAME`): its next start
     * must create it anew from the current image and definition, so anything the backend
     * prepared ahead for it (a warm standby, SPEC.md 7.8.2) is dropped.  No event follows. */
    void (*ctr_renew)(void *self, size_t ctr);
};

struct backend {
    const struct backend_ops *ops;
    void *self;
};

#endif
