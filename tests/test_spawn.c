/* SPDX-License-Identifier: MIT */
/* test_spawn.c - starting and stopping the supervisor from the command line
 * (src/daemon/spawn.c) with the real holder and the fake daemon of fake_daemon.h: `$(cli run)`
 * reaches EOF at once while the daemon runs, the started processes hold nothing of the
 * caller's, a second start finds it alive, start-up errors and timeouts are reported, `stop`
 * returns only after the processes are gone, and a supervisor that ignores it can be killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_daemon.h"
#include "sv_harness.h"

#include "pod/proc.h"
#include "pod/spawn.h"

static char self_exe[4096];

static char *new_pod(const char *cfg)
{
    char *dir = sv_mkpod();
    sv_write(dir, "fake.cfg", cfg);
    return dir;
}

static int start(const char *dir, int64_t timeout_ms, bool *started, struct pod_err *err)
{
    struct spawn_cfg c = {.dir = dir, .name = "pod", .timeout_ms = timeout_ms};
    return spawn_supervisor(&c, started, err);
}

static void stop_and_remove(char *dir)
{
    bool was;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(spawn_stop(dir, "pod", false, 5000, &was, &err), 0);
    assert_false(sv_lock_held(dir));
    sv_rm_pod(dir);
}

/* fds 0-2 of pid are /dev/null, and no fd of pid is one of `ours` (pipe inodes). */
static void assert_clean_fds(pid_t pid, const char *dir)
{
    for (int i = 0; i < 3; i++) {
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/%ld/fd/%d", (long)pid, i);
        ssize_t n = readlink(link, target, sizeof target - 1);
        assert_true(n > 0);
        target[n] = '\0';
        assert_string_equal(target, "/dev/null");
    }
    char link[64], cwd[4096];
    snprintf(link, sizeof link, "/proc/%ld/cwd", (long)pid);
    ssize_t n = readlink(link, cwd, sizeof cwd - 1);
    assert_true(n > 0);
    cwd[n] = '\0';
    assert_string_equal(cwd, dir);
    assert_true(getsid(pid) != getsid(0));
    /* no pipe from the command line: the only one a supervisor ever had is the readiness
     * pipe, closed once the daemon listens.  Its own pipes have both ends in it: the emulated
     * pidfds (POD_PIDFD_EMULATE=1, valgrind), whose write ends its watcher thread holds. */
    char *cmd =
        xasprintf("ls -l /proc/%ld/fd | grep -o 'pipe:.*' | sort | uniq -u | grep -q .", (long)pid);
    assert_int_not_equal(system(cmd), 0);
    free(cmd);
}

static void test_spawn__captured_run_reaches_eof_at_once(void **state)
{
    (void)state;
    char *dir = new_pod("");
    /* what simplenetesd does: out=$(sh -c "/abs/pod run" 2>&1) from an unreadable cwd */
    char *script = xasprintf("cd /; "
                             "out=$('%s' spawn-cli '%s' 2>&1); echo \"rc=$? out=$out\"",
                             self_exe, dir);
    char *argv[] = {"sh", "-c", script, NULL};
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = PROC_FD_CAPTURE;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = sv_now();
    assert_int_equal(proc_run(&o, 5000, &r, &err), 0);
    int64_t took = sv_now() - t0;
    assert_false(r.timed_out);
    assert_string_equal(r.out, "rc=0 out=started\n");
    assert_true(took < 3000);
    print_message("captured `run` returned after %lld ms\n", (long long)took);
    proc_result_free(&r);
    free(script);
    /* and the supervisor runs on */
    assert_true(sv_lock_held(dir));
    pid_t h = sv_pid(dir, "holder"), d = sv_pid(dir, "daemon");
    assert_true(h > 0 && d > 0);
    assert_true(sv_alive(h) && sv_alive(d));
    assert_clean_fds(h, dir);
    assert_clean_fds(d, dir);
    stop_and_remove(dir);
}

static void test_spawn__second_start_finds_it_alive(void **state)
{
    (void)state;
    char *dir = new_pod("");
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(start(dir, 0, &started, &err), 0);
    assert_true(started);
    int64_t t0 = sv_now();
    assert_int_equal(start(dir, 0, &started, &err), 0);
    assert_false(started);
    assert_true(sv_now() - t0 < 500);
    assert_int_equal(sv_count(dir, "events", "start pid="), 1);
    stop_and_remove(dir);
}

static void test_spawn__startup_error_reported(void **state)
{
    (void)state;
    char *dir = new_pod("fail-start\n");
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(start(dir, 5000, &started, &err), -1);
    assert_false(started);
    assert_int_equal(err.code, POD_E_BACKEND);
    assert_non_null(strstr(err.msg, "boom"));
    /* the holder keeps trying (with backoff); `stop` finds it through its own record */
    assert_true(sv_pid(dir, "holder") > 0);
    bool was;
    assert_int_equal(spawn_stop(dir, "pod", false, 300, &was, &err), -1);
    assert_true(was);
    assert_int_equal(err.code, POD_E_TIMEOUT); /* no daemon ever gets up to stop */
    struct spawn_procs p;
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(spawn_procs_open(dfd, "pod", &p, &err), 0);
    assert_int_equal(p.n, 1);
    spawn_procs_kill(&p, SIGKILL);
    assert_int_equal(spawn_wait_gone(dfd, "pod", &p, sv_now() + 3000, &err), 0);
    spawn_procs_close(&p);
    close(dfd);
    sv_rm_pod(dir);
}

static void test_spawn__readiness_timeout(void **state)
{
    (void)state;
    char *dir = new_pod("no-ready\n");
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = sv_now();
    assert_int_equal(start(dir, 300, &started, &err), -1);
    assert_int_equal(err.code, POD_E_TIMEOUT);
    assert_true(sv_now() - t0 < 2000);
    stop_and_remove(dir); /* it does listen, so stop works */
}

static void test_spawn__stop_returns_after_the_processes_exit(void **state)
{
    (void)state;
    char *dir = new_pod("stop-delay-ms 400\n");
    bool started, was;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(start(dir, 0, &started, &err), 0);
    pid_t h = sv_pid(dir, "holder"), d = sv_pid(dir, "daemon");
    int64_t t0 = sv_now();
    assert_int_equal(spawn_stop(dir, "pod", true, 5000, &was, &err), 0);
    int64_t took = sv_now() - t0;
    assert_true(was);
    assert_true(took >= 390 && took < 3000);
    assert_false(sv_alive(h));
    assert_false(sv_alive(d));
    assert_false(sv_lock_held(dir));
    assert_int_equal(sv_count(dir, "events", "ctl kill"), 1);
    struct stat st;
    char *sock = xasprintf("%s/.pod.sock", dir);
    assert_int_equal(stat(sock, &st), -1); /* removed by the daemon */
    free(sock);
    sv_rm_pod(dir);
}

static void test_spawn__stop_of_a_pod_never_started(void **state)
{
    (void)state;
    char *dir = new_pod("");
    bool was = true;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = sv_now();
    assert_int_equal(spawn_stop(dir, "pod", false, 5000, &was, &err), 0);
    assert_false(was);
    char *none = xasprintf("%s/missing", dir);
    assert_int_equal(spawn_stop(none, "pod", false, 5000, &was, &err), 0);
    assert_false(was);
    free(none);
    assert_true(sv_now() - t0 < 200);
    sv_rm_pod(dir);
}

static void test_spawn__stop_timeout_then_kill(void **state)
{
    (void)state;
    char *dir = new_pod("ignore-stop\n");
    bool started, was;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(start(dir, 0, &started, &err), 0);
    int64_t t0 = sv_now();
    assert_int_equal(spawn_stop(dir, "pod", false, 300, &was, &err), -1);
    assert_int_equal(err.code, POD_E_TIMEOUT);
    assert_true(sv_now() - t0 >= 290);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct spawn_procs p;
    assert_int_equal(spawn_procs_open(dfd, "pod", &p, &err), 0);
    assert_int_equal(p.n, 2);
    spawn_procs_kill(&p, SIGKILL);
    assert_int_equal(spawn_wait_gone(dfd, "pod", &p, sv_now() + 3000, &err), 0);
    spawn_procs_close(&p);
    close(dfd);
    assert_false(sv_lock_held(dir));
    sv_rm_pod(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "__holder") == 0)
        return holder_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "__daemon") == 0)
        return fake_daemon_main(argc, argv);
    if (argc == 3 && strcmp(argv[1], "spawn-cli") == 0) {
        bool started;
        struct pod_err err = POD_ERR_ZERO;
        struct spawn_cfg c = {.dir = argv[2], .name = "pod"};
        if (spawn_supervisor(&c, &started, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        printf("%s\n", started ? "started" : "alive");
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = '\0';
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest t[] = {
        cmocka_unit_test_teardown(test_spawn__captured_run_reaches_eof_at_once, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__second_start_finds_it_alive, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__startup_error_reported, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__readiness_timeout, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__stop_returns_after_the_processes_exit, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__stop_of_a_pod_never_started, sv_cleanup),
        cmocka_unit_test_teardown(test_spawn__stop_timeout_then_kill, sv_cleanup),
    };
    sv_san_setup();
    int failed = cmocka_run_group_tests(t, NULL, NULL);
    int reports = sv_san_check(); /* from the holders and daemons */
    return failed || reports ? 1 : 0;
}
