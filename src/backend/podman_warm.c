/* SPDX-License-Identifier: MIT */
/* podman_warm.c - the warm standby (SPEC.md 7.8.2).
 *
 * For a container with `warmStandby: true` (and a restart policy, not `network: host`), the
 * next instance is made while the current one runs: `podman create` under the name
 * <name>-standby, then `podman init` with its stdout/stderr on log pipes of its own (conmon and
 * the runtime's container process then wait for the start), then `podman container inspect`
 * for its id (with `--log-driver passthrough`, create prints none).  A start of that instance is
 * then `podman start` of it, ~40 ms against ~140-200 ms for `podman run` at an exit; after it, off
 * the critical path and in the container's serial order, the old container is removed and the
 * standby renamed to <name>.  That instance is addressed by its id all its life (pm_ref), so
 * nothing depends on when the rename lands.  `podman init` prints the name on the pipe before
 * the container can write anything: what the pipes hold before the start is dropped.
 * Standbys are removed when the daemon ends (warm_teardown) and when a listing finds one that
 * is not ours (an earlier daemon's); a standby that runs while the container's own does not is
 * the instance an earlier daemon started and did not rename: it is adopted.
 */
#include "podman_int.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/proc.h"

#define WARM_MAX_FAILURES 3    /* in a row: no more standbys for that container (this daemon) */
#define WARM_TEARDOWN_MS 15000 /* the daemon's end waits this long for podman at most */
#define WARM_DROP_LOG_MAX 120

bool warm_enabled(const struct pm *pm, size_t ctr)
{
    return spec_container_warm(&pm->spec->containers[ctr]);
}

const char *backend_podman_standby(const struct backend *be, size_t ctr)
{
    const struct pm *pm = be->self;
    if (!pm || ctr >= pm->n || !warm_enabled(pm, ctr))
        return NULL;
    const struct warm *w = &pm->c[ctr].w;
    if (w->failures >= WARM_MAX_FAILURES)
        return "off";
    return w->st == W_READY ? "ready" : w->st == W_NONE ? "none" : "preparing";
}

static char *standby_name(const struct pm *pm, size_t ctr)
{
    return xasprintf("%s%s", pm->c[ctr].name, PODMAN_STANDBY_SUFFIX);
}

static void close_pipes(struct warm *w)
{
    for (int s = 0; s < 2; s++) {
        if (w->rfd[s] >= 0)
            close(w->rfd[s]);
        w->rfd[s] = -1;
    }
}

/* Forgets the standby: the results of its calls still running are stale. */
static void forget(struct warm *w)
{
    close_pipes(w);
    free(w->id);
    w->id = NULL;
    w->st = W_NONE;
    w->gen++;
}

/* A standby call about ctr: serial, tagged with the standby's generation. */
static struct call *w_call(struct pm *pm, enum call_kind kind, char **argv, size_t ctr,
                           uint64_t instance)
{
    struct call *c = call_new(kind, argv, ctr, instance, PODMAN_RUN_TIMEOUT_MS);
    c->serial = true;
    c->tag = pm->c[ctr].w.gen;
    c->capture_out = kind == CALL_W_INSPECT;
    return c;
}

static void submit(struct pm *pm, enum call_kind kind, char **argv, size_t ctr, uint64_t instance)
{
    if (argv)
        call_submit(pm, w_call(pm, kind, argv, ctr, instance));
}

static void submit_rm(struct pm *pm, size_t ctr, const char *what)
{
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_rm(&pm->actx, what, &err);
    if (!argv)
        pod_log(POD_LOG_WARN, "%s: %s", pm->c[ctr].name, err.msg);
    submit(pm, CALL_W_RM, argv, ctr, 0);
}

/* Removes the standby (after its calls still queued: they are serial too).  A preparing call
 * that runs is ended first: a hung `podman init` must not hold the container's restart. */
static void drop(struct pm *pm, size_t ctr)
{
    struct warm *w = &pm->c[ctr].w;
    if (w->st == W_NONE)
        return;
    forget(w);
    for (size_t i = 0; i < pm->n_run; i++) {
        struct call *c = pm->run[i];
        if (c->ctr == ctr &&
            (c->kind == CALL_W_CREATE || c->kind == CALL_W_INIT || c->kind == CALL_W_INSPECT)) {
            call_kill(c);
            pm->st.warm_killed++;
        }
    }
    char *name = standby_name(pm, ctr);
    submit_rm(pm, ctr, name);
    free(name);
}

void warm_renew(struct pm *pm, size_t ctr)
{
    if (pm->c[ctr].w.st == W_NONE)
        return;
    pod_log(POD_LOG_INFO, "%s: warm standby dropped: rerun creates the container anew",
            pm->c[ctr].name);
    drop(pm, ctr);
}

static void failed(struct pm *pm, size_t ctr, const char *step, const char *msg)
{
    struct warm *w = &pm->c[ctr].w;
    w->failures++;
    pm->st.warm_failures++;
    pod_log(POD_LOG_WARN, "%s: warm standby: %s failed: %s%s", pm->c[ctr].name, step, msg,
            w->failures >= WARM_MAX_FAILURES ? " (no more standbys for it from this daemon)" : "");
    drop(pm, ctr);
}

void warm_want(struct pm *pm, size_t ctr)
{
    struct pctr *k = &pm->c[ctr];
    struct warm *w = &k->w;
    /* (while the instance still has the standby's name, a `create --replace` of that name
     * would remove it: the next standby waits for the rename) */
    if (!warm_enabled(pm, ctr) || w->st != W_NONE || w->failures >= WARM_MAX_FAILURES ||
        k->renaming)
        return;
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_standby_create(&pm->actx, ctr, k->instance + 1, &err);
    if (!argv) {
        w->failures = WARM_MAX_FAILURES;
        pod_log(POD_LOG_WARN, "%s: warm standby: %s", k->name, err.msg);
        return;
    }
    w->gen++;
    w->st = W_CREATING;
    w->instance = k->instance + 1;
    submit(pm, CALL_W_CREATE, argv, ctr, w->instance);
}

/* Created: initialise it with its stdout/stderr on new pipes. */
static void created(struct pm *pm, size_t ctr)
{
    struct warm *w = &pm->c[ctr].w;
    struct pod_err err = POD_ERR_ZERO;
    char *name = standby_name(pm, ctr);
    char **argv = podman_argv_verb1(&pm->actx, "init", name, &err);
    free(name);
    if (!argv) {
        failed(pm, ctr, "init", err.msg);
        return;
    }
    int p[2][2];
    if (pm_log_pipes(p, &err) < 0) {
        pod_strv_free(argv);
        failed(pm, ctr, "init", err.msg);
        return;
    }
    for (int s = 0; s < 2; s++) {
        w->rfd[s] = p[s][0];
        (void)fcntl(p[s][0], F_SETFL, fcntl(p[s][0], F_GETFL) | O_NONBLOCK);
    }
    w->st = W_INITING;
    struct call *c = w_call(pm, CALL_W_INIT, argv, ctr, w->instance);
    c->fd_out = p[0][1]; /* the call closes them; conmon keeps its copies */
    c->fd_err = p[1][1];
    call_submit(pm, c);
}

/* What `podman init` wrote on the pipes (its name line; a warning): not the container's. */
static void drain(struct pm *pm, size_t ctr)
{
    struct warm *w = &pm->c[ctr].w;
    for (int s = 0; s < 2; s++) {
        char buf[4096], shown[WARM_DROP_LOG_MAX + 1] = "";
        size_t total = 0;
        ssize_t got;
        while ((got = read(w->rfd[s], buf, sizeof buf)) > 0) {
            if (total == 0) {
                size_t m = (size_t)got < WARM_DROP_LOG_MAX ? (size_t)got : WARM_DROP_LOG_MAX;
                for (size_t i = 0; i < m; i++)
                    shown[i] = buf[i] >= ' ' && buf[i] < 127 ? buf[i] : '.';
                shown[m] = 0;
            }
            total += (size_t)got;
        }
        if (total)
            pod_log(POD_LOG_DEBUG,
                    "%s: warm standby: dropped %zu byte(s) podman init wrote on %s: %s",
                    pm->c[ctr].name, total, s == 0 ? "stdout" : "stderr", shown);
    }
}

/* Initialised: what init wrote goes; its id next. */
static void inited(struct pm *pm, size_t ctr)
{
    struct warm *w = &pm->c[ctr].w;
    drain(pm, ctr);
    w->st = W_INSPECTING;
    char *name = standby_name(pm, ctr);
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_inspect(&pm->actx, name, &err);
    free(name);
    if (!argv) {
        failed(pm, ctr, "inspect", err.msg);
        return;
    }
    submit(pm, CALL_W_INSPECT, argv, ctr, w->instance);
}

/* r: the inspect's output (NULL: it failed with msg). */
static void inspected(struct pm *pm, size_t ctr, const struct call_res *r, const char *msg)
{
    struct warm *w = &pm->c[ctr].w;
    struct podman_ctr_info in = {0};
    bool found = false;
    struct pod_err err = POD_ERR_ZERO;
    if (!r || podman_parse_inspect(r->out, r->out_len, &in, &found, &err) < 0 || !found || !in.id) {
        podman_ctr_info_clear(&in);
        failed(pm, ctr, "inspect", !r ? msg : err.msg[0] ? err.msg : "not found");
        return;
    }
    w->id = in.id;
    in.id = NULL;
    podman_ctr_info_clear(&in);
    w->st = W_READY;
    w->failures = 0;
    pm->st.warm_ready++;
    pod_log(POD_LOG_DEBUG, "%s: warm standby ready for instance %llu", pm->c[ctr].name,
            (unsigned long long)w->instance);
}

bool warm_start(struct pm *pm, size_t ctr, uint64_t instance)
{
    struct pctr *k = &pm->c[ctr];
    struct warm *w = &k->w;
    if (w->st == W_NONE)
        return false;
    if (w->st != W_READY || w->instance != instance) {
        drop(pm, ctr); /* not ready (or for another instance): `podman run` it is */
        return false;
    }
    struct pod_err err = POD_ERR_ZERO;
    char **start = podman_argv_verb1(&pm->actx, "start", w->id, &err);
    char **rm = podman_argv_rm(&pm->actx, k->name, &err);
    char **rename = podman_argv_rename(&pm->actx, w->id, k->name, &err);
    if (!start || !rm || !rename) {
        pod_strv_free(start);
        pod_strv_free(rm);
        pod_strv_free(rename);
        failed(pm, ctr, "start", err.msg);
        return false;
    }
    pm_starting(pm, ctr, instance);
    for (int s = 0; s < 2; s++) {
        (void)stream_open(pm, ctr, instance, s, w->rfd[s], true);
        w->rfd[s] = -1;
    }
    free(k->ref);
    k->ref = w->id;
    w->id = NULL;
    k->renaming = true;
    forget(w);
    pod_log(POD_LOG_INFO, "%s: starting instance %llu from its warm standby", k->name,
            (unsigned long long)instance);
    pm->st.warm_starts++;
    submit(pm, CALL_W_START, start, ctr, instance);
    submit(pm, CALL_W_RM, rm, ctr, instance);
    submit(pm, CALL_W_RENAME, rename, ctr, instance);
    return true;
}

void warm_call_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    struct pctr *k = &pm->c[c->ctr];
    struct warm *w = &k->w;
    bool ok = r->spawned && r->exited && r->code == 0;
    const char *msg = r->msg[0] ? r->msg : (r->timed_out ? "timed out" : "podman failed");
    switch (c->kind) {
    case CALL_W_CREATE:
        if (c->tag != w->gen || w->st != W_CREATING)
            return; /* dropped meanwhile: its removal is queued after this call */
        if (!ok)
            failed(pm, c->ctr, "create", msg);
        else
            created(pm, c->ctr);
        return;
    case CALL_W_INIT:
        if (c->tag != w->gen || w->st != W_INITING)
            return;
        if (!ok) {
            failed(pm, c->ctr, "init", msg);
            return;
        }
        inited(pm, c->ctr);
        return;
    case CALL_W_INSPECT:
        if (c->tag != w->gen || w->st != W_INSPECTING)
            return;
        inspected(pm, c->ctr, ok ? r : NULL, msg);
        return;
    case CALL_W_START:
        if (ok) {
            pm_run_ok(pm, c, k->instance == c->instance ? k->ref : NULL);
            return;
        }
        pm_start_failed(pm, c->ctr, c->instance, msg); /* the rename still comes: left behind */
        return;
    case CALL_W_RENAME:
        if (ok) {
            k->renaming = false;
            if (k->running && k->instance == c->instance)
                warm_want(pm, c->ctr);
            return;
        }
        /* it stays addressed by id; listings keep skipping it until its next start */
        pod_log(POD_LOG_WARN, "%s: renaming its instance from the standby failed: %s", k->name,
                msg);
        return;
    case CALL_W_RM:
        if (!ok && !pm_mentions(r->err, r->msg, "no such container"))
            pod_log(POD_LOG_WARN, "%s: warm standby: removal failed: %s", k->name, msg);
        return;
    default:
        return;
    }
}

bool warm_listed(struct pm *pm, size_t ctr, const struct podman_ctr_info *e, bool canonical_runs)
{
    struct pctr *k = &pm->c[ctr];
    size_t nl = strlen(k->name);
    if (!e->ctr_label || strcmp(e->ctr_label, pm->spec->containers[ctr].name) != 0 || !e->name ||
        strncmp(e->name, k->name, nl) != 0 || strcmp(e->name + nl, PODMAN_STANDBY_SUFFIX) != 0)
        return false;
    if (k->w.st != W_NONE || (k->ref && strcmp(k->ref, e->id) == 0))
        return false; /* ours */
    if (e->state == PODMAN_ST_RUNNING && !canonical_runs) {
        struct pod_err err = POD_ERR_ZERO;
        char **rm = podman_argv_rm(&pm->actx, k->name, &err);
        char **rename = podman_argv_rename(&pm->actx, e->id, k->name, &err);
        if (rm && rename) {
            pod_log(POD_LOG_INFO,
                    "%s: adopting instance %llu under its standby's name; renaming it", k->name,
                    (unsigned long long)e->instance);
            free(k->ref);
            k->ref = xstrdup(e->id);
            k->renaming = true;
            submit(pm, CALL_W_RM, rm, ctr, e->instance);
            submit(pm, CALL_W_RENAME, rename, ctr, e->instance);
            return true;
        }
        pod_strv_free(rm);
        pod_strv_free(rename);
    }
    pod_log(POD_LOG_INFO, "%s: removing a standby an earlier daemon left", k->name);
    submit_rm(pm, ctr, e->id);
    return false;
}

void warm_forget_all(struct pm *pm)
{
    for (size_t i = 0; i < pm->n; i++) {
        forget(&pm->c[i].w);
        pm->c[i].renaming = false;
    }
}

/* Waits (bounded) for the standby calls that run: a `create` ended by force could leave a
 * container the removal below misses. */
static void wait_running(struct pm *pm, int64_t deadline_ms)
{
    for (size_t i = 0; i < pm->n_run; i++) {
        struct call *c = pm->run[i];
        if ((c->kind != CALL_W_CREATE && c->kind != CALL_W_INIT) || !c->p)
            continue;
        int64_t left = deadline_ms - pm_now(pm);
        struct pollfd p = {.fd = proc_pidfd(c->p), .events = POLLIN};
        if (left > 0 && p.fd >= 0)
            (void)poll(&p, 1, (int)left);
    }
}

void warm_teardown(struct pm *pm)
{
    char **names = NULL;
    /* (while a container is renaming, that name is its instance's and no standby is made) */
    for (size_t i = 0; i < pm->n; i++)
        if (warm_enabled(pm, i) && !pm->c[i].renaming) {
            char *n = standby_name(pm, i);
            pod_strv_push(&names, n);
            free(n);
        }
    if (!names)
        return;
    wait_running(pm, pm_now(pm) + WARM_TEARDOWN_MS);
    char **argv = NULL;
    const char *head[] = {pm->podman, "rm", "-f", "-i", "-t", "0"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        pod_strv_push(&argv, head[i]);
    for (char **n = names; *n; n++)
        pod_strv_push(&argv, *n);
    pod_strv_free(names);
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.cwd = pm->cfg.pod_dir;
    o.strip_preload = true;
    o.new_session = true;
    o.fd_err = PROC_FD_CAPTURE;
    struct proc_result res = {0};
    struct pod_err err = POD_ERR_ZERO;
    if (proc_run(&o, WARM_TEARDOWN_MS, &res, &err) < 0)
        pod_log(POD_LOG_WARN, "podman backend: removing the warm standbys: %s", err.msg);
    else if (!res.exited || res.code != 0)
        pod_log(POD_LOG_WARN,
                "podman backend: removing the warm standbys: podman rm exited %d: %.200s", res.code,
                res.err ? res.err : "");
    proc_result_free(&res);
    pod_strv_free(argv);
}

void warm_free(struct pm *pm)
{
    for (size_t i = 0; i < pm->n; i++)
        forget(&pm->c[i].w);
}
