/* SPDX-License-Identifier: MIT */
/* proc.c - the runner's process seam: subreaper, invocations with deadlines, process trees.
 *
 * The runner is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever a pod detaches (double
 * fork, setsid) is re-parented to it, so "the pod's processes" are exactly the runner's living
 * descendants, found by walking /proc/<pid>/stat.  Orphans are reaped promptly (a SIGCHLD
 * self-pipe wakes every wait), as init would, so that a pod polling `kill -0` on its
 * supervisor sees it gone.  Nothing here decides pass/fail; run_conformance.c does.
 * Signal state (the self-pipe, the interrupt flag) are the only module globals.
 */
#include "conformance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAPTURE (1024 * 1024) /* bytes of stdout/stderr kept per invocation */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_interrupt;

/* The invocation being waited for: reaping records its status here. */
static pid_t awaited_pid;
static bool awaited_done;
static int awaited_status;

static void on_signal(int sig)
{
    int saved = errno;
    if (sig != SIGCHLD)
        got_interrupt = 1;
    char c = 0;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

int cf_proc_init(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return -1;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    const int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

bool cf_interrupted(void)
{
    return got_interrupt != 0;
}

int64_t cf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain_sig_pipe(void)
{
    char buf[64];
    while (read(sig_pipe[0], buf, sizeof(buf)) > 0) {
    }
}

static void reap_now(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == awaited_pid) {
            awaited_done = true;
            awaited_status = st;
        }
    }
}

void cf_reap(int ms)
{
    if (ms > 0) {
        struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
        if (poll(&pfd, 1, ms) > 0)
            drain_sig_pipe();
    }
    reap_now();
}

/* ------------------------------------------------------------------ */
/* /proc                                                               */
/* ------------------------------------------------------------------ */

static bool read_stat(pid_t pid, struct cf_proc *p, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *lp = strchr(buf, '(');
    char *rp = strrchr(buf, ')');
    if (!lp || !rp || rp < lp)
        return false;
    size_t clen = (size_t)(rp - lp - 1);
    if (clen >= sizeof(p->comm))
        clen = sizeof(p->comm) - 1;
    memcpy(p->comm, lp + 1, clen);
    p->comm[clen] = '\0';
    for (char *c = p->comm; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    int ppid;
    unsigned long long start;
    if (sscanf(rp + 2,
               "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               state, &ppid, &start) != 3)
        return false;
    p->pid = pid;
    p->ppid = ppid;
    p->start = start;
    return true;
}

/* Every process on the host that is not a zombie. */
static size_t all_procs(struct cf_proc **out)
{
    size_t n = 0, cap = 256;
    struct cf_proc *v = xmalloc(cap * sizeof(*v));
    DIR *d = opendir("/proc");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 0)
                continue;
            struct cf_proc p;
            char state;
            if (!read_stat((pid_t)pid, &p, &state) || state == 'Z' || state == 'X')
                continue;
            if (n == cap)
                v = xrealloc(v, (cap *= 2) * sizeof(*v));
            v[n++] = p;
        }
        closedir(d);
    }
    *out = v;
    return n;
}

size_t cf_descendants(struct cf_proc **out)
{
    struct cf_proc *all;
    size_t n = all_procs(&all);
    bool *in = xcalloc(n, sizeof(*in));
    pid_t self = getpid();
    size_t count = 0;
    /* Transitive closure over ppid links: a few passes over a few hundred entries. */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (in[i])
                continue;
            bool parent_in = all[i].ppid == self;
            for (size_t j = 0; j < n && !parent_in; j++)
                parent_in = in[j] && all[j].pid == all[i].ppid;
            if (parent_in) {
                in[i] = true;
                changed = true;
                count++;
            }
        }
    }
    struct cf_proc *v = xmalloc((count ? count : 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i])
            v[k++] = all[i];
    free(in);
    free(all);
    *out = v;
    return k;
}

size_t cf_detached(struct cf_proc **out)
{
    struct cf_proc *d;
    size_t n = cf_descendants(&d);
    size_t k = 0;
    pid_t self = getpid();
    for (size_t i = 0; i < n; i++)
        if (d[i].ppid == self)
            d[k++] = d[i];
    *out = d;
    return k;
}

void cf_describe_procs(const struct cf_proc *p, size_t n, size_t max, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < max && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%spid %d (%s)", i ? ", " : "", (int)p[i].pid,
                         p[i].comm);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (n > max && used < len)
        snprintf(buf + used, len - used, " and %zu more", n - max);
}

/* The first descendant with an open fd on pipe inode ino, as "pid N (comm)". */
static void find_pipe_holder(ino_t ino, char *buf, size_t len)
{
    char want[64];
    snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)ino);
    struct cf_proc *d;
    size_t n = cf_descendants(&d);
    for (size_t i = 0; i < n && !buf[0]; i++) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)d[i].pid);
        DIR *fds = opendir(dir);
        if (!fds)
            continue;
        struct dirent *e;
        while ((e = readdir(fds))) {
            char link[PATH_MAX + 64], target[128];
            snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
            ssize_t t = readlink(link, target, sizeof(target) - 1);
            if (t <= 0)
                continue;
            target[t] = '\0';
            if (strcmp(target, want) == 0) {
                snprintf(buf, len, "pid %d (%s) fd %.16s", (int)d[i].pid, d[i].comm, e->d_name);
                break;
            }
        }
        closedir(fds);
    }
    free(d);
}

void cf_kill_all(int grace_ms)
{
    for (int round = 0; round < 50; round++) {
        struct cf_proc *d;
        size_t n = cf_descendants(&d);
        if (n == 0) {
            free(d);
            break;
        }
        int sig = round == 0 && grace_ms > 0 ? SIGTERM : SIGKILL;
        for (size_t i = 0; i < n; i++) {
            kill(d[i].pid, sig);
            if (sig == SIGTERM)
                kill(d[i].pid, SIGCONT);
        }
        free(d);
        int64_t until = cf_now_ms() + (sig == SIGTERM ? grace_ms : 200);
        while (cf_now_ms() < until) {
            cf_reap(20);
            size_t left = cf_descendants(&d);
            free(d);
            if (left == 0)
                break;
        }
    }
    reap_now();
}

/* ------------------------------------------------------------------ */
/* invocation                                                          */
/* ------------------------------------------------------------------ */

static void child_fail(const char *what)
{
    char m[256];
    int n = snprintf(m, sizeof(m), "pod-conformance: %s: %s\n", what, strerror(errno));
    if (n > 0 && write(2, m, (size_t)n) < 0) {
        /* nothing left to report to */
    }
    _exit(127);
}

/* In the forked child: become what simplenetesd's `sh -c` would be, then exec. */
static void child_exec(const struct cf_invocation *inv, int out_w, int err_w)
{
    const int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Own process group: a Ctrl-C at the terminal reaches only the runner, which cleans up. */
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
        child_fail("redirect");
    if (chdir(inv->cwd) < 0)
        child_fail(inv->cwd);
    if (inv->chmod_cwd && chmod(".", 0) < 0)
        child_fail("chmod cwd");
    if (inv->drop) {
        if (setgroups(0, NULL) < 0 || setresgid(inv->gid, inv->gid, inv->gid) < 0 ||
            setresuid(inv->uid, inv->uid, inv->uid) < 0)
            child_fail("drop privileges");
    }
    char *argv[] = {"sh", "-c", (char *)inv->cmd, NULL};
    execve("/bin/sh", argv, inv->envp);
    child_fail("exec /bin/sh");
}

static bool read_some(int fd, struct pod_buf *b)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            if (b->len < MAX_CAPTURE)
                pod_buf_add(b, buf, (size_t)n);
            continue;
        }
        if (n == 0)
            return false; /* EOF */
        return errno == EAGAIN || errno == EINTR;
    }
}

int cf_invoke(const struct cf_invocation *inv, struct cf_outcome *o, char *msg, size_t msg_len)
{
    memset(o, 0, sizeof(*o));
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0) {
        snprintf(msg, msg_len, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(pe, O_CLOEXEC) < 0) {
        snprintf(msg, msg_len, "pipe: %s", strerror(errno));
        close(po[0]);
        close(po[1]);
        return -1;
    }
    awaited_done = false;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msg_len, "fork: %s", strerror(errno));
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return -1;
    }
    if (pid == 0)
        child_exec(inv, po[1], pe[1]);
    awaited_pid = pid;
    close(po[1]);
    close(pe[1]);
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    struct stat st_out;
    fstat(po[0], &st_out);

    int64_t start = cf_now_ms();
    int64_t deadline = start + (int64_t)(inv->timeout_s * 1000);
    int64_t eof_deadline = 0;
    bool out_open = true, err_open = true;
    for (;;) {
        reap_now();
        int64_t now = cf_now_ms();
        if (awaited_done && !o->exited) {
            o->exited = true;
            o->status = awaited_status;
            o->exit_s = (double)(now - start) / 1000.0;
            eof_deadline = now + (int64_t)(inv->eof_s * 1000);
        }
        if (o->exited && !out_open && !err_open) {
            o->eof = true;
            break;
        }
        if (!o->exited && (now >= deadline || cf_interrupted())) {
            o->timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
        if (o->exited && (now >= eof_deadline || cf_interrupted())) {
            find_pipe_holder(st_out.st_ino, o->holder, sizeof(o->holder));
            if (!o->holder[0]) {
                struct stat st_err;
                fstat(pe[0], &st_err);
                find_pipe_holder(st_err.st_ino, o->holder, sizeof(o->holder));
            }
            break;
        }
        struct pollfd pfd[3];
        int np = 0;
        pfd[np++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        int io = -1, ie = -1;
        if (out_open) {
            io = np;
            pfd[np++] = (struct pollfd){.fd = po[0], .events = POLLIN};
        }
        if (err_open) {
            ie = np;
            pfd[np++] = (struct pollfd){.fd = pe[0], .events = POLLIN};
        }
        int64_t wake = o->exited ? eof_deadline : deadline;
        int ms = (int)(wake - now < 1000 ? wake - now : 1000);
        if (poll(pfd, (nfds_t)np, ms < 0 ? 0 : ms) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            drain_sig_pipe();
        if (io >= 0 && pfd[io].revents)
            out_open = read_some(po[0], &o->out);
        if (ie >= 0 && pfd[ie].revents)
            err_open = read_some(pe[0], &o->err);
    }
    close(po[0]);
    close(pe[0]);
    awaited_pid = 0;
    return 0;
}

void cf_outcome_free(struct cf_outcome *o)
{
    if (!o)
        return;
    pod_buf_free(&o->out);
    pod_buf_free(&o->err);
}
