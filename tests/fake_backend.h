/* SPDX-License-Identifier: MIT */
/* fake_backend.h - a backend for the daemon's process-level tests: "containers" are real
 * processes (the spec's command + args, each in its own session) whose stdout/stderr are pipes
 * read on the daemon's loop, gated by the log path's room and handed to the fd holder like the
 * podman backend's; their state is kept in <dir>/fakebe-<ctr> so that a restarted daemon
 * adopts them (identity checked: pid + start time + boot id) and takes their pipes back.
 * An exit of an adopted process (not our child) reports code 137 (unknown).  Probes succeed at
 * once.  Include it from exactly one test .c.
 */
#ifndef FAKE_BACKEND_H
#define FAKE_BACKEND_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/daemon.h"
#include "pod/ident.h"
#include "pod/proc.h"
#include "pod/util.h"

struct fctr {
    uint64_t instance;
    bool exists, running;
    int exit_code;
    int64_t started_ns, finished_ns;
    struct proc *p; /* our child, or NULL */
    int pidfd;      /* exit source (p's, or opened for an adopted process) */
    struct ident id;
    int out[2];
    int64_t kill_at_ms;
};

struct fbe {
    const struct daemon_env *env;
    size_t n;
    struct fctr *c;
    struct backend_event *q;
    size_t qn, qcap;
    char **garbage; /* event data handed out by the last poll_events */
    size_t ngarbage;
    bool paused;
};

static const char *fbe_name(const struct fbe *b, size_t i)
{
    return b->env->spec->containers[i].name;
}

static void fbe_key(const struct fbe *b, size_t i, int s, char *key, size_t cap)
{
    snprintf(key, cap, "%s/%llu/%s", fbe_name(b, i), (unsigned long long)b->c[i].instance,
             s ? "stderr" : "stdout");
}

static void fbe_push(struct fbe *b, enum backend_event_type t, size_t ctr, int stream,
                     const char *data, size_t len)
{
    if (b->qn == b->qcap) {
        b->qcap = b->qcap ? 2 * b->qcap : 32;
        b->q = xrealloc(b->q, b->qcap * sizeof *b->q);
    }
    struct backend_event *e = &b->q[b->qn++];
    memset(e, 0, sizeof *e);
    e->type = t;
    e->ctr = ctr;
    e->instance = b->c[ctr].instance;
    e->stream = stream ? BACKEND_STDERR : BACKEND_STDOUT;
    e->exit_code = b->c[ctr].exit_code;
    if (len) {
        char *copy = xmalloc(len);
        memcpy(copy, data, len);
        e->data = copy;
        e->len = len;
    }
}

static void fbe_save(struct fbe *b, size_t i)
{
    const struct fctr *c = &b->c[i];
    char name[128], *text;
    snprintf(name, sizeof name, "%s/fakebe-%s", b->env->dir, fbe_name(b, i));
    text =
        xasprintf("%llu %d %ld %llu %s %d %lld %lld\n", (unsigned long long)c->instance, c->running,
                  (long)c->id.pid, c->id.starttime, c->id.boot_id[0] ? c->id.boot_id : "-",
                  c->exit_code, (long long)c->started_ns, (long long)c->finished_ns);
    struct pod_err err = POD_ERR_ZERO;
    if (pod_write_file_atomic(name, text, strlen(text), 0644, &err) < 0)
        pod_log(POD_LOG_ERROR, "fake backend: %s", err.msg);
    free(text);
}

static void fbe_close_pipe(struct fbe *b, size_t i, int s)
{
    struct fctr *c = &b->c[i];
    if (c->out[s] < 0)
        return;
    char key[128];
    fbe_key(b, i, s, key, sizeof key);
    b->env->unhold(b->env->self, key);
    loop_del(b->env->loop, c->out[s]);
    close(c->out[s]);
    c->out[s] = -1;
}

static void fbe_events(struct fbe *b, int fd, unsigned ev)
{
    struct pod_err err = POD_ERR_ZERO;
    if (loop_mod(b->env->loop, fd, ev, &err) < 0)
        pod_log(POD_LOG_ERROR, "fake backend: %s", err.msg);
}

static void fbe_on_pipe(void *arg, int fd, unsigned events)
{
    struct fbe *b = arg;
    (void)events;
    for (size_t i = 0; i < b->n; i++)
        for (int s = 0; s < 2; s++) {
            if (b->c[i].out[s] != fd)
                continue;
            if (!b->env->output_room(b->env->self)) {
                b->paused = true; /* every pipe waits for the room callback */
                for (size_t j = 0; j < b->n; j++)
                    for (int t = 0; t < 2; t++)
                        if (b->c[j].out[t] >= 0)
                            fbe_events(b, b->c[j].out[t], 0);
                return;
            }
            char buf[65536];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (r <= 0) {
                fbe_close_pipe(b, i, s);
                fbe_push(b, BACKEND_EV_OUTPUT_EOF, i, s, NULL, 0);
                return;
            }
            fbe_push(b, BACKEND_EV_OUTPUT, i, s, buf, (size_t)r);
            return;
        }
}

static void fbe_room(void *arg)
{
    struct fbe *b = arg;
    if (!b->paused)
        return;
    b->paused = false;
    for (size_t j = 0; j < b->n; j++)
        for (int t = 0; t < 2; t++)
            if (b->c[j].out[t] >= 0)
                fbe_events(b, b->c[j].out[t], LOOP_IN);
}

static void fbe_attach_pipe(struct fbe *b, size_t i, int s, int fd, bool hold)
{
    struct fctr *c = &b->c[i];
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    c->out[s] = fd;
    struct pod_err err = POD_ERR_ZERO;
    if (loop_add(b->env->loop, fd, b->paused ? 0 : LOOP_IN, fbe_on_pipe, b, &err) < 0)
        pod_log(POD_LOG_ERROR, "fake backend: %s", err.msg);
    if (hold) {
        char key[128];
        fbe_key(b, i, s, key, sizeof key);
        b->env->hold(b->env->self, key, fd);
    }
}

static void fbe_on_exit(void *arg, int fd, unsigned events)
{
    struct fbe *b = arg;
    (void)events;
    for (size_t i = 0; i < b->n; i++) {
        struct fctr *c = &b->c[i];
        if (c->pidfd != fd)
            continue;
        loop_del(b->env->loop, fd);
        int st = 0;
        if (c->p) {
            (void)proc_reap(c->p, &st);
            c->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            proc_free(c->p);
            c->p = NULL;
        } else {
            close(fd);
            c->exit_code = 137;
        }
        c->pidfd = -1;
        c->running = false;
        c->kill_at_ms = INT64_MAX;
        c->finished_ns = clk_wall_ns(b->env->clk);
        fbe_save(b, i);
        fbe_push(b, BACKEND_EV_EXITED, i, 0, NULL, 0);
    }
}

static int fbe_ctr_start(void *self, size_t i, uint64_t instance, struct pod_err *err)
{
    struct fbe *b = self;
    struct fctr *c = &b->c[i];
    if (c->running)
        (void)kill(-c->id.pid, SIGKILL); /* the previous container of that name goes */
    for (int s = 0; s < 2; s++)
        fbe_close_pipe(b, i, s);
    const struct spec_container *sc = &b->env->spec->containers[i];
    char **argv = pod_strv_dup(sc->command);
    for (char **a = sc->args; a && *a; a++)
        pod_strv_push(&argv, *a);
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        pod_strv_free(argv);
        return pod_err_set(err, POD_E_IO, errno, "pipe");
    }
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = po[1];
    o.fd_err = pe[1];
    o.new_session = true;
    o.cwd = b->env->dir;
    struct proc *p;
    int rc = proc_spawn(&o, &p, err);
    close(po[1]);
    close(pe[1]);
    pod_strv_free(argv);
    c->instance = instance;
    c->exists = true;
    if (rc < 0) {
        close(po[0]);
        close(pe[0]);
        c->running = false;
        return -1;
    }
    c->p = p;
    c->pidfd = proc_pidfd(p);
    c->running = true;
    c->kill_at_ms = INT64_MAX;
    c->started_ns = clk_wall_ns(b->env->clk);
    c->finished_ns = 0;
    struct pod_err e2 = POD_ERR_ZERO;
    if (ident_of(proc_pid(p), "ctr", &c->id, &e2) < 0)
        memset(&c->id, 0, sizeof c->id);
    if (loop_add(b->env->loop, c->pidfd, LOOP_IN, fbe_on_exit, b, &e2) < 0)
        pod_log(POD_LOG_ERROR, "fake backend: %s", e2.msg);
    fbe_attach_pipe(b, i, 0, po[0], true);
    fbe_attach_pipe(b, i, 1, pe[0], true);
    fbe_save(b, i);
    fbe_push(b, BACKEND_EV_STARTED, i, 0, NULL, 0);
    return 0;
}

static int fbe_ctr_stop(void *self, size_t i, uint64_t instance, int64_t timeout_ms,
                        struct pod_err *err)
{
    struct fbe *b = self;
    (void)err;
    struct fctr *c = &b->c[i];
    if (!c->running || c->instance != instance)
        return 0;
    (void)kill(-c->id.pid, SIGTERM);
    c->kill_at_ms = clk_mono_ms(b->env->clk) + timeout_ms;
    return 0;
}

static int fbe_ctr_kill(void *self, size_t i, uint64_t instance, int sig, struct pod_err *err)
{
    struct fbe *b = self;
    (void)err;
    struct fctr *c = &b->c[i];
    if (c->running && c->instance == instance)
        (void)kill(-c->id.pid, sig);
    return 0;
}

static int fbe_ok(void *self, struct pod_err *err)
{
    (void)self;
    (void)err;
    return 0;
}

static int fbe_ctr_remove(void *self, size_t i, struct pod_err *err)
{
    (void)self;
    (void)i;
    (void)err;
    return 0;
}

static int fbe_probe(void *self, const struct backend_probe_req *req, struct pod_err *err)
{
    struct fbe *b = self;
    (void)err;
    fbe_push(b, BACKEND_EV_EXEC_DONE, req->ctr, 0, NULL, 0);
    b->q[b->qn - 1].tag = req->tag;
    b->q[b->qn - 1].instance = req->instance;
    b->q[b->qn - 1].result = BACKEND_OK;
    b->q[b->qn - 1].exit_code = 0;
    return 0;
}

static int fbe_cancel(void *self, uint64_t tag, struct pod_err *err)
{
    (void)self;
    (void)tag;
    (void)err;
    return 0;
}

static int fbe_inspect(void *self, size_t i, struct backend_ctr_state *out, struct pod_err *err)
{
    struct fbe *b = self;
    (void)err;
    const struct fctr *c = &b->c[i];
    memset(out, 0, sizeof *out);
    out->exists = c->exists;
    out->running = c->running;
    out->instance = c->instance;
    out->exit_code = c->exit_code;
    out->started_wall_ns = c->started_ns;
    out->finished_wall_ns = c->finished_ns;
    return 0;
}

static int fbe_poll_events(void *self, struct backend_event *evs, size_t max, struct pod_err *err)
{
    struct fbe *b = self;
    (void)err;
    for (size_t i = 0; i < b->ngarbage; i++)
        free(b->garbage[i]);
    b->ngarbage = 0;
    int64_t now = clk_mono_ms(b->env->clk);
    for (size_t i = 0; i < b->n; i++)
        if (b->c[i].running && b->c[i].kill_at_ms <= now) {
            (void)kill(-b->c[i].id.pid, SIGKILL);
            b->c[i].kill_at_ms = INT64_MAX;
        }
    size_t n = b->qn < max ? b->qn : max;
    b->garbage = xrealloc(b->garbage, (n + 1) * sizeof *b->garbage);
    for (size_t i = 0; i < n; i++) {
        evs[i] = b->q[i];
        if (evs[i].data)
            b->garbage[b->ngarbage++] = (char *)evs[i].data;
    }
    if (n) {
        memmove(b->q, b->q + n, (b->qn - n) * sizeof *b->q);
        b->qn -= n;
    }
    return (int)n;
}

static int64_t fbe_next_deadline(void *self)
{
    struct fbe *b = self;
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < b->n; i++)
        if (b->c[i].running && b->c[i].kill_at_ms < m)
            m = b->c[i].kill_at_ms;
    return b->qn ? clk_mono_ms(b->env->clk) : m;
}

static const struct backend_ops fbe_ops = {
    .name = "fake",
    .pod_create = fbe_ok,
    .pod_remove = fbe_ok,
    .ctr_start = fbe_ctr_start,
    .ctr_stop = fbe_ctr_stop,
    .ctr_kill = fbe_ctr_kill,
    .ctr_remove = fbe_ctr_remove,
    .probe = fbe_probe,
    .cancel = fbe_cancel,
    .inspect = fbe_inspect,
    .poll_events = fbe_poll_events,
    .next_deadline = fbe_next_deadline,
};

/* Reads <dir>/fakebe-<ctr> of a previous daemon: a running process is adopted if its identity
 * still matches. */
static void fbe_load(struct fbe *b, size_t i)
{
    struct fctr *c = &b->c[i];
    char *path = xasprintf("%s/fakebe-%s", b->env->dir, fbe_name(b, i)), *text = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file(path, 4096, &text, &len, &err) == 0) {
        unsigned long long inst, st;
        int running, code;
        long pid;
        long long s_ns, f_ns;
        char boot[IDENT_BOOTID_MAX];
        if (sscanf(text, "%llu %d %ld %llu %39s %d %lld %lld", &inst, &running, &pid, &st, boot,
                   &code, &s_ns, &f_ns) == 8) {
            c->exists = true;
            c->instance = inst;
            c->exit_code = code;
            c->started_ns = s_ns;
            c->finished_ns = f_ns;
            c->id = (struct ident){"ctr", (pid_t)pid, st, ""};
            snprintf(c->id.boot_id, sizeof c->id.boot_id, "%s", boot);
            if (running && (c->pidfd = ident_pidfd(&c->id, &err)) >= 0) {
                c->running = true;
                c->kill_at_ms = INT64_MAX;
                if (loop_add(b->env->loop, c->pidfd, LOOP_IN, fbe_on_exit, b, &err) < 0)
                    pod_log(POD_LOG_ERROR, "fake backend: %s", err.msg);
            } else if (running) {
                c->exit_code = 137; /* died while no daemon watched it */
                c->finished_ns = clk_wall_ns(b->env->clk);
                fbe_save(b, i);
            }
        }
    }
    free(text);
    free(path);
}

static int fbe_create(void *arg, const struct daemon_env *env, struct backend *out,
                      struct pod_err *err)
{
    (void)arg;
    (void)err;
    struct fbe *b = xcalloc(1, sizeof *b);
    b->env = env;
    b->n = env->spec->n_containers;
    b->c = xcalloc(b->n + 1, sizeof *b->c);
    for (size_t i = 0; i < b->n; i++) {
        b->c[i].pidfd = b->c[i].out[0] = b->c[i].out[1] = -1;
        fbe_load(b, i);
    }
    env->on_room(env->self, fbe_room, b);
    *out = (struct backend){&fbe_ops, b};
    return 0;
}

static int fbe_adopt_fd(void *arg, const struct daemon_env *env, struct backend *be,
                        const char *key, int fd)
{
    (void)arg;
    (void)env;
    struct fbe *b = be->self;
    for (size_t i = 0; i < b->n; i++)
        for (int s = 0; s < 2; s++) {
            char k[128];
            fbe_key(b, i, s, k, sizeof k);
            if (strcmp(k, key) == 0 && b->c[i].out[s] < 0) {
                fbe_attach_pipe(b, i, s, fd, false);
                return 0;
            }
        }
    return -1;
}

static void fbe_destroy(void *arg, struct backend *be)
{
    (void)arg;
    struct fbe *b = be->self;
    for (size_t i = 0; i < b->n; i++) {
        for (int s = 0; s < 2; s++)
            fbe_close_pipe(b, i, s);
        if (b->c[i].pidfd >= 0)
            loop_del(b->env->loop, b->c[i].pidfd);
        if (b->c[i].p)
            proc_free(b->c[i].p);
        else if (b->c[i].pidfd >= 0)
            close(b->c[i].pidfd);
    }
    for (size_t i = 0; i < b->qn; i++)
        free((char *)b->q[i].data);
    for (size_t i = 0; i < b->ngarbage; i++)
        free(b->garbage[i]);
    free(b->garbage);
    free(b->q);
    free(b->c);
    free(b);
}

static const struct daemon_backend_factory fake_factory = {
    .create = fbe_create, .adopt_fd = fbe_adopt_fd, .destroy = fbe_destroy};

#endif
