/* SPDX-License-Identifier: MIT */
/* pidfd.h - process descriptors, with a fallback where the kernel has none (module util).
 *
 * Every exit source and every signal to a process we do not own the pid of goes through these
 * two calls, never through pidfd_open(2)/pidfd_send_signal(2) directly (SPEC 7.8.1).
 *
 * pod_pidfd_open gives a real pidfd when the kernel does.  When pidfd_open fails with ENOSYS
 * (a kernel before 5.3, valgrind 3.19) or EPERM (a seccomp profile that refuses it), or when
 * the environment has POD_PIDFD_EMULATE=1 (a test knob), it gives an *emulated* pidfd: the read
 * end of a pipe (close-on-exec, non-blocking) that becomes readable (POLLIN, with POLLHUP) once
 * the process has exited, as a pidfd does -- within one period of a watcher thread
 * (POD_PIDFD_EMU_PERIOD_MS) instead of at once.  The caller polls it, never reads it, and
 * closes it with close(2) as it would a pidfd; the watcher forgets a closed one on its next
 * round.  The watcher is started at the first emulated open, with every signal blocked; a fork
 * child starts with no watcher and no watched processes (its copies of emulated descriptors
 * still turn readable, but pod_pidfd_send_signal through them gives ESRCH).
 */
#ifndef POD_PIDFD_H
#define POD_PIDFD_H

#include <stdbool.h>
#include <sys/types.h>

#include "pod/err.h"

/* How often the watcher looks at the processes of the emulated pidfds. */
#define POD_PIDFD_EMU_PERIOD_MS 100
/* At most this many emulated pidfds are open at once in a process (beyond: EMFILE). */
#define POD_PIDFD_EMU_MAX 1024

/* A pidfd of pid (close-on-exec), real or emulated; -1 with errno otherwise: ESRCH when there
 * is no such process, EMFILE/ENFILE/ENOMEM, EINVAL (pid is not a process, a thread say). */
int pod_pidfd_open(pid_t pid) POD_WUR;
/* Sends sig to the process of fd (a pod_pidfd_open descriptor): pidfd_send_signal(2) for a
 * real one, kill(2) after checking the process is still the one opened for an emulated one.
 * 0, or -1 with errno (ESRCH once the process has exited: for an emulated pidfd, once the
 * watcher has seen it exit or the pid names another process). */
int pod_pidfd_send_signal(int fd, int sig);
/* True when fd is an emulated pidfd (a pipe); for tests and diagnostics. */
bool pod_pidfd_emulated(int fd);

/* /proc/PID/stat, read and parsed without allocating or stdio (the watcher thread uses them,
 * as do the identity and the probe-cancel checks).  pod_stat_read: the text of `path` into buf
 * (NUL-terminated, at most size - 1 bytes), EINTR retried: its length (0: empty, the process
 * was reaped meanwhile), or -1 with errno (ENOENT or ESRCH: no such process).  pod_stat_field:
 * field `field` (1-based as proc(5) numbers them, >= 3; the command name, field 2, may hold
 * anything and ends at the last ')'): a pointer to its first byte, NULL when there are fewer
 * fields.  pod_stat_number: that field as an unsigned number: 0, or -1 with errno EINVAL. */
ssize_t pod_stat_read(const char *path, char *buf, size_t size);
const char *pod_stat_field(const char *stat, int field);
int pod_stat_number(const char *stat, int field, unsigned long long *out);

#endif
