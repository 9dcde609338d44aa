/* SPDX-License-Identifier: MIT */
/* proc.c - child processes from argv arrays with pidfd exit sources (see pod/proc.h).
 *
 * Everything the child needs (environment, fd plan) is prepared before fork(); between fork()
 * and exec the child only makes async-signal-safe calls, because the daemon has a second thread
 * (the log pump's writer).  An exec failure travels back through a close-on-exec pipe, so
 * proc_spawn() reports ENOENT & co. synchronously and leaves no process behind.
 */
#include "pod/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define CAPTURE_DEFAULT_MAX (1u << 20)
#define DRAIN_AFTER_EXIT_MS 100

extern char **environ;

struct capture {
    int fd; /* read end, -1 once at EOF */
    struct pod_buf buf;
    size_t max, dropped;
};

struct proc {
    pid_t pid;
    int pidfd;
    bool group; /* started with new_session: signals go to the process group */
    bool exited;
    int status;
    struct capture out, err;
};

void proc_opts_init(struct proc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fd_in = o->fd_out = o->fd_err = PROC_FD_NULL;
}

static bool env_dropped(const char *kv)
{
    return strncmp(kv, "LD_PRELOAD=", 11) == 0 || strncmp(kv, "FAKETIME", 8) == 0;
}

char **proc_env_stripped(char *const *env)
{
    char **out = xcalloc(1, sizeof *out);
    for (char *const *e = env ? env : environ; e && *e; e++)
        if (!env_dropped(*e))
            pod_strv_push(&out, *e);
    return out;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------ the child side */

/* Only async-signal-safe calls from here to exec. */
__attribute__((noreturn)) static void child_fail(int errpipe, int e)
{
    ssize_t r = write(errpipe, &e, sizeof e);
    (void)r;
    _exit(127);
}

/* Closes every fd >= 3 except those in skip[0..n) (sorted, each >= 3). */
static void close_others(const int *skip, size_t n)
{
    unsigned lo = 3;
    for (size_t i = 0; i < n; i++) {
        if (skip[i] < (int)lo)
            continue;
        if (skip[i] > (int)lo)
            (void)close_range(lo, (unsigned)skip[i] - 1, 0);
        lo = (unsigned)skip[i] + 1;
    }
    (void)close_range(lo, ~0u, 0);
}

/* skip: the kept fds plus errpipe, sorted; keep: the kept fds only. */
__attribute__((noreturn)) static void child_exec(const struct proc_opts *o, char *const *envp,
                                                 const int src[3], const int *keep, size_t n_keep,
                                                 const int *skip, size_t n_skip, int errpipe)
{
    /* default dispositions, empty mask: the parent may ignore SIGPIPE or block everything.  The
     * raw system call: glibc's sigaction refuses its internal signals 32 and 33, which can arrive
     * ignored (GNU make 4.3 runs its recipes so) and would stay ignored through exec. */
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {0}; /* SIG_DFL */
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            (void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (o->new_session && setsid() < 0)
        child_fail(errpipe, errno);
    /* stdio sources first moved above every fd that matters, then onto 0/1/2 */
    int tmp[3];
    for (int i = 0; i < 3; i++) {
        tmp[i] = fcntl(src[i], F_DUPFD, 3);
        if (tmp[i] < 0)
            child_fail(errpipe, errno);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(tmp[i], i) < 0)
            child_fail(errpipe, errno);
    for (size_t i = 0; i < n_keep; i++)
        if (fcntl(keep[i], F_SETFD, 0) < 0)
            child_fail(errpipe, errno);
    close_others(skip, n_skip);
    if (o->cwd && chdir(o->cwd) < 0)
        child_fail(errpipe, errno);
    if (strchr(o->argv[0], '/'))
        execve(o->argv[0], o->argv, envp);
    else
        execvpe(o->argv[0], o->argv, envp);
    child_fail(errpipe, errno);
}

/* ------------------------------------------------------------------ spawn */

static int capture_open(struct capture *c, int *child_end, size_t max, struct pod_err *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return pod_err_set(err, POD_E_IO, errno, "pipe");
    (void)fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    c->fd = fds[0];
    c->max = max;
    *child_end = fds[1];
    return 0;
}

int proc_spawn(const struct proc_opts *o, struct proc **out, struct pod_err *err)
{
    if (!o->argv || !o->argv[0] || !o->argv[0][0]) { /* -1 spelled out for scan-build */
        pod_err_set(err, POD_E_INVALID, 0, "proc_spawn: empty argv");
        return -1;
    }
    struct proc *p = xcalloc(1, sizeof *p);
    p->pidfd = p->out.fd = p->err.fd = -1;
    p->group = o->new_session;
    size_t max = o->capture_max ? o->capture_max : CAPTURE_DEFAULT_MAX;
    int src[3] = {-1, -1, -1};
    int close_after[3] = {-1, -1, -1}; /* parent's copies of child-side fds it opened */
    int want[3] = {o->fd_in, o->fd_out, o->fd_err};
    int devnull = -1, errpipe[2] = {-1, -1}, rc = -1;
    char **envp = NULL;
    int *keep = NULL, *skip = NULL;
    for (int i = 0; i < 3; i++) {
        if (want[i] >= 0) {
            src[i] = want[i];
        } else if (want[i] == PROC_FD_INHERIT) {
            src[i] = i;
        } else if (want[i] == PROC_FD_CAPTURE && i > 0) {
            if (capture_open(i == 1 ? &p->out : &p->err, &close_after[i], max, err) < 0)
                goto out;
            src[i] = close_after[i];
        } else {
            if (devnull < 0) {
                devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0) {
                    pod_err_set(err, POD_E_IO, errno, "open /dev/null");
                    goto out;
                }
            }
            src[i] = devnull;
        }
    }
    envp = o->strip_preload ? proc_env_stripped(o->env) : NULL;
    char *const *use_env = envp ? envp : (o->env ? o->env : environ);
    keep = xcalloc(o->n_keep_fds + 1, sizeof *keep);
    if (o->n_keep_fds)
        memcpy(keep, o->keep_fds, o->n_keep_fds * sizeof *keep);
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        pod_err_set(err, POD_E_IO, errno, "pipe");
        goto out;
    }
    skip = xcalloc(o->n_keep_fds + 1, sizeof *skip);
    memcpy(skip, keep, o->n_keep_fds * sizeof *keep);
    skip[o->n_keep_fds] = errpipe[1];
    qsort(skip, o->n_keep_fds + 1, sizeof *skip, cmp_int);
    pid_t pid = fork();
    if (pid < 0) {
        pod_err_set(err, POD_E_IO, errno, "fork `%s`", o->argv[0]);
        goto out;
    }
    if (pid == 0) {
        close(errpipe[0]);
        child_exec(o, use_env, src, keep, o->n_keep_fds, skip, o->n_keep_fds + 1, errpipe[1]);
    }
    p->pid = pid;
    p->pidfd = pod_pidfd_open(pid);
    int pidfd_errno = errno;
    close(errpipe[1]);
    errpipe[1] = -1;
    int child_errno = 0;
    ssize_t n;
    do
        n = read(errpipe[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        (void)waitpid(pid, NULL, 0);
        p->exited = true;
        pod_err_set(err, child_errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, child_errno,
                    "cannot run `%s`", o->argv[0]);
        goto out;
    }
    if (p->pidfd < 0) {
        (void)kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
        p->exited = true;
        pod_err_set(err, POD_E_IO, pidfd_errno, "pidfd_open");
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 3; i++)
        if (close_after[i] >= 0)
            close(close_after[i]);
    if (devnull >= 0)
        close(devnull);
    if (errpipe[0] >= 0)
        close(errpipe[0]);
    if (errpipe[1] >= 0)
        close(errpipe[1]);
    pod_strv_free(envp);
    free(keep);
    free(skip);
    if (rc < 0) {
        proc_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------ the parent side */

pid_t proc_pid(const struct proc *p)
{
    return p->pid;
}

int proc_pidfd(const struct proc *p)
{
    return p->pidfd;
}

int proc_out_fd(const struct proc *p)
{
    return p->out.fd;
}

int proc_err_fd(const struct proc *p)
{
    return p->err.fd;
}

static void capture_read(struct capture *c)
{
    char chunk[16384];
    while (c->fd >= 0) {
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* EOF or a read error: the stream is over either way */
            close(c->fd);
            c->fd = -1;
            return;
        }
        size_t room = c->buf.len < c->max ? c->max - c->buf.len : 0;
        size_t keep = (size_t)n < room ? (size_t)n : room;
        pod_buf_add(&c->buf, chunk, keep);
        c->dropped += (size_t)n - keep;
    }
}

bool proc_drain(struct proc *p)
{
    capture_read(&p->out);
    capture_read(&p->err);
    return p->out.fd < 0 && p->err.fd < 0;
}

bool proc_reap(struct proc *p, int *status)
{
    if (!p->exited) {
        int st;
        pid_t r;
        do
            r = waitpid(p->pid, &st, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == p->pid) {
            p->exited = true;
            p->status = st;
        } else if (r < 0 && errno == ECHILD) {
            p->exited = true; /* reaped by someone else: no status */
            p->status = 0;
        }
    }
    if (p->exited && status)
        *status = p->status;
    return p->exited;
}

bool proc_exited(const struct proc *p)
{
    return p->exited;
}

int proc_kill(struct proc *p, int sig)
{
    if (p->exited && !p->group)
        return 0;
    if (p->group)
        return kill(-p->pid, sig) < 0 && errno != ESRCH ? -1 : 0;
    return pod_pidfd_send_signal(p->pidfd, sig) < 0 && errno != ESRCH ? -1 : 0;
}

const char *proc_out(const struct proc *p, size_t *len)
{
    if (len)
        *len = p->out.buf.len;
    return p->out.buf.data ? p->out.buf.data : "";
}

const char *proc_err(const struct proc *p, size_t *len)
{
    if (len)
        *len = p->err.buf.len;
    return p->err.buf.data ? p->err.buf.data : "";
}

size_t proc_out_dropped(const struct proc *p)
{
    return p->out.dropped;
}

void proc_free(struct proc *p)
{
    if (!p)
        return;
    if (!p->exited && p->pid > 0) {
        (void)proc_kill(p, SIGKILL);
        (void)waitpid(p->pid, NULL, 0);
    }
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->out.fd >= 0)
        close(p->out.fd);
    if (p->err.fd >= 0)
        close(p->err.fd);
    pod_buf_free(&p->out.buf);
    pod_buf_free(&p->err.buf);
    free(p);
}

/* ------------------------------------------------------------------ synchronous runs */

static int poll_ms(int64_t until)
{
    if (until == INT64_MAX)
        return -1;
    int64_t left = until - pod_mono_ms();
    return left <= 0 ? 0 : (left > 60000 ? 60000 : (int)left);
}

void proc_result_free(struct proc_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

int proc_run(const struct proc_opts *o, int64_t timeout_ms, struct proc_result *res,
             struct pod_err *err)
{
    memset(res, 0, sizeof *res);
    struct proc *p;
    if (proc_spawn(o, &p, err) < 0)
        return -1;
    int64_t start = pod_mono_ms();
    int64_t deadline = timeout_ms > 0 ? start + timeout_ms : INT64_MAX;
    int64_t kill_at = INT64_MAX, drain_until = INT64_MAX;
    int status = 0;
    for (;;) {
        bool done = proc_reap(p, &status);
        if (done && drain_until == INT64_MAX)
            drain_until = pod_mono_ms() + DRAIN_AFTER_EXIT_MS;
        bool eof = proc_drain(p);
        if (done && (eof || pod_mono_ms() >= drain_until))
            break;
        int64_t now = pod_mono_ms();
        if (!done && now >= deadline && !res->timed_out) {
            res->timed_out = true;
            (void)proc_kill(p, SIGTERM);
            kill_at = now + PROC_KILL_GRACE_MS;
        }
        if (!done && now >= kill_at) {
            (void)proc_kill(p, SIGKILL);
            kill_at = INT64_MAX;
        }
        struct pollfd pf[3];
        nfds_t n = 0;
        if (!done)
            pf[n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
        if (p->out.fd >= 0)
            pf[n++] = (struct pollfd){.fd = p->out.fd, .events = POLLIN};
        if (p->err.fd >= 0)
            pf[n++] = (struct pollfd){.fd = p->err.fd, .events = POLLIN};
        int64_t until = done ? drain_until : (res->timed_out ? kill_at : deadline);
        if (poll(pf, n, poll_ms(until)) < 0 && errno != EINTR) {
            pod_err_set(err, POD_E_IO, errno, "poll");
            proc_free(p);
            return -1;
        }
    }
    if (WIFEXITED(status)) {
        res->exited = true;
        res->code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signal = WTERMSIG(status);
        res->code = 128 + res->signal;
    }
    if (res->timed_out && p->group)
        (void)kill(-p->pid, SIGKILL); /* what is left of its group */
    res->out = xstrndup(proc_out(p, &res->out_len), p->out.buf.len);
    res->err = xstrndup(proc_err(p, &res->err_len), p->err.buf.len);
    proc_free(p);
    return 0;
}
