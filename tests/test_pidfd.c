/* SPDX-License-Identifier: MIT */
/* test_pidfd.c - pidfds and their emulation (src/util/pidfd.c): chosen on their own when a
 * seccomp filter refuses pidfd_open (EPERM or ENOSYS); with POD_PIDFD_EMULATE=1 an
 * emulated pidfd turns readable when its process exits (before the reap), not before; a signal
 * through it reaches the process; the watcher forgets closed ones (no fd left behind); a fork
 * child starts afresh and can open its own.  No timing is asserted: waits are generous. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define LONG_WAIT_MS 20000

/* A child that exits (7) once *release is closed; -1 when the pipe or fork failed (no asserts:
 * also used in a fork child, where a failed assert cannot report). */
static pid_t fork_until_closed(int *release)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(p[1]);
        char c;
        while (read(p[0], &c, 1) < 0 && errno == EINTR) {
        }
        _exit(7);
    }
    close(p[0]);
    *release = p[1];
    return pid;
}

static pid_t child_until_closed(int *release)
{
    pid_t pid = fork_until_closed(release);
    assert_true(pid > 0);
    return pid;
}

/* A child_until_closed child and its descriptor from pod_pidfd_open (asserted open). */
static int open_child(pid_t *pid, int *release)
{
    *pid = child_until_closed(release);
    int fd = pod_pidfd_open(*pid);
    assert_true(fd >= 0);
    return fd;
}

static short poll_in(int fd, int timeout_ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&pf, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0 ? pf.revents : 0;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own */
}

/* The watcher thread opens /proc/PID/stat for a moment at each of its rounds: a count taken
 * then is one too high.  quiet_fd_count: the lowest of a few counts 2 ms apart.
 * fd_count_settles_at: the count once it equals want, or the last one after LONG_WAIT_MS. */
static int quiet_fd_count(void)
{
    int low = count_fds();
    for (int i = 0; i < 5; i++) {
        poll_in(-1, 2);
        int n = count_fds();
        low = n < low ? n : low;
    }
    return low;
}

static int fd_count_settles_at(int want)
{
    int64_t end = pod_mono_ms() + LONG_WAIT_MS;
    int n;
    while ((n = count_fds()) != want && pod_mono_ms() < end)
        poll_in(-1, 20);
    return n;
}

static int emulate(void **state)
{
    (void)state;
    return setenv("POD_PIDFD_EMULATE", "1", 1);
}

static void test_pidfd_emulated__readable_at_exit_before_the_reap(void **state)
{
    (void)state;
    int release;
    pid_t pid;
    int fd = open_child(&pid, &release);
    assert_true(pod_pidfd_emulated(fd));
    /* several watcher periods: still running, so not readable */
    assert_int_equal(poll_in(fd, 5 * POD_PIDFD_EMU_PERIOD_MS), 0);
    int64_t t0 = pod_mono_ms();
    close(release);
    assert_true(poll_in(fd, LONG_WAIT_MS) & POLLIN); /* a zombie still: not reaped yet */
    print_message("emulated pidfd readable %lld ms after the release (period %d ms)\n",
                  (long long)(pod_mono_ms() - t0), POD_PIDFD_EMU_PERIOD_MS);
    assert_true(poll_in(fd, 0) & POLLIN); /* and it stays readable */
    errno = 0;
    assert_int_equal(pod_pidfd_send_signal(fd, SIGTERM), -1);
    assert_int_equal(errno, ESRCH);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    close(fd);
}

static void test_pidfd_emulated__signal_reaches_the_process(void **state)
{
    (void)state;
    int release;
    pid_t pid;
    int fd = open_child(&pid, &release);
    assert_true(pod_pidfd_emulated(fd));
    assert_int_equal(pod_pidfd_send_signal(fd, SIGTERM), 0);
    assert_true(poll_in(fd, LONG_WAIT_MS) & POLLIN);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGTERM);
    close(fd);
    close(release);
}

static void test_pidfd_emulated__gone_and_zombie(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    /* a zombie: opened readable */
    while (poll_in(-1, 20), kill(pid, 0) == 0) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[2] == 'Z')
            break;
    }
    int fd = pod_pidfd_open(pid);
    assert_true(fd >= 0);
    assert_true(poll_in(fd, LONG_WAIT_MS) & POLLIN);
    close(fd);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    /* reaped: no such process, as pidfd_open says */
    errno = 0;
    assert_int_equal(pod_pidfd_open(pid), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_pidfd_emulated__closed_ones_are_forgotten(void **state)
{
    (void)state;
    int release;
    pid_t pid = child_until_closed(&release);
    int first = pod_pidfd_open(pid); /* the watcher runs from here on */
    assert_true(first >= 0);
    int base = quiet_fd_count();
    int fds[40];
    for (int i = 0; i < 40; i++) {
        fds[i] = pod_pidfd_open(pid);
        assert_true(fds[i] >= 0);
    }
    /* each: our read end, the watcher's write end */
    assert_int_equal(fd_count_settles_at(base + 80), base + 80);
    for (int i = 0; i < 40; i++)
        close(fds[i]);
    assert_int_equal(fd_count_settles_at(base), base);
    /* and the one still open works */
    close(release);
    assert_true(poll_in(first, LONG_WAIT_MS) & POLLIN);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    /* less `release`, and the write end of `first`, closed after the byte */
    assert_int_equal(fd_count_settles_at(base - 2), base - 2);
    close(first);
}

/* In a fork child of a process whose watcher runs: a new one starts for the child's opens. */
static int child_opens_again(void)
{
    int release;
    pid_t pid = fork_until_closed(&release);
    if (pid < 0)
        return 11;
    int fd = pod_pidfd_open(pid);
    if (fd < 0 || !pod_pidfd_emulated(fd))
        return 12;
    if (poll_in(fd, 2 * POD_PIDFD_EMU_PERIOD_MS))
        return 13;
    close(release);
    if (!(poll_in(fd, LONG_WAIT_MS) & POLLIN))
        return 14; /* nothing watches: the parent's watcher did not come along */
    if (waitpid(pid, NULL, 0) != pid)
        return 15;
    return 0;
}

static void test_pidfd_emulated__fork_child_starts_afresh(void **state)
{
    (void)state;
    int release;
    pid_t pid;
    int fd = open_child(&pid, &release);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0)
        _exit(child_opens_again());
    int st;
    assert_int_equal(waitpid(c, &st, 0), c);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* the parent's watcher is unaffected */
    assert_int_equal(poll_in(fd, 0), 0);
    close(release);
    assert_true(poll_in(fd, LONG_WAIT_MS) & POLLIN);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    close(fd);
}

/* Without the knob: a real pidfd where the kernel has one (valgrind: emulated, on its own). */
static void test_pidfd__chosen_automatically(void **state)
{
    (void)state;
    unsetenv("POD_PIDFD_EMULATE");
    int release;
    pid_t pid;
    int fd = open_child(&pid, &release);
    assert_int_equal(poll_in(fd, 0), 0);
    assert_int_equal(pod_pidfd_send_signal(fd, SIGKILL), 0);
    assert_true(poll_in(fd, LONG_WAIT_MS) & POLLIN);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(fd);
    close(release);
    errno = 0;
    assert_int_equal(pod_pidfd_open(pid), -1);
    assert_int_equal(errno, ESRCH);
    errno = 0;
    assert_int_equal(pod_pidfd_open(0), -1);
    assert_int_equal(errno, EINVAL);
}

/* In a fork child whose seccomp filter refuses pidfd_open with `refusal` (a container's profile,
 * an old kernel): emulated pidfds, chosen on their own.  Exit 0 when they work there. */
static int child_refused(int refusal)
{
    unsetenv("POD_PIDFD_EMULATE");
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)refusal & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return 20;
    if (syscall(SYS_pidfd_open, getpid(), 0) >= 0)
        return 21; /* the filter does not refuse it */
    int release;
    pid_t pid = child_until_closed(&release);
    int fd = pod_pidfd_open(pid);
    if (fd < 0 || !pod_pidfd_emulated(fd))
        return 22;
    if (poll_in(fd, 0))
        return 23;
    if (pod_pidfd_send_signal(fd, SIGKILL) != 0)
        return 24;
    if (!(poll_in(fd, LONG_WAIT_MS) & POLLIN))
        return 25;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
        return 26;
    return 0;
}

static void test_pidfd__emulated_when_seccomp_refuses(void **state)
{
    (void)state;
    int refusals[] = {EPERM, ENOSYS};
    for (size_t i = 0; i < 2; i++) {
        pid_t c = fork();
        assert_true(c >= 0);
        if (c == 0)
            _exit(child_refused(refusals[i]));
        int st;
        assert_int_equal(waitpid(c, &st, 0), c);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

/* /proc/PID/stat parsing: the command name may hold spaces and ')'; fields after it. */
static void test_pod_stat__fields_after_the_name(void **state)
{
    (void)state;
    const char *st = "4242 (a) b) (c ) S 1 4242 4242 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 "
                     "987654321 1000 200\n";
    unsigned long long v = 0;
    assert_non_null(pod_stat_field(st, 3));
    assert_int_equal(*pod_stat_field(st, 3), 'S');
    assert_int_equal(pod_stat_number(st, 4, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(pod_stat_number(st, 22, &v), 0);
    assert_int_equal(v, 987654321ULL);
    assert_int_equal(pod_stat_number(st, 24, &v), 0); /* the last one, before the newline */
    assert_int_equal(v, 200);
    assert_null(pod_stat_field(st, 25));              /* fewer fields */
    assert_int_equal(pod_stat_number(st, 8, &v), -1); /* -1: not an unsigned number */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(pod_stat_number(st, 3, &v), -1); /* S */
    assert_null(pod_stat_field(st, 2));               /* the name is not a field here */
    assert_null(pod_stat_field("no name at all", 3));
    assert_int_equal(pod_stat_number("1 (x) S 99999999999999999999999", 4, &v), -1); /* overflow */
    assert_int_equal(pod_stat_number("1 (x) S 12x", 4, &v), -1);
    /* the real thing: our own start time, as the file says it */
    char buf[1024];
    assert_true(pod_stat_read("/proc/self/stat", buf, sizeof buf) > 0);
    assert_int_equal(pod_stat_number(buf, 22, &v), 0);
    assert_true(v > 0);
    assert_int_equal(pod_stat_read("/proc/0/stat", buf, sizeof buf), -1);
    assert_int_equal(errno, ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pidfd_emulated__readable_at_exit_before_the_reap, emulate),
        cmocka_unit_test_setup(test_pidfd_emulated__signal_reaches_the_process, emulate),
        cmocka_unit_test_setup(test_pidfd_emulated__gone_and_zombie, emulate),
        cmocka_unit_test_setup(test_pidfd_emulated__closed_ones_are_forgotten, emulate),
        cmocka_unit_test_setup(test_pidfd_emulated__fork_child_starts_afresh, emulate),
        cmocka_unit_test(test_pidfd__chosen_automatically),
        cmocka_unit_test(test_pod_stat__fields_after_the_name),
        cmocka_unit_test(test_pidfd__emulated_when_seccomp_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
