/* SPDX-License-Identifier: MIT */
/* agent_client.c - the daemon's side of the in-container exec agent (see pod/agent.h), and the
 * pure builders of the podman arguments that give a container its agent.
 *
 * Non-blocking, driven by the daemon's loop: the socket is an fd of the loop, the client's own
 * deadlines (connect retries, an agent that does not answer) are reported by
 * agent_next_deadline.  The peer is inside the container and may be hostile: its frames are at
 * most AGENT_REPLY_MAX bytes, a read wake-up handles at most READS_PER_WAKE reads, the socket
 * is opened without following symlinks (the container owns the directory's entries), an agent
 * that answers more than it was asked, sends anything else, stops reading or stops answering
 * is dropped: its requests end AGENT_LOST and the caller falls back to `podman exec`.
 */
#include "pod/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pod/util.h"

#define IN_BUF 4096
#define READS_PER_WAKE 16
#define RETRY_MAX_MS 250

/* ------------------------------------------------------------------ podman arguments */

char *agent_run_dir(const char *poddir, const char *exe_base, const char *ctr)
{
    return xasprintf("%s/.%s.run/%s", poddir, exe_base, ctr);
}

static int mount_path_ok(const char *p, struct pod_err *err)
{
    if (!p || p[0] != '/')
        return pod_err_set(err, POD_E_INVALID, 0, "agent mount: `%s` is not absolute", p ? p : "");
    if (strchr(p, ':'))
        return pod_err_set(err, POD_E_INVALID, 0, "agent mount: `%s` contains ':'", p);
    return 0;
}

int agent_mount_args(const char *pod_exe, const char *run_dir, char ***out, struct pod_err *err)
{
    if (mount_path_ok(pod_exe, err) < 0 || mount_path_ok(run_dir, err) < 0)
        return -1;
    char **v = xcalloc(5, sizeof *v);
    v[0] = xstrdup("-v");
    v[1] = xasprintf("%s:" AGENT_EXE_IN_CTR ":z,ro", pod_exe);
    v[2] = xstrdup("-v");
    v[3] = xasprintf("%s:" AGENT_RUN_IN_CTR ":z,rw", run_dir);
    *out = v;
    return 0;
}

char **agent_start_argv(const char *podman, const char *ctr)
{
    const char *a[] = {podman,
                       "exec",
                       "-d",
                       ctr,
                       AGENT_EXE_IN_CTR,
                       AGENT_ACTION,
                       AGENT_RUN_IN_CTR "/" AGENT_SOCK_NAME};
    char **v = xcalloc(sizeof a / sizeof a[0] + 1, sizeof *v);
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        v[i] = xstrdup(a[i]);
    return v;
}

/* ------------------------------------------------------------------ the client */

enum rq_st {
    RQ_QUEUED,    /* waiting for READY; argv kept */
    RQ_SENT,      /* RUN sent */
    RQ_CANCELLED, /* agent_cancel before it was sent: nothing runs; `done` at the next deadline */
};

struct rq {
    uint64_t tag;
    int64_t timeout_ms;
    char **argv; /* RQ_QUEUED only */
    enum rq_st st;
    bool cancel;         /* agent_cancel was called */
    int64_t deadline_ms; /* an answer is due (or RQ_CANCELLED: deliver), INT64_MAX: none */
};

struct agent_client {
    struct loop *loop;
    const struct clk *clk;
    char *dir, *base; /* the socket's directory and name */
    int root_fd;      /* >= 0: dir is rel_dir beneath it (agent_client_beneath) */
    char *rel_dir;
    struct agent_client_cbs cbs;
    enum agent_conn conn;
    int fd;       /* -1 while not connected */
    unsigned gen; /* bumped at every disconnect: callbacks may reconnect under our feet */
    int64_t connect_deadline_ms, retry_at_ms;
    int retry_ms, last_errno;
    struct rq *rqs;
    size_t n, cap;
    char in[IN_BUF];
    size_t in_len;
    char *out;
    size_t out_len, out_cap;
    int64_t stall_since_ms; /* out_len > 0 and no progress since */
    uint64_t runs_sent, dones_got;
    char fail_why[160]; /* a failure noticed where callbacks may not run: handled at once by
                           agent_handle_deadline */
};

static int64_t now(const struct agent_client *c)
{
    return clk_mono_ms(c->clk);
}

struct agent_client *agent_client_new(struct loop *loop, const struct clk *clk,
                                      const char *sock_path, const struct agent_client_cbs *cbs)
{
    struct agent_client *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->clk = clk;
    c->dir = pod_dirname(sock_path);
    c->base = xstrdup(pod_basename(sock_path));
    c->cbs = *cbs;
    c->fd = -1;
    c->root_fd = -1;
    return c;
}

void agent_client_beneath(struct agent_client *c, int root_fd, const char *rel_dir)
{
    free(c->rel_dir);
    c->rel_dir = xstrdup(rel_dir);
    c->root_fd = root_fd;
}

static void close_fd(struct agent_client *c)
{
    if (c->fd < 0)
        return;
    loop_del(c->loop, c->fd);
    close(c->fd);
    c->fd = -1;
}

static void free_rqs(struct rq *rqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pod_strv_free(rqs[i].argv);
    free(rqs);
}

void agent_client_free(struct agent_client *c)
{
    if (!c)
        return;
    close_fd(c);
    free_rqs(c->rqs, c->n);
    free(c->out);
    free(c->dir);
    free(c->base);
    free(c->rel_dir);
    free(c);
}

enum agent_conn agent_conn_state(const struct agent_client *c)
{
    return c->conn;
}

size_t agent_inflight(const struct agent_client *c)
{
    return c->n;
}

static struct rq *find(struct agent_client *c, uint64_t tag)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rqs[i].tag == tag)
            return &c->rqs[i];
    return NULL;
}

/* Removes request i and tells the caller (which may call back into us). */
static void finish(struct agent_client *c, size_t i, int code, enum agent_state st)
{
    uint64_t tag = c->rqs[i].tag;
    pod_strv_free(c->rqs[i].argv);
    memmove(&c->rqs[i], &c->rqs[i + 1], (c->n - i - 1) * sizeof *c->rqs);
    c->n--;
    c->cbs.done(c->cbs.arg, tag, code, st);
}

/* The connection is over: every request ends (LOST; CANCELLED when it was never sent), then
 * `lost`.  The state is reset before the first callback. */
static void fail_conn(struct agent_client *c, const char *why)
{
    char msg[sizeof c->fail_why];
    snprintf(msg, sizeof msg, "%.150s", why);
    close_fd(c);
    c->conn = AGENT_CONN_DOWN;
    c->gen++;
    c->fail_why[0] = '\0';
    c->in_len = c->out_len = 0;
    struct rq *rqs = c->rqs;
    size_t n = c->n;
    c->rqs = NULL;
    c->n = c->cap = 0;
    for (size_t i = 0; i < n; i++)
        c->cbs.done(c->cbs.arg, rqs[i].tag, -1,
                    rqs[i].st == RQ_CANCELLED ? AGENT_CANCELLED : AGENT_LOST);
    free_rqs(rqs, n);
    if (c->cbs.lost)
        c->cbs.lost(c->cbs.arg, msg);
}

static void defer_fail(struct agent_client *c, const char *why)
{
    if (!c->fail_why[0])
        snprintf(c->fail_why, sizeof c->fail_why, "%.150s", why);
}

/* ------------------------------------------------------------------ writing */

static void flush_out(struct agent_client *c)
{
    size_t before = c->out_len;
    while (c->fd >= 0 && c->out_len > 0) {
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            defer_fail(c, "agent connection: write failed");
            return;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
    if (c->out_len < before || c->out_len == 0)
        c->stall_since_ms = now(c);
    struct pod_err err = POD_ERR_ZERO;
    if (c->fd >= 0 && loop_mod(c->loop, c->fd, LOOP_IN | (c->out_len ? LOOP_OUT : 0), &err) < 0)
        defer_fail(c, err.msg);
}

static void send_frame(struct agent_client *c, const char *const *f, size_t n)
{
    if (c->out_len == 0)
        c->stall_since_ms = now(c);
    agent_frame_put(&c->out, &c->out_len, &c->out_cap, f, n);
    flush_out(c);
}

static void send_run(struct agent_client *c, struct rq *r)
{
    size_t argc = pod_strv_len(r->argv);
    const char **f = xcalloc(argc + 3, sizeof *f);
    char tag[24], tmo[24];
    snprintf(tag, sizeof tag, "%llu", (unsigned long long)r->tag);
    snprintf(tmo, sizeof tmo, "%lld", (long long)r->timeout_ms);
    f[0] = "RUN";
    f[1] = tag;
    f[2] = tmo;
    for (size_t i = 0; i < argc; i++)
        f[3 + i] = r->argv[i];
    send_frame(c, f, argc + 3);
    free(f);
    pod_strv_free(r->argv);
    r->argv = NULL;
    r->st = RQ_SENT;
    r->deadline_ms = r->timeout_ms ? now(c) + r->timeout_ms + AGENT_REPLY_GRACE_MS : INT64_MAX;
    c->runs_sent++;
}

/* ------------------------------------------------------------------ reading */

/* One frame from the agent.  Returns -1 (why set) when the agent broke the protocol. */
static int handle_frame(struct agent_client *c, char *payload, size_t plen, const char **why)
{
    char *f[5];
    int n = agent_fields(payload, plen, f, 5);
    uint64_t tag, v;
    *why = "agent sent a malformed frame";
    if (n < 1)
        return -1;
    if (strcmp(f[0], "HELLO") == 0) {
        if (c->conn != AGENT_CONN_CONNECTING || n != 3 || !agent_parse_u64(f[2], INT32_MAX, &v))
            return -1;
        if (strcmp(f[1], AGENT_PROTO_VERSION) != 0) {
            *why = "agent speaks another protocol version";
            return -1;
        }
        c->conn = AGENT_CONN_READY;
        for (size_t i = 0; i < c->n; i++)
            if (c->rqs[i].st == RQ_QUEUED)
                send_run(c, &c->rqs[i]);
        if (c->cbs.ready)
            c->cbs.ready(c->cbs.arg);
        return 0;
    }
    if (strcmp(f[0], "DONE") != 0 || c->conn != AGENT_CONN_READY || n < 3 ||
        !agent_parse_u64(f[1], UINT64_MAX, &tag))
        return -1;
    int code = -1;
    enum agent_state st;
    if (strcmp(f[2], "exit") == 0 && n == 4 && agent_parse_u64(f[3], 255, &v)) {
        st = AGENT_OK;
        code = (int)v;
    } else if (strcmp(f[2], "error") == 0 && n == 4 && agent_parse_u64(f[3], 4095, &v)) {
        st = AGENT_ERROR;
        code = (int)v;
    } else if (strcmp(f[2], "cancelled") == 0 && n == 3) {
        st = AGENT_CANCELLED;
    } else if (strcmp(f[2], "timeout") == 0 && n == 3) {
        st = AGENT_TIMEOUT;
    } else {
        return -1;
    }
    if (++c->dones_got > c->runs_sent) {
        *why = "agent answered more requests than it was sent";
        return -1;
    }
    struct rq *r = find(c, tag);
    if (!r || r->st != RQ_SENT)
        return 0;  /* unknown tag: ignored (counted above) */
    if (r->cancel) /* whatever it says, even an exit 0 that crossed our CANCEL */
        finish(c, (size_t)(r - c->rqs), -1, AGENT_CANCELLED);
    else
        finish(c, (size_t)(r - c->rqs), st == AGENT_OK || st == AGENT_ERROR ? code : -1, st);
    return 0;
}

static void read_in(struct agent_client *c)
{
    unsigned gen = c->gen;
    for (int round = 0; round < READS_PER_WAKE; round++) {
        ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            char why[96];
            snprintf(why, sizeof why, "agent closed the connection%s%s", r ? ": " : "",
                     r ? strerror(errno) : "");
            fail_conn(c, why);
            return;
        }
        c->in_len += (size_t)r;
        size_t off = 0, plen, used;
        int k;
        while ((k = agent_frame_next(c->in + off, c->in_len - off, AGENT_REPLY_MAX, &plen,
                                     &used)) != 0) {
            const char *why = "agent sent an oversized or empty frame";
            if (k < 0 || handle_frame(c, c->in + off + 4, plen, &why) < 0) {
                fail_conn(c, why);
                return;
            }
            off += used;
            if (c->gen != gen || c->fd < 0)
                return; /* a callback ended or replaced the connection */
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_io(void *arg, int fd, unsigned events)
{
    struct agent_client *c = arg;
    (void)fd;
    if (events & LOOP_OUT)
        flush_out(c);
    if (c->fd >= 0 && (events & (LOOP_IN | LOOP_HUP | LOOP_ERR)))
        read_in(c);
    if (c->fail_why[0] && c->fd >= 0)
        fail_conn(c, c->fail_why);
}

/* ------------------------------------------------------------------ connecting */

static int start_io(struct agent_client *c, int fd, struct pod_err *err)
{
    c->fd = fd;
    c->in_len = c->out_len = 0;
    c->runs_sent = c->dones_got = 0;
    if (loop_add(c->loop, fd, LOOP_IN, on_io, c, err) < 0) {
        close(fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

/* One attempt.  The socket is opened with O_PATH|O_NOFOLLOW and reached through its
 * /proc/self/fd link: a symlink planted by the container is never followed, and the
 * address is short whatever the pod directory's length. */
static void try_connect(struct agent_client *c)
{
    struct pod_err derr = POD_ERR_ZERO;
    int dfd = c->root_fd >= 0
                  ? pod_open_beneath(c->root_fd, c->rel_dir, O_PATH | O_DIRECTORY, 0, &derr)
                  : open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && c->root_fd >= 0)
        errno = derr.sys_errno ? derr.sys_errno : EIO; /* ELOOP: a link on the way */
    int pfd = dfd < 0 ? -1 : openat(dfd, c->base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    struct stat st;
    int fd = -1;
    if (pfd >= 0 && fstat(pfd, &st) == 0 && !S_ISSOCK(st.st_mode))
        e = ENOTSOCK;
    else if (pfd >= 0 && (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        e = errno;
    if (fd >= 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d", pfd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            struct pod_err err = POD_ERR_ZERO;
            if (start_io(c, fd, &err) < 0) /* closes fd */
                e = err.sys_errno ? err.sys_errno : EIO;
        } else {
            e = errno; /* ECONNREFUSED: stale socket, ENOENT; EAGAIN: backlog full */
            close(fd);
        }
    }
    if (pfd >= 0)
        close(pfd);
    if (dfd >= 0)
        close(dfd);
    if (c->fd < 0) {
        c->last_errno = e;
        c->retry_at_ms = now(c) + c->retry_ms;
        c->retry_ms = c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->retry_ms * 2;
    }
}

int agent_connect(struct agent_client *c, int64_t deadline_mono_ms, struct pod_err *err)
{
    (void)err;
    if (c->conn != AGENT_CONN_DOWN)
        return 0;
    c->conn = AGENT_CONN_CONNECTING;
    c->connect_deadline_ms = deadline_mono_ms;
    c->retry_ms = AGENT_CONNECT_RETRY_MS;
    c->last_errno = 0;
    try_connect(c); /* calls no callback */
    return 0;
}

int agent_client_adopt_fd(struct agent_client *c, int fd, int64_t deadline_mono_ms,
                          struct pod_err *err)
{
    if (c->conn != AGENT_CONN_DOWN) {
        close(fd);
        return pod_err_set(err, POD_E_INVALID, 0, "agent client: already connected");
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    c->conn = AGENT_CONN_CONNECTING;
    c->connect_deadline_ms = deadline_mono_ms;
    if (start_io(c, fd, err) < 0) {
        c->conn = AGENT_CONN_DOWN;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ requests */

int agent_run(struct agent_client *c, uint64_t tag, int64_t timeout_ms, char *const *argv,
              struct pod_err *err)
{
    if (c->conn == AGENT_CONN_DOWN)
        return pod_err_set(err, POD_E_BACKEND, 0, "agent: not connected");
    if (find(c, tag))
        return pod_err_set(err, POD_E_INVALID, 0, "agent: tag %llu already in flight",
                           (unsigned long long)tag);
    if (!argv || !argv[0] || !argv[0][0])
        return pod_err_set(err, POD_E_INVALID, 0, "agent: empty argv");
    if (timeout_ms < 0 || timeout_ms > AGENT_TIMEOUT_MAX_MS)
        return pod_err_set(err, POD_E_INVALID, 0, "agent: timeout %lld ms out of range",
                           (long long)timeout_ms);
    size_t argc = pod_strv_len(argv), bytes = 3 + 21 + 21;
    for (size_t i = 0; i < argc; i++)
        bytes += strlen(argv[i]) + 1;
    if (argc > AGENT_ARGC_MAX || bytes > AGENT_REQ_MAX)
        return pod_err_set(err, POD_E_INVALID, 0, "agent: argv too long (%zu elements, %zu bytes)",
                           argc, bytes);
    if (c->out_len > AGENT_OUTBUF_MAX)
        return pod_err_set(err, POD_E_BACKEND, 0, "agent: does not read its requests");
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->rqs = xrealloc(c->rqs, c->cap * sizeof *c->rqs);
    }
    struct rq *r = &c->rqs[c->n++];
    *r = (struct rq){.tag = tag,
                     .timeout_ms = timeout_ms,
                     .argv = pod_strv_dup(argv),
                     .st = RQ_QUEUED,
                     .deadline_ms = INT64_MAX};
    if (c->conn == AGENT_CONN_READY)
        send_run(c, r);
    return 0;
}

int agent_cancel(struct agent_client *c, uint64_t tag, struct pod_err *err)
{
    struct rq *r = find(c, tag);
    if (!r || r->cancel)
        return pod_err_set(err, POD_E_NOTFOUND, 0, "agent: tag %llu not in flight",
                           (unsigned long long)tag);
    r->cancel = true;
    if (r->st == RQ_QUEUED) { /* never sent: nothing to kill */
        pod_strv_free(r->argv);
        r->argv = NULL;
        r->st = RQ_CANCELLED;
        r->deadline_ms = now(c);
        return 0;
    }
    char t[24];
    snprintf(t, sizeof t, "%llu", (unsigned long long)tag);
    const char *f[] = {"CANCEL", t};
    int64_t due = now(c) + AGENT_REPLY_GRACE_MS;
    if (r->deadline_ms > due)
        r->deadline_ms = due;
    send_frame(c, f, 2);
    return 0;
}

/* ------------------------------------------------------------------ deadlines */

int64_t agent_next_deadline(const struct agent_client *c)
{
    if (c->fail_why[0])
        return 0; /* at once */
    int64_t d = INT64_MAX;
    if (c->conn == AGENT_CONN_CONNECTING) {
        d = c->connect_deadline_ms;
        if (c->fd < 0 && c->retry_at_ms < d)
            d = c->retry_at_ms;
    }
    if (c->fd >= 0 && c->out_len > 0 && c->stall_since_ms + AGENT_WRITE_STALL_MS < d)
        d = c->stall_since_ms + AGENT_WRITE_STALL_MS;
    for (size_t i = 0; i < c->n; i++)
        if (c->rqs[i].deadline_ms < d)
            d = c->rqs[i].deadline_ms;
    return d;
}

void agent_handle_deadline(struct agent_client *c)
{
    if (c->fail_why[0]) {
        fail_conn(c, c->fail_why);
        return;
    }
    int64_t t = now(c);
    if (c->conn == AGENT_CONN_CONNECTING && c->fd < 0 && t >= c->retry_at_ms &&
        t < c->connect_deadline_ms)
        try_connect(c);
    if (c->conn == AGENT_CONN_CONNECTING && t >= c->connect_deadline_ms) {
        char why[160];
        if (c->fd >= 0) /* the reason first: a pod directory may be long */
            snprintf(why, sizeof why, "agent: no HELLO in time: %s/%s", c->dir, c->base);
        else
            snprintf(why, sizeof why, "agent: cannot connect: %s: %s/%s",
                     c->last_errno ? strerror(c->last_errno) : "no attempt", c->dir, c->base);
        fail_conn(c, why);
        return;
    }
    if (c->fd >= 0 && c->out_len > 0 && t >= c->stall_since_ms + AGENT_WRITE_STALL_MS) {
        fail_conn(c, "agent does not read its requests");
        return;
    }
    unsigned gen = c->gen;
    for (size_t i = 0; i < c->n;) {
        struct rq *r = &c->rqs[i];
        if (r->deadline_ms > t) {
            i++;
        } else if (r->st == RQ_CANCELLED) {
            finish(c, i, -1, AGENT_CANCELLED); /* may change c->rqs: start over */
            if (c->gen != gen)
                return;
            i = 0;
        } else {
            char why[160];
            snprintf(why, sizeof why, "agent did not answer request %llu in time",
                     (unsigned long long)r->tag);
            fail_conn(c, why);
            return;
        }
    }
}
