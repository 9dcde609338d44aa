/* SPDX-License-Identifier: MIT */
/* test_holder.c - the fd holder (src/daemon/holder.c, holdc.c) as real processes: this binary
 * is the pod executable (`__holder` runs the real holder, `__daemon` the fake daemon of
 * fake_daemon.h).  A daemon killed with SIGKILL is respawned and gets the same pipe back, with
 * the bytes written while it was dead; the status file is marked down meanwhile; the backoff
 * doubles; BYE ends the holder; a killed holder is replaced by the daemon, which hands it
 * everything again; a stop sent while no daemon runs makes the holder start one to carry it out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_daemon.h"
#include "sv_harness.h"

#include "pod/pidfd.h"
#include "pod/spawn.h"

#include <poll.h>

static char *start_pod(const char *cfg)
{
    char *dir = sv_mkpod();
    sv_write(dir, "fake.cfg", cfg);
    char *fifo = xasprintf("%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    free(fifo);
    struct spawn_cfg c = {.dir = dir, .name = "pod"};
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(spawn_supervisor(&c, &started, &err), 0);
    assert_true(started);
    assert_true(sv_wait_count(dir, "events", "start pid=", 1, 5000));
    assert_true(sv_pid(dir, "daemon") > 0);
    return dir;
}

/* The write end of the fifo the fake daemon holds (it is open for reading by then). */
static int open_fifo_writer(const char *dir)
{
    char *fifo = xasprintf("%s/fifo", dir);
    int fd = -1;
    for (int i = 0; i < 500 && fd < 0; i++) {
        fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            sv_sleep(5);
    }
    free(fifo);
    assert_true(fd >= 0);
    return fd;
}

static void say(int fd, const char *text)
{
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void stop_pod(char *dir)
{
    bool was;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(spawn_stop(dir, "pod", false, 5000, &was, &err), 0);
    assert_true(was);
    assert_false(sv_lock_held(dir));
    sv_rm_pod(dir);
}

static void test_holder__killed_daemon_respawned_with_its_pipes(void **state)
{
    (void)state;
    char *dir = start_pod("fifo\n");
    sv_write(dir, ".pod.status", "pod: p-1\npid: 1\nreadiness: 1\n");
    int w = open_fifo_writer(dir);
    say(w, "before\n");
    assert_true(sv_wait_count(dir, "events", "data t/1/stdout before", 1, 5000));
    pid_t d1 = sv_pid(dir, "daemon");
    pid_t h = sv_pid(dir, "holder");
    assert_int_equal(kill(d1, SIGKILL), 0);
    /* no reader but the holder now: the write still succeeds (no EPIPE) and waits in the pipe */
    say(w, "while-dead\n");
    assert_true(sv_wait_count(dir, "events", "start pid=", 2, 5000));
    assert_true(sv_wait_count(dir, "events", "respawns=1 status=9 fds=t/1/stdout", 1, 100));
    assert_true(sv_wait_count(dir, "events", "data t/1/stdout while-dead", 1, 5000));
    /* the holder marked the status file down when the daemon died */
    char *st = sv_read(dir, ".pod.status");
    assert_string_equal(st, "pod: p-1\npid:\nreadiness: 0\n");
    free(st);
    assert_int_equal(sv_pid(dir, "holder"), h); /* same holder */
    say(w, "after\n");
    assert_true(sv_wait_count(dir, "events", "data t/1/stdout after", 1, 5000));
    close(w);
    assert_true(sv_wait_count(dir, "events", "eof t/1/stdout", 1, 5000));
    stop_pod(dir);
}

/* The times (ms) of the first n `start` events after t0, measured by polling. */
static void test_holder__respawn_backoff_doubles(void **state)
{
    (void)state;
    char *dir = start_pod("");
    int64_t gaps[3];
    for (int k = 0; k < 3; k++) {
        pid_t d = sv_pid(dir, "daemon");
        int64_t t0 = sv_now();
        assert_int_equal(kill(d, SIGKILL), 0);
        assert_true(sv_wait_count(dir, "events", "start pid=", k + 2, 10000));
        gaps[k] = sv_now() - t0;
        assert_true(sv_wait_new_pid(dir, "daemon", d, 5000) > 0);
    }
    /* 250, 500, 1000 ms (the daemons lived far less than 60 s) */
    const int64_t want[3] = {250, 500, 1000};
    for (int k = 0; k < 3; k++) {
        assert_true(gaps[k] >= want[k] - 10);
        assert_true(gaps[k] < want[k] + 400);
    }
    stop_pod(dir);
}

static void test_holder__bye_ends_the_holder(void **state)
{
    (void)state;
    char *dir = start_pod("");
    pid_t h = sv_pid(dir, "holder"), d = sv_pid(dir, "daemon");
    int hfd = pod_pidfd_open(h);
    assert_true(hfd >= 0);
    struct ctl_reply r;
    struct pod_err err = POD_ERR_ZERO;
    char *argv[] = {"stop"};
    assert_int_equal(ctl_call(dir, ".pod.sock", argv, 1, 5000, &r, &err), 0);
    ctl_reply_free(&r);
    struct pollfd p = {.fd = hfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1); /* the holder exited */
    close(hfd);
    assert_true(sv_wait_count(dir, "events", "bye", 1, 100));
    int64_t end = sv_now() + 2000;
    while (sv_alive(d) && sv_now() < end)
        sv_sleep(5);
    assert_false(sv_alive(d));
    sv_sleep(400); /* nothing is respawned */
    assert_int_equal(sv_count(dir, "events", "start pid="), 1);
    assert_false(sv_lock_held(dir));
    sv_rm_pod(dir);
}

static void test_holder__killed_holder_replaced_and_handed_everything(void **state)
{
    (void)state;
    char *dir = start_pod("fifo\n");
    int w = open_fifo_writer(dir);
    say(w, "one\n");
    assert_true(sv_wait_count(dir, "events", "data t/1/stdout one", 1, 5000));
    pid_t h1 = sv_pid(dir, "holder"), d1 = sv_pid(dir, "daemon");
    assert_int_equal(kill(h1, SIGKILL), 0);
    pid_t h2 = sv_wait_new_pid(dir, "holder", h1, 5000);
    assert_true(h2 > 0);
    assert_true(sv_wait_count(dir, "events", "holder ", 1, 100));
    assert_true(sv_lock_held(dir)); /* the daemon kept it */
    /* the new holder is not the daemon's parent: it watches it by pidfd and respawns it */
    sv_sleep(50);
    assert_int_equal(kill(d1, SIGKILL), 0);
    say(w, "two\n");
    assert_true(sv_wait_count(dir, "events", "start pid=", 2, 5000));
    assert_true(sv_wait_count(dir, "events", "fds=t/1/stdout", 1, 100));
    assert_true(sv_wait_count(dir, "events", "data t/1/stdout two", 1, 5000));
    assert_int_equal(sv_pid(dir, "holder"), h2);
    close(w);
    stop_pod(dir);
}

static void test_holder__stop_while_no_daemon_runs(void **state)
{
    (void)state;
    char *dir = start_pod("");
    pid_t d = sv_pid(dir, "daemon");
    assert_int_equal(kill(d, SIGKILL), 0);
    int64_t end = sv_now() + 2000;
    while (sv_alive(d) && sv_now() < end)
        sv_sleep(1);
    /* the holder waits 250 ms before the respawn; a stop now finds no daemon */
    bool was;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = sv_now();
    assert_int_equal(spawn_stop(dir, "pod", false, 5000, &was, &err), 0);
    assert_true(was);
    assert_true(sv_now() - t0 < 2000);
    assert_int_equal(sv_count(dir, "events", "start pid="), 2);
    assert_int_equal(sv_count(dir, "events", "ctl stop"), 1);
    assert_false(sv_lock_held(dir));
    sv_rm_pod(dir);
}

static void test_holder__bad_arguments(void **state)
{
    (void)state;
    char *a1[] = {"pod", "__holder", "--dir", "/tmp", NULL};
    assert_int_equal(holder_main(4, a1), 100);
    char *a2[] = {"pod", "__holder", "--dir", "/tmp", "--name", "pod", "--lock-fd", "x", NULL};
    assert_int_equal(holder_main(8, a2), 100);
    char *a3[] = {"pod",       "__holder", "--dir",     "/tmp", "--name", "pod",
                  "--lock-fd", "3",        "--sock-fd", "4",    NULL}; /* no --daemon-pid */
    assert_int_equal(holder_main(10, a3), 100);
}

static void test_holder__idle_rss(void **state)
{
    (void)state;
    char *dir = start_pod("fifo\n");
    sv_sleep(200);
    pid_t h = sv_pid(dir, "holder");
    long kb = sv_rss_kb(h);
    print_message("holder idle RSS: %ld kB (this test binary is linked dynamically)\n", kb);
    assert_true(kb > 0);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
    assert_true(kb < 4096);
#elif defined(__has_feature)
#if !__has_feature(address_sanitizer)
    assert_true(kb < 4096);
#endif
#endif
    stop_pod(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "__holder") == 0)
        return holder_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "__daemon") == 0)
        return fake_daemon_main(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest t[] = {
        cmocka_unit_test_teardown(test_holder__killed_daemon_respawned_with_its_pipes, sv_cleanup),
        cmocka_unit_test_teardown(test_holder__respawn_backoff_doubles, sv_cleanup),
        cmocka_unit_test_teardown(test_holder__bye_ends_the_holder, sv_cleanup),
        cmocka_unit_test_teardown(test_holder__killed_holder_replaced_and_handed_everything,
                                  sv_cleanup),
        cmocka_unit_test_teardown(test_holder__stop_while_no_daemon_runs, sv_cleanup),
        cmocka_unit_test_teardown(test_holder__bad_arguments, sv_cleanup),
        cmocka_unit_test_teardown(test_holder__idle_rss, sv_cleanup),
    };
    sv_san_setup();
    int failed = cmocka_run_group_tests(t, NULL, NULL);
    int reports = sv_san_check(); /* from the holders and daemons */
    return failed || reports ? 1 : 0;
}
