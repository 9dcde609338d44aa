/* SPDX-License-Identifier: MIT */
/* loop.h - the daemon's event loop: one epoll set of file descriptors, each with a callback.
 *
 * It owns no timers: everything time-based in the daemon is a deadline of the supervisor, the
 * driver or the backend (drv_next_deadline), and the daemon passes the earliest one to
 * loop_run_once as the wait's end.  Idle means blocked in epoll_wait.  A callback may add or
 * delete registrations, its own included (a deleted registration is never called again, even
 * later in the same batch).  Must not: sleep, read the clock other than through struct clk.
 * Ownership: the loop owns its registrations, never the fds (the caller closes them after
 * loop_del).
 */
#ifndef POD_LOOP_H
#define POD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "pod/clk.h"
#include "pod/err.h"

enum { LOOP_IN = 1, LOOP_OUT = 2 };

/* events: LOOP_IN / LOOP_OUT, plus LOOP_HUP / LOOP_ERR as reported by the kernel. */
enum { LOOP_HUP = 4, LOOP_ERR = 8 };

typedef void loop_fn(void *arg, int fd, unsigned events);

struct loop;

struct loop *loop_new(struct pod_err *err);
void loop_free(struct loop *l);
/* Registers fd (at most once) for events (LOOP_IN | LOOP_OUT; 0 = registered but quiet). */
int loop_add(struct loop *l, int fd, unsigned events, loop_fn *fn, void *arg,
             struct pod_err *err) POD_WUR;
int loop_mod(struct loop *l, int fd, unsigned events, struct pod_err *err) POD_WUR;
/* Forgets fd (no-op when unknown); call before closing it. */
void loop_del(struct loop *l, int fd);
bool loop_has(const struct loop *l, int fd);
/* Waits until a registered fd is ready or until deadline_mono_ms (INT64_MAX: no deadline; at or
 * before now: does not block), then calls the callbacks of the ready fds.  Returns the number of
 * callbacks called, 0 on timeout or EINTR, -1 on error. */
int loop_run_once(struct loop *l, const struct clk *clk, int64_t deadline_mono_ms,
                  struct pod_err *err);

#endif
