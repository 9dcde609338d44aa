/* SPDX-License-Identifier: MIT */
/* podman_call.c - podman child processes of the backend (see podman_int.h).
 *
 * Each call is one argv run as a child in its own session (proc_spawn), with LD_PRELOAD and
 * FAKETIME* stripped, stdin /dev/null, its pidfd and capture pipes in the daemon's loop, and a
 * deadline at which its whole group is killed.  At most max_parallel calls run at once (exec
 * probes at most half of them, so that a few hanging probes never delay a start); serial
 * calls (run, stop, kill, rm of one container) run one at a time per container, in order.
 * Completion goes to pm_call_done(); a call that cannot even be started completes with
 * spawned = false at the next call_tick (never from inside call_submit).  Never blocks.
 */
#include "podman_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/util.h"

#define CAPTURE_OUT_MAX (8u << 20)
#define CAPTURE_ERR_MAX (64u << 10)

struct call *call_new(enum call_kind k, char **argv, size_t ctr, uint64_t instance,
                      int64_t timeout_ms)
{
    struct call *c = xcalloc(1, sizeof *c);
    c->kind = k;
    c->argv = argv;
    c->ctr = ctr;
    c->instance = instance;
    c->timeout_ms = timeout_ms;
    c->fd_out = c->fd_err = -1;
    c->deadline_ms = INT64_MAX;
    return c;
}

void call_free(struct call *c)
{
    if (!c)
        return;
    proc_free(c->p);
    if (c->fd_out >= 0)
        close(c->fd_out);
    if (c->fd_err >= 0)
        close(c->fd_err);
    call_free(c->then);
    pod_strv_free(c->argv);
    free(c);
}

void call_kill(struct call *c)
{
    if (c->p && !proc_exited(c->p))
        (void)proc_kill(c->p, SIGKILL);
}

/* ------------------------------------------------------------------ completion */

static void unwatch(struct pm *pm, struct call *c)
{
    loop_del(pm->cfg.loop, proc_pidfd(c->p));
    if (proc_out_fd(c->p) >= 0)
        loop_del(pm->cfg.loop, proc_out_fd(c->p));
    if (proc_err_fd(c->p) >= 0)
        loop_del(pm->cfg.loop, proc_err_fd(c->p));
}

static void finish(struct pm *pm, struct call *c, struct call_res *r)
{
    if (c->serial && c->ctr < pm->n)
        pm->c[c->ctr].serial_busy = false;
    else if (c->serial)
        pm->pod_busy = false;
    pm->st.calls++;
    if (!r->spawned || !r->exited || r->code != 0)
        pm->st.calls_failed++;
    if (r->timed_out)
        pm->st.calls_timed_out++;
    pm_call_done(pm, c, r);
    call_free(c);
}

/* proc_drain closes a capture pipe at EOF: forget it in the loop then (before its number is
 * reused). */
static void drain(struct pm *pm, struct call *c)
{
    int fds[2] = {proc_out_fd(c->p), proc_err_fd(c->p)};
    (void)proc_drain(c->p);
    if (fds[0] >= 0 && proc_out_fd(c->p) < 0)
        loop_del(pm->cfg.loop, fds[0]);
    if (fds[1] >= 0 && proc_err_fd(c->p) < 0)
        loop_del(pm->cfg.loop, fds[1]);
}

/* "run", "container inspect", "pod create" ... for messages. */
static void verb(const struct call *c, char *buf, size_t cap)
{
    const char *a = c->argv[1] ? c->argv[1] : "";
    bool group =
        !strcmp(a, "container") || !strcmp(a, "pod") || !strcmp(a, "image") || !strcmp(a, "volume");
    snprintf(buf, cap, "%.20s%s%.20s", a, group && c->argv[2] ? " " : "",
             group && c->argv[2] ? c->argv[2] : "");
}

static void call_exited(struct pm *pm, struct call *c)
{
    int status = 0;
    if (!proc_reap(c->p, &status))
        return;
    drain(pm, c); /* what podman wrote before it exited */
    unwatch(pm, c);
    pm_ptr_remove((void **)pm->run, &pm->n_run, c);
    if (c->exec_class)
        pm->n_exec_run--;
    struct call_res r;
    memset(&r, 0, sizeof r);
    r.spawned = true;
    r.timed_out = c->timed_out;
    if (WIFEXITED(status)) {
        r.exited = true;
        r.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.code = 128 + WTERMSIG(status);
    }
    r.out = proc_out(c->p, &r.out_len);
    r.err = proc_err(c->p, &r.err_len);
    if (c->timed_out) {
        char v[48];
        verb(c, v, sizeof v);
        snprintf(r.msg, sizeof r.msg, "podman %s: no answer within %lld ms (killed)", v,
                 (long long)c->timeout_ms);
    } else {
        podman_error_line(r.err, r.err_len, r.msg, sizeof r.msg);
    }
    finish(pm, c, &r);
    call_pump(pm);
}

static void on_fd(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct call *c = arg;
    drain(c->pm, c);
}

static void on_pidfd(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct call *c = arg;
    call_exited(c->pm, c);
}

/* ------------------------------------------------------------------ starting */

static bool watch(struct pm *pm, struct call *c, struct pod_err *err)
{
    if (loop_add(pm->cfg.loop, proc_pidfd(c->p), LOOP_IN, on_pidfd, c, err) < 0)
        return false;
    int fds[2] = {proc_out_fd(c->p), proc_err_fd(c->p)};
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0 && loop_add(pm->cfg.loop, fds[i], LOOP_IN, on_fd, c, err) < 0) {
            unwatch(pm, c);
            return false;
        }
    return true;
}

/* Completed at the next call_tick, never from inside call_submit (no re-entry). */
static void spawn_failed(struct pm *pm, struct call *c, const struct pod_err *err)
{
    proc_free(c->p);
    c->p = NULL;
    pm_strlcpy(c->spawn_msg, sizeof c->spawn_msg, err->msg);
    c->next = pm->failed;
    pm->failed = c;
}

static void complete_failed(struct pm *pm)
{
    struct call *l = pm->failed;
    pm->failed = NULL;
    while (l) {
        struct call *c = l;
        l = c->next;
        struct call_res r;
        memset(&r, 0, sizeof r);
        r.code = 127;
        r.out = r.err = "";
        pm_strlcpy(r.msg, sizeof r.msg, c->spawn_msg);
        finish(pm, c, &r);
    }
}

static void start(struct pm *pm, struct call *c)
{
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = c->argv;
    o.new_session = true;
    o.strip_preload = true;
    o.fd_out = c->fd_out >= 0 ? c->fd_out : (c->capture_out ? PROC_FD_CAPTURE : PROC_FD_NULL);
    o.fd_err = c->fd_err >= 0 ? c->fd_err : PROC_FD_CAPTURE;
    o.capture_max = c->capture_out ? CAPTURE_OUT_MAX : CAPTURE_ERR_MAX;
    struct pod_err err = POD_ERR_ZERO;
    c->pm = pm;
    if (c->serial && c->ctr < pm->n)
        pm->c[c->ctr].serial_busy = true;
    else if (c->serial)
        pm->pod_busy = true;
    if (proc_spawn(&o, &c->p, &err) < 0) {
        c->p = NULL;
        spawn_failed(pm, c, &err);
        return;
    }
    if (!watch(pm, c, &err)) {
        spawn_failed(pm, c, &err); /* proc_free kills it */
        return;
    }
    c->start_ms = pm_now(pm);
    c->deadline_ms = c->timeout_ms > 0 ? c->start_ms + c->timeout_ms : INT64_MAX;
    pm_ptr_push((void ***)&pm->run, &pm->n_run, &pm->cap_run, c);
    if (c->exec_class)
        pm->n_exec_run++;
    if (pm->n_run > pm->st.max_running)
        pm->st.max_running = pm->n_run;
}

static bool any_serial_busy(const struct pm *pm)
{
    for (size_t i = 0; i < pm->n; i++)
        if (pm->c[i].serial_busy)
            return true;
    return pm->pod_busy;
}

/* May c start now?  blocked[]: containers with an earlier serial call still queued
 * (blocked[n]: an earlier pod-level one, which blocks every serial call after it). */
static bool startable(const struct pm *pm, const struct call *c, const bool *blocked)
{
    if (c->serial && (blocked[pm->n] || pm->pod_busy))
        return false;
    if (c->serial && c->ctr >= pm->n && any_serial_busy(pm))
        return false;
    if (c->serial && c->ctr < pm->n && (pm->c[c->ctr].serial_busy || blocked[c->ctr]))
        return false;
    if (c->exec_class && pm->n_exec_run >= (pm->max_parallel + 1) / 2)
        return false;
    return true;
}

void call_submit(struct pm *pm, struct call *c)
{
    int64_t cap = pm->cfg.max_call_ms;
    if (cap > 0 && (c->timeout_ms <= 0 || c->timeout_ms > cap))
        c->timeout_ms = cap;
    c->next = NULL;
    if (pm->q_tail)
        pm->q_tail->next = c;
    else
        pm->q_head = c;
    pm->q_tail = c;
    call_pump(pm);
}

void call_submit_front(struct pm *pm, struct call *c)
{
    int64_t cap = pm->cfg.max_call_ms;
    if (cap > 0 && (c->timeout_ms <= 0 || c->timeout_ms > cap))
        c->timeout_ms = cap;
    c->next = pm->q_head;
    pm->q_head = c;
    if (!pm->q_tail)
        pm->q_tail = c;
    call_pump(pm);
}

/* Starts queued calls, control calls before exec probes, while the cap allows. */
void call_pump(struct pm *pm)
{
    if (pm->pumping)
        return;
    pm->pumping = true;
    bool *blocked = xcalloc(pm->n + 1, sizeof *blocked);
    while ((int)pm->n_run < pm->max_parallel) {
        memset(blocked, 0, (pm->n + 1) * sizeof *blocked);
        struct call *pick = NULL, *pick_prev = NULL;
        for (int pass = 0; pass < 2 && !pick; pass++) {
            struct call *prev = NULL;
            for (struct call *c = pm->q_head; c; prev = c, c = c->next) {
                if ((pass == 0) == c->exec_class)
                    continue;
                if (startable(pm, c, blocked)) {
                    pick = c;
                    pick_prev = prev;
                    break;
                }
                if (c->serial)
                    blocked[c->ctr < pm->n ? c->ctr : pm->n] = true;
            }
        }
        if (!pick)
            break;
        if (pick_prev)
            pick_prev->next = pick->next;
        else
            pm->q_head = pick->next;
        if (pm->q_tail == pick)
            pm->q_tail = pick_prev;
        pick->next = NULL;
        start(pm, pick);
    }
    free(blocked);
    pm->pumping = false;
}

/* ------------------------------------------------------------------ deadlines */

void call_tick(struct pm *pm, int64_t now)
{
    complete_failed(pm);
    for (size_t i = 0; i < pm->n_run; i++) {
        struct call *c = pm->run[i];
        if (!c->timed_out && now >= c->deadline_ms) {
            c->timed_out = true;
            call_kill(c); /* the pidfd reports its end */
        }
    }
}

int64_t call_next_deadline(const struct pm *pm)
{
    if (pm->failed)
        return pm_now(pm);
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < pm->n_run; i++)
        if (!pm->run[i]->timed_out && pm->run[i]->deadline_ms < d)
            d = pm->run[i]->deadline_ms;
    return d;
}

struct call *call_take_exec(struct pm *pm, uint64_t tag, bool *queued)
{
    *queued = false;
    for (size_t i = 0; i < pm->n_run; i++)
        if (pm->run[i]->kind == CALL_EXEC && pm->run[i]->tag == tag)
            return pm->run[i];
    struct call *prev = NULL;
    for (struct call *c = pm->q_head; c; prev = c, c = c->next) {
        if (c->kind != CALL_EXEC || c->tag != tag)
            continue;
        if (prev)
            prev->next = c->next;
        else
            pm->q_head = c->next;
        if (pm->q_tail == c)
            pm->q_tail = prev;
        c->next = NULL;
        *queued = true;
        return c;
    }
    prev = NULL;
    for (struct call *c = pm->failed; c; prev = c, c = c->next) {
        if (c->kind != CALL_EXEC || c->tag != tag)
            continue;
        if (prev)
            prev->next = c->next;
        else
            pm->failed = c->next;
        c->next = NULL;
        *queued = true;
        return c;
    }
    return NULL;
}

void calls_free(struct pm *pm)
{
    for (size_t i = 0; i < pm->n_run; i++) {
        unwatch(pm, pm->run[i]);
        call_free(pm->run[i]); /* proc_free kills and reaps */
    }
    free(pm->run);
    pm->run = NULL;
    pm->n_run = pm->cap_run = 0;
    while (pm->q_head) {
        struct call *c = pm->q_head;
        pm->q_head = c->next;
        call_free(c);
    }
    pm->q_tail = NULL;
    while (pm->failed) {
        struct call *c = pm->failed;
        pm->failed = c->next;
        call_free(c);
    }
}
