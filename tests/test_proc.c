/* SPDX-License-Identifier: MIT */
/* test_proc.c - child processes (src/proc): argv only, stdio plan, fd hygiene, signal state,
 * pidfd exit source, deadlines that kill the whole group, no wait on a lingering pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/proc.h"
#include "pod/util.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct proc_result run_sh(const char *script, int64_t timeout_ms, bool session)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = PROC_FD_CAPTURE;
    o.fd_err = PROC_FD_CAPTURE;
    o.new_session = session;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_run(&o, timeout_ms, &r, &err), 0);
    return r;
}

static void test_proc_run__exit_codes_and_capture(void **state)
{
    (void)state;
    struct proc_result r = run_sh("echo out; echo err >&2; exit 3", 5000, false);
    assert_true(r.exited);
    assert_int_equal(r.code, 3);
    assert_string_equal(r.out, "out\n");
    assert_string_equal(r.err, "err\n");
    assert_false(r.timed_out);
    proc_result_free(&r);
}

static void test_proc_spawn__missing_program_reported_synchronously(void **state)
{
    (void)state;
    char *argv[] = {"/nonexistent/podman-xyz", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    struct proc *p = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_spawn(&o, &p, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_null(p);
    /* and no zombie was left behind */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    char *argv2[] = {"no-such-program-in-path-xyz", NULL};
    o.argv = argv2;
    assert_int_equal(proc_spawn(&o, &p, &err), -1);
    assert_int_equal(err.sys_errno, ENOENT);
}

static void test_proc_spawn__only_stdio_and_kept_fds_reach_the_child(void **state)
{
    (void)state;
    int leak = open("/dev/null", O_RDONLY); /* not close-on-exec on purpose */
    int kept[2];
    assert_int_equal(pipe(kept), 0);
    char script[256];
    snprintf(script, sizeof script, "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo kept >&%d",
             kept[1]);
    char *argv[] = {"sh", "-c", script, NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = PROC_FD_CAPTURE;
    o.keep_fds = &kept[1];
    o.n_keep_fds = 1;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_run(&o, 5000, &r, &err), 0);
    close(kept[1]);
    char buf[64] = {0};
    assert_true(read(kept[0], buf, sizeof buf - 1) > 0);
    assert_string_equal(buf, "kept\n");
    /* fds of `ls` itself: 0 1 2, the kept one, and the directory ls reads (3) */
    char want[64];
    snprintf(want, sizeof want, "0 1 2 3 %d ", kept[1]);
    if (kept[1] == 3)
        snprintf(want, sizeof want, "0 1 2 3 4 ");
    assert_string_equal(r.out, want);
    assert_int_equal(r.code, 0);
    proc_result_free(&r);
    close(kept[0]);
    close(leak);
}

static void test_proc_spawn__signal_state_is_reset(void **state)
{
    (void)state;
    /* the daemon blocks signals for signalfd and ignores SIGPIPE: children must not inherit it */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    void (*oldpipe)(int) = signal(SIGPIPE, SIG_IGN);
    struct proc_result r = run_sh("grep -E '^Sig(Blk|Ign):' /proc/self/status", 5000, false);
    signal(SIGPIPE, oldpipe);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "SigBlk:\t0000000000000000"));
    assert_non_null(strstr(r.out, "SigIgn:\t0000000000000000"));
    proc_result_free(&r);
}

static void test_proc_run__deadline_kills_the_whole_group(void **state)
{
    (void)state;
    int64_t t0 = now_ms();
    struct proc_result r = run_sh("sleep 30 & echo $! ; sleep 30", 300, true);
    int64_t took = now_ms() - t0;
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGTERM);
    assert_true(took < 3000);
    pid_t bg = (pid_t)atoi(r.out);
    assert_true(bg > 0);
    /* the background sleep of the same group is gone too (give the kernel a moment) */
    int alive = 1;
    for (int i = 0; i < 100 && alive; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)bg);
        FILE *f = fopen(path, "r");
        alive = 0;
        if (f) {
            char st = 0;
            if (fscanf(f, "%*d %*s %c", &st) == 1 && st != 'Z')
                alive = 1;
            fclose(f);
        }
        if (alive)
            usleep(10000);
    }
    assert_int_equal(alive, 0);
    proc_result_free(&r);
}

static void test_proc_run__does_not_wait_for_a_lingering_pipe(void **state)
{
    (void)state;
    /* a grandchild keeps stdout open: the run ends with the child, not with the pipe's EOF */
    int64_t t0 = now_ms();
    struct proc_result r = run_sh("sleep 3 & echo done", 10000, true);
    int64_t took = now_ms() - t0;
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "done\n");
    assert_true(took < 1500);
    proc_result_free(&r);
}

static void test_proc_spawn__pidfd_is_the_exit_source(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "exec sleep 0.2", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    struct proc *p = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_spawn(&o, &p, &err), 0);
    int st = -1;
    assert_false(proc_reap(p, &st));
    struct pollfd pf = {.fd = proc_pidfd(p), .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    assert_true(proc_reap(p, &st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    proc_free(p);
}

static void test_proc_spawn__free_kills_a_running_child(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "30", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    struct proc *p = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_spawn(&o, &p, &err), 0);
    pid_t pid = proc_pid(p);
    proc_free(p);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_proc_env__preload_and_faketime_stripped(void **state)
{
    (void)state;
    char *env[] = {
        "A=1", "LD_PRELOAD=/x.so", "FAKETIME=+1d", "FAKETIME_NO_CACHE=1", "PATH=/usr/bin:/bin",
        NULL};
    char **out = proc_env_stripped(env);
    assert_int_equal(pod_strv_len(out), 2);
    assert_string_equal(out[0], "A=1");
    assert_string_equal(out[1], "PATH=/usr/bin:/bin");
    pod_strv_free(out);
    char *argv[] = {"sh", "-c", "echo \"$A|$LD_PRELOAD|$FAKETIME\"; pwd", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.env = env;
    o.strip_preload = true;
    o.cwd = "/tmp";
    o.fd_out = PROC_FD_CAPTURE;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_run(&o, 5000, &r, &err), 0);
    assert_string_equal(r.out, "1||\n/tmp\n");
    proc_result_free(&r);
}

static void test_proc_spawn__stdin_from_a_given_fd(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    close(p[1]);
    char *argv[] = {"cat", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_in = p[0];
    o.fd_out = PROC_FD_CAPTURE;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_run(&o, 5000, &r, &err), 0);
    close(p[0]);
    assert_string_equal(r.out, "abc");
    proc_result_free(&r);
}

static void test_proc_capture__bounded(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = PROC_FD_CAPTURE;
    o.capture_max = 1000;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(proc_run(&o, 5000, &r, &err), 0);
    assert_int_equal(r.out_len, 1000);
    assert_int_equal(r.code, 0);
    proc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_proc_run__exit_codes_and_capture),
        cmocka_unit_test(test_proc_spawn__missing_program_reported_synchronously),
        cmocka_unit_test(test_proc_spawn__only_stdio_and_kept_fds_reach_the_child),
        cmocka_unit_test(test_proc_spawn__signal_state_is_reset),
        cmocka_unit_test(test_proc_run__deadline_kills_the_whole_group),
        cmocka_unit_test(test_proc_run__does_not_wait_for_a_lingering_pipe),
        cmocka_unit_test(test_proc_spawn__pidfd_is_the_exit_source),
        cmocka_unit_test(test_proc_spawn__free_kills_a_running_child),
        cmocka_unit_test(test_proc_env__preload_and_faketime_stripped),
        cmocka_unit_test(test_proc_spawn__stdin_from_a_given_fd),
        cmocka_unit_test(test_proc_capture__bounded),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
