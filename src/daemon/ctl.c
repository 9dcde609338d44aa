/* SPDX-License-Identifier: MIT */
/* ctl.c - the control channel (see pod/ctl.h): frames, the daemon's non-blocking server and
 * the command line's blocking client.
 *
 * Server clients are a small state machine: READ (a frame arrives; deadline = start + stall)
 * -> WAIT (the handler has the request; not read, no deadline) -> WRITE (the reply leaves as
 * the socket takes it; deadline = last progress + stall) -> READ again.  A client is only ever
 * touched from its own callback, ctl_server_reply and ctl_server_tick; the handler runs last
 * in a callback, so it may reply (and so drop) any client.
 */
#include "pod/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ frames */

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ctl_frame_add(struct pod_buf *out, char *const *v, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    unsigned char hdr[4];
    put_u32(hdr, (uint32_t)len);
    pod_buf_add(out, hdr, sizeof hdr);
    for (size_t i = 0; i < n; i++)
        pod_buf_add(out, v[i], strlen(v[i]) + 1);
}

int ctl_payload_split(const char *p, size_t len, char ***out)
{
    if (len == 0 || p[len - 1] != '\0')
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += p[i] == '\0';
    char **v = xcalloc(n + 1, sizeof *v);
    size_t k = 0;
    for (const char *s = p; s < p + len; s += strlen(s) + 1)
        v[k++] = xstrdup(s);
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ socket paths */

static int proc_path(struct sockaddr_un *sa, int dirfd, const char *file)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, file);
    if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int ctl_connect_at(int dirfd, const char *file, int *fd)
{
    struct sockaddr_un sa;
    if (proc_path(&sa, dirfd, file) < 0)
        return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    *fd = s;
    return 0;
}

/* ------------------------------------------------------------------ server */

enum cstate { C_READ, C_WAIT, C_WRITE };

struct client {
    int fd;
    enum cstate st;
    unsigned char hdr[4];
    size_t hdr_got;
    uint32_t want; /* payload length, once the header is complete */
    struct pod_buf in, out;
    size_t out_off;
    uint64_t id; /* request in C_WAIT */
    int64_t deadline_mono_ms;
};

struct ctl_server {
    struct ctl_server_cfg cfg; /* cfg.file points at file: the caller's string may not live on */
    char *file;
    int lfd;
    struct client **c;
    size_t n, cap;
    uint64_t next_id;
};

static int64_t now_ms(const struct ctl_server *s)
{
    return clk_mono_ms(s->cfg.clk);
}

static void client_drop(struct ctl_server *s, struct client *c)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i] == c) {
            s->c[i] = s->c[--s->n];
            break;
        }
    loop_del(s->cfg.loop, c->fd);
    close(c->fd);
    pod_buf_free(&c->in);
    pod_buf_free(&c->out);
    free(c);
}

static void set_events(struct ctl_server *s, struct client *c, unsigned ev)
{
    struct pod_err err = POD_ERR_ZERO;
    if (loop_mod(s->cfg.loop, c->fd, ev, &err) < 0)
        pod_log(POD_LOG_WARN, "control socket: %s", err.msg);
}

static void enter_read(struct ctl_server *s, struct client *c)
{
    c->st = C_READ;
    c->hdr_got = 0;
    c->want = 0;
    c->in.len = 0;
    pod_buf_free(&c->out);
    c->out_off = 0;
    c->deadline_mono_ms = now_ms(s) + s->cfg.stall_ms;
    set_events(s, c, LOOP_IN);
}

/* Writes what the socket takes.  Returns false when c was dropped. */
static bool client_write(struct ctl_server *s, struct client *c)
{
    bool progress = false;
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            client_drop(s, c);
            return false;
        }
        c->out_off += (size_t)w;
        progress = true;
    }
    if (c->out_off == c->out.len) {
        enter_read(s, c);
        return true;
    }
    if (progress)
        c->deadline_mono_ms = now_ms(s) + s->cfg.stall_ms;
    set_events(s, c, LOOP_OUT);
    return true;
}

/* Reads the pending frame.  Returns 1 when complete, 0 when more is needed, -1 when c must be
 * dropped (hang-up, error, malformed). */
static int client_read(struct client *c)
{
    char chunk[65536];
    for (;;) {
        size_t need = c->hdr_got < 4 ? 4 - c->hdr_got : c->want - c->in.len;
        if (c->hdr_got == 4 && need == 0)
            return 1;
        if (need > sizeof chunk)
            need = sizeof chunk;
        ssize_t r = read(c->fd, chunk, need);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r <= 0)
            return -1;
        if (c->hdr_got < 4) {
            memcpy(c->hdr + c->hdr_got, chunk, (size_t)r);
            c->hdr_got += (size_t)r;
            if (c->hdr_got == 4) {
                c->want = get_u32(c->hdr);
                if (c->want == 0 || c->want > CTL_MAX_FRAME)
                    return -1;
            }
        } else {
            pod_buf_add(&c->in, chunk, (size_t)r);
        }
    }
}

static void on_client(void *arg, int fd, unsigned events)
{
    struct ctl_server *s = arg;
    struct client *c = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i]->fd == fd)
            c = s->c[i];
    if (!c)
        return;
    if (c->st == C_WRITE) {
        if (events & (LOOP_OUT | LOOP_ERR | LOOP_HUP))
            (void)client_write(s, c);
        return;
    }
    if (c->st == C_WAIT) {
        /* epoll reports a hang-up even for a quiet registration: the client is gone */
        if (events & (LOOP_HUP | LOOP_ERR))
            client_drop(s, c);
        return;
    }
    int r = client_read(c);
    if (r < 0) {
        client_drop(s, c);
        return;
    }
    if (r == 0)
        return;
    char **argv;
    if (ctl_payload_split(c->in.data, c->in.len, &argv) < 0) {
        client_drop(s, c);
        return;
    }
    c->st = C_WAIT;
    c->id = ++s->next_id;
    c->deadline_mono_ms = INT64_MAX;
    pod_buf_free(&c->in);
    set_events(s, c, 0);
    /* last: the handler may reply, and so drop c or any other client */
    s->cfg.fn(s->cfg.arg, s, c->id, (int)pod_strv_len(argv), argv);
    pod_strv_free(argv);
}

static bool peer_allowed(const struct ctl_server *s, int fd)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return false;
    return cr.uid == s->cfg.uid || cr.uid == 0;
}

static void on_listen(void *arg, int fd, unsigned events)
{
    struct ctl_server *s = arg;
    (void)events;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                pod_log(POD_LOG_WARN, "control socket: accept: %s", strerror(errno));
            return;
        }
        if (!peer_allowed(s, cfd)) {
            pod_log(POD_LOG_WARN, "control socket: refused a peer with another uid");
            close(cfd);
            continue;
        }
        if (s->n >= CTL_MAX_CLIENTS) {
            pod_log(POD_LOG_WARN, "control socket: too many clients, refused one");
            close(cfd);
            continue;
        }
        struct client *c = xcalloc(1, sizeof *c);
        c->fd = cfd;
        struct pod_err err = POD_ERR_ZERO;
        if (loop_add(s->cfg.loop, cfd, LOOP_IN, on_client, s, &err) < 0) {
            pod_log(POD_LOG_WARN, "control socket: %s", err.msg);
            close(cfd);
            free(c);
            continue;
        }
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 8;
            s->c = xrealloc(s->c, s->cap * sizeof *s->c);
        }
        s->c[s->n++] = c;
        enter_read(s, c);
    }
}

int ctl_server_new(const struct ctl_server_cfg *cfg, struct ctl_server **out, struct pod_err *err)
{
    struct sockaddr_un sa;
    if (proc_path(&sa, cfg->dirfd, cfg->file) < 0)
        return pod_err_set(err, POD_E_INVALID, errno, "control socket name %s", cfg->file);
    if (unlinkat(cfg->dirfd, cfg->file, 0) < 0 && errno != ENOENT)
        return pod_err_set(err, POD_E_IO, errno, "remove stale %s", cfg->file);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "socket");
    mode_t old = umask(0177);
    int rc = bind(lfd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old);
    if (rc < 0) {
        close(lfd);
        return pod_err_set(err, POD_E_IO, e, "bind %s", cfg->file);
    }
    /* no link followed: a name swapped in after the bind is never chmod'ed through */
    if (fchmodat(cfg->dirfd, cfg->file, 0600, AT_SYMLINK_NOFOLLOW) < 0 || listen(lfd, 64) < 0) {
        e = errno;
        close(lfd);
        unlinkat(cfg->dirfd, cfg->file, 0);
        return pod_err_set(err, POD_E_IO, e, "listen on %s", cfg->file);
    }
    struct ctl_server *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->file = xstrdup(cfg->file);
    s->cfg.file = s->file;
    if (s->cfg.stall_ms <= 0)
        s->cfg.stall_ms = CTL_STALL_MS;
    s->lfd = lfd;
    if (loop_add(cfg->loop, lfd, LOOP_IN, on_listen, s, err) < 0) {
        close(lfd);
        unlinkat(cfg->dirfd, cfg->file, 0);
        free(s->file);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void ctl_server_reply(struct ctl_server *s, uint64_t id, int code, const char *out,
                      const char *err_text)
{
    struct client *c = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i]->st == C_WAIT && s->c[i]->id == id)
            c = s->c[i];
    if (!c)
        return;
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    char *v[] = {num, (char *)(out ? out : ""), (char *)(err_text ? err_text : "")};
    pod_buf_free(&c->out);
    ctl_frame_add(&c->out, v, 3);
    c->out_off = 0;
    c->st = C_WRITE;
    c->deadline_mono_ms = now_ms(s) + s->cfg.stall_ms;
    (void)client_write(s, c);
}

int64_t ctl_server_next_deadline(const struct ctl_server *s)
{
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i]->deadline_mono_ms < m)
            m = s->c[i]->deadline_mono_ms;
    return m;
}

void ctl_server_tick(struct ctl_server *s)
{
    int64_t t = now_ms(s);
    /* backwards: a drop moves the last client (already looked at) into the hole */
    for (size_t i = s->n; i-- > 0;) {
        if (s->c[i]->deadline_mono_ms <= t) {
            pod_log(POD_LOG_DEBUG, "control socket: dropped a stalled client");
            client_drop(s, s->c[i]);
        }
    }
}

size_t ctl_server_clients(const struct ctl_server *s)
{
    return s->n;
}

size_t ctl_server_pending_bytes(const struct ctl_server *s)
{
    size_t b = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i]->st == C_WRITE)
            b += s->c[i]->out.len - s->c[i]->out_off;
    return b;
}

void ctl_server_free(struct ctl_server *s, bool unlink_file)
{
    if (!s)
        return;
    while (s->n)
        client_drop(s, s->c[0]);
    free(s->c);
    loop_del(s->cfg.loop, s->lfd);
    close(s->lfd);
    if (unlink_file)
        (void)unlinkat(s->cfg.dirfd, s->cfg.file, 0);
    free(s->file);
    free(s);
}

/* ------------------------------------------------------------------ client */

/* Waits for events on fd until deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - pod_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
}

static int connect_until(int dirfd, const char *file, int64_t deadline, int *fd,
                         struct pod_err *err)
{
    for (;;) {
        if (ctl_connect_at(dirfd, file, fd) == 0)
            return 0;
        int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            return pod_err_set(err, POD_E_NOTFOUND, e, "no daemon listens on %s", file);
        if (e != EAGAIN && e != EINTR)
            return pod_err_set(err, POD_E_IO, e, "connect to %s", file);
        if (pod_mono_ms() >= deadline)
            return pod_err_set(err, POD_E_TIMEOUT, 0, "connect to %s: timed out", file);
        struct timespec ts = {0, 10 * 1000 * 1000}; /* the listen backlog is full */
        nanosleep(&ts, NULL);
    }
}

static int send_all(int fd, const struct pod_buf *b, int64_t deadline, struct pod_err *err)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return pod_err_set(err, POD_E_INVALID, errno, "the daemon hung up");
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r == 0)
            return pod_err_set(err, POD_E_TIMEOUT, 0, "sending the request: timed out");
        if (r < 0)
            return pod_err_set(err, POD_E_IO, errno, "poll");
    }
    return 0;
}

/* Reads exactly n bytes into b. */
static int recv_n(int fd, struct pod_buf *b, size_t n, int64_t deadline, struct pod_err *err)
{
    char chunk[65536];
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < sizeof chunk ? n - got : sizeof chunk;
        ssize_t r = read(fd, chunk, want);
        if (r > 0) {
            pod_buf_add(b, chunk, (size_t)r);
            got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || errno != EAGAIN)
            return pod_err_set(err, POD_E_INVALID, r == 0 ? 0 : errno,
                               "the daemon hung up before its reply");
        int p = wait_fd(fd, POLLIN, deadline);
        if (p == 0)
            return pod_err_set(err, POD_E_TIMEOUT, 0, "waiting for the daemon's reply: timed out");
        if (p < 0)
            return pod_err_set(err, POD_E_IO, errno, "poll");
    }
    return 0;
}

static int parse_reply(const struct pod_buf *b, struct ctl_reply *r, struct pod_err *err)
{
    char **v = NULL;
    long long code;
    if (ctl_payload_split(b->data, b->len, &v) < 0 || pod_strv_len(v) != 3 ||
        !pod_parse_int(v[0], 0, 255, &code)) {
        pod_strv_free(v);
        return pod_err_set(err, POD_E_INVALID, 0, "malformed reply from the daemon");
    }
    r->code = (int)code;
    r->out = v[1];
    r->err = v[2];
    free(v[0]);
    free(v);
    return 0;
}

int ctl_call(const char *dir, const char *file, char *const *argv, size_t argc, int64_t timeout_ms,
             struct ctl_reply *r, struct pod_err *err)
{
    memset(r, 0, sizeof *r);
    int64_t deadline = pod_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open %s", dir);
    int fd = -1, rc = -1;
    struct pod_buf req = {0}, rep = {0};
    if (connect_until(dirfd, file, deadline, &fd, err) < 0)
        goto out;
    ctl_frame_add(&req, argv, argc);
    if (req.len - 4 > CTL_MAX_FRAME) {
        pod_err_set(err, POD_E_INVALID, 0, "request too large");
        goto out;
    }
    if (send_all(fd, &req, deadline, err) < 0 || recv_n(fd, &rep, 4, deadline, err) < 0)
        goto out;
    if (rep.len < 4) { /* can't happen: recv_n read 4 bytes */
        pod_err_set(err, POD_E_INVALID, 0, "malformed reply from the daemon");
        goto out;
    }
    uint32_t len = get_u32((const unsigned char *)rep.data);
    if (len == 0 || len > CTL_MAX_FRAME) {
        pod_err_set(err, POD_E_INVALID, 0, "malformed reply from the daemon");
        goto out;
    }
    rep.len = 0;
    if (recv_n(fd, &rep, len, deadline, err) < 0 || parse_reply(&rep, r, err) < 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    close(dirfd);
    pod_buf_free(&req);
    pod_buf_free(&rep);
    return rc;
}

void ctl_reply_free(struct ctl_reply *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
