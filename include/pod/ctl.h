/* SPDX-License-Identifier: MIT */
/* ctl.h - the control channel between the command line and the pod's daemon (SPEC.md 7).
 *
 * A unix stream socket `.<b>.sock` in the pod directory, mode 0600; a peer must have our uid
 * or be root (SO_PEERCRED).  It is bound and connected through /proc/self/fd/<dirfd>/<name>,
 * so the pod directory's path may be longer than sun_path (108 bytes).
 * Frames: `u32 length (little endian) | payload`, at most CTL_MAX_FRAME bytes of payload; the
 * payload is a list of strings, each terminated by a NUL.  Request: action, args...
 * Reply: decimal exit code, stdout text, stderr text.  Anything else (length 0 or too large, a
 * payload not ending in NUL, a bad code) makes the reader hang up.
 *
 * Server (the daemon): non-blocking on a struct loop; the handler gets each request with an id
 * and answers now or later with ctl_server_reply (a reply for a client that has gone is
 * dropped).  Replies are written as the socket takes them, never blocking the loop.  A client
 * that does not complete a frame, or does not take a reply, for stall_ms (10 s) is dropped:
 * the daemon's owner calls ctl_server_tick at ctl_server_next_deadline (the loop owns no
 * timers).  Client (the command line): blocking calls with one overall deadline.
 * Ownership: the server borrows loop and clock; texts passed in are copied; argv handed to the
 * handler is valid during the call only; a struct ctl_reply owns its strings.
 */
#ifndef POD_CTL_H
#define POD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"
#include "pod/util.h"

#define CTL_MAX_FRAME ((size_t)16 << 20)
#define CTL_STALL_MS 10000
#define CTL_MAX_CLIENTS 64

/* ---- frames (pure) ---- */

/* Appends one frame holding the strings v[0..n) to out. */
void ctl_frame_add(struct pod_buf *out, char *const *v, size_t n);
/* Splits a payload into its strings (a new strv; the payload must end in NUL and be
 * non-empty).  -1 when malformed. */
int ctl_payload_split(const char *p, size_t len, char ***out);

/* ---- server ---- */

struct ctl_server;
/* A request: argv[0] is the action; argc >= 1. */
typedef void ctl_request_fn(void *arg, struct ctl_server *s, uint64_t id, int argc, char **argv);

struct ctl_server_cfg {
    struct loop *loop;
    const struct clk *clk;
    int dirfd;        /* the pod directory */
    const char *file; /* ".<b>.sock" (copied) */
    ctl_request_fn *fn;
    void *arg;
    int64_t stall_ms; /* 0 = CTL_STALL_MS */
    uid_t uid;        /* peers with this uid (or root) are served */
};

/* Removes a stale socket file, binds (mode 0600), listens, registers in the loop. */
int ctl_server_new(const struct ctl_server_cfg *cfg, struct ctl_server **out,
                   struct pod_err *err) POD_WUR;
/* Answers request id (no-op when its client is gone or it was answered already). */
void ctl_server_reply(struct ctl_server *s, uint64_t id, int code, const char *out,
                      const char *err_text);
/* Earliest stall deadline (mono ms) of a client, INT64_MAX when none. */
int64_t ctl_server_next_deadline(const struct ctl_server *s);
/* Drops the clients whose deadline passed. */
void ctl_server_tick(struct ctl_server *s);
/* Clients connected now / bytes of replies not yet taken by their clients. */
size_t ctl_server_clients(const struct ctl_server *s);
size_t ctl_server_pending_bytes(const struct ctl_server *s);
/* Closes every connection and the listener; with unlink_file the socket file is removed. */
void ctl_server_free(struct ctl_server *s, bool unlink_file);

/* ---- client ---- */

struct ctl_reply {
    int code;
    char *out, *err; /* never NULL after a successful call */
};

/* Connects to <dir>/<file>, sends argv (argc strings), waits for the reply, all within
 * timeout_ms.  Errors: POD_E_NOTFOUND when no daemon listens (no socket file, or a stale one),
 * POD_E_TIMEOUT, POD_E_INVALID for a malformed reply or a hang-up, POD_E_IO otherwise. */
int ctl_call(const char *dir, const char *file, char *const *argv, size_t argc, int64_t timeout_ms,
             struct ctl_reply *r, struct pod_err *err) POD_WUR;
void ctl_reply_free(struct ctl_reply *r);

/* ---- shared with tests ---- */

/* A unix stream socket (non-blocking, close-on-exec) connected to file in dirfd: 0 and *fd,
 * or -1 (errno: ENOENT / ECONNREFUSED when nobody listens, EAGAIN when the backlog is full). */
int ctl_connect_at(int dirfd, const char *file, int *fd);

#endif
