/* SPDX-License-Identifier: MIT */
/* backend_podman.c - the podman backend: struct backend_ops on real podman (see pod/podman.h,
 * podman_int.h, SPEC.md 7.8).
 *
 * Every operation only queues work and returns; podman children, exit sources, log pipes and
 * probe sockets report through the daemon's loop, and their results leave as backend events
 * from poll_events().  inspect() answers from a cache: what this backend started, saw exit or
 * removed, and the one `podman ps` listing made at creation (refreshed every refresh_ms, at
 * most once a minute); it fails until that first listing answered.  Never blocks, never
 * exits: a failure is -1 with a message or an event.
 */
#include "podman_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define DEFAULT_MAX_PARALLEL 6
#define DEFAULT_REFRESH_MS 300000
#define MIN_REFRESH_MS 60000
#define FIRST_LISTING_RETRY_MS 2000

/* ------------------------------------------------------------------ helpers */

int64_t pm_now(const struct pm *pm)
{
    return clk_mono_ms(&pm->cfg.clk);
}

int64_t pm_wall(const struct pm *pm)
{
    return clk_wall_ns(&pm->cfg.clk);
}

void pm_ptr_push(void ***v, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = p;
}

void pm_ptr_remove(void **v, size_t *n, void *p)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i] == p) {
            memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
            (*n)--;
            return;
        }
}

static struct qev *q_push(struct pm *pm)
{
    if (pm->ev_head + pm->ev_len == pm->ev_cap) {
        if (pm->ev_head > 0) {
            memmove(pm->q, pm->q + pm->ev_head, pm->ev_len * sizeof *pm->q);
            pm->ev_head = 0;
        }
        if (pm->ev_len == pm->ev_cap) {
            pm->ev_cap = pm->ev_cap ? pm->ev_cap * 2 : 32;
            pm->q = xrealloc(pm->q, pm->ev_cap * sizeof *pm->q);
        }
    }
    struct qev *e = &pm->q[pm->ev_head + pm->ev_len++];
    memset(e, 0, sizeof *e);
    return e;
}

struct backend_event *pm_event(struct pm *pm, enum backend_event_type t, size_t ctr,
                               uint64_t instance, const char *msg)
{
    struct qev *q = q_push(pm);
    q->ev.type = t;
    q->ev.ctr = ctr;
    q->ev.instance = instance;
    if (msg)
        snprintf(q->ev.msg, sizeof q->ev.msg, "%s", msg);
    return &q->ev;
}

void pm_event_output(struct pm *pm, struct stream *s)
{
    struct qev *q = q_push(pm);
    q->ev.type = BACKEND_EV_OUTPUT;
    q->ev.ctr = s->ctr;
    q->ev.instance = s->instance;
    q->ev.stream = (enum backend_stream)s->which;
    q->ev.data = s->buf + s->off;
    q->ev.len = s->len;
    q->s = s;
}

void pm_call_failed(struct pm *pm, enum backend_op op, size_t ctr, uint64_t instance, uint64_t tag,
                    int sig, const char *fmt, ...)
{
    struct backend_event *e = pm_event(pm, BACKEND_EV_CALL_FAILED, ctr, instance, NULL);
    e->op = op;
    e->tag = tag;
    e->exit_code = sig;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

void pm_touch(struct pm *pm, struct pctr *k)
{
    k->gen = ++pm->gen;
}

void pm_started_info(struct pm *pm, size_t ctr, uint64_t instance, const struct podman_ctr_info *in)
{
    struct pctr *k = &pm->c[ctr];
    if (k->instance == instance && in->started_wall_ns > 0) {
        k->started_wall_ns = in->started_wall_ns;
        pm_touch(pm, k);
    }
}

void pm_exited(struct pm *pm, size_t ctr, uint64_t instance, int code, int64_t finished_wall_ns,
               const char *msg)
{
    struct backend_event *e = pm_event(pm, BACKEND_EV_EXITED, ctr, instance, msg);
    e->exit_code = code;
    struct pctr *k = &pm->c[ctr];
    if (k->instance == instance) {
        k->running = false;
        k->exit_code = code;
        k->finished_wall_ns = finished_wall_ns > 0 ? finished_wall_ns : pm_wall(pm);
        if (msg && strcmp(msg, "container gone") == 0 && k->starting != instance)
            k->exists = false;
        pm_touch(pm, k);
    }
    if (pm->cfg.exec.ops && pm->cfg.exec.ops->instance)
        pm->cfg.exec.ops->instance(pm->cfg.exec.self, ctr, instance, -1, NULL);
}

bool pm_mentions(const char *a, const char *b, const char *what)
{
    return (a && strstr(a, what)) || (b && strstr(b, what));
}

/* ------------------------------------------------------------------ start */

static bool image_missing(const char *head, const char *msg)
{
    return pm_mentions(head, msg, "image not known") || pm_mentions(head, msg, "no such image") ||
           pm_mentions(head, msg, "image not found");
}

void pm_run_ok(struct pm *pm, struct call *c, const char *id)
{
    struct pctr *k = &pm->c[c->ctr];
    if (k->starting == c->instance)
        k->starting = 0;
    k->left_behind = false;
    if (k->instance == c->instance) {
        k->exists = k->running = true;
        k->started_wall_ns = pm_wall(pm);
        k->finished_wall_ns = 0;
        k->exit_code = 0;
        pm_touch(pm, k);
    }
    pm_event(pm, BACKEND_EV_STARTED, c->ctr, c->instance, NULL);
    es_new(pm, c->ctr, c->instance, id, 0, 0);
    infra_want(pm, c->ctr, false);
    if (k->instance == c->instance)
        warm_want(pm, c->ctr);
}

void pm_starting(struct pm *pm, size_t ctr, uint64_t instance)
{
    struct pctr *k = &pm->c[ctr];
    k->instance = instance;
    k->starting = instance;
    k->exists = true;
    k->running = false;
    k->exit_code = 0;
    k->started_wall_ns = k->finished_wall_ns = 0;
    pm_touch(pm, k);
}

void pm_start_failed(struct pm *pm, size_t ctr, uint64_t instance, const char *msg)
{
    struct pctr *k = &pm->c[ctr];
    if (k->starting == instance)
        k->starting = 0;
    k->left_behind = true;
    if (k->instance == instance) {
        k->exists = k->running = false;
        pm_touch(pm, k);
    }
    pm_event(pm, BACKEND_EV_START_FAILED, ctr, instance, msg);
}

/* Retries the run after pulling its image (once per start). */
static void pull_then_run(struct pm *pm, struct call *c)
{
    const char *image = pm->spec->containers[c->ctr].image;
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_pull(&pm->actx, image, &err);
    if (!argv) {
        pm_start_failed(pm, c->ctr, c->instance, err.msg);
        return;
    }
    struct call *again =
        call_new(CALL_RUN, pod_strv_dup(c->argv), c->ctr, c->instance, PODMAN_RUN_TIMEOUT_MS);
    again->serial = true;
    again->pulled = true;
    again->fd_out = c->fd_out;
    again->fd_err = c->fd_err;
    c->fd_out = c->fd_err = -1;
    struct call *pull = call_new(CALL_PULL, argv, c->ctr, c->instance, PODMAN_PULL_TIMEOUT_MS);
    pull->serial = true;
    pull->then = again;
    pm->st.pulls++;
    pod_log(POD_LOG_INFO, "%s: image %s not present, pulling it", pm->c[c->ctr].name, image);
    call_submit(pm, pull);
}

static void run_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    struct stream *so = stream_find(pm, c->ctr, c->instance, BACKEND_STDOUT);
    struct stream *se = stream_find(pm, c->ctr, c->instance, BACKEND_STDERR);
    if (r->spawned && r->exited && r->code == 0) {
        if (so)
            so->capture_head = false;
        if (se) {
            se->capture_head = false;
            pod_buf_free(&se->head);
        }
        pm_run_ok(pm, c, NULL);
        return;
    }
    /* podman's own error went to the container's stderr pipe (passthrough) */
    if (se)
        stream_read_now(pm, se);
    char msg[160] = "";
    if (se && se->head.len)
        podman_error_line(se->head.data, se->head.len, msg, sizeof msg);
    if (!msg[0])
        pm_strlcpy(msg, sizeof msg, r->msg);
    if (!msg[0])
        snprintf(msg, sizeof msg, "podman run exited %d", r->code);
    bool missing = r->spawned && !r->timed_out && image_missing(se ? se->head.data : NULL, msg);
    if (se)
        pod_buf_free(&se->head);
    if (missing && !c->pulled) {
        pull_then_run(pm, c);
        return;
    }
    if (so)
        so->capture_head = false;
    if (se)
        se->capture_head = false;
    pm_start_failed(pm, c->ctr, c->instance, msg);
    infra_want(pm, c->ctr, true); /* is it the pod's infra? (SPEC 8.11) */
}

static void pull_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    if (r->spawned && r->exited && r->code == 0) {
        struct call *again = c->then;
        c->then = NULL;
        struct stream *se = stream_find(pm, again->ctr, again->instance, BACKEND_STDERR);
        if (se)
            se->capture_head = true;
        call_submit(pm, again);
        return;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "image %s: pull failed: %s", pm->spec->containers[c->ctr].image,
             r->msg[0] ? r->msg : "podman pull failed");
    pm_start_failed(pm, c->ctr, c->instance, msg);
}

/* The log pipes of a new instance: write ends for podman, read ends in the loop. */
int pm_log_pipes(int p[2][2], struct pod_err *err)
{
    if (pipe2(p[0], O_CLOEXEC) < 0)
        return pod_err_set(err, POD_E_IO, errno, "pipe");
    if (pipe2(p[1], O_CLOEXEC) < 0) {
        int e = errno;
        close(p[0][0]);
        close(p[0][1]);
        return pod_err_set(err, POD_E_IO, e, "pipe");
    }
    return 0;
}

static int open_pipes(struct pm *pm, size_t ctr, uint64_t instance, bool replacing, int wfd[2],
                      struct pod_err *err)
{
    int p[2][2];
    if (pm_log_pipes(p, err) < 0)
        return -1;
    for (int s = 0; s < 2; s++) {
        wfd[s] = p[s][1];
        struct stream *st = stream_open(pm, ctr, instance, s, p[s][0], true);
        if (st)
            st->capture_head = true;
        if (st && s == BACKEND_STDOUT && replacing)
            st->strip = xasprintf("%s\n", pm->c[ctr].name);
    }
    return 0;
}

static int op_ctr_start(void *self, size_t ctr, uint64_t instance, struct pod_err *err)
{
    struct pm *pm = self;
    if (ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: no container %zu", ctr);
    if (warm_start(pm, ctr, instance))
        return 0; /* (its line was built when the standby was created) */
    char **argv = podman_argv_run(&pm->actx, ctr, instance, err);
    if (!argv)
        return -1;
    struct pctr *k = &pm->c[ctr];
    free(k->ref);
    k->ref = NULL;
    k->renaming = false;
    int wfd[2] = {-1, -1};
    if (open_pipes(pm, ctr, instance, k->exists || k->left_behind || !pm->listed, wfd, err) < 0) {
        pod_strv_free(argv);
        return -1;
    }
    pm_starting(pm, ctr, instance);
    struct call *c = call_new(CALL_RUN, argv, ctr, instance, PODMAN_RUN_TIMEOUT_MS);
    c->serial = true;
    c->fd_out = wfd[0];
    c->fd_err = wfd[1];
    call_submit(pm, c);
    return 0;
}

/* ------------------------------------------------------------------ stop, kill, remove */

/* Serial: after the container's earlier run/stop/rm.  A kill is serial only behind a start
 * (it must reach the new container), never behind a slow stop (it is what ends one). */
static int submit_ctr(struct pm *pm, enum call_kind kind, char **argv, size_t ctr,
                      uint64_t instance, int64_t timeout_ms, int sig)
{
    if (!argv)
        return -1;
    struct call *c = call_new(kind, argv, ctr, instance, timeout_ms);
    c->serial = kind != CALL_KILL || pm->c[ctr].starting != 0;
    c->sig = sig;
    call_submit(pm, c);
    return 0;
}

const char *pm_ref(const struct pm *pm, size_t ctr)
{
    return pm->c[ctr].ref ? pm->c[ctr].ref : pm->c[ctr].name;
}

static int op_ctr_stop(void *self, size_t ctr, uint64_t instance, int64_t timeout_ms,
                       struct pod_err *err)
{
    struct pm *pm = self;
    if (ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: no container %zu", ctr);
    struct pctr *k = &pm->c[ctr];
    if (k->instance != instance || (!k->running && k->starting != instance))
        return 0; /* not running (any more): its exit is or was reported */
    struct esrc *es = es_find(pm, ctr, instance);
    if (es && (es->st == ES_CONFIRM || es->st == ES_WAIT))
        return 0; /* PID 1 is gone already */
    int t = timeout_ms <= 0 ? 0 : (int)((timeout_ms + 999) / 1000);
    char **argv = podman_argv_stop(&pm->actx, pm_ref(pm, ctr), t, err);
    return submit_ctr(pm, CALL_STOP, argv, ctr, instance, t * 1000LL + PODMAN_STOP_MARGIN_MS, 0);
}

static int op_ctr_kill(void *self, size_t ctr, uint64_t instance, int sig, struct pod_err *err)
{
    struct pm *pm = self;
    if (ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: no container %zu", ctr);
    if (sig <= 0 || sig > 64)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: bad signal %d", sig);
    struct esrc *es = es_find(pm, ctr, instance);
    if (es && (es->st == ES_CONFIRM || es->st == ES_WAIT))
        return 0; /* PID 1 is gone already: its exit is on the way */
    if (es && es->st == ES_ARMED && es->pidfd >= 0) {
        if (pod_pidfd_send_signal(es->pidfd, sig) == 0 || errno == ESRCH) {
            pm->st.pidfd_signals++;
            return 0; /* (ESRCH: exiting; its exit source reports) */
        }
        pod_log(POD_LOG_DEBUG, "%s: pidfd_send_signal: %s; using podman kill", pm->c[ctr].name,
                strerror(errno));
    }
    struct pctr *k = &pm->c[ctr];
    if (k->instance != instance || (!k->running && k->starting != instance))
        return pod_err_set(err, POD_E_BACKEND, 0, "%s: instance %llu is not running", k->name,
                           (unsigned long long)instance);
    pm->st.kill_fallbacks++;
    char **argv = podman_argv_kill(&pm->actx, pm_ref(pm, ctr), sig, err);
    return submit_ctr(pm, CALL_KILL, argv, ctr, instance, PODMAN_SHORT_TIMEOUT_MS, sig);
}

static int op_ctr_remove(void *self, size_t ctr, struct pod_err *err)
{
    struct pm *pm = self;
    if (ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: no container %zu", ctr);
    struct pctr *k = &pm->c[ctr];
    char **argv = podman_argv_rm(&pm->actx, pm_ref(pm, ctr), err);
    return submit_ctr(pm, CALL_RM, argv, ctr, k->instance, PODMAN_STOP_MARGIN_MS, 0);
}

static void ctr_call_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    bool ok = r->spawned && r->exited && r->code == 0;
    struct pctr *k = &pm->c[c->ctr];
    if (c->kind == CALL_STOP && !ok && pm_mentions(r->err, r->msg, "no such container"))
        ok = true; /* gone: nothing left to stop */
    if (ok) {
        if (c->kind == CALL_RM && k->starting == 0) {
            k->left_behind = false;
            k->exists = k->running = false;
            pm_touch(pm, k);
        }
        es_poke(pm, c->ctr, c->instance);
        return;
    }
    enum backend_op op = c->kind == CALL_STOP   ? BACKEND_OP_STOP
                         : c->kind == CALL_KILL ? BACKEND_OP_KILL
                                                : BACKEND_OP_REMOVE;
    pm_call_failed(pm, op, c->ctr, c->instance, 0, c->sig, "%s", r->msg);
}

/* ------------------------------------------------------------------ pod */

static int pod_call(struct pm *pm, enum call_kind kind, char **argv, int64_t timeout_ms)
{
    if (!argv)
        return -1;
    struct call *c = call_new(kind, argv, SIZE_MAX, 0, timeout_ms);
    c->serial = true;
    call_submit(pm, c);
    return 0;
}

static int64_t pod_rm_timeout(const struct pm *pm)
{
    int64_t t = 0;
    for (size_t i = 0; i < pm->n; i++)
        if (pm->spec->containers[i].stop_timeout_s * 1000LL > t)
            t = pm->spec->containers[i].stop_timeout_s * 1000LL;
    return t + PODMAN_STOP_MARGIN_MS * 2;
}

/* After INFRA_DOWN the pod exists with a dead infra: it is removed first (`pod rm -f`: what
 * still runs in it is killed), then created anew (SPEC.md 8.11).  Both are pod-level calls:
 * they run after every call queued before them, and every container call after them waits. */
static int op_pod_create(void *self, struct pod_err *err)
{
    struct pm *pm = self;
    if (pm->infra.recreate) {
        char **rm = podman_argv_pod_rm(&pm->actx, err);
        if (!rm)
            return -1;
        char **cr = podman_argv_pod_create(&pm->actx, err);
        if (!cr) {
            pod_strv_free(rm);
            return -1;
        }
        pm->infra.recreate = false;
        pod_log(POD_LOG_INFO, "podman backend: removing the pod and creating it anew");
        struct call *c = call_new(CALL_POD_RM, rm, SIZE_MAX, 0, pod_rm_timeout(pm));
        c->serial = true;
        c->then = call_new(CALL_POD_CREATE, cr, SIZE_MAX, 0, PODMAN_SHORT_TIMEOUT_MS * 2);
        c->then->serial = true;
        call_submit(pm, c);
        return 0;
    }
    return pod_call(pm, CALL_POD_CREATE, podman_argv_pod_create(&pm->actx, err),
                    PODMAN_SHORT_TIMEOUT_MS * 2);
}

static int op_pod_remove(void *self, struct pod_err *err)
{
    struct pm *pm = self;
    return pod_call(pm, CALL_POD_RM, podman_argv_pod_rm(&pm->actx, err), pod_rm_timeout(pm));
}

static void pod_call_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    bool ok = r->spawned && r->exited && r->code == 0;
    if (c->kind == CALL_POD_CREATE) {
        if (!ok && !pm_mentions(r->err, r->msg, "already exists"))
            pm_call_failed(pm, BACKEND_OP_POD_CREATE, SIZE_MAX, 0, 0, 0, "%s", r->msg);
        infra_reset(pm); /* a new infra (or none): looked up at the next start */
        return;
    }
    if (c->then) {
        /* a repair: the removal is tried twice (rootless podman 4.3.1 fails the first one of a
         * pod whose infra and conmon were killed, and removes it the second time), then the
         * create comes before anything queued meanwhile */
        struct call *next = c->then;
        c->then = NULL;
        if (!ok && !c->again) {
            pod_log(POD_LOG_INFO, "podman backend: pod remove failed (%s): trying again", r->msg);
            struct call *rm =
                call_new(CALL_POD_RM, pod_strv_dup(c->argv), SIZE_MAX, 0, c->timeout_ms);
            rm->serial = true;
            rm->again = true;
            rm->then = next;
            call_submit_front(pm, rm);
            return;
        }
        call_submit_front(pm, next);
    }
    if (!ok) {
        pm_call_failed(pm, BACKEND_OP_POD_REMOVE, SIZE_MAX, 0, 0, 0, "%s", r->msg);
        return;
    }
    for (size_t i = 0; i < pm->n; i++) {
        struct pctr *k = &pm->c[i];
        if (k->starting == 0) {
            k->exists = k->running = false;
            pm_touch(pm, k);
        }
        es_poke(pm, i, k->instance);
    }
    warm_forget_all(pm);
}

/* ------------------------------------------------------------------ listing */

static void listing_submit(struct pm *pm)
{
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_ps(&pm->actx, &err);
    if (!argv)
        return;
    struct call *c = call_new(CALL_PS, argv, SIZE_MAX, 0, PODMAN_SHORT_TIMEOUT_MS);
    c->capture_out = true;
    c->gen = pm->gen;
    pm->listing = true;
    pm->listing_at = INT64_MAX;
    call_submit(pm, c);
}

static const struct podman_ctr_info *listed_ctr(const struct pm *pm, size_t i,
                                                const struct podman_ctr_info *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (v[j].ctr_label && strcmp(v[j].ctr_label, pm->spec->containers[i].name) == 0 &&
            strcmp(v[j].name, pm->c[i].name) == 0)
            return &v[j];
    return NULL;
}

static void listing_merge(struct pm *pm, uint64_t gen, const struct podman_ctr_info *v, size_t n)
{
    for (size_t i = 0; i < pm->n; i++) {
        struct pctr *k = &pm->c[i];
        if (k->gen > gen || k->renaming)
            continue; /* changed here since the listing was asked for */
        const struct podman_ctr_info *e = listed_ctr(pm, i, v, n);
        bool runs = e && e->state == PODMAN_ST_RUNNING;
        for (size_t j = 0; j < n; j++) /* a standby: removed, or adopted as the instance */
            if (warm_listed(pm, i, &v[j], runs))
                e = &v[j];
        if (!e) {
            k->exists = k->running = false;
            continue;
        }
        k->exists = true;
        k->instance = e->instance;
        k->running = e->state == PODMAN_ST_RUNNING;
        k->exit_code = e->state == PODMAN_ST_EXITED ? e->exit_code : 0;
        k->started_wall_ns = e->started_wall_ns;
        k->finished_wall_ns = e->state == PODMAN_ST_EXITED ? e->finished_wall_ns : 0;
        if (k->running && e->instance)
            es_new(pm, i, e->instance, e->id, e->pid, e->started_wall_ns);
        if (k->running)
            warm_want(pm, i);
    }
}

static void listing_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    pm->listing = false;
    struct podman_ctr_info *v = NULL;
    size_t n = 0;
    struct pod_err err = POD_ERR_ZERO;
    if (r->spawned && r->exited && r->code == 0 &&
        podman_parse_ps(r->out, r->out_len, &v, &n, &err) == 0) {
        pm->st.listings++;
        listing_merge(pm, c->gen, v, n);
        podman_ctr_infos_free(v, n);
        for (size_t i = 0; i < pm->n; i++)
            if (pm->c[i].running)
                infra_want(pm, i, false); /* (adoption: the first one asks) */
        pm->listed = true;
        pm->listing_failures = 0;
        pm->listing_at = pm_now(pm) + pm->cfg.refresh_ms;
        return;
    }
    pod_log(POD_LOG_WARN, "podman backend: listing failed: %s", r->msg[0] ? r->msg : err.msg);
    int64_t d = pm->listed ? MIN_REFRESH_MS : FIRST_LISTING_RETRY_MS << pm->listing_failures;
    if (d > MIN_REFRESH_MS)
        d = MIN_REFRESH_MS;
    if (pm->listing_failures < 10)
        pm->listing_failures++;
    pm->listing_at = pm_now(pm) + d;
}

/* ------------------------------------------------------------------ dispatch */

void pm_call_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    switch (c->kind) {
    case CALL_RUN:
        run_done(pm, c, r);
        break;
    case CALL_PULL:
        pull_done(pm, c, r);
        break;
    case CALL_INSPECT:
        es_inspect_done(pm, c->es, r);
        break;
    case CALL_WAIT:
        es_wait_done(pm, c->es, r);
        break;
    case CALL_STOP:
    case CALL_KILL:
    case CALL_RM:
        ctr_call_done(pm, c, r);
        break;
    case CALL_EXEC:
        probe_exec_done(pm, c, r);
        break;
    case CALL_PS:
        listing_done(pm, c, r);
        break;
    case CALL_POD_CREATE:
    case CALL_POD_RM:
        pod_call_done(pm, c, r);
        break;
    case CALL_INFRA:
        infra_lookup_done(pm, c, r);
        break;
    case CALL_W_CREATE:
    case CALL_W_INIT:
    case CALL_W_INSPECT:
    case CALL_W_START:
    case CALL_W_RENAME:
    case CALL_W_RM:
        warm_call_done(pm, c, r);
        break;
    }
}

/* ------------------------------------------------------------------ ops */

static int op_probe(void *self, const struct backend_probe_req *req, struct pod_err *err)
{
    return probe_start(self, req, err);
}

static int op_cancel(void *self, uint64_t tag, struct pod_err *err)
{
    return probe_cancel(self, tag, err);
}

static int op_inspect(void *self, size_t ctr, struct backend_ctr_state *out, struct pod_err *err)
{
    struct pm *pm = self;
    if (ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "podman: no container %zu", ctr);
    if (!pm->listed)
        return pod_err_set(err, POD_E_BACKEND, 0, "podman: the first listing has not answered");
    const struct pctr *k = &pm->c[ctr];
    memset(out, 0, sizeof *out);
    out->exists = k->exists;
    out->running = k->exists && k->running;
    out->instance = k->exists ? k->instance : 0;
    out->exit_code = k->exists && !k->running ? k->exit_code : 0;
    out->started_wall_ns = k->exists ? k->started_wall_ns : 0;
    out->finished_wall_ns = k->exists && !k->running ? k->finished_wall_ns : 0;
    return 0;
}

static void tick(struct pm *pm)
{
    int64_t now = pm_now(pm);
    call_tick(pm, now);
    es_tick(pm, now);
    probe_tick(pm, now);
    if (!pm->listing && now >= pm->listing_at)
        listing_submit(pm);
    if (pm->cfg.exec.ops && pm->cfg.exec.ops->tick)
        pm->cfg.exec.ops->tick(pm->cfg.exec.self);
    call_pump(pm);
}

static int op_poll_events(void *self, struct backend_event *evs, size_t max, struct pod_err *err)
{
    (void)err;
    struct pm *pm = self;
    streams_release(pm);
    tick(pm);
    size_t n = 0;
    while (n < max && pm->ev_len > 0) {
        struct qev *q = &pm->q[pm->ev_head++];
        pm->ev_len--;
        if (q->ev.type == 0)
            continue;
        if (q->s)
            q->s->delivered = true;
        evs[n++] = q->ev;
    }
    if (pm->ev_len == 0)
        pm->ev_head = 0;
    return (int)n;
}

static int64_t op_next_deadline(void *self)
{
    struct pm *pm = self;
    if (pm->ev_len > 0 || streams_need_release(pm))
        return pm_now(pm);
    int64_t d = call_next_deadline(pm);
    int64_t t = es_next_deadline(pm);
    d = t < d ? t : d;
    t = probe_next_deadline(pm);
    d = t < d ? t : d;
    if (!pm->listing && pm->listing_at < d)
        d = pm->listing_at;
    if (pm->cfg.exec.ops && pm->cfg.exec.ops->next_deadline) {
        t = pm->cfg.exec.ops->next_deadline(pm->cfg.exec.self);
        d = t < d ? t : d;
    }
    return d;
}

static void op_ctr_renew(void *self, size_t ctr)
{
    struct pm *pm = self;
    if (ctr < pm->n)
        warm_renew(pm, ctr);
}

const struct backend_ops backend_podman_ops = {
    .name = "podman",
    .pod_create = op_pod_create,
    .pod_remove = op_pod_remove,
    .ctr_start = op_ctr_start,
    .ctr_stop = op_ctr_stop,
    .ctr_kill = op_ctr_kill,
    .ctr_remove = op_ctr_remove,
    .probe = op_probe,
    .cancel = op_cancel,
    .inspect = op_inspect,
    .poll_events = op_poll_events,
    .next_deadline = op_next_deadline,
    .ctr_renew = op_ctr_renew,
};

/* ------------------------------------------------------------------ lifecycle */

int backend_podman_new(const struct podman_cfg *cfg, struct backend *out, struct pod_err *err)
{
    if (!cfg->spec || !cfg->loop || !cfg->clk.mono_ms || !cfg->pod_dir || cfg->pod_dir[0] != '/')
        return pod_err_set(err, POD_E_INVALID, 0,
                           "podman backend: spec, loop, clock and an "
                           "absolute pod directory are required");
    struct pm *pm = xcalloc(1, sizeof *pm);
    pm->cfg = *cfg;
    pm->spec = cfg->spec;
    const char *env = getenv("POD_PODMAN");
    pm->podman = xstrdup(cfg->podman ? cfg->podman : (env && env[0] ? env : "podman"));
    pm->max_parallel = cfg->max_parallel > 0 ? cfg->max_parallel : DEFAULT_MAX_PARALLEL;
    if (pm->cfg.refresh_ms <= 0)
        pm->cfg.refresh_ms = DEFAULT_REFRESH_MS;
    if (pm->cfg.refresh_ms < MIN_REFRESH_MS)
        pm->cfg.refresh_ms = MIN_REFRESH_MS;
    pm->actx = (struct podman_argv_ctx){.spec = cfg->spec,
                                        .podman = pm->podman,
                                        .pod_dir = cfg->pod_dir,
                                        .exe_path = cfg->exe_path,
                                        .run_dir = cfg->run_dir,
                                        .host_interface = cfg->host_interface};
    pm->n = cfg->spec->n_containers;
    pm->c = xcalloc(pm->n ? pm->n : 1, sizeof *pm->c);
    pm->infra.pidfd = -1;
    for (size_t i = 0; i < pm->n; i++) {
        pm->c[i].name = spec_container_fullname(cfg->spec, i);
        pm->c[i].w.rfd[0] = pm->c[i].w.rfd[1] = -1;
    }
    listing_submit(pm);
    out->ops = &backend_podman_ops;
    out->self = pm;
    return 0;
}

void backend_podman_free(struct backend *be)
{
    if (!be || !be->self)
        return;
    struct pm *pm = be->self;
    warm_teardown(pm);
    probes_free(pm);
    infra_free(pm);
    calls_free(pm);
    es_free_all(pm);
    streams_free(pm);
    if (pm->cfg.exec.ops && pm->cfg.exec.ops->free)
        pm->cfg.exec.ops->free(pm->cfg.exec.self);
    warm_free(pm);
    for (size_t i = 0; i < pm->n; i++) {
        free(pm->c[i].name);
        free(pm->c[i].ref);
    }
    free(pm->c);
    free(pm->q);
    free(pm->podman);
    free(pm);
    be->self = NULL;
}

void backend_podman_adopt_pipe(struct backend *be, size_t ctr, uint64_t instance, int stream,
                               int fd)
{
    struct pm *pm = be->self;
    if (ctr >= pm->n || (stream != BACKEND_STDOUT && stream != BACKEND_STDERR) ||
        stream_find(pm, ctr, instance, stream)) {
        close(fd);
        return;
    }
    (void)stream_open(pm, ctr, instance, stream, fd, false);
}

void backend_podman_output_resume(struct backend *be)
{
    streams_resume(be->self);
}

void backend_podman_exec_done(struct backend *be, uint64_t tag, enum backend_result r, int code,
                              const char *msg)
{
    probe_strategy_done(be->self, tag, r, code, msg);
}

void backend_podman_stats(const struct backend *be, struct podman_stats *out)
{
    const struct pm *pm = be->self;
    *out = pm->st;
}
