/* SPDX-License-Identifier: MIT */
/* test_ident.c - the supervisor's identity (src/daemon/ident.c) with real processes: the
 * identity file round trip, pidfds only for the recorded process (a dead one, a wrong start
 * time, another boot, and - as root - a real recycled PID), the lock shared by inheritance,
 * the status file marked down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/ident.h"
#include "pod/util.h"

static char dir[64];
static int dirfd_;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tdm-ident-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    dirfd_ = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    return dirfd_ < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(dirfd_);
    char *cmd[] = {"rm", "-rf", dir, NULL};
    pid_t p = fork();
    if (p == 0) {
        execvp("rm", cmd);
        _exit(127);
    }
    waitpid(p, NULL, 0);
    return 0;
}

static pid_t spawn_sleeper(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    return p;
}

static void test_ident_file__names(void **state)
{
    (void)state;
    char f[IDENT_FILE_MAX];
    assert_int_equal(ident_file(f, "pod", "lock"), 0);
    assert_string_equal(f, ".pod.lock");
    assert_int_equal(ident_file(f, "", "lock"), -1);
    assert_int_equal(ident_file(f, "a/b", "lock"), -1);
    char longname[IDENT_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ident_file(f, longname, "lock"), -1);
}

static void test_ident__write_read_roundtrip(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct ident v[2], r[IDENT_MAX_PROCS];
    size_t n = 99;
    assert_int_equal(ident_read(dirfd_, ".pod.pid", r, IDENT_MAX_PROCS, &n, &err), 0);
    assert_int_equal(n, 0); /* missing file */
    assert_int_equal(ident_of(getpid(), "daemon", &v[0], &err), 0);
    assert_int_equal(ident_of(getppid(), "holder", &v[1], &err), 0);
    assert_int_equal(strlen(v[0].boot_id), 36);
    assert_int_equal(ident_write(dirfd_, ".pod.pid", v, 2, &err), 0);
    assert_int_equal(ident_read(dirfd_, ".pod.pid", r, IDENT_MAX_PROCS, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(&r[0], &v[0], sizeof v[0]);
    assert_memory_equal(&r[1], &v[1], sizeof v[1]);
    assert_ptr_equal(ident_find(r, n, "holder"), &r[1]);
    assert_null(ident_find(r, n, "agent"));
    /* no temporary file is left behind */
    char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* malformed */
    int fd = openat(dirfd_, ".pod.pid", O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "daemon 12 x y\n", 14), 14);
    close(fd);
    assert_int_equal(ident_read(dirfd_, ".pod.pid", r, IDENT_MAX_PROCS, &n, &err), -1);
    assert_int_equal(err.code, POD_E_CORRUPT);
}

static void test_ident_pidfd__only_the_recorded_process(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    pid_t p = spawn_sleeper();
    struct ident id;
    assert_int_equal(ident_of(p, "daemon", &id, &err), 0);
    int fd = ident_pidfd(&id, &err);
    assert_true(fd >= 0);
    close(fd);
    /* same pid, another start time: not it */
    struct ident wrong = id;
    wrong.starttime++;
    assert_int_equal(ident_pidfd(&wrong, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    /* another boot */
    wrong = id;
    memcpy(wrong.boot_id, "00000000-0000-0000-0000-000000000000", 37);
    assert_int_equal(ident_pidfd(&wrong, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    /* dead */
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    assert_int_equal(ident_pidfd(&id, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
}

/* Forces the kernel to give the next fork the PID `want` (root: ns_last_pid). */
static pid_t fork_with_pid(pid_t want)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX) < 0) {
            close(fd);
            return -1;
        }
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld", (long)want - 1);
        if (write(fd, buf, (size_t)n) != n) {
            close(fd);
            return -1;
        }
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                pause();
        }
        close(fd);
        if (p == want)
            return p;
        kill(p, SIGKILL); /* another process on the machine took it: try again */
        waitpid(p, NULL, 0);
    }
    return -1;
}

static void test_ident_pidfd__recycled_pid_is_not_taken(void **state)
{
    (void)state;
    if (geteuid() != 0 || access("/proc/sys/kernel/ns_last_pid", W_OK) != 0) {
        skip();
        return;
    }
    struct pod_err err = POD_ERR_ZERO;
    pid_t p = spawn_sleeper();
    struct ident id;
    assert_int_equal(ident_of(p, "daemon", &id, &err), 0);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    /* jiffies move on, so the new process cannot share the old start time */
    usleep(30000);
    pid_t q = fork_with_pid(p);
    if (q < 0) {
        skip();
        return;
    }
    assert_int_equal(q, p);
    assert_int_equal(ident_pidfd(&id, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    struct ident now;
    assert_int_equal(ident_of(q, "daemon", &now, &err), 0);
    int fd = ident_pidfd(&now, &err);
    assert_true(fd >= 0);
    close(fd);
    kill(q, SIGKILL);
    waitpid(q, NULL, 0);
}

static void test_ident_lock__inherited_and_probed(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    bool held = true;
    assert_int_equal(ident_lock_held(dirfd_, ".pod.lock", &held, &err), 0);
    assert_false(held); /* no file */
    int a = ident_lock_open(dirfd_, ".pod.lock", &err);
    assert_true(a >= 0);
    struct stat st;
    assert_int_equal(fstat(a, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ident_lock_held(dirfd_, ".pod.lock", &held, &err), 0);
    assert_false(held);
    assert_int_equal(ident_lock_take(a), 1);
    assert_int_equal(ident_lock_take(a), 1); /* ours already */
    int b = ident_lock_open(dirfd_, ".pod.lock", &err);
    assert_int_equal(ident_lock_take(b), 0); /* another open file description */
    assert_int_equal(ident_lock_held(dirfd_, ".pod.lock", &held, &err), 0);
    assert_true(held);
    /* a child that inherits the descriptor keeps the lock after we close ours */
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t p = fork();
    if (p == 0) {
        close(sync[1]);
        char c;
        (void)!read(sync[0], &c, 1);
        _exit(0);
    }
    close(sync[0]);
    close(a);
    assert_int_equal(ident_lock_take(b), 0);
    close(sync[1]); /* the child exits */
    waitpid(p, NULL, 0);
    assert_int_equal(ident_lock_take(b), 1);
    close(b);
    assert_int_equal(ident_lock_held(dirfd_, ".pod.lock", &held, &err), 0);
    assert_false(held);
}

static void test_ident_status_down__pid_and_readiness_only(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(ident_status_down(dirfd_, ".pod.status", &err), 0); /* none: fine */
    struct stat st;
    assert_int_equal(fstatat(dirfd_, ".pod.status", &st, 0), -1);
    const char *in = "pod: p-1\nupdated: 17\npid: 4242\nreadiness: 1\nhealthy: 1\n"
                     "containers:\n    - name: web\n      ready: 1\n      readiness: 1\n";
    const char *want = "pod: p-1\nupdated: 17\npid:\nreadiness: 0\nhealthy: 1\n"
                       "containers:\n    - name: web\n      ready: 1\n      readiness: 1\n";
    int fd = openat(dirfd_, ".pod.status", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, in, strlen(in)), (ssize_t)strlen(in));
    close(fd);
    assert_int_equal(ident_status_down(dirfd_, ".pod.status", &err), 0);
    char *path = xasprintf("%s/.pod.status", dir), *got;
    size_t len;
    assert_int_equal(pod_read_file(path, 1 << 20, &got, &len, &err), 0);
    assert_string_equal(got, want);
    free(got);
    /* idempotent */
    assert_int_equal(ident_status_down(dirfd_, ".pod.status", &err), 0);
    assert_int_equal(pod_read_file(path, 1 << 20, &got, &len, &err), 0);
    assert_string_equal(got, want);
    free(got);
    free(path);
}

/* The supervisor processes' set-up (in a child: it changes the process): the soft fd limit
 * raised to the hard one, SIGPIPE ignored, the five signals blocked and read through the
 * returned non-blocking, close-on-exec signalfd. */
static void test_ident_signals_setup__blocked_and_readable(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(10);
        rl.rlim_cur = rl.rlim_max > 64 ? 64 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            _exit(11);
        int fd = ident_signals_setup();
        if (fd < 0)
            _exit(12);
        struct rlimit after;
        if (getrlimit(RLIMIT_NOFILE, &after) < 0 ||
            (after.rlim_max != RLIM_INFINITY && after.rlim_cur != after.rlim_max))
            _exit(13);
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) < 0 || sa.sa_handler != SIG_IGN)
            _exit(14);
        sigset_t now;
        sigprocmask(SIG_BLOCK, NULL, &now);
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            if (!sigismember(&now, sigs[i]))
                _exit(15);
        if (!(fcntl(fd, F_GETFL) & O_NONBLOCK) || !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            _exit(16);
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) != -1 || errno != EAGAIN) /* nothing pending */
            _exit(17);
        raise(SIGUSR1); /* blocked: it waits in the signalfd, the process lives on */
        if (read(fd, &si, sizeof si) != (ssize_t)sizeof si || si.ssi_signo != SIGUSR1)
            _exit(18);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_ident_file__names),
        cmocka_unit_test(test_ident_signals_setup__blocked_and_readable),
        cmocka_unit_test_setup_teardown(test_ident__write_read_roundtrip, setup, teardown),
        cmocka_unit_test(test_ident_pidfd__only_the_recorded_process),
        cmocka_unit_test(test_ident_pidfd__recycled_pid_is_not_taken),
        cmocka_unit_test_setup_teardown(test_ident_lock__inherited_and_probed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ident_status_down__pid_and_readiness_only, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
