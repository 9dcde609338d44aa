/* SPDX-License-Identifier: MIT */
/* pidfd.c - pidfds, and their emulation where the kernel refuses them (see pod/pidfd.h).
 *
 * An emulated pidfd is the read end of a pipe; the watcher thread holds its write end in a
 * fixed registry (no allocation after the thread has started) with the process's pid and
 * start time (/proc/PID/stat field 22, read at the open).  Every POD_PIDFD_EMU_PERIOD_MS, and
 * whenever an entry is added (an eventfd wakes it), the watcher polls the write ends (POLLERR:
 * the caller closed the read end: the entry is dropped) and reads each process's stat: gone,
 * another start time (the pid was reused) or a zombie/dead state means the process exited: one
 * byte is written and the write end closed, so the read end reports POLLIN|POLLHUP for good, as
 * a pidfd of an exited process does.
 *
 * Fork: the prepare handler takes the registry's lock (no fork sees it half-updated), the
 * child handler closes the write ends and forgets the registry and the thread (close(2) only:
 * async-signal-safe, so a multithreaded parent's child may exec after it).
 */
#include "pod/pidfd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

struct emu {
    pid_t pid;
    int wfd; /* the write end; the caller has the read end */
    dev_t dev;
    ino_t ino; /* the pipe (fstat of either end), to recognise the caller's fd */
    unsigned long long start;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct emu reg[POD_PIDFD_EMU_MAX]; /* under mu */
static size_t nreg;                       /* under mu */
static int wake_fd = -1;                  /* under mu; the watcher's eventfd, -1: no watcher */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static atomic_int kernel_refuses; /* pidfd_open gave ENOSYS or EPERM once: never ask again */

/* ------------------------------------------------------------------ /proc/PID/stat */

enum pstate { P_GONE, P_ALIVE, P_DEAD, P_UNKNOWN };

ssize_t pod_stat_read(const char *path, char *buf, size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = 0;
    return n;
}

const char *pod_stat_field(const char *stat, int field)
{
    const char *p = field >= 3 ? strrchr(stat, ')') : NULL; /* the end of field 2 */
    if (!p)
        return NULL;
    p++;
    for (int f = 3; f <= field; f++) {
        if (*p != ' ')
            return NULL;
        p++; /* the start of field f */
        if (f < field)
            while (*p && *p != ' ')
                p++;
    }
    return *p && *p != ' ' && *p != '\n' ? p : NULL;
}

int pod_stat_number(const char *stat, int field, unsigned long long *out)
{
    const char *p = pod_stat_field(stat, field);
    if (!p || *p < '0' || *p > '9') {
        errno = EINVAL;
        return -1;
    }
    unsigned long long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (~0ULL - d) / 10) {
            errno = EINVAL;
            return -1;
        }
        v = v * 10 + d;
    }
    if (*p && *p != ' ' && *p != '\n') {
        errno = EINVAL;
        return -1;
    }
    *out = v;
    return 0;
}

/* The start time and the state of pid, from a stack buffer (the watcher allocates nothing). */
static enum pstate proc_stat(pid_t pid, unsigned long long *start)
{
    char path[32], buf[1024];
    /* no snprintf: the digits by hand keep the watcher's loop free of stdio */
    char *d = path + sizeof path;
    *--d = 0;
    const char tail[] = "/stat";
    d -= sizeof tail - 1;
    memcpy(d, tail, sizeof tail - 1);
    unsigned long v = (unsigned long)pid;
    do
        *--d = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    d -= 6;
    memcpy(d, "/proc/", 6);
    ssize_t n = pod_stat_read(d, buf, sizeof buf);
    if (n < 0)
        return errno == ENOENT || errno == ESRCH ? P_GONE : P_UNKNOWN;
    if (n == 0)
        return P_GONE; /* reaped between the open and the read */
    const char *state = pod_stat_field(buf, 3);
    if (!state || pod_stat_number(buf, 22, start) < 0) {
        errno = EINVAL;
        return P_UNKNOWN;
    }
    return *state == 'Z' || *state == 'X' || *state == 'x' ? P_DEAD : P_ALIVE;
}

/* ------------------------------------------------------------------ the watcher */

/* Under mu: entry i's process exited (wrote the byte) or its read end was closed. */
static void drop(size_t i, bool exited)
{
    if (exited) {
        ssize_t w;
        do
            w = write(reg[i].wfd, "x", 1);
        while (w < 0 && errno == EINTR);
        (void)w; /* EPIPE: closed meanwhile (SIGPIPE is blocked in the watcher) */
    }
    close(reg[i].wfd);
    reg[i] = reg[--nreg];
}

static bool entry_exited(const struct emu *e)
{
    unsigned long long st = 0;
    switch (proc_stat(e->pid, &st)) {
    case P_GONE:
    case P_DEAD:
        return true;
    case P_ALIVE:
        return st != e->start;
    case P_UNKNOWN:
        break;
    }
    return false; /* look again next round */
}

static void *watch_main(void *arg)
{
    (void)arg;
    static struct pollfd pf[POD_PIDFD_EMU_MAX + 1]; /* the watcher's own: one per process */
    for (;;) {
        pthread_mutex_lock(&mu);
        size_t n = nreg;
        pf[0] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pf[i + 1] = (struct pollfd){.fd = reg[i].wfd, .events = 0};
        pthread_mutex_unlock(&mu);
        int r = poll(pf, n + 1, n ? POD_PIDFD_EMU_PERIOD_MS : -1);
        if (r < 0 && errno != EINTR)
            pf[0].revents = 0;
        if (pf[0].revents & POLLIN) {
            uint64_t v;
            (void)!read(pf[0].fd, &v, sizeof v);
        }
        pthread_mutex_lock(&mu);
        /* Only this thread removes entries, and others only append: entries 0..n-1 are the
         * ones polled.  Backwards, so a removal (the last entry moves into i) touches none of
         * those still to look at. */
        for (size_t i = n; i-- > 0;) {
            if (pf[i + 1].revents & (POLLERR | POLLNVAL))
                drop(i, false);
            else if (entry_exited(&reg[i]))
                drop(i, true);
        }
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

/* The child has no watcher: its registry starts empty (close(2) only, async-signal-safe). */
static void atfork_child(void)
{
    for (size_t i = 0; i < nreg; i++)
        close(reg[i].wfd);
    nreg = 0;
    if (wake_fd >= 0)
        close(wake_fd);
    wake_fd = -1;
    pthread_mutex_unlock(&mu);
}

static void install_atfork(void)
{
    (void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Under mu: starts the watcher unless it runs; 0 or an errno value. */
static int start_watcher(void)
{
    if (wake_fd >= 0)
        return 0;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return errno;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the daemon's signals stay with its signalfd */
    wake_fd = fd;                             /* before the thread reads it */
    pthread_t t;
    int rc = pthread_create(&t, &a, watch_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        wake_fd = -1;
        close(fd);
    }
    return rc;
}

/* ------------------------------------------------------------------ API */

static bool forced(void)
{
    const char *v = getenv("POD_PIDFD_EMULATE");
    return v && strcmp(v, "1") == 0;
}

static int emu_open(pid_t pid)
{
    unsigned long long start = 0;
    enum pstate s = proc_stat(pid, &start);
    if (s == P_GONE)
        errno = ESRCH;
    if (s == P_GONE || s == P_UNKNOWN)
        return -1; /* P_UNKNOWN: errno from /proc (EMFILE, EACCES, ...) */
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    if (s == P_DEAD) { /* a zombie: its pidfd is readable from the start */
        (void)!write(p[1], "x", 1);
        close(p[1]);
        return p[0];
    }
    struct stat sb;
    if (fstat(p[0], &sb) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    (void)pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&mu);
    int rc = nreg == POD_PIDFD_EMU_MAX ? EMFILE : start_watcher();
    if (rc == 0) {
        reg[nreg++] = (struct emu){
            .pid = pid, .wfd = p[1], .dev = sb.st_dev, .ino = sb.st_ino, .start = start};
        uint64_t one = 1;
        (void)!write(wake_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&mu);
    if (rc != 0) {
        close(p[0]);
        close(p[1]);
        errno = rc;
        return -1;
    }
    return p[0];
}

int pod_pidfd_open(pid_t pid)
{
    if (pid <= 0) {
        errno = EINVAL;
        return -1;
    }
    if (!atomic_load(&kernel_refuses) && !forced()) {
        int fd = pidfd_open(pid, 0);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return fd; /* ESRCH stays ESRCH; EMFILE & co. are not the kernel's refusal */
        atomic_store(&kernel_refuses, 1);
    }
    return emu_open(pid);
}

bool pod_pidfd_emulated(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode);
}

int pod_pidfd_send_signal(int fd, int sig)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -1;
    if (!S_ISFIFO(sb.st_mode))
        return pidfd_send_signal(fd, sig, NULL, 0);
    bool found = false;
    struct emu e;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nreg && !found; i++)
        if (reg[i].dev == sb.st_dev && reg[i].ino == sb.st_ino) {
            e = reg[i];
            found = true;
        }
    pthread_mutex_unlock(&mu);
    unsigned long long start = 0;
    /* not watched any more: the watcher saw it exit (or this process is a fork child) */
    enum pstate s = found ? proc_stat(e.pid, &start) : P_GONE;
    if (s == P_GONE || (s != P_UNKNOWN && start != e.start)) {
        errno = ESRCH;
        return -1;
    }
    return kill(e.pid, sig);
}
