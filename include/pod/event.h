/* SPDX-License-Identifier: MIT */
/* event.h - the words the backend, the driver and the supervisor share: what a container
 * backend reports (struct backend_event, struct backend_ctr_state) and what a probe request
 * says (struct backend_probe_req).  Plain data owned by no module: no functions, no I/O.
 *
 * backend.h (the seam that produces these) and sup.h (the state machine that consumes them)
 * both include this file, so the supervisor never depends on the backend interface.
 * Ownership: pointers inside these structs are borrowed (see each field).
 */
#ifndef POD_EVENT_H
#define POD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum backend_stream { BACKEND_STDOUT = 0, BACKEND_STDERR = 1 };

enum backend_result {
    BACKEND_OK = 0,    /* exec exited 0 / tcp connected / http 2xx-3xx */
    BACKEND_FAIL,      /* exec exited non-zero / refused / http other status */
    BACKEND_UNKNOWN,   /* the backend itself failed (podman 125/126/127, container gone) */
    BACKEND_TIMEOUT,   /* deadline passed: the supervisor's own verdict when it cancels an
                          attempt (no backend reports it) */
    BACKEND_CANCELLED, /* EXEC_DONE after cancel(tag): the process is gone (backend.h) */
};

enum backend_event_type {
    BACKEND_EV_STARTED = 1,  /* container instance is running */
    BACKEND_EV_START_FAILED, /* could not create/start; msg says why */
    BACKEND_EV_EXITED,       /* container instance exited; exit_code valid */
    BACKEND_EV_EXEC_DONE,    /* exec/probe `tag` finished; result + exit_code */
    BACKEND_EV_OUTPUT,       /* bytes the container wrote on stream (data/len, borrowed until
                                the next poll_events call) */
    BACKEND_EV_OUTPUT_EOF,   /* the container's stream was closed */
    BACKEND_EV_CALL_FAILED,  /* an asynchronous failure of a call that had returned 0: op says
                                which (stop/kill/remove/cancel/pod create/pod remove), ctr/instance/
                                tag what it was about (ctr SIZE_MAX for the pod), exit_code the
                                signal for BACKEND_OP_KILL, msg why */
    BACKEND_EV_WARNING,      /* a problem the backend worked around (msg, ctr): logged and
                                shown as lastWarning; nothing for the supervisor */
    BACKEND_EV_INFRA_DOWN,   /* the pod's infra container (the holder of the pod's network
                                namespace) is not running: ctr SIZE_MAX, msg why.  Reported once
                                per infra; the supervisor answers with POD_CREATE (SPEC.md 8.11) */
};

/* The call a BACKEND_EV_CALL_FAILED is about. */
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
    uint64_t tag;      /* EXEC_DONE, CALL_FAILED of a cancel */
    enum backend_result result;
    int exit_code;
    enum backend_stream stream;
    enum backend_op op; /* CALL_FAILED */
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
    /* Unix ns; 0 = unknown.  finished_wall_ns is 0 exactly while the container never ran:
     * exists && !running && finished_wall_ns == 0 is "created, not started yet" (a start may
     * still be in flight: SPEC.md 8.9), which the supervisor tells from an exited one. */
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

#endif
