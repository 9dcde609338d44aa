/* SPDX-License-Identifier: MIT */
/* agent.c - the in-container exec agent: `/.podc/agent __agent /.podc/run/agent.sock`
 * (protocol and limits: pod/agent.h).
 *
 * Started by `podman exec -d`, so it has exactly the confinement of a `podman exec` process;
 * every command it runs is a forked child that inherits it unchanged (uid/gid, groups, every
 * capability set, no_new_privs, seccomp filters, namespaces, cgroup, environment, cwd, umask,
 * rlimits, signal dispositions) and only gets its own session and process group, stdio on
 * /dev/null and an empty signal mask.  It is a child subreaper, so every descendant of a command
 * ends up reaped here. One client at a time: a new connection replaces the old one, and a
 * connection that ends, or sends anything the protocol does not allow, has its commands killed.  It
 * blocks in poll() when idle.  Must not: read the pod payload, print after start-up, trust its
 * client.
 */
#include "pod/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/util.h"

#define OUT_MAX (64u * 1024)  /* unsent replies beyond this: the client does not read */
#define IN_CHUNK 4096u        /* read size; a frame may need up to AGENT_REQ_MAX + 4 */
#define READS_PER_WAKE 16     /* fairness: bytes read per wake-up are bounded */
#define KILL_RECHECK_MS 100   /* a killed group that is not empty yet: kill again, look again, */
#define KILL_RECHECK_MAX 5000 /* doubling up to this (a process stuck in D state) */

enum req_st { REQ_RUNNING = 0, REQ_KILLING };
enum req_why { WHY_NONE = 0, WHY_CANCEL, WHY_TIMEOUT, WHY_DROP };

struct req {
    uint64_t tag;
    pid_t pid;    /* == its process group and session id */
    unsigned gen; /* the connection it answers to; 0 = none (killed at a disconnect) */
    enum req_st st;
    enum req_why why;    /* why it is being killed */
    bool reaped;         /* the leader has been reaped */
    int64_t deadline_ms; /* RUNNING: its timeout; KILLING: next re-kill; INT64_MAX: none */
    int recheck_ms;      /* KILLING: the current re-kill interval */
};

struct agent {
    const char *path;
    int lfd, cfd, sfd, ifd, devnull;
    unsigned gen; /* of the current connection (cfd) */
    dev_t dev;
    ino_t ino;
    struct req *reqs;
    size_t n, cap;
    char *in, *out;
    size_t in_len, in_cap, out_len, out_cap;
    bool quit;
    char *fields[AGENT_ARGC_MAX + 4]; /* argv of a RUN: pointers into in */
};

static int64_t now_ms(void)
{
    return clk_mono_ms(&clk_real);
}

/* ------------------------------------------------------------------ replies */

static void drop_client(struct agent *a);

static void flush_out(struct agent *a)
{
    while (a->cfd >= 0 && a->out_len > 0) {
        ssize_t w = send(a->cfd, a->out, a->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            drop_client(a);
            return;
        }
        memmove(a->out, a->out + w, a->out_len - (size_t)w);
        a->out_len -= (size_t)w;
    }
    if (a->cfd >= 0 && a->out_len > OUT_MAX)
        drop_client(a);
}

static void reply(struct agent *a, const char *const *f, size_t n)
{
    if (a->cfd < 0)
        return;
    agent_frame_put(&a->out, &a->out_len, &a->out_cap, f, n);
    flush_out(a);
}

static void reply_done(struct agent *a, uint64_t tag, const char *what, long long num, bool has)
{
    char t[24], v[24];
    snprintf(t, sizeof t, "%llu", (unsigned long long)tag);
    snprintf(v, sizeof v, "%lld", num);
    const char *f[] = {"DONE", t, what, v};
    reply(a, f, has ? 4 : 3);
}

/* ------------------------------------------------------------------ requests */

static struct req *find_tag(struct agent *a, uint64_t tag)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->reqs[i].gen == a->gen && a->reqs[i].tag == tag)
            return &a->reqs[i];
    return NULL;
}

static void remove_req(struct agent *a, struct req *r)
{
    *r = a->reqs[--a->n];
}

/* SIGKILL to the group, and to the leader itself: between fork and setsid it has no group. */
static void kill_req(struct req *r)
{
    (void)kill(-r->pid, SIGKILL);
    if (!r->reaped)
        (void)kill(r->pid, SIGKILL);
}

static void start_kill(struct req *r, enum req_why why)
{
    if (r->st != REQ_KILLING) {
        r->st = REQ_KILLING;
        r->why = why;
    }
    kill_req(r);
    r->recheck_ms = KILL_RECHECK_MS;
    r->deadline_ms = now_ms() + r->recheck_ms;
}

/* True when no live (non-zombie) process is left in group pgid. */
static bool group_gone(pid_t pgid)
{
    if (kill(-pgid, 0) < 0 && errno == ESRCH)
        return true;
    /* Only zombies left whose parents are elsewhere?  Look at /proc (rare: killing only). */
    DIR *d = opendir("/proc");
    if (!d)
        return false;
    bool gone = true;
    struct dirent *e;
    while (gone && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char p[300], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* "pid (comm) S ppid pgrp ...": comm may hold anything, the last ')' ends it */
        char *rp = strrchr(buf, ')');
        if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ' || rp[2] == 'Z' || rp[2] == 'X')
            continue;
        char *f = strchr(rp + 4, ' '); /* after ppid */
        if (f && (pid_t)strtol(f + 1, NULL, 10) == pgid)
            gone = false;
    }
    closedir(d);
    return gone;
}

static void finish_killed(struct agent *a, struct req *r)
{
    if (r->gen == a->gen && r->why != WHY_DROP)
        reply_done(a, r->tag, r->why == WHY_TIMEOUT ? "timeout" : "cancelled", 0, false);
    remove_req(a, r);
}

/* Reaps every child that has ended, answers the requests they ended, then checks the groups
 * being killed (no fork can happen in between, so a pgid cannot have been reused by us). */
static void reap(struct agent *a)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == EINTR)
            continue;
        if (p <= 0)
            break;
        for (size_t i = 0; i < a->n; i++) {
            struct req *r = &a->reqs[i];
            if (r->pid != p || r->reaped)
                continue;
            r->reaped = true;
            if (r->st == REQ_RUNNING) {
                int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                if (r->gen == a->gen)
                    reply_done(a, r->tag, "exit", code, true);
                remove_req(a, r);
            }
            break;
        }
    }
    for (size_t i = 0; i < a->n;) {
        struct req *r = &a->reqs[i];
        if (r->st == REQ_KILLING && r->reaped && kill(-r->pid, 0) < 0 && errno == ESRCH)
            finish_killed(a, r); /* moves the last entry to i */
        else
            i++;
    }
}

static void run_timers(struct agent *a)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < a->n;) {
        struct req *r = &a->reqs[i];
        if (r->deadline_ms > now) {
            i++;
        } else if (r->st == REQ_RUNNING) {
            start_kill(r, WHY_TIMEOUT);
            i++;
        } else if (r->reaped && group_gone(r->pid)) {
            finish_killed(a, r);
        } else {
            kill_req(r);
            r->recheck_ms =
                r->recheck_ms * 2 > KILL_RECHECK_MAX ? KILL_RECHECK_MAX : r->recheck_ms * 2;
            r->deadline_ms = now + r->recheck_ms;
            i++;
        }
    }
}

/* Only async-signal-safe calls between fork and exec (the agent is single-threaded anyway). */
__attribute__((noreturn)) static void child(struct agent *a, char **argv)
{
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    (void)setsid();
    for (int i = 0; i < 3; i++)
        (void)dup2(a->devnull, i);
    execvp(argv[0], argv);
    /* podman exec's codes: 127 not found, 126 found but not executable */
    _exit(errno == ENOENT || errno == ENOTDIR ? 127 : 126);
}

/* RUN tag timeout argv...; returns -1 when the frame is malformed (the client is dropped). */
static int do_run(struct agent *a, char **f, int n)
{
    uint64_t tag, timeout;
    if (n < 4 || !agent_parse_u64(f[1], UINT64_MAX, &tag) ||
        !agent_parse_u64(f[2], AGENT_TIMEOUT_MAX_MS, &timeout) || !f[3][0] || find_tag(a, tag))
        return -1;
    if (a->n >= AGENT_RUNNING_MAX) {
        reply_done(a, tag, "error", EAGAIN, true);
        return 0;
    }
    char **argv = f + 3; /* f[n] == NULL: see handle_frame */
    pid_t pid = fork();
    if (pid < 0) {
        reply_done(a, tag, "error", errno, true);
        return 0;
    }
    if (pid == 0)
        child(a, argv);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->reqs = xrealloc(a->reqs, a->cap * sizeof *a->reqs);
    }
    a->reqs[a->n++] = (struct req){
        .tag = tag,
        .pid = pid,
        .gen = a->gen,
        .st = REQ_RUNNING,
        .deadline_ms = timeout ? now_ms() + (int64_t)timeout : INT64_MAX,
    };
    return 0;
}

static int handle_frame(struct agent *a, char *payload, size_t plen)
{
    int n = agent_fields(payload, plen, a->fields, AGENT_ARGC_MAX + 3);
    if (n < 1)
        return -1;
    a->fields[n] = NULL;
    if (strcmp(a->fields[0], "RUN") == 0)
        return do_run(a, a->fields, n);
    uint64_t tag;
    if (strcmp(a->fields[0], "CANCEL") == 0 && n == 2 &&
        agent_parse_u64(a->fields[1], UINT64_MAX, &tag)) {
        struct req *r = find_tag(a, tag);
        if (r) /* unknown: it has ended and its DONE is on its way */
            start_kill(r, WHY_CANCEL);
        return 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ the connection */

static void drop_client(struct agent *a)
{
    if (a->cfd < 0)
        return;
    close(a->cfd);
    a->cfd = -1;
    for (size_t i = 0; i < a->n; i++)
        if (a->reqs[i].gen == a->gen) {
            start_kill(&a->reqs[i], WHY_DROP);
            a->reqs[i].gen = 0;
        }
    a->in_len = a->out_len = 0;
    free(a->in); /* a big RUN may have grown them: give the memory back */
    free(a->out);
    a->in = a->out = NULL;
    a->in_cap = a->out_cap = 0;
}

static void read_client(struct agent *a)
{
    for (int round = 0; round < READS_PER_WAKE && a->cfd >= 0; round++) {
        if (a->in_cap - a->in_len < IN_CHUNK) {
            a->in_cap = a->in_len + IN_CHUNK;
            a->in = xrealloc(a->in, a->in_cap);
        }
        ssize_t r = recv(a->cfd, a->in + a->in_len, a->in_cap - a->in_len, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            drop_client(a);
            return;
        }
        a->in_len += (size_t)r;
        size_t off = 0, plen, used;
        int k;
        while (a->cfd >= 0 && (k = agent_frame_next(a->in + off, a->in_len - off, AGENT_REQ_MAX,
                                                    &plen, &used)) != 0) {
            if (k < 0 || handle_frame(a, a->in + off + 4, plen) < 0) {
                drop_client(a); /* garbage: this client is not our daemon, or is broken */
                return;
            }
            off += used;
        }
        if (a->cfd < 0)
            return;
        memmove(a->in, a->in + off, a->in_len - off);
        a->in_len -= off;
        if (a->in_len == 0 && a->in_cap > 4 * IN_CHUNK) { /* after a big RUN */
            free(a->in);
            a->in = NULL;
            a->in_cap = 0;
        }
    }
}

static void accept_client(struct agent *a)
{
    int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    drop_client(a); /* one client at a time: the newest one wins */
    a->cfd = fd;
    if (++a->gen == 0)
        a->gen = 1;
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    const char *f[] = {"HELLO", AGENT_PROTO_VERSION, pid};
    reply(a, f, 3);
}

/* ------------------------------------------------------------------ start-up and loop */

/* Still our socket at our path?  Another agent started for this container replaces it. */
static bool path_is_ours(const struct agent *a)
{
    struct stat st;
    return lstat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino;
}

static void on_signals(struct agent *a)
{
    struct signalfd_siginfo si;
    while (read(a->sfd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            a->quit = true;
    reap(a);
}

static void on_inotify(struct agent *a)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(a->ifd, buf, sizeof buf) > 0)
        ;
    if (!path_is_ours(a))
        a->quit = true;
}

static int fail(const char *what, int e)
{
    fprintf(stderr, "[ERROR] agent: %s: %s\n", what, strerror(e));
    return POD_EXIT_SYSTEM;
}

static int setup(struct agent *a)
{
    if (strlen(a->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return fail("socket path too long", ENAMETOOLONG);
    if (close_range(3, ~0u, 0) < 0) /* inherited fds are not ours (seccomp may refuse it) */
        for (int fd = 3; fd < 1024; fd++)
            (void)close(fd);
    a->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (a->devnull < 0)
        return fail("/dev/null", errno);
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* Signal dispositions are left as podman exec gave them (commands inherit them as a podman
     * exec process would have them); the agent itself takes its signals from a signalfd and
     * writes with MSG_NOSIGNAL, and unblocks everything in each command. */
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGCHLD);
    sigaddset(&m, SIGTERM);
    sigaddset(&m, SIGINT);
    (void)sigprocmask(SIG_BLOCK, &m, NULL);
    a->sfd = signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
    if (a->sfd < 0)
        return fail("signalfd", errno);
    a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (a->lfd < 0)
        return fail("socket", errno);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, a->path, strlen(a->path) + 1);
    (void)unlink(a->path); /* a stale socket of an earlier agent */
    /* 0666: the daemon's uid is not ours in a rootless container with --user */
    mode_t old = umask(0111);
    int rc = bind(a->lfd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old); /* children get podman exec's umask */
    if (rc < 0)
        return fail(a->path, e);
    if (listen(a->lfd, 8) < 0)
        return fail("listen", errno);
    struct stat st;
    if (lstat(a->path, &st) < 0)
        return fail(a->path, errno);
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    char *dir = pod_dirname(a->path);
    a->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK); /* optional: without it we never leave */
    if (a->ifd >= 0 && inotify_add_watch(a->ifd, dir,
                                         IN_DELETE | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO |
                                             IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
        close(a->ifd);
        a->ifd = -1;
    }
    free(dir);
    for (int i = 0; i < 3; i++) /* silent from here on */
        (void)dup2(a->devnull, i);
    return 0;
}

static int64_t next_deadline(const struct agent *a)
{
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < a->n; i++)
        if (a->reqs[i].deadline_ms < d)
            d = a->reqs[i].deadline_ms;
    return d;
}

int agent_main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], AGENT_ACTION) != 0) {
        fprintf(stderr, "usage: %s " AGENT_ACTION " SOCKET\n", argc > 0 ? argv[0] : "pod");
        return POD_EXIT_USAGE;
    }
    struct agent a = {.path = argv[2], .lfd = -1, .cfd = -1, .sfd = -1, .ifd = -1};
    int rc = setup(&a);
    while (rc == 0 && !a.quit) {
        int64_t d = next_deadline(&a), left = d == INT64_MAX ? -1 : d - now_ms();
        int timeout = left < 0 ? (d == INT64_MAX ? -1 : 0) : (left > 60000 ? 60000 : (int)left);
        struct pollfd pf[4] = {
            {.fd = a.sfd, .events = POLLIN},
            {.fd = a.lfd, .events = POLLIN},
            {.fd = a.ifd, .events = POLLIN}, /* -1: ignored by poll */
            {.fd = a.cfd, .events = (short)(POLLIN | (a.out_len ? POLLOUT : 0))},
        };
        if (poll(pf, 4, timeout) < 0 && errno != EINTR)
            return fail("poll", errno);
        if (pf[0].revents)
            on_signals(&a);
        if (pf[2].revents)
            on_inotify(&a);
        if (a.cfd >= 0 && pf[3].fd == a.cfd && (pf[3].revents & POLLOUT))
            flush_out(&a);
        if (a.cfd >= 0 && pf[3].fd == a.cfd && (pf[3].revents & (POLLIN | POLLHUP | POLLERR)))
            read_client(&a);
        if (pf[1].revents & POLLIN)
            accept_client(&a);
        run_timers(&a);
    }
    /* leaving: nothing we started may outlive us */
    for (size_t i = 0; i < a.n; i++)
        kill_req(&a.reqs[i]);
    if (path_is_ours(&a))
        (void)unlink(a.path);
    free(a.reqs); /* agent_main returns (tests call it in a fork child): nothing left behind */
    free(a.in);
    free(a.out);
    return rc;
}
