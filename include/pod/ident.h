/* SPDX-License-Identifier: MIT */
/* ident.h - who supervises a pod: the lock, the identity file and pidfds that are never taken
 * for a recycled PID.
 *
 * Files in the pod directory (<b> = the executable's base name, `pod`; SPEC.md section 7):
 *   .<b>.lock   flock(LOCK_EX) held by the holder and the daemon (one open file description,
 *               inherited) for the supervisor's whole life: "alive" == locked.  No PID guessing.
 *   .<b>.pid    one line per process, `holder|daemon <pid> <starttime> <boot-id>`, written
 *               atomically (tmp + rename) by the daemon.  starttime = /proc/PID/stat field 22
 *               (clock ticks after boot), boot id = /proc/sys/kernel/random/boot_id.
 * ident_pidfd() opens a pidfd of a recorded process and only then checks its starttime and the
 * boot id, so the pidfd can never refer to another process that got the same PID.
 * Everything here works relative to a directory fd (pod paths may be long), allocates only for
 * the status rewrite, and is used by the tiny holder process too.
 */
#ifndef POD_IDENT_H
#define POD_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pod/err.h"

#define IDENT_NAME_MAX 64   /* <b> */
#define IDENT_FILE_MAX 96   /* ".<b>.<suffix>" */
#define IDENT_BOOTID_MAX 40 /* 36 characters + NUL */
#define IDENT_MAX_PROCS 4   /* lines in .<b>.pid */

struct ident {
    char role[8]; /* "holder" / "daemon" */
    pid_t pid;
    unsigned long long starttime;
    char boot_id[IDENT_BOOTID_MAX];
};

/* ".<name>.<suffix>" into out (IDENT_FILE_MAX bytes).  -1 when name is empty, too long or has
 * a '/'. */
int ident_file(char *out, const char *name, const char *suffix);

/* This boot's id (a UUID string). */
int ident_boot_id(char out[IDENT_BOOTID_MAX], struct pod_err *err) POD_WUR;
/* The identity of a running process (role copied, truncated to 7 characters). */
int ident_of(pid_t pid, const char *role, struct ident *out, struct pod_err *err) POD_WUR;
/* starttime of pid from /proc/PID/stat (field 22). */
int ident_starttime(pid_t pid, unsigned long long *out, struct pod_err *err) POD_WUR;

/* Writes the identity file atomically (tmp + rename, mode 0644) in dirfd. */
int ident_write(int dirfd, const char *file, const struct ident *v, size_t n,
                struct pod_err *err) POD_WUR;
/* Reads it: *n lines (at most max); a missing file gives *n = 0.  Malformed lines are an
 * error (POD_E_CORRUPT). */
int ident_read(int dirfd, const char *file, struct ident *v, size_t max, size_t *n,
               struct pod_err *err) POD_WUR;
/* A pidfd (O_CLOEXEC) of the recorded process, when it still runs: -1 with POD_E_NOTFOUND
 * when it is gone (dead, or its PID now belongs to another process, or another boot). */
int ident_pidfd(const struct ident *id, struct pod_err *err) POD_WUR;
/* The record for role in v[0..n), or NULL. */
const struct ident *ident_find(const struct ident *v, size_t n, const char *role);

/* Opens (creating, mode 0600) the lock file; an O_CLOEXEC fd. */
int ident_lock_open(int dirfd, const char *file, struct pod_err *err) POD_WUR;
/* flock(LOCK_EX | LOCK_NB) on fd: 1 = ours now (or already), 0 = held by another open file
 * description, -1 = error (errno). */
int ident_lock_take(int fd);
/* Whether a supervisor holds the lock (a LOCK_SH | LOCK_NB probe, released at once).  A
 * missing lock file means no. */
int ident_lock_held(int dirfd, const char *file, bool *held, struct pod_err *err) POD_WUR;

/* Marks the status file (SPEC.md 10.2) as "no daemon": `pid:` empty and `readiness: 0`, the
 * rest unchanged; tmp + rename.  A missing file is left missing (0). */
int ident_status_down(int dirfd, const char *file, struct pod_err *err) POD_WUR;

/* The process set-up the holder and the daemon share: the soft RLIMIT_NOFILE raised to the
 * hard one (an fd or more per container stream), SIGPIPE ignored, and TERM, INT, HUP, USR1
 * and USR2 blocked and taken through the returned signalfd (non-blocking, O_CLOEXEC); -1 with
 * errno on failure. */
int ident_signals_setup(void);

#endif
