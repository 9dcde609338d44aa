/* SPDX-License-Identifier: MIT */
/* agent.h - the in-container exec agent (fast path for exec probes and signal commands).
 *
 * The pod executable, bind-mounted read-only at /.podc/agent, is started once per container
 * instance by `podman exec -d CTR /.podc/agent __agent /.podc/run/agent.sock`: it has exactly the
 * confinement of a `podman exec` process, and every command it forks inherits it.  The daemon
 * talks to it over the unix socket, which the backend bind-mounts from <poddir>/.<b>.run/<ctr>.
 *
 * Protocol (one stream connection; frames `u32 length (LE) | payload`, payload = fields, each
 * terminated by a NUL):
 *   agent -> daemon at accept  HELLO 1 <agent pid>
 *   daemon -> agent            RUN <tag> <timeout_ms> <argv0> [argv1...]   (timeout 0: none)
 *                              CANCEL <tag>
 *   agent -> daemon            DONE <tag> exit <code>  (exit code, 128+signal; 126/127 when
 *                                                       argv0 cannot be executed / is absent)
 *                              DONE <tag> cancelled    (process group killed and reaped)
 *                              DONE <tag> timeout      (process group killed and reaped)
 *                              DONE <tag> error <errno>  (the agent could not fork it)
 * Everything the agent sends is untrusted (the container controls the socket): the client
 * bounds frames, ignores unknown tags and drops an agent that sends anything else.
 *
 * The client is non-blocking, driven by a struct loop; callbacks are called from loop callbacks
 * and from agent_handle_deadline, never from agent_run/agent_cancel/agent_connect.  A callback
 * may call agent_run, agent_cancel and agent_connect, never agent_client_free.
 * Ownership: the client copies what it is given (path, argv); the caller owns loop and clk,
 * which must outlive it.  Every string returned by the argv builders is the caller's.
 */
#ifndef POD_AGENT_H
#define POD_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"

/* ------------------------------------------------------------------ where it lives */
#define AGENT_EXE_IN_CTR "/.podc/agent" /* the pod executable, read-only */
#define AGENT_RUN_IN_CTR "/.podc/run"   /* <poddir>/.<b>.run/<ctr> */
#define AGENT_SOCK_NAME "agent.sock"    /* in both directories */
#define AGENT_ACTION "__agent"          /* argv[1] of the pod executable */
#define AGENT_PROTO_VERSION "1"

/* ------------------------------------------------------------------ protocol limits */
#define AGENT_REQ_MAX (256u * 1024)    /* payload of a daemon -> agent frame */
#define AGENT_REPLY_MAX 256u           /* payload of an agent -> daemon frame */
#define AGENT_ARGC_MAX 1024u           /* argv elements of one RUN */
#define AGENT_RUNNING_MAX 256u         /* requests the agent runs at once (more: DONE error) */
#define AGENT_TIMEOUT_MAX_MS 864000000 /* 10 days: a larger timeout_ms is malformed */
#define AGENT_CONNECT_RETRY_MS 20      /* first retry; doubles up to 250 ms */
/* After timeout_ms, or after a CANCEL, an agent that has not answered is stuck: dropped. */
#define AGENT_REPLY_GRACE_MS 3000
#define AGENT_WRITE_STALL_MS 5000   /* unsent bytes without progress: the connection is dropped */
#define AGENT_OUTBUF_MAX (4u << 20) /* unsent bytes beyond which agent_run refuses */

/* The agent's entry point: `<exe> __agent <socket path>`.  Runs until SIGTERM/SIGINT or until
 * its socket path is removed or taken over by another agent.  Returns the exit code. */
int agent_main(int argc, char **argv);

/* ------------------------------------------------------------------ the podman side */
/* <poddir>/.<exe_base>.run/<ctr>: the host directory mounted at AGENT_RUN_IN_CTR.  New string. */
char *agent_run_dir(const char *poddir, const char *exe_base, const char *ctr);
/* The `podman run` arguments that give a container the agent: {"-v",
 * "<pod_exe>:/.podc/agent:z,ro", "-v", "<run_dir>:/.podc/run:z,rw", NULL} (a new strv; `z` as
 * for the pod's other mounts: an SELinux host relabels them shared).  Both paths must be
 * absolute and free of ':' (podman's -v syntax); else -1. */
int agent_mount_args(const char *pod_exe, const char *run_dir, char ***out,
                     struct pod_err *err) POD_WUR;
/* argv of the podman call that starts the agent in the running container ctr (name or id):
 * {podman, "exec", "-d", ctr, AGENT_EXE_IN_CTR, AGENT_ACTION, <run>/<sock>, NULL}. */
char **agent_start_argv(const char *podman, const char *ctr);

/* ------------------------------------------------------------------ the client */
enum agent_state {
    AGENT_OK = 0,    /* it ran and ended; code = exit code or 128 + signal (126/127: exec failed) */
    AGENT_CANCELLED, /* agent_cancel: the agent killed its process group and reaped it */
    AGENT_TIMEOUT,   /* timeout_ms passed: the agent killed its process group and reaped it */
    AGENT_LOST,      /* the connection ended first: the command may still run (the agent kills
                        its children when the connection drops, but nothing confirmed it) */
    AGENT_ERROR,     /* the agent could not start it (fork failed, too many); code = errno */
};
const char *agent_state_name(enum agent_state st);

enum agent_conn { AGENT_CONN_DOWN = 0, AGENT_CONN_CONNECTING, AGENT_CONN_READY };

struct agent_client_cbs {
    /* A request ended; called exactly once per accepted agent_run. */
    void (*done)(void *arg, uint64_t tag, int code, enum agent_state st);
    /* The connection reached READY (HELLO received). Optional. */
    void (*ready)(void *arg);
    /* The connection ended or could not be made (why: one line); every request in flight has
     * already ended AGENT_LOST.  The client is DOWN; agent_connect may be called again. */
    void (*lost)(void *arg, const char *why);
    void *arg;
};

struct agent_client;

/* sock_path: the host path of the agent's socket (any length: it is reached through an O_PATH
 * descriptor of the socket, opened without following a symlink).  Copied. */
struct agent_client *agent_client_new(struct loop *loop, const struct clk *clk,
                                      const char *sock_path, const struct agent_client_cbs *cbs);
/* From now on the socket's directory is rel_dir (copied) resolved beneath root_fd (borrowed:
 * it must outlive the client) one component at a time without following a link
 * (pod_open_beneath, SPEC 7.5.1), not the directory of sock_path: a directory on the way that
 * was swapped for a link (to another pod's agents) is refused, never connected through. */
void agent_client_beneath(struct agent_client *c, int root_fd, const char *rel_dir);
/* Drops the connection (the agent then kills what runs) without calling any callback. */
void agent_client_free(struct agent_client *c);

/* Starts connecting (DOWN -> CONNECTING), retrying while the agent starts, until the agent said
 * HELLO or deadline_mono_ms passed (then `lost`).  No-op when not DOWN. */
int agent_connect(struct agent_client *c, int64_t deadline_mono_ms, struct pod_err *err) POD_WUR;
/* Test seam: use fd (a connected stream socket; taken) as the connection, as if just connected. */
int agent_client_adopt_fd(struct agent_client *c, int fd, int64_t deadline_mono_ms,
                          struct pod_err *err) POD_WUR;
enum agent_conn agent_conn_state(const struct agent_client *c);
size_t agent_inflight(const struct agent_client *c);

/* Runs argv in the container (sent at once when READY, else when READY is reached).  tag: unique
 * among the requests in flight; timeout_ms: 0 = none (the agent enforces it and answers
 * AGENT_TIMEOUT).  -1 (no callback follows) when DOWN, on a duplicate tag, an argv the protocol
 * cannot carry (empty argv0, > AGENT_ARGC_MAX elements, > AGENT_REQ_MAX bytes), or an agent that
 * does not read. */
int agent_run(struct agent_client *c, uint64_t tag, int64_t timeout_ms, char *const *argv,
              struct pod_err *err) POD_WUR;
/* Asks the agent to kill request tag's process group.  `done` follows with AGENT_CANCELLED
 * once the agent confirmed it (whatever the agent answers, even an exit 0 that crossed the
 * CANCEL), or AGENT_LOST.  -1 when tag is not in flight or was already cancelled. */
int agent_cancel(struct agent_client *c, uint64_t tag, struct pod_err *err) POD_WUR;

/* Earliest time the client must act (connect retry, connect deadline, an agent that does not
 * answer, a deferred callback), or INT64_MAX.  Call agent_handle_deadline when it passed. */
int64_t agent_next_deadline(const struct agent_client *c);
void agent_handle_deadline(struct agent_client *c);

/* ------------------------------------------------------------------ frames (shared, pure) */
/* Appends one frame with fields f[0..n) to *buf (grown with realloc; *len and *cap updated). */
void agent_frame_put(char **buf, size_t *len, size_t *cap, const char *const *f, size_t n);
/* Looks for one complete frame at the start of buf[0..len).  1: a frame, its payload at
 * buf+4 of *plen bytes, *used bytes in total; 0: incomplete; -1: length 0 or > max. */
int agent_frame_next(const char *buf, size_t len, size_t max, size_t *plen, size_t *used);
/* Splits a payload in place into at most max fields (each must be NUL-terminated, the last
 * byte of the payload included).  Returns the count, -1 when malformed or more than max. */
int agent_fields(char *payload, size_t plen, char **f, size_t max);
/* Strict unsigned decimal (no sign, no spaces, no leading zeros but "0", <= max). */
bool agent_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
