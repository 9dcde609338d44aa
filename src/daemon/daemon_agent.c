/* SPDX-License-Identifier: MIT */
/* daemon_agent.c - exec probes through the in-container agent (see daemon_agent.h).
 *
 * Per container: the current instance, its agent's state and the podman child that starts it.
 *   NONE -> (PID 1 known) STARTING (`podman exec -d`) -> CONNECTING -> READY
 *        -> DOWN (could not start or connect, or lost): `podman exec` for the rest of the
 *           instance.  After an adoption the socket left by the previous daemon's agent is
 *           tried first (PROBING); if nobody answers the agent is started as above.
 * Requests taken are kept by tag until their one result has been handed to the backend.
 * Runs on the daemon's loop; never blocks: the podman child is watched by its pidfd.
 */
#include "daemon_agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/agent.h"
#include "pod/proc.h"
#include "pod/util.h"

enum ax_st { AX_NONE = 0, AX_PROBING, AX_STARTING, AX_CONNECTING, AX_READY, AX_DOWN };

struct ax_ctr {
    struct dagent *a;
    size_t ctr;
    uint64_t instance;
    enum ax_st st;
    char *name; /* <ctr>-<pod>-<version> */
    char *id;   /* the instance's container id (NULL: unknown; addressed by name) */
    char *sock; /* <run_dir>/<ctr>/agent.sock */
    char *rel;  /* .<b>.run/<ctr>: its directory beneath cfg.pod_dirfd (cfg.beneath) */
    struct agent_client *cl;
    struct proc *starter; /* `podman exec -d ... __agent` */
    int64_t start_deadline;
};

struct ax_req {
    uint64_t tag;
    size_t ctr;
    uint64_t instance;
    bool cancelled;
};

struct dagent {
    struct dagent_cfg cfg;
    bool freeing; /* dagent_free: nothing is reported any more */
    size_t n;
    struct ax_ctr *c;
    struct ax_req *req;
    size_t n_req, cap_req;
    struct dagent_stats st;
};

static int64_t now_ms(const struct dagent *a)
{
    return clk_mono_ms(a->cfg.clk);
}

/* ------------------------------------------------------------------ requests */

static struct ax_req *req_find(struct dagent *a, uint64_t tag)
{
    for (size_t i = 0; i < a->n_req; i++)
        if (a->req[i].tag == tag)
            return &a->req[i];
    return NULL;
}

static void req_remove(struct dagent *a, struct ax_req *r)
{
    size_t i = (size_t)(r - a->req);
    memmove(r, r + 1, (a->n_req - i - 1) * sizeof *r);
    a->n_req--;
}

static void report(struct dagent *a, uint64_t tag, enum backend_result r, int code, const char *msg)
{
    if (!a->freeing && a->cfg.done)
        a->cfg.done(a->cfg.done_arg, tag, r, code, msg);
}

/* The requests of ctr's instance end with it: its processes died with the container. */
static void end_requests(struct dagent *a, size_t ctr, const char *why)
{
    for (size_t i = 0; i < a->n_req;) {
        struct ax_req *r = &a->req[i];
        if (r->ctr != ctr) {
            i++;
            continue;
        }
        uint64_t tag = r->tag;
        bool cancelled = r->cancelled;
        req_remove(a, r);
        report(a, tag, cancelled ? BACKEND_CANCELLED : BACKEND_UNKNOWN, 137, why);
    }
}

/* ------------------------------------------------------------------ the client's callbacks */

static void on_done(void *arg, uint64_t tag, int code, enum agent_state st)
{
    struct ax_ctr *c = arg;
    struct dagent *a = c->a;
    struct ax_req *r = req_find(a, tag);
    if (!r)
        return;
    bool cancelled = r->cancelled;
    req_remove(a, r);
    char msg[96] = "";
    enum backend_result res;
    switch (st) {
    case AGENT_OK:
        res = code == 0 ? BACKEND_OK : BACKEND_FAIL;
        if (code == 126 || code == 127) {
            res = BACKEND_UNKNOWN;
            snprintf(msg, sizeof msg, "configuration error: command %s",
                     code == 126 ? "cannot be executed" : "not found");
        }
        break;
    case AGENT_CANCELLED:
        res = BACKEND_CANCELLED;
        code = 137;
        break;
    case AGENT_TIMEOUT:
        res = BACKEND_TIMEOUT;
        code = 137;
        snprintf(msg, sizeof msg, "no answer before the deadline (killed by the agent)");
        break;
    case AGENT_ERROR:
        res = BACKEND_UNKNOWN;
        snprintf(msg, sizeof msg, "the agent could not run it: %s", strerror(code));
        code = 255;
        break;
    case AGENT_LOST:
    default:
        /* the agent kills a dropped connection's commands (SPEC 7, the agent) */
        res = cancelled ? BACKEND_CANCELLED : BACKEND_UNKNOWN;
        code = 255;
        snprintf(msg, sizeof msg, "the agent's connection was lost");
        break;
    }
    if (cancelled && res != BACKEND_CANCELLED)
        res = BACKEND_CANCELLED; /* never credited; the process is gone */
    report(a, tag, res, code, msg[0] ? msg : NULL);
}

static void go_down(struct ax_ctr *c, const char *why)
{
    c->st = AX_DOWN;
    c->a->st.start_failures++;
    pod_log(POD_LOG_INFO, "%s: exec probes of instance %llu through podman exec: agent %s",
            c->a->cfg.spec->containers[c->ctr].name, (unsigned long long)c->instance, why);
}

static void start_agent(struct ax_ctr *c);

static void on_ready(void *arg)
{
    struct ax_ctr *c = arg;
    c->st = AX_READY;
    c->a->st.ready++;
    pod_log(POD_LOG_DEBUG, "%s: agent of instance %llu ready",
            c->a->cfg.spec->containers[c->ctr].name, (unsigned long long)c->instance);
}

static void on_lost(void *arg, const char *why)
{
    struct ax_ctr *c = arg;
    if (c->st == AX_PROBING) { /* no agent left by the previous daemon: start one */
        start_agent(c);
        return;
    }
    if (c->st == AX_READY) { /* usually the container stopping: its exit follows */
        c->a->st.lost++;
        c->st = AX_DOWN;
        pod_log(POD_LOG_DEBUG, "%s: agent connection of instance %llu lost (%s): podman exec",
                c->a->cfg.spec->containers[c->ctr].name, (unsigned long long)c->instance, why);
        return;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "%s: %s", c->st == AX_READY ? "connection lost" : "cannot connect",
             why);
    go_down(c, msg);
}

static void connect_agent(struct ax_ctr *c, enum ax_st st, int64_t within_ms)
{
    struct pod_err err = POD_ERR_ZERO;
    if (!c->cl) {
        struct agent_client_cbs cbs = {on_done, on_ready, on_lost, c};
        c->cl = agent_client_new(c->a->cfg.loop, c->a->cfg.clk, c->sock, &cbs);
        if (c->a->cfg.beneath)
            agent_client_beneath(c->cl, c->a->cfg.pod_dirfd, c->rel);
    }
    c->st = st;
    if (agent_connect(c->cl, now_ms(c->a) + within_ms, &err) < 0)
        go_down(c, err.msg);
}

/* ------------------------------------------------------------------ starting the agent */

static void starter_end(struct ax_ctr *c)
{
    struct dagent *a = c->a;
    loop_del(a->cfg.loop, proc_pidfd(c->starter));
    int efd = proc_err_fd(c->starter);
    if (efd >= 0)
        loop_del(a->cfg.loop, efd);
    (void)proc_drain(c->starter);
    int status = 0;
    bool ok = proc_reap(c->starter, &status) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    char why[200] = "";
    if (!ok) {
        size_t len;
        const char *e = proc_err(c->starter, &len);
        podman_error_line(e, len, why, sizeof why);
    }
    proc_free(c->starter);
    c->starter = NULL;
    if (ok) {
        connect_agent(c, AX_CONNECTING, DAGENT_CONNECT_MS);
        return;
    }
    char msg[300];
    if (WIFSIGNALED(status))
        snprintf(msg, sizeof msg, "podman exec -d killed by signal %d", WTERMSIG(status));
    else
        snprintf(msg, sizeof msg, "podman exec -d exited %d%s%s", WEXITSTATUS(status),
                 why[0] ? ": " : "", why);
    go_down(c, msg);
}

static void on_starter(void *arg, int fd, unsigned events)
{
    struct ax_ctr *c = arg;
    (void)events;
    if (!c->starter)
        return;
    if (fd == proc_pidfd(c->starter)) {
        starter_end(c);
        return;
    }
    if (proc_drain(c->starter) || proc_err_fd(c->starter) != fd)
        loop_del(c->a->cfg.loop, fd); /* at EOF (proc closed it) */
}

static void start_agent(struct ax_ctr *c)
{
    struct dagent *a = c->a;
    struct pod_err err = POD_ERR_ZERO;
    char **argv = agent_start_argv(a->cfg.podman, c->id ? c->id : c->name);
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.cwd = a->cfg.pod_dir;
    o.fd_err = PROC_FD_CAPTURE;
    o.new_session = true;
    o.strip_preload = true;
    o.capture_max = 4096;
    int rc = proc_spawn(&o, &c->starter, &err);
    pod_strv_free(argv);
    a->st.starts++;
    c->st = AX_STARTING;
    if (rc == 0 && loop_add(a->cfg.loop, proc_pidfd(c->starter), LOOP_IN, on_starter, c, &err) < 0)
        rc = -1;
    if (rc < 0) {
        proc_free(c->starter);
        c->starter = NULL;
        go_down(c, err.msg);
        return;
    }
    int efd = proc_err_fd(c->starter);
    if (efd >= 0 && loop_add(a->cfg.loop, efd, LOOP_IN, on_starter, c, &err) < 0)
        pod_log(POD_LOG_DEBUG, "agent starter: %s", err.msg);
    c->start_deadline = now_ms(a) + DAGENT_START_TIMEOUT_MS;
}

/* Forgets ctr's agent: its requests end, the client and a starter still running go. */
static void reset(struct ax_ctr *c, const char *why)
{
    struct dagent *a = c->a;
    end_requests(a, c->ctr, why);
    if (c->starter) {
        loop_del(a->cfg.loop, proc_pidfd(c->starter));
        if (proc_err_fd(c->starter) >= 0)
            loop_del(a->cfg.loop, proc_err_fd(c->starter));
        proc_free(c->starter); /* kills the group */
        c->starter = NULL;
    }
    agent_client_free(c->cl);
    c->cl = NULL;
    c->st = AX_NONE;
}

/* ------------------------------------------------------------------ the socket's name */

/* rel's "<dir>/agent.sock" (a new string). */
static char *sock_rel(const struct ax_ctr *c)
{
    return xasprintf("%s/%s", c->rel, AGENT_SOCK_NAME);
}

/* Removes the socket of an agent that is gone.  Beneath the pod directory, no link followed:
 * a `.<b>.run` or `.<b>.run/<ctr>` swapped for a link (a git sync while the pod runs) is
 * refused with a WARN, and nothing outside the pod directory is removed (SPEC 7.5.1). */
static void sock_unlink(const struct ax_ctr *c)
{
    if (!c->a->cfg.beneath) {
        (void)unlink(c->sock);
        return;
    }
    char *rel = sock_rel(c);
    struct pod_err err = POD_ERR_ZERO;
    if (pod_unlink_beneath(c->a->cfg.pod_dirfd, rel, &err) < 0)
        pod_log(POD_LOG_WARN, "%s: agent socket not removed: %s",
                c->a->cfg.spec->containers[c->ctr].name, err.msg);
    free(rel);
}

/* Whether a socket (of the previous daemon's agent) is there, no link followed. */
static bool sock_exists(const struct ax_ctr *c)
{
    if (!c->a->cfg.beneath) {
        struct stat sb;
        return lstat(c->sock, &sb) == 0 && S_ISSOCK(sb.st_mode);
    }
    char *rel = sock_rel(c);
    struct pod_err err = POD_ERR_ZERO;
    bool exists = false;
    int rc = pod_check_beneath(c->a->cfg.pod_dirfd, rel, S_IFSOCK, &exists, &err);
    free(rel);
    return rc == 0 && exists;
}

/* ------------------------------------------------------------------ the exec strategy */

void dagent_instance(struct dagent *a, size_t ctr, uint64_t instance, int pid, const char *id)
{
    if (ctr >= a->n || !a->cfg.enabled || !podman_ctr_needs_agent(a->cfg.spec, ctr))
        return;
    struct ax_ctr *c = &a->c[ctr];
    if (pid < 0) { /* the instance ended */
        if (c->instance != instance)
            return;
        reset(c, "container exited");
        sock_unlink(c); /* its agent is gone: nobody to connect to */
        return;
    }
    if (c->instance == instance && c->st != AX_NONE)
        return;
    reset(c, "container replaced");
    c->instance = instance;
    free(c->id);
    c->id = id ? xstrdup(id) : NULL;
    if (sock_exists(c))
        connect_agent(c, AX_PROBING, DAGENT_PROBE_EXISTING_MS);
    else
        start_agent(c);
}

int dagent_start(struct dagent *a, const struct backend_probe_req *req, struct pod_err *err)
{
    if (req->ctr >= a->n)
        return 1;
    struct ax_ctr *c = &a->c[req->ctr];
    int64_t left = req->deadline_mono_ms - now_ms(a);
    if (c->st != AX_READY || c->instance != req->instance || left <= 0 || req_find(a, req->tag)) {
        a->st.declined++;
        return 1;
    }
    struct pod_err e2 = POD_ERR_ZERO;
    if (agent_run(c->cl, req->tag, left + DAGENT_GRACE_MS, req->argv, &e2) < 0) {
        pod_log(POD_LOG_DEBUG, "%s: agent: %s; using podman exec", c->name, e2.msg);
        a->st.declined++;
        return 1;
    }
    (void)err;
    if (a->n_req == a->cap_req) {
        a->cap_req = a->cap_req ? 2 * a->cap_req : 8;
        a->req = xrealloc(a->req, a->cap_req * sizeof *a->req);
    }
    a->req[a->n_req++] = (struct ax_req){req->tag, req->ctr, req->instance, false};
    a->st.runs++;
    return 0;
}

int dagent_cancel(struct dagent *a, uint64_t tag, struct pod_err *err)
{
    (void)err;
    struct ax_req *r = req_find(a, tag);
    if (!r || r->cancelled)
        return 0; /* ended (its result is on the way) or under way */
    struct ax_ctr *c = &a->c[r->ctr];
    struct pod_err e2 = POD_ERR_ZERO;
    r->cancelled = true;
    a->st.cancels++;
    /* -1: not in flight any more: its `done` is deferred and comes anyway */
    if (c->cl && agent_cancel(c->cl, tag, &e2) < 0)
        pod_log(POD_LOG_DEBUG, "%s: agent cancel %llu: %s", c->name, (unsigned long long)tag,
                e2.msg);
    return 0;
}

int64_t dagent_next_deadline(struct dagent *a)
{
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < a->n; i++) {
        struct ax_ctr *c = &a->c[i];
        if (c->starter && c->start_deadline < d)
            d = c->start_deadline;
        if (c->cl) {
            int64_t t = agent_next_deadline(c->cl);
            d = t < d ? t : d;
        }
    }
    return d;
}

void dagent_tick(struct dagent *a)
{
    int64_t now = now_ms(a);
    for (size_t i = 0; i < a->n; i++) {
        struct ax_ctr *c = &a->c[i];
        if (c->starter && now >= c->start_deadline && !proc_exited(c->starter)) {
            (void)proc_kill(c->starter, SIGKILL); /* its pidfd fires: DOWN */
            c->start_deadline = INT64_MAX;
        }
        if (c->cl && agent_next_deadline(c->cl) <= now)
            agent_handle_deadline(c->cl);
    }
}

/* ------------------------------------------------------------------ lifecycle */

struct dagent *dagent_new(const struct dagent_cfg *cfg)
{
    struct dagent *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->cfg.pod_dir = xstrdup(cfg->pod_dir);
    a->cfg.run_dir = xstrdup(cfg->run_dir ? cfg->run_dir : "");
    a->cfg.podman = xstrdup(cfg->podman ? cfg->podman : "podman");
    a->n = cfg->spec->n_containers;
    a->c = xcalloc(a->n ? a->n : 1, sizeof *a->c);
    for (size_t i = 0; i < a->n; i++) {
        struct ax_ctr *c = &a->c[i];
        c->a = a;
        c->ctr = i;
        c->name = spec_container_fullname(cfg->spec, i);
        c->sock =
            xasprintf("%s/%s/%s", a->cfg.run_dir, cfg->spec->containers[i].name, AGENT_SOCK_NAME);
        c->rel = xasprintf("%s/%s", pod_basename(a->cfg.run_dir), cfg->spec->containers[i].name);
    }
    return a;
}

void dagent_free(struct dagent *a)
{
    if (!a)
        return;
    a->freeing = true; /* the backend is going: nothing is reported any more */
    for (size_t i = 0; i < a->n; i++) {
        reset(&a->c[i], "daemon exiting");
        free(a->c[i].name);
        free(a->c[i].id);
        free(a->c[i].sock);
        free(a->c[i].rel);
    }
    free(a->c);
    free(a->req);
    free((char *)a->cfg.pod_dir);
    free((char *)a->cfg.run_dir);
    free((char *)a->cfg.podman);
    free(a);
}

void dagent_stats(const struct dagent *a, struct dagent_stats *out)
{
    *out = a->st;
}

bool dagent_ready(const struct dagent *a, size_t ctr)
{
    return ctr < a->n && a->c[ctr].st == AX_READY;
}
