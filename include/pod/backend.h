/* SPDX-License-Identifier: MIT */
/* backend.h - the container backend seam: a const ops table with a `void *self`, one
 * implementation per file (podman: src/backend/backend_podman.c, the runtime issue; simulated:
 * sim/backend_sim.c).  The supervisor never calls it: the driver (daemon loop or simulator)
 * turns sup actions into backend calls and backend events into sup events.
 *
 * All long operations are asynchronous: a call only starts the work and returns; completion
 * arrives later as a struct backend_event from poll_events().  Every container operation names
 * the container by spec index and by *instance* (a number the supervisor assigns to each start),
 * so a late event about an older instance can be recognised and dropped.  Every exec/probe has a
 * tag (unique per request) and a deadline; cancel() must stop the work *inside* the container
 * (killing only a `podman exec` client leaves the command running; podman 4.3 has no exec
 * timeout), and a cancelled request never reports success afterwards.
 */
#ifndef POD_BACKEND_H
#define POD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/spec.h"

enum backend_stream { BACKEND_STDOUT = 0, BACKEND_STDERR = 1 };

enum backend_result {
    BACKEND_OK = 0,  /* exec exited 0 / tcp connected / http 2xx-3xx */
    BACKEND_FAIL,    /* exec exited non-zero / refused / http other status */
    BACKEND_UNKNOWN, /* the backend itself failed (podman 125/126/127, container gone) */
    BACKEND_TIMEOUT, /* deadline passed (reported by the driver after cancel) */
};

enum backend_event_type {
    BACKEND_EV_STARTED = 1,  /* container instance is running */
    BACKEND_EV_START_FAILED, /* could not create/start; msg says why */
    BACKEND_EV_EXITED,       /* container instance exited; exit_code valid */
    BACKEND_EV_EXEC_DONE,    /* exec/probe `tag` finished; result + exit_code */
    BACKEND_EV_OUTPUT,       /* bytes the container wrote on stream (data/len, borrowed until
                                the next poll_events call) */
    BACKEND_EV_OUTPUT_EOF,   /* the container's stream was closed */
    /* [rt-be, issue 10] an asynchronous failure of a call that had returned 0: op says which
       (stop/kill/remove/cancel/pod create/pod remove), ctr/instance/tag what it was about
       (ctr SIZE_MAX for the pod), exit_code the signal for BACKEND_OP_KILL, msg why */
    BACKEND_EV_CALL_FAILED,
};

/* [rt-be, issue 10] the call a BACKEND_EV_CALL_FAILED is about */
enum backend_op {
    BACKEND_OP_NONE = 0,
    BACKEND_OP_POD_CREATE,
    BACKEND_OP_POD_REMOVE,
    BACKEND_OP_STOP,
    BACKEND_OP_KILL, /* ctr_kill: a kill or a SIGNAL action */
    BACKEND_OP_REMOVE,
    BACKEND_OP_CANCEL,
};

struct backend_event {
    enum backend_event_type type;
    size_t ctr;        /* spec container index */
    uint64_t instance; /* supervisor instance number */
    uint64_t tag;      /* EXEC_DONE */
    enum backend_result result;
    int exit_code;
    enum backend_stream stream;
    enum backend_op op; /* [rt-be] CALL_FAILED */
    const char *data;
    size_t len;
    char msg[160];
};

/* What the backend knows about one container right now (inspect: the source of truth; events
 * are only wake-ups and may be lost or duplicated). */
struct backend_ctr_state {
    bool exists;
    bool running;
    uint64_t instance; /* from the container's label; 0 if unknown */
    int exit_code;     /* valid when exists && !running */
    int64_t started_wall_ns, finished_wall_ns;
};

enum backend_probe_kind { BACKEND_PROBE_EXEC = 0, BACKEND_PROBE_TCP, BACKEND_PROBE_HTTP };

struct backend_probe_req {
    enum backend_probe_kind kind;
    size_t ctr;
    uint64_t instance;
    uint64_t tag;
    int64_t deadline_mono_ms;
    char *const *argv; /* EXEC (borrowed for the call) */
    const char *host;  /* TCP/HTTP: address, e.g. "127.0.0.1" */
    int port;          /* TCP/HTTP */
    const char *http_path;
    int role; /* informational: the sup_probe_role that asked (the sim scripts results per role;
                 real backends ignore it) */
};

struct backend_ops {
    const char *name;
    /* Pod-level. */
    int (*pod_create)(void *self, struct pod_err *err);
    int (*pod_remove)(void *self, struct pod_err *err);
    /* Removes any previous container of ctr, creates and starts `instance`.  Async: STARTED or
     * START_FAILED follows. */
    int (*ctr_start)(void *self, size_t ctr, uint64_t instance, struct pod_err *err);
    /* Graceful stop: the container's stop signal, then SIGKILL after timeout_ms.  EXITED
     * follows. */
    int (*ctr_stop)(void *self, size_t ctr, uint64_t instance, int64_t timeout_ms,
                    struct pod_err *err);
    int (*ctr_kill)(void *self, size_t ctr, uint64_t instance, int sig, struct pod_err *err);
    int (*ctr_remove)(void *self, size_t ctr, struct pod_err *err);
    /* Starts an exec (signal cmd) or a probe.  Async: EXEC_DONE with req->tag follows, unless
     * cancelled first. */
    int (*probe)(void *self, const struct backend_probe_req *req, struct pod_err *err);
    /* Stops request `tag` (killing the process inside the container); no EXEC_DONE follows. */
    int (*cancel)(void *self, uint64_t tag, struct pod_err *err);
    /* Synchronous truth about one container. */
    int (*inspect)(void *self, size_t ctr, struct backend_ctr_state *out, struct pod_err *err);
    /* Drains up to max pending events into evs; returns the count (0 = none). */
    int (*poll_events)(void *self, struct backend_event *evs, size_t max, struct pod_err *err);
    /* Earliest time (mono ms) at which the backend itself has something to report, or
     * INT64_MAX.  The sim uses it to schedule; podman returns INT64_MAX and wakes up the loop
     * through its file descriptors instead. */
    int64_t (*next_deadline)(void *self);
};

struct backend {
    const struct backend_ops *ops;
    void *self;
};

#endif
