/* SPDX-License-Identifier: MIT */
/* spawn.h - the command line's side of the supervisor: starting the holder and daemon, and
 * waiting for them to go at `stop`/`kill` (SPEC.md section 7).
 *
 * Starting: the caller takes the lock `.<b>.lock` (a supervisor that holds it is alive: nothing
 * is started), then fork -> setsid -> fork -> exec `<exe> __holder --dir D --name B --lock-fd 3
 * --ready-fd 4` with stdin/stdout/stderr on /dev/null, every other fd closed, cwd = the pod
 * directory, default signal dispositions and an empty mask.  The holder (which keeps the
 * lock's open file description) starts the daemon and passes the readiness pipe on; the daemon
 * writes "1" (or "E<message>") into it once it listens on the control socket, and closes it.
 * The caller's stdout/stderr are never inherited: `out=$(pod run)` reaches EOF when the
 * command line exits.
 * Stopping: `stop`/`kill` through the control socket (or TERM/USR2 to the holder when no daemon
 * answers: the holder starts one to carry it out), then wait until the processes recorded in
 * `.<b>.pid` have exited (pidfds, checked identities) and the lock is free, with a deadline;
 * after one the caller may spawn_procs_kill() and clean up by itself.
 * These calls block (the command line may); none is for the daemon's loop.
 */
#ifndef POD_SPAWN_H
#define POD_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/err.h"
#include "pod/ident.h"

#define SPAWN_READY_MS 10000

struct spawn_cfg {
    const char *dir;    /* the pod directory (absolute) */
    const char *name;   /* <b> */
    const char *exe;    /* NULL = /proc/self/exe */
    int64_t timeout_ms; /* readiness wait, 0 = SPAWN_READY_MS */
};

/* Starts the supervisor unless one is alive.  *started says whether this call started it
 * (false: one was running already).  Returns once the new daemon listens; -1 with
 * POD_E_TIMEOUT (it did not get ready in time; it may still), or the daemon's own start-up
 * error (POD_E_BACKEND). */
int spawn_supervisor(const struct spawn_cfg *c, bool *started, struct pod_err *err) POD_WUR;

/* The live processes recorded in `.<b>.pid`, as pidfds (dead or recycled records skipped). */
struct spawn_procs {
    size_t n;
    struct ident id[IDENT_MAX_PROCS];
    int pidfd[IDENT_MAX_PROCS];
};
int spawn_procs_open(int dirfd, const char *name, struct spawn_procs *p,
                     struct pod_err *err) POD_WUR;
void spawn_procs_kill(const struct spawn_procs *p, int sig);
void spawn_procs_close(struct spawn_procs *p);
/* Waits until every process of p exited and nobody holds the lock: 0, or -1 (POD_E_TIMEOUT)
 * at deadline_mono_ms. */
int spawn_wait_gone(int dirfd, const char *name, const struct spawn_procs *p,
                    int64_t deadline_mono_ms, struct pod_err *err) POD_WUR;

/* `stop` (kill false) or `kill`: asks, then waits at most timeout_ms until holder and daemon
 * are gone.  *was_running is false when no supervisor was alive (nothing done, 0).  On
 * POD_E_TIMEOUT the caller may SIGKILL (spawn_procs_open + spawn_procs_kill). */
int spawn_stop(const char *dir, const char *name, bool kill, int64_t timeout_ms, bool *was_running,
               struct pod_err *err) POD_WUR;

#endif
