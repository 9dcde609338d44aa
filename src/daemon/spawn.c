/* SPDX-License-Identifier: MIT */
/* spawn.c - starting the supervisor from the command line and waiting for it to go (see
 * pod/spawn.h).
 *
 * The double fork is written out here rather than through proc_spawn: the holder must not be
 * the command line's child (the command line exits at once), must not lead a session (no
 * controlling terminal can come back) and gets its fds at fixed numbers (3 = lock, 4 =
 * readiness).  Between fork and exec only async-signal-safe calls are made.
 */
#include "pod/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/ctl.h"
#include "pod/pidfd.h"
#include "pod/util.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------------------ starting */

/* The grandchild: stdio on /dev/null, lock on 3, readiness on 4, nothing else, then exec. */
__attribute__((noreturn)) static void exec_holder(const char *dir, char *const *argv, int lock,
                                                  int ready)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            (void)sigaction(s, &sa, NULL);
    struct { /* 32, 33: glibc's own, refused by sigaction, maybe ignored (see src/proc) */
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } ksa = {0};
    for (int s = 32; s < SIGRTMIN; s++)
        (void)syscall(SYS_rt_sigaction, s, &ksa, NULL, sizeof ksa.mask);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR);
    int l = fcntl(lock, F_DUPFD, 10), r = fcntl(ready, F_DUPFD, 10);
    if (null < 0 || l < 0 || r < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
        dup2(l, 3) < 0 || dup2(r, 4) < 0)
        _exit(126);
    (void)close_range(5, ~0u, 0);
    if (chdir(dir) < 0)
        _exit(126);
    execv(argv[0], argv);
    static const char msg[] = "Ecannot execute the pod executable for its holder";
    (void)!write(4, msg, sizeof msg - 1);
    _exit(127);
}

/* Takes the lock; a LOCK_SH probe of another command line holds it for microseconds. */
static int take_lock(int fd)
{
    for (int i = 0; i < 5; i++) {
        int r = ident_lock_take(fd);
        if (r != 0)
            return r;
        sleep_ms(5);
    }
    return 0;
}

/* Reads the readiness pipe until EOF or the deadline: 0 ready, -1 with err. */
static int wait_ready(int fd, int64_t deadline, int64_t timeout_ms, struct pod_err *err)
{
    char buf[600];
    size_t len = 0;
    for (;;) {
        int64_t left = deadline - pod_mono_ms();
        if (left <= 0)
            return pod_err_set(err, POD_E_TIMEOUT, 0,
                               "the pod's daemon did not get ready within %lld ms",
                               (long long)timeout_ms);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR)
            return pod_err_set(err, POD_E_IO, errno, "poll");
        if (r <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            len += (size_t)n;
            if (len < sizeof buf - 1)
                continue;
        }
        buf[len] = '\0';
        if (len > 0 && buf[0] == '1')
            return 0;
        if (len > 0 && buf[0] == 'E')
            return pod_err_set(err, POD_E_BACKEND, 0, "the pod's daemon did not start: %s",
                               buf + 1);
        return pod_err_set(err, POD_E_BACKEND, 0, "the pod's daemon exited during start-up");
    }
}

int spawn_supervisor(const struct spawn_cfg *c, bool *started, struct pod_err *err)
{
    *started = false;
    char lockname[IDENT_FILE_MAX];
    if (ident_file(lockname, c->name, "lock") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", c->name);
    int64_t timeout = c->timeout_ms > 0 ? c->timeout_ms : SPAWN_READY_MS;
    int64_t deadline = pod_mono_ms() + timeout;
    int dirfd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", c->dir);
    int lock = ident_lock_open(dirfd, lockname, err);
    close(dirfd);
    if (lock < 0)
        return -1;
    int got = take_lock(lock);
    if (got <= 0) {
        close(lock);
        return got == 0 ? 0 : pod_err_set(err, POD_E_IO, errno, "flock %s", lockname);
    }
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) {
        close(lock);
        return pod_err_set(err, POD_E_IO, errno, "pipe");
    }
    char *argv[] = {(char *)(c->exe ? c->exe : pod_self_exe()),
                    "__holder",
                    "--dir",
                    (char *)c->dir,
                    "--name",
                    (char *)c->name,
                    "--lock-fd",
                    "3",
                    "--ready-fd",
                    "4",
                    NULL};
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        if (setsid() < 0)
            _exit(126);
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 126 : 0);
        exec_holder(c->dir, argv, lock, ready[1]);
    }
    int fork_errno = errno;
    close(ready[1]);
    close(lock); /* the holder keeps the lock's open file description */
    if (pid < 0) {
        close(ready[0]);
        return pod_err_set(err, POD_E_IO, fork_errno, "fork");
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int rc = wait_ready(ready[0], deadline, timeout, err);
    close(ready[0]);
    if (rc == 0)
        *started = true;
    return rc;
}

/* ------------------------------------------------------------------ stopping */

int spawn_procs_open(int dirfd, const char *name, struct spawn_procs *p, struct pod_err *err)
{
    memset(p, 0, sizeof *p);
    char file[IDENT_FILE_MAX];
    if (ident_file(file, name, "pid") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", name);
    struct ident v[IDENT_MAX_PROCS];
    size_t n;
    if (ident_read(dirfd, file, v, IDENT_MAX_PROCS, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct pod_err e2 = POD_ERR_ZERO;
        int fd = ident_pidfd(&v[i], &e2);
        if (fd < 0)
            continue; /* gone already */
        p->id[p->n] = v[i];
        p->pidfd[p->n++] = fd;
    }
    return 0;
}

void spawn_procs_kill(const struct spawn_procs *p, int sig)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->pidfd[i] >= 0)
            (void)pod_pidfd_send_signal(p->pidfd[i], sig);
}

void spawn_procs_close(struct spawn_procs *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->pidfd[i] >= 0)
            close(p->pidfd[i]);
    p->n = 0;
}

int spawn_wait_gone(int dirfd, const char *name, const struct spawn_procs *p,
                    int64_t deadline_mono_ms, struct pod_err *err)
{
    char lockname[IDENT_FILE_MAX];
    if (ident_file(lockname, name, "lock") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", name);
    struct pollfd pf[IDENT_MAX_PROCS];
    for (size_t i = 0; i < p->n; i++)
        pf[i] = (struct pollfd){.fd = p->pidfd[i], .events = POLLIN};
    for (;;) {
        size_t alive = 0;
        for (size_t i = 0; i < p->n; i++) {
            pf[i].revents = 0;
            alive += pf[i].fd >= 0;
        }
        int64_t left = deadline_mono_ms - pod_mono_ms();
        if (alive) {
            int r = poll(pf, p->n, left <= 0 ? 0 : (left > 1000 ? 1000 : (int)left));
            if (r < 0 && errno != EINTR)
                return pod_err_set(err, POD_E_IO, errno, "poll");
            for (size_t i = 0; i < p->n; i++)
                if (pf[i].revents)
                    pf[i].fd = -1; /* exited */
        } else {
            /* processes we did not know of (a daemon started meanwhile): the lock tells */
            bool held;
            if (ident_lock_held(dirfd, lockname, &held, err) < 0)
                return -1;
            if (!held)
                return 0;
            if (left > 0)
                sleep_ms(left < 20 ? (int)left : 20);
        }
        if (pod_mono_ms() >= deadline_mono_ms)
            return pod_err_set(err, POD_E_TIMEOUT, 0, "the pod's supervisor is still running");
    }
}

/* Without a daemon to ask: TERM/USR2 to the holder, which starts a daemon to carry it out. */
static void signal_holder(const struct spawn_procs *p, bool kill)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->id[i].role, "holder") == 0)
            (void)pod_pidfd_send_signal(p->pidfd[i], kill ? SIGUSR2 : SIGTERM);
}

int spawn_stop(const char *dir, const char *name, bool kill, int64_t timeout_ms, bool *was_running,
               struct pod_err *err)
{
    *was_running = false;
    int64_t deadline = pod_mono_ms() + timeout_ms;
    char lockname[IDENT_FILE_MAX], sock[IDENT_FILE_MAX];
    if (ident_file(lockname, name, "lock") < 0 || ident_file(sock, name, "sock") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", name);
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return errno == ENOENT ? 0 : pod_err_set(err, POD_E_IO, errno, "open %s", dir);
    bool held;
    struct spawn_procs p;
    memset(&p, 0, sizeof p);
    int rc = ident_lock_held(dirfd, lockname, &held, err);
    if (rc < 0 || !held)
        goto out;
    *was_running = true;
    if ((rc = spawn_procs_open(dirfd, name, &p, err)) < 0)
        goto out;
    char *argv[] = {kill ? "kill" : "stop"};
    struct ctl_reply r;
    struct pod_err e2 = POD_ERR_ZERO;
    int64_t ask = deadline - pod_mono_ms();
    if (ctl_call(dir, sock, argv, 1, ask < 5000 ? ask : 5000, &r, &e2) == 0)
        ctl_reply_free(&r);
    else
        signal_holder(&p, kill);
    rc = spawn_wait_gone(dirfd, name, &p, deadline, err);
out:
    spawn_procs_close(&p);
    close(dirfd);
    return rc;
}
