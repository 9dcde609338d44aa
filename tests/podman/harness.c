/* SPDX-License-Identifier: MIT */
/* harness.c - see harness.h. */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod/clk.h"
#include "pod/proc.h"

int failures;
struct t *g;

int64_t now_ms(void)
{
    return clk_mono_ms(&clk_real);
}

void hold_fd(void *self, size_t ctr, uint64_t instance, int stream, int fd)
{
    struct t *t = self;
    if (t->n_held < 64) {
        t->held[t->n_held++] = (struct held){ctr, instance, stream, dup(fd)};
    }
}

void drop_fd(void *self, size_t ctr, uint64_t instance, int stream)
{
    struct t *t = self;
    for (size_t i = 0; i < t->n_held; i++)
        if (t->held[i].ctr == ctr && t->held[i].instance == instance &&
            t->held[i].stream == stream) {
            close(t->held[i].fd);
            t->held[i] = t->held[--t->n_held];
            return;
        }
}

bool room(void *self)
{
    return ((struct t *)self)->room;
}

/* Drains events into t->ev (output appended to t->out). */
void drain(struct t *t)
{
    struct backend_event evs[16];
    struct pod_err err = POD_ERR_ZERO;
    int n;
    while ((n = t->be.ops->poll_events(t->be.self, evs, 16, &err)) > 0) {
        for (int i = 0; i < n; i++) {
            const struct backend_event *e = &evs[i];
            if (e->type == BACKEND_EV_OUTPUT && e->ctr < C_N)
                pod_buf_add(&t->out[e->ctr][e->stream], e->data, e->len);
            if (e->type == BACKEND_EV_OUTPUT_EOF && e->ctr < C_N)
                t->eofs[e->ctr][e->stream]++;
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 64;
                t->ev = xrealloc(t->ev, t->cap * sizeof *t->ev);
            }
            t->ev[t->n] = (struct rec){*e, now_ms(), clk_wall_ns(&clk_real)};
            t->ev[t->n].ev.data = NULL;
            if (getenv("TBE_VERBOSE") && e->type != BACKEND_EV_OUTPUT)
                fprintf(stderr, "  ev type=%d ctr=%zu inst=%llu tag=%llu res=%d code=%d msg=%s\n",
                        e->type, e->ctr, (unsigned long long)e->instance,
                        (unsigned long long)e->tag, e->result, e->exit_code, e->msg);
            t->n++;
        }
    }
}

/* Runs the loop until pred holds or timeout_ms passed.  Returns whether pred held. */
bool pump(struct t *t, int64_t timeout_ms, pred_fn *pred, const void *arg)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        drain(t);
        if (pred && pred(t, arg))
            return true;
        int64_t n = now_ms();
        if (n >= end)
            return false;
        int64_t d = t->be.ops->next_deadline(t->be.self);
        if (d > end)
            d = end;
        struct pod_err err = POD_ERR_ZERO;
        if (loop_run_once(t->loop, &clk_real, d, &err) < 0) {
            fprintf(stderr, "loop: %s\n", err.msg);
            return false;
        }
    }
}

const struct rec *find_ev(const struct t *t, const struct want *w)
{
    for (size_t i = w->from; i < t->n; i++) {
        const struct backend_event *e = &t->ev[i].ev;
        if (e->type == w->type && e->ctr == w->ctr &&
            (w->type == BACKEND_EV_EXEC_DONE ? e->tag == w->tag : e->instance == w->instance))
            return &t->ev[i];
    }
    return NULL;
}

bool pred_ev(struct t *t, const void *arg)
{
    return find_ev(t, arg) != NULL;
}

const struct rec *wait_ev(struct t *t, size_t from, enum backend_event_type type, size_t ctr,
                          uint64_t instance, int64_t timeout_ms)
{
    struct want w = {from, type, ctr, instance, instance};
    pump(t, timeout_ms, pred_ev, &w);
    return find_ev(t, &w);
}

bool pred_out(struct t *t, const void *arg)
{
    const struct out_want *o = arg;
    const struct pod_buf *b = &t->out[o->ctr][o->stream];
    return b->data && strstr(b->data, o->text);
}

bool wait_out(struct t *t, size_t ctr, int stream, const char *text, int64_t timeout_ms)
{
    struct out_want o = {ctr, stream, text};
    return pump(t, timeout_ms, pred_out, &o);
}

size_t mark(const struct t *t)
{
    return t->n;
}

/* A synchronous podman call of the test itself (checks, cleanup). */
int sh_podman(char **out, const char *fmt, ...)
{
    struct pod_buf cmd = {0};
    pod_buf_adds(&cmd, "podman ");
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&cmd, fmt, ap);
    va_end(ap);
    char *argv[] = {"sh", "-c", cmd.data, NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = PROC_FD_CAPTURE;
    o.fd_err = PROC_FD_CAPTURE;
    o.new_session = true;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    int rc = proc_run(&o, 60000, &r, &err) < 0 ? -1 : r.code;
    if (out) /* the output, or why it could not run */
        *out = rc >= 0 ? xstrdup(r.out) : xstrdup(err.msg);
    if (rc >= 0)
        proc_result_free(&r);
    pod_buf_free(&cmd);
    return rc;
}

void set_mode(struct t *t, const char *mode)
{
    FILE *f = fopen(t->modefile, "w");
    if (f) {
        fprintf(f, " %s \n", mode);
        fclose(f);
    }
}

int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        (void)rmdir(path);
    else
        (void)unlink(path);
    return 0; /* remove what can be removed */
}

void cleanup(void)
{
    if (!g)
        return;
    char *out = NULL;
    (void)sh_podman(NULL, "pod rm -f -i -t 0 %s >/dev/null 2>&1", g->pod);
    (void)sh_podman(&out, "ps -a -q --filter label=podc.pod=%s", g->pod);
    if (out && out[0])
        (void)sh_podman(NULL,
                        "rm -f -t 0 $(podman ps -a -q --filter label=podc.pod=%s) "
                        ">/dev/null 2>&1",
                        g->pod);
    free(out);
    (void)sh_podman(NULL, "rmi %s >/dev/null 2>&1", PULL_IMAGE);
    if (g->dir[0])
        (void)nftw(g->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A hang guard and ^C: clean up what we created, then leave (test code: not signal-safe). */
void on_signal(int sig)
{
    fprintf(stderr, "test_backend_podman: signal %d, cleaning up\n", sig);
    cleanup();
    _exit(sig == SIGALRM ? 1 : 130);
}

bool podman_usable(char *why, size_t cap)
{
    char *out = NULL;
    int rc = sh_podman(&out, "run --rm --name tbe-probe-%d " IMAGE " true 2>&1", (int)getpid());
    if (rc != 0)
        snprintf(why, cap, "`podman run --rm %s true` failed (rc %d): %.200s", IMAGE, rc,
                 out ? out : "");
    free(out);
    return rc == 0;
}

void backend_up(struct t *t, const char *podman, int64_t max_call_ms)
{
    struct podman_cfg cfg = {.spec = t->spec,
                             .loop = t->loop,
                             .clk = clk_real,
                             .pod_dir = t->dir,
                             .exe_path = t->exe,
                             .run_dir = t->run_dir,
                             .host_interface = NULL,
                             .podman = podman,
                             .max_call_ms = max_call_ms,
                             .hold_fd = hold_fd,
                             .drop_fd = drop_fd,
                             .hold_self = t,
                             .output_room = room,
                             .room_self = t};
    struct pod_err err = POD_ERR_ZERO;
    if (backend_podman_new(&cfg, &t->be, &err) < 0) {
        fprintf(stderr, "backend_podman_new: %s\n", err.msg);
        exit(1);
    }
}

bool pred_listed(struct t *t, const void *arg)
{
    (void)arg;
    struct backend_ctr_state cs;
    struct pod_err err = POD_ERR_ZERO;
    return t->be.ops->inspect(t->be.self, 0, &cs, &err) == 0;
}

struct backend_ctr_state inspect_op(struct t *t, size_t ctr)
{
    struct backend_ctr_state cs;
    memset(&cs, 0, sizeof cs);
    struct pod_err err = POD_ERR_ZERO;
    CHECK(t->be.ops->inspect(t->be.self, ctr, &cs, &err) == 0, "inspect: %s", err.msg);
    return cs;
}

bool podman_inspect(struct t *t, size_t ctr, struct podman_ctr_info *in)
{
    char *name = spec_container_fullname(t->spec, ctr);
    char *out = NULL;
    int rc = sh_podman(&out, "container inspect --format json %s 2>/dev/null", name);
    bool found = false;
    struct pod_err err = POD_ERR_ZERO;
    bool ok = rc == 0 && podman_parse_inspect(out, strlen(out), in, &found, &err) == 0 && found;
    free(out);
    free(name);
    return ok;
}

const struct rec *probe(struct t *t, const struct backend_probe_req *req, int64_t wait_ms)
{
    struct pod_err err = POD_ERR_ZERO;
    size_t m = mark(t);
    CHECK(t->be.ops->probe(t->be.self, req, &err) == 0, "probe: %s", err.msg);
    struct want w = {m, BACKEND_EV_EXEC_DONE, req->ctr, req->instance, req->tag};
    pump(t, wait_ms, pred_ev, &w);
    return find_ev(t, &w);
}

bool in_container(struct t *t, size_t ctr, const char *what)
{
    char *name = spec_container_fullname(t->spec, ctr);
    char *out = NULL;
    (void)sh_podman(&out, "exec %s ps", name);
    bool hit = out && strstr(out, what);
    free(out);
    free(name);
    return hit;
}

bool pred_armed(struct t *t, const void *arg)
{
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    return st.armed >= *(const uint64_t *)arg;
}

bool pred_calls(struct t *t, const void *arg)
{
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    return st.calls >= *(const uint64_t *)arg;
}

bool pred_eof2(struct t *t, const void *arg)
{
    const size_t *ctr = arg;
    return t->eofs[*ctr][0] > 0 && t->eofs[*ctr][1] > 0;
}
