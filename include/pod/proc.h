/* SPDX-License-Identifier: MIT */
/* proc.h - child processes without a shell: the OS seam for every program the pod starts
 * (podman calls, the holder and the daemon, probe commands in the in-container agent).
 *
 * A child is started from an argv array (never a command string: no shell ever sees a user
 * string), with its own stdio (a given fd, /dev/null, or a capture pipe), every other fd of the
 * parent closed, default signal dispositions and an empty signal mask (the daemon blocks signals
 * for its signalfd and ignores SIGPIPE; children must not inherit either), optionally in a new
 * session so that the whole group can be killed at a deadline.  Its exit source is a pidfd
 * (readable once it has exited), so a caller's event loop never blocks on it and never depends
 * on its output reaching EOF (a grandchild may keep a pipe open for ever).
 *
 * Asynchronous use (the daemon): proc_spawn, watch proc_pidfd() and the capture fds in the loop,
 * proc_drain() when a capture fd is readable, proc_reap() once the pidfd is readable.
 * Synchronous use (the command line): proc_run() with a deadline.
 * Ownership: struct proc owns its fds and captured bytes; proc_free kills (SIGKILL, the group
 * when it has one) and reaps a child that is still running.  Options are borrowed for the call.
 */
#ifndef POD_PROC_H
#define POD_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/err.h"

/* Special values of proc_opts.fd_in/fd_out/fd_err (any value >= 0 is an fd to give the child). */
enum {
    PROC_FD_NULL = -1,    /* /dev/null (the default for a zeroed struct: see proc_opts_init) */
    PROC_FD_CAPTURE = -2, /* a pipe read by the parent (stdout/stderr only) */
    PROC_FD_INHERIT = -3, /* the parent's own fd 0/1/2 */
};

struct proc_opts {
    char *const *argv; /* argv[0]: a path, or a name looked up in PATH (of env when given) */
    char *const *env;  /* NULL: the parent's environment */
    const char *cwd;   /* NULL: the parent's cwd */
    int fd_in, fd_out, fd_err;
    const int *keep_fds; /* further fds the child keeps, under the same numbers (>= 3) */
    size_t n_keep_fds;
    bool new_session;   /* setsid(): own session and process group; kills reach the group */
    bool strip_preload; /* drop LD_PRELOAD and FAKETIME* from the child's environment */
    size_t capture_max; /* bytes kept per captured stream (0 = 1 MiB); the rest is read and
                           dropped (counted in proc_out_dropped) */
};

/* fd_in/out/err = PROC_FD_NULL, everything else zero. */
void proc_opts_init(struct proc_opts *o);

struct proc;

/* Starts the child.  Returns once it has exec'ed (an exec failure, e.g. ENOENT, is reported
 * here with its errno, and no process is left behind). */
int proc_spawn(const struct proc_opts *o, struct proc **out, struct pod_err *err) POD_WUR;

pid_t proc_pid(const struct proc *p);
/* A pidfd of the child: readable (POLLIN) once it has exited.  Owned by p. */
int proc_pidfd(const struct proc *p);
/* The capture pipes' read ends (non-blocking), -1 when not captured or already at EOF. */
int proc_out_fd(const struct proc *p);
int proc_err_fd(const struct proc *p);
/* Reads what is available on the capture pipes without blocking; closes a pipe at EOF.
 * Returns true when no capture pipe is left open. */
bool proc_drain(struct proc *p);
/* Non-blocking: true once the child has exited (then reaped; *status as from waitpid). */
bool proc_reap(struct proc *p, int *status);
bool proc_exited(const struct proc *p);
/* Signals the child (its process group when started with new_session).  0 / -1 with errno. */
int proc_kill(struct proc *p, int sig);
/* Captured bytes so far (NUL-terminated; never NULL). */
const char *proc_out(const struct proc *p, size_t *len);
const char *proc_err(const struct proc *p, size_t *len);
size_t proc_out_dropped(const struct proc *p);
void proc_free(struct proc *p);

#define PROC_KILL_GRACE_MS 2000

/* Result of a synchronous run. */
struct proc_result {
    bool exited;     /* exited normally: code is valid */
    int code;        /* exit code, or 128 + signal when killed by a signal */
    int signal;      /* the signal that ended it, 0 if none */
    bool timed_out;  /* the deadline passed: the child (its group) was killed */
    char *out, *err; /* captured output (NUL-terminated, "" when not captured); caller frees */
    size_t out_len, err_len;
};
void proc_result_free(struct proc_result *r);

/* Runs a child to its end, at most timeout_ms (<= 0: no deadline; at the deadline SIGTERM, then
 * SIGKILL PROC_KILL_GRACE_MS later, to the group when new_session).  Capture pipes are read while
 * it runs; after the exit, output still buffered is read for at most 100 ms (a descendant that
 * keeps the pipe open does not hold the caller).  Returns 0 when the child ran (whatever its
 * exit code), -1 when it could not be started. */
int proc_run(const struct proc_opts *o, int64_t timeout_ms, struct proc_result *res,
             struct pod_err *err) POD_WUR;

/* Copies env (NULL: the process environment) without LD_PRELOAD and FAKETIME*; a new strv. */
char **proc_env_stripped(char *const *env);

#endif
