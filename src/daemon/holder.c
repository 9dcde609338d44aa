/* SPDX-License-Identifier: MIT */
/* holder.c - the fd holder process (see pod/holder.h, SPEC.md 10.3).
 *
 * One blocking poll loop over three things: a signalfd, the SOCK_SEQPACKET socket to the
 * current daemon and that daemon's pidfd; its only timers are the respawn backoff and the code trim
 * (holder_trim_text).  It keeps a table key -> fd, the lock fd (never closed: the lock lives as
 * long as any of us), and hands the table to every daemon it starts.  It reads no spec, allocates
 * little and prints nothing (its stdio is /dev/null): what it has to say goes to the daemon in
 * HELLO. Must not: block on the daemon (every send is non-blocking, the handoff resumes on
 * POLLOUT), exit while its daemon runs without BYE, start a second daemon while one lives.
 */
#include "pod/holder.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod/ident.h"
#include "pod/pidfd.h"
#include "pod/proc.h"
#include "pod/util.h"

/* ------------------------------------------------------------------ memory */

static int trim_segment(struct dl_phdr_info *info, size_t size, void *self)
{
    (void)size;
    (void)self;
    if (info->dlpi_name && info->dlpi_name[0])
        return 1; /* the main program comes first; shared libraries are not ours to trim */
    long pg = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
            continue;
        uintptr_t a = (uintptr_t)(info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(pg - 1);
        uintptr_t b =
            ((uintptr_t)(info->dlpi_addr + ph->p_vaddr + ph->p_memsz) + (uintptr_t)pg - 1) &
            ~(uintptr_t)(pg - 1);
        if (b > a)
            (void)madvise((void *)a, b - a, MADV_DONTNEED);
    }
    return 1;
}

void holder_trim_text(void)
{
    (void)dl_iterate_phdr(trim_segment, NULL);
}

/* ------------------------------------------------------------------ messages */

int holder_send(int sock, const char *text, int pass_fd)
{
    struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (pass_fd >= 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

ssize_t holder_recv(int sock, char *buf, size_t cap, int *fd)
{
    *fd = -1;
    struct iovec iov = {.iov_base = buf, .iov_len = cap - 1};
    union {
        char b[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t n;
    do
        n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
            if (*fd < 0)
                *fd = f;
            else
                close(f);
        }
    }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        errno = EMSGSIZE;
        return -1;
    }
    buf[n] = '\0';
    return n;
}

/* ------------------------------------------------------------------ the holder's state */

struct held {
    char *key;
    int fd;
};

enum out_phase { OUT_HELLO, OUT_FDS, OUT_END, OUT_DONE };

struct holder {
    const char *dir, *name;
    int dirfd, lock_fd, ready_fd, sigfd;
    char status_file[IDENT_FILE_MAX];
    struct held *h;
    size_t n, cap;
    /* the daemon */
    struct proc *child; /* when we started it */
    int pidfd;          /* its pidfd (the child's, or opened for our parent); -1: none */
    int sock;           /* -1: none */
    int64_t started_ms, respawn_at_ms, backoff_ms;
    unsigned respawns;
    int last_status;
    enum out_phase out;
    size_t cursor;
    int pending; /* 0, HOLDC_STOP or HOLDC_KILL: to tell the daemon */
};

static int64_t now_ms(void)
{
    return clk_mono_ms(&clk_real);
}

static void held_put(struct holder *s, const char *key, int fd)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->h[i].key, key) == 0) {
            close(s->h[i].fd);
            s->h[i].fd = fd;
            return;
        }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->h = xrealloc(s->h, s->cap * sizeof *s->h);
    }
    s->h[s->n++] = (struct held){xstrdup(key), fd};
}

static void held_drop(struct holder *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->h[i].key, key) == 0) {
            close(s->h[i].fd);
            free(s->h[i].key);
            s->h[i] = s->h[--s->n];
            return;
        }
}

static void close_sock(struct holder *s)
{
    if (s->sock >= 0)
        close(s->sock);
    s->sock = -1;
    s->out = OUT_DONE;
}

/* ------------------------------------------------------------------ talking to the daemon */

/* Sends what is due (handoff, then a pending STOP/KILL) until the socket is full. */
static void send_due(struct holder *s)
{
    char msg[HOLDER_MSG_MAX];
    while (s->sock >= 0) {
        int fd = -1;
        if (s->out == OUT_HELLO) {
            snprintf(msg, sizeof msg, "HELLO %ld %u %d", (long)getpid(), s->respawns - 1,
                     s->last_status);
        } else if (s->out == OUT_FDS && s->cursor < s->n) {
            snprintf(msg, sizeof msg, "FD %s", s->h[s->cursor].key);
            fd = s->h[s->cursor].fd;
        } else if (s->out == OUT_FDS || s->out == OUT_END) {
            s->out = OUT_END;
            snprintf(msg, sizeof msg, "END");
        } else if (s->pending) {
            snprintf(msg, sizeof msg, "%s", s->pending == HOLDC_KILL ? "KILL" : "STOP");
        } else {
            return;
        }
        if (holder_send(s->sock, msg, fd) < 0) {
            if (errno != EAGAIN)
                close_sock(s); /* dying daemon: its pidfd tells */
            return;
        }
        if (s->out == OUT_HELLO)
            s->out = OUT_FDS;
        else if (s->out == OUT_FDS)
            s->cursor++;
        else if (s->out == OUT_END)
            s->out = OUT_DONE;
        else
            s->pending = 0;
    }
}

/* Returns true after BYE. */
static bool read_daemon(struct holder *s)
{
    char msg[HOLDER_MSG_MAX];
    for (;;) {
        int fd;
        ssize_t n = holder_recv(s->sock, msg, sizeof msg, &fd);
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n < 0 && errno == EMSGSIZE)
            continue; /* not ours to understand: dropped */
        if (n <= 0) {
            close_sock(s); /* the daemon is going; wait for its pidfd */
            return false;
        }
        if (strncmp(msg, "HOLD ", 5) == 0 && fd >= 0 && msg[5]) {
            held_put(s, msg + 5, fd);
            continue;
        }
        if (fd >= 0)
            close(fd);
        if (strncmp(msg, "DROP ", 5) == 0)
            held_drop(s, msg + 5);
        else if (strcmp(msg, "BYE") == 0)
            return true;
    }
}

/* ------------------------------------------------------------------ the daemon's life */

static void schedule_respawn(struct holder *s)
{
    int64_t t = now_ms();
    if (t - s->started_ms >= HOLDER_BACKOFF_RESET_MS)
        s->backoff_ms = HOLDER_BACKOFF_MIN_MS;
    int64_t delay = s->backoff_ms; /* a STOP/KILL pending while none runs started one at once */
    s->backoff_ms =
        s->backoff_ms * 2 > HOLDER_BACKOFF_MAX_MS ? HOLDER_BACKOFF_MAX_MS : s->backoff_ms * 2;
    s->respawn_at_ms = t + delay;
}

static void daemon_gone(struct holder *s)
{
    int st = -1;
    if (s->child) {
        int w;
        if (proc_reap(s->child, &w))
            st = w;
        proc_free(s->child);
        s->child = NULL;
    } else if (s->pidfd >= 0) {
        close(s->pidfd);
    }
    s->pidfd = -1;
    s->last_status = st;
    close_sock(s);
    struct pod_err err = POD_ERR_ZERO;
    if (ident_status_down(s->dirfd, s->status_file, &err) < 0) {
        /* nobody to tell: the next daemon rewrites the file anyway */
    }
    schedule_respawn(s);
}

static void spawn_daemon(struct holder *s)
{
    s->respawn_at_ms = INT64_MAX;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        schedule_respawn(s);
        return;
    }
    char lock[16], sock[16], ready[16];
    snprintf(lock, sizeof lock, "%d", s->lock_fd);
    snprintf(sock, sizeof sock, "%d", sv[1]);
    snprintf(ready, sizeof ready, "%d", s->ready_fd);
    char *argv[16];
    size_t k = 0;
    argv[k++] = (char *)pod_self_exe();
    argv[k++] = "__daemon";
    argv[k++] = "--dir";
    argv[k++] = (char *)s->dir;
    argv[k++] = "--name";
    argv[k++] = (char *)s->name;
    argv[k++] = "--lock-fd";
    argv[k++] = lock;
    argv[k++] = "--holder-fd";
    argv[k++] = sock;
    if (s->ready_fd >= 0) {
        argv[k++] = "--ready-fd";
        argv[k++] = ready;
    }
    argv[k] = NULL;
    int keep[3] = {s->lock_fd, sv[1], s->ready_fd};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.cwd = s->dir;
    o.keep_fds = keep;
    o.n_keep_fds = s->ready_fd >= 0 ? 3 : 2;
    o.new_session = true;
    struct pod_err err = POD_ERR_ZERO;
    s->respawns++;
    s->started_ms = now_ms();
    int rc = proc_spawn(&o, &s->child, &err);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        if (s->ready_fd >= 0) { /* the command line stops waiting: EOF after the message */
            char *m = xasprintf("E%s", err.msg);
            (void)!write(s->ready_fd, m, strlen(m));
            free(m);
            close(s->ready_fd);
            s->ready_fd = -1;
        }
        s->child = NULL;
        schedule_respawn(s);
        return;
    }
    if (s->ready_fd >= 0) { /* only the first daemon reports readiness */
        close(s->ready_fd);
        s->ready_fd = -1;
    }
    (void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
    s->sock = sv[0];
    s->pidfd = proc_pidfd(s->child);
    s->out = OUT_HELLO;
    s->cursor = 0;
    send_due(s);
}

/* The daemon that started us: our parent, checked after opening its pidfd. */
static void watch_parent(struct holder *s, pid_t pid, int sock)
{
    s->sock = sock;
    (void)fcntl(sock, F_SETFL, O_NONBLOCK);
    s->out = OUT_DONE;
    s->started_ms = now_ms();
    s->respawns = 1;
    s->pidfd = pod_pidfd_open(pid);
    if (s->pidfd >= 0 && getppid() != pid) {
        close(s->pidfd); /* it died before we looked: that pid may be anyone now */
        s->pidfd = -1;
    }
    if (s->pidfd < 0)
        daemon_gone(s);
}

/* ------------------------------------------------------------------ main */

/* After BYE: a daemon we started is reaped once it has exited (it exits right after BYE; one
 * still there after HOLDER_GRACE_MS is killed); a daemon that started us waits for our exit. */
static void finish(struct holder *s)
{
    if (s->child) {
        struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
        (void)poll(&p, 1, HOLDER_GRACE_MS);
        proc_free(s->child);
    } else if (s->pidfd >= 0) {
        close(s->pidfd);
    }
    close_sock(s);
    for (size_t i = 0; i < s->n; i++) {
        close(s->h[i].fd);
        free(s->h[i].key);
    }
    free(s->h);
    if (s->ready_fd >= 0)
        close(s->ready_fd);
    close(s->sigfd);
    close(s->dirfd);
}

/* Writes `.<b>.pid` with our line alone; each daemon rewrites it with both. */
static void record_self(struct holder *s)
{
    struct ident me;
    struct pod_err err = POD_ERR_ZERO;
    char file[IDENT_FILE_MAX];
    if (ident_file(file, s->name, "pid") < 0 || ident_of(getpid(), "holder", &me, &err) < 0 ||
        ident_write(s->dirfd, file, &me, 1, &err) < 0) {
        /* `stop` then relies on the lock alone */
    }
}

static void on_signal(struct holder *s)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int what = si.ssi_signo == SIGTERM ? HOLDC_STOP : si.ssi_signo == SIGUSR2 ? HOLDC_KILL : 0;
        if (!what)
            continue; /* INT, HUP, USR1: ignored */
        if (s->pending != HOLDC_KILL)
            s->pending = what;
        if (s->pidfd < 0)
            s->respawn_at_ms = now_ms(); /* no daemon now: start one to carry it out */
        send_due(s);
    }
}

static int parse_fd(const char *v, int *out)
{
    long long x;
    if (!pod_parse_int(v, 0, 1 << 30, &x))
        return -1;
    *out = (int)x;
    return 0;
}

static int parse_args(struct holder *s, int argc, char **argv, int *sock, pid_t *dpid)
{
    s->lock_fd = s->ready_fd = *sock = -1;
    *dpid = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        long long x;
        int bad = 0;
        if (strcmp(k, "--dir") == 0)
            s->dir = v;
        else if (strcmp(k, "--name") == 0)
            s->name = v;
        else if (strcmp(k, "--lock-fd") == 0)
            bad = parse_fd(v, &s->lock_fd);
        else if (strcmp(k, "--ready-fd") == 0)
            bad = parse_fd(v, &s->ready_fd);
        else if (strcmp(k, "--sock-fd") == 0)
            bad = parse_fd(v, sock);
        else if (strcmp(k, "--daemon-pid") == 0 && pod_parse_int(v, 1, 1 << 30, &x))
            *dpid = (pid_t)x;
        else
            bad = -1;
        if (bad)
            return -1;
    }
    if (argc % 2 != 0 || !s->dir || !s->name || s->lock_fd < 0 || (*sock >= 0) != (*dpid > 0) ||
        ident_file(s->status_file, s->name, "status") < 0)
        return -1;
    return 0;
}

static int setup(struct holder *s)
{
    s->sigfd = ident_signals_setup();
    s->dirfd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return s->sigfd < 0 || s->dirfd < 0 ? -1 : 0;
}

int holder_main(int argc, char **argv)
{
    struct holder s;
    memset(&s, 0, sizeof s);
    s.pidfd = s.sock = -1;
    s.respawn_at_ms = INT64_MAX;
    s.backoff_ms = HOLDER_BACKOFF_MIN_MS;
    s.last_status = -1;
    s.out = OUT_DONE;
    int sock;
    pid_t dpid;
    if (parse_args(&s, argc, argv, &sock, &dpid) < 0)
        return POD_EXIT_USAGE;
    if (setup(&s) < 0)
        return POD_EXIT_SYSTEM;
    if (sock >= 0) {
        watch_parent(&s, dpid, sock);
    } else {
        record_self(&s); /* so that `stop` finds us even if no daemon gets far */
        spawn_daemon(&s);
    }
    holder_trim_text();
    int64_t trim_at_ms = INT64_MAX;
    for (;;) {
        struct pollfd p[3] = {{.fd = s.sigfd, .events = POLLIN},
                              {.fd = s.pidfd, .events = POLLIN},
                              {.fd = s.sock, .events = POLLIN}};
        if (s.sock >= 0 && (s.out != OUT_DONE || s.pending))
            p[2].events |= POLLOUT;
        int timeout = -1;
        int64_t wake_ms = s.respawn_at_ms < trim_at_ms ? s.respawn_at_ms : trim_at_ms;
        if (wake_ms != INT64_MAX) {
            int64_t left = wake_ms - now_ms();
            timeout = left <= 0 ? 0 : (int)(left > 60000 ? 60000 : left);
        }
        int n = poll(p, 3, timeout);
        if (n < 0 && errno != EINTR)
            return POD_EXIT_SYSTEM;
        if (n > 0) { /* what this burst touched is dropped again once it is over */
            trim_at_ms = now_ms() + HOLDER_TRIM_QUIET_MS;
        } else if (n == 0 && trim_at_ms <= now_ms()) {
            holder_trim_text();
            trim_at_ms = INT64_MAX;
        }
        if (p[0].revents)
            on_signal(&s);
        if (s.sock >= 0 && (p[2].revents & POLLIN) && read_daemon(&s)) {
            finish(&s); /* BYE: the daemon exits cleanly; nothing left to hold */
            return POD_EXIT_OK;
        }
        if (s.sock >= 0 && (p[2].revents & (POLLHUP | POLLERR)) && !(p[2].revents & POLLIN))
            close_sock(&s);
        if (s.sock >= 0 && (p[2].revents & POLLOUT))
            send_due(&s);
        if (s.pidfd >= 0 && (p[1].revents & POLLIN))
            daemon_gone(&s);
        if (s.pidfd < 0 && s.respawn_at_ms <= now_ms())
            spawn_daemon(&s);
    }
}
