/* SPDX-License-Identifier: MIT */
/* holdc.c - the daemon's side of the fd holder (see pod/holder.h).
 *
 * Keeps the table key -> fd of everything the holder must hold (the fds stay the caller's), so
 * that a new holder gets it all again; a queue of messages the socket did not take yet (with
 * duplicated fds, so a caller may close its fd right after DROP); the holder's pidfd.  Only the
 * handoff at start blocks (the loop does not run yet); everything else is non-blocking.
 */
#include "pod/holder.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/proc.h"
#include "pod/util.h"

struct entry {
    char *key;
    int fd; /* the caller's */
};

struct qmsg {
    char *text;
    int fd; /* a duplicate owned by the queue, or -1 */
};

struct holdc {
    struct holdc_cfg cfg;
    int sock;
    struct proc *child; /* a holder we started */
    int pidfd;          /* the holder's; ours to close when !child */
    pid_t holder_pid;
    struct entry *e;
    size_t n, cap;
    struct qmsg *q;
    size_t qn, qcap;
    char **hkeys; /* the handoff */
    int *hfds;
    size_t hn;
    struct holdc_hello hello;
    int64_t grace_at_ms, respawn_at_ms, backoff_ms, started_ms;
};

static int64_t now_ms(const struct holdc *h)
{
    return clk_mono_ms(h->cfg.clk);
}

/* ------------------------------------------------------------------ sending */

static void q_push(struct holdc *h, const char *text, int fd)
{
    if (h->qn == h->qcap) {
        h->qcap = h->qcap ? 2 * h->qcap : 16;
        h->q = xrealloc(h->q, h->qcap * sizeof *h->q);
    }
    h->q[h->qn++] = (struct qmsg){xstrdup(text), fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1};
}

static void q_clear(struct holdc *h)
{
    for (size_t i = 0; i < h->qn; i++) {
        free(h->q[i].text);
        if (h->q[i].fd >= 0)
            close(h->q[i].fd);
    }
    h->qn = 0;
}

static void set_out(struct holdc *h, bool want)
{
    struct pod_err err = POD_ERR_ZERO;
    if (h->sock >= 0 && loop_mod(h->cfg.loop, h->sock, LOOP_IN | (want ? LOOP_OUT : 0), &err) < 0)
        pod_log(POD_LOG_WARN, "holder: %s", err.msg);
}

static void close_sock(struct holdc *h)
{
    if (h->sock < 0)
        return;
    loop_del(h->cfg.loop, h->sock);
    close(h->sock);
    h->sock = -1;
    q_clear(h);
    h->grace_at_ms = now_ms(h) + HOLDER_GRACE_MS;
}

/* Sends the queue until the socket is full. */
static void flush(struct holdc *h)
{
    size_t done = 0;
    int e = 0;
    while (h->sock >= 0 && done < h->qn) {
        if (holder_send(h->sock, h->q[done].text, h->q[done].fd) < 0) {
            e = errno;
            break;
        }
        free(h->q[done].text);
        if (h->q[done].fd >= 0)
            close(h->q[done].fd);
        done++;
    }
    if (done) {
        memmove(h->q, h->q + done, (h->qn - done) * sizeof *h->q);
        h->qn -= done;
    }
    if (e && e != EAGAIN) {
        pod_log(POD_LOG_WARN, "holder: send: %s", strerror(e));
        close_sock(h); /* clears the rest of the queue; its pidfd will tell */
        return;
    }
    set_out(h, h->qn > 0);
}

static void send_msg(struct holdc *h, const char *text, int fd)
{
    if (h->sock < 0)
        return; /* the next holder gets the whole table */
    q_push(h, text, fd);
    flush(h);
}

/* ------------------------------------------------------------------ the holder's life */

static void on_sock(void *arg, int fd, unsigned events);
static void on_pidfd(void *arg, int fd, unsigned events);

static void watch(struct holdc *h)
{
    struct pod_err err = POD_ERR_ZERO;
    if (h->sock >= 0 && loop_add(h->cfg.loop, h->sock, LOOP_IN, on_sock, h, &err) < 0)
        pod_log(POD_LOG_WARN, "holder: %s", err.msg);
    if (h->pidfd >= 0 && loop_add(h->cfg.loop, h->pidfd, LOOP_IN, on_pidfd, h, &err) < 0)
        pod_log(POD_LOG_WARN, "holder: %s", err.msg);
}

/* A holder that died is replaced at once the first time (and after one that lived
 * HOLDER_BACKOFF_RESET_MS), then after HOLDER_BACKOFF_MIN_MS doubling to HOLDER_BACKOFF_MAX_MS. */
static void schedule_respawn(struct holdc *h)
{
    int64_t t = now_ms(h);
    if (t - h->started_ms >= HOLDER_BACKOFF_RESET_MS)
        h->backoff_ms = 0;
    h->respawn_at_ms = t + h->backoff_ms;
    int64_t next = h->backoff_ms ? 2 * h->backoff_ms : HOLDER_BACKOFF_MIN_MS;
    h->backoff_ms = next > HOLDER_BACKOFF_MAX_MS ? HOLDER_BACKOFF_MAX_MS : next;
}

static void spawn_holder(struct holdc *h)
{
    h->respawn_at_ms = INT64_MAX;
    h->started_ms = now_ms(h);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        pod_log(POD_LOG_WARN, "holder: socketpair: %s", strerror(errno));
        schedule_respawn(h);
        return;
    }
    char lock[16], sock[16], me[16];
    snprintf(lock, sizeof lock, "%d", h->cfg.lock_fd);
    snprintf(sock, sizeof sock, "%d", sv[1]);
    snprintf(me, sizeof me, "%ld", (long)getpid());
    char *argv[] = {(char *)(h->cfg.exe ? h->cfg.exe : pod_self_exe()),
                    "__holder",
                    "--dir",
                    (char *)h->cfg.dir,
                    "--name",
                    (char *)h->cfg.name,
                    "--lock-fd",
                    lock,
                    "--sock-fd",
                    sock,
                    "--daemon-pid",
                    me,
                    NULL};
    int keep[2] = {h->cfg.lock_fd, sv[1]};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.cwd = h->cfg.dir;
    o.keep_fds = keep;
    o.n_keep_fds = 2;
    o.new_session = true;
    struct pod_err err = POD_ERR_ZERO;
    int rc = proc_spawn(&o, &h->child, &err);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        h->child = NULL;
        pod_log(POD_LOG_ERROR, "holder: cannot start one: %s", err.msg);
        schedule_respawn(h);
        return;
    }
    (void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
    h->sock = sv[0];
    h->pidfd = proc_pidfd(h->child);
    h->holder_pid = proc_pid(h->child);
    h->grace_at_ms = INT64_MAX;
    watch(h);
    for (size_t i = 0; i < h->n; i++) {
        char *m = xasprintf("HOLD %s", h->e[i].key);
        q_push(h, m, h->e[i].fd);
        free(m);
    }
    flush(h);
    pod_log(POD_LOG_INFO, "holder: started a new one (pid %ld) holding %zu fds",
            (long)h->holder_pid, h->n);
    if (h->cfg.on_holder)
        h->cfg.on_holder(h->cfg.arg, h->holder_pid);
}

static void holder_gone(struct holdc *h)
{
    if (h->pidfd >= 0)
        loop_del(h->cfg.loop, h->pidfd);
    if (h->child) {
        (void)proc_reap(h->child, NULL);
        proc_free(h->child);
        h->child = NULL;
    } else if (h->pidfd >= 0) {
        close(h->pidfd);
    }
    h->pidfd = -1;
    close_sock(h);
    h->grace_at_ms = INT64_MAX;
    pod_log(POD_LOG_WARN, "holder: pid %ld is gone", (long)h->holder_pid);
    h->holder_pid = 0;
    schedule_respawn(h);
    if (h->respawn_at_ms <= now_ms(h))
        spawn_holder(h);
}

static void on_pidfd(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    holder_gone(arg);
}

static void on_sock(void *arg, int fd, unsigned events)
{
    struct holdc *h = arg;
    (void)fd;
    if (events & LOOP_OUT)
        flush(h);
    if (h->sock < 0 || !(events & (LOOP_IN | LOOP_HUP | LOOP_ERR)))
        return;
    char msg[HOLDER_MSG_MAX];
    for (;;) {
        int mfd;
        ssize_t n = holder_recv(h->sock, msg, sizeof msg, &mfd);
        if (mfd >= 0)
            close(mfd);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0 && errno == EMSGSIZE)
            continue;
        if (n <= 0) {
            pod_log(POD_LOG_WARN, "holder: its socket closed");
            close_sock(h); /* its pidfd tells the rest; grace_at_ms bounds the wait */
            return;
        }
        if (strcmp(msg, "STOP") == 0 && h->cfg.on_ctl)
            h->cfg.on_ctl(h->cfg.arg, HOLDC_STOP);
        else if (strcmp(msg, "KILL") == 0 && h->cfg.on_ctl)
            h->cfg.on_ctl(h->cfg.arg, HOLDC_KILL);
    }
}

/* ------------------------------------------------------------------ handoff */

static int parse_hello(struct holdc *h, const char *msg)
{
    long pid;
    unsigned resp;
    int st;
    if (sscanf(msg, "HELLO %ld %u %d", &pid, &resp, &st) != 3 || pid <= 0)
        return -1;
    h->hello = (struct holdc_hello){(pid_t)pid, resp, st};
    return 0;
}

static int recv_handoff(struct holdc *h, struct pod_err *err)
{
    int64_t deadline = now_ms(h) + HOLDER_HANDOFF_MS;
    bool hello = false;
    char msg[HOLDER_MSG_MAX];
    for (;;) {
        int fd;
        ssize_t n = holder_recv(h->sock, msg, sizeof msg, &fd);
        if (n < 0 && errno == EAGAIN) {
            int64_t left = deadline - now_ms(h);
            if (left <= 0)
                return pod_err_set(err, POD_E_TIMEOUT, 0, "holder: no handoff");
            struct pollfd p = {.fd = h->sock, .events = POLLIN};
            (void)poll(&p, 1, (int)left);
            continue;
        }
        if (n <= 0)
            return pod_err_set(err, POD_E_IO, n < 0 ? errno : 0, "holder: handoff cut short");
        if (!hello) {
            if (fd >= 0)
                close(fd);
            if (parse_hello(h, msg) < 0)
                return pod_err_set(err, POD_E_INVALID, 0, "holder: expected HELLO");
            hello = true;
        } else if (strncmp(msg, "FD ", 3) == 0 && fd >= 0) {
            h->hkeys = xrealloc(h->hkeys, (h->hn + 2) * sizeof *h->hkeys);
            h->hfds = xrealloc(h->hfds, (h->hn + 1) * sizeof *h->hfds);
            h->hkeys[h->hn] = xstrdup(msg + 3);
            h->hkeys[h->hn + 1] = NULL;
            h->hfds[h->hn++] = fd;
        } else {
            if (fd >= 0)
                close(fd);
            if (strcmp(msg, "END") == 0)
                return 0;
        }
    }
}

/* Our parent is the holder that started us: watch it by pidfd, checked with getppid(). */
static void watch_parent(struct holdc *h)
{
    h->holder_pid = h->hello.holder_pid;
    h->pidfd = pod_pidfd_open(h->holder_pid);
    if (h->pidfd >= 0 && getppid() != h->holder_pid) {
        close(h->pidfd);
        h->pidfd = -1;
    }
}

/* ------------------------------------------------------------------ API */

int holdc_new(const struct holdc_cfg *cfg, struct holdc **out, struct pod_err *err)
{
    struct holdc *h = xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    h->sock = h->pidfd = -1;
    h->hello.last_status = -1;
    h->grace_at_ms = h->respawn_at_ms = INT64_MAX;
    h->backoff_ms = 0;
    h->started_ms = now_ms(h);
    if (cfg->sock >= 0) {
        h->sock = cfg->sock;
        (void)fcntl(h->sock, F_SETFL, O_NONBLOCK);
        (void)fcntl(h->sock, F_SETFD, FD_CLOEXEC);
        if (recv_handoff(h, err) < 0) {
            holdc_free(h);
            return -1;
        }
        watch_parent(h);
        if (h->pidfd < 0) {
            close_sock(h);
            spawn_holder(h);
        } else {
            watch(h);
        }
    } else {
        spawn_holder(h);
    }
    *out = h;
    return 0;
}

size_t holdc_handed(const struct holdc *h, char ***keys, int **fds)
{
    *keys = h->hkeys;
    *fds = h->hfds;
    return h->hn;
}

void holdc_take_handed(struct holdc *h)
{
    pod_strv_free(h->hkeys);
    free(h->hfds);
    h->hkeys = NULL;
    h->hfds = NULL;
    h->hn = 0;
}

const struct holdc_hello *holdc_hello(const struct holdc *h)
{
    return &h->hello;
}

pid_t holdc_holder_pid(const struct holdc *h)
{
    return h->holder_pid;
}

size_t holdc_count(const struct holdc *h)
{
    return h->n;
}

/* Puts key -> fd in the table; false when the key is unusable. */
static bool table_put(struct holdc *h, const char *key, int fd)
{
    if (strlen(key) > HOLDER_KEY_MAX || strchr(key, '\n'))
        return false;
    size_t i;
    for (i = 0; i < h->n && strcmp(h->e[i].key, key) != 0; i++)
        ;
    if (i == h->n) {
        if (h->n == h->cap) {
            h->cap = h->cap ? 2 * h->cap : 16;
            h->e = xrealloc(h->e, h->cap * sizeof *h->e);
        }
        h->e[h->n++] = (struct entry){xstrdup(key), fd};
    } else {
        h->e[i].fd = fd;
    }
    return true;
}

void holdc_hold(struct holdc *h, const char *key, int fd)
{
    if (!table_put(h, key, fd))
        return;
    char *m = xasprintf("HOLD %s", key);
    send_msg(h, m, fd);
    free(m);
}

void holdc_adopt(struct holdc *h, const char *key, int fd)
{
    (void)table_put(h, key, fd);
}

void holdc_drop(struct holdc *h, const char *key)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->e[i].key, key) == 0) {
            free(h->e[i].key);
            h->e[i] = h->e[--h->n];
            char *m = xasprintf("DROP %s", key);
            send_msg(h, m, -1);
            free(m);
            return;
        }
}

int64_t holdc_next_deadline(const struct holdc *h)
{
    return h->grace_at_ms < h->respawn_at_ms ? h->grace_at_ms : h->respawn_at_ms;
}

void holdc_run(struct holdc *h)
{
    int64_t t = now_ms(h);
    if (h->grace_at_ms <= t) {
        h->grace_at_ms = INT64_MAX;
        if (h->pidfd >= 0) {
            /* its socket closed 2 s ago and it still runs: it is of no use; make room */
            pod_log(POD_LOG_WARN, "holder: pid %ld lost its socket: killing it",
                    (long)h->holder_pid);
            (void)pod_pidfd_send_signal(h->pidfd, SIGKILL);
        }
    }
    if (h->respawn_at_ms <= t && h->pidfd < 0)
        spawn_holder(h);
}

void holdc_bye(struct holdc *h)
{
    int64_t end = now_ms(h) + 1000;
    q_push(h, "BYE", -1);
    while (h->sock >= 0 && h->qn > 0 && now_ms(h) < end) {
        flush(h);
        struct pollfd p = {.fd = h->sock, .events = POLLOUT};
        if (h->qn > 0)
            (void)poll(&p, 1, 50);
    }
    if (h->child) {
        struct pollfd p = {.fd = h->pidfd, .events = POLLIN};
        int64_t left = end - now_ms(h);
        (void)poll(&p, 1, left > 0 ? (int)left : 0);
    }
}

void holdc_free(struct holdc *h)
{
    if (!h)
        return;
    if (h->sock >= 0) {
        loop_del(h->cfg.loop, h->sock);
        close(h->sock);
    }
    q_clear(h);
    free(h->q);
    if (h->pidfd >= 0)
        loop_del(h->cfg.loop, h->pidfd);
    if (h->child)
        proc_free(h->child); /* reaps it (kills it only when it did not exit after BYE) */
    else if (h->pidfd >= 0)
        close(h->pidfd);
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].key);
    free(h->e);
    for (size_t i = 0; i < h->hn; i++)
        close(h->hfds[i]);
    holdc_take_handed(h);
    free(h);
}
