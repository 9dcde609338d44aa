/* SPDX-License-Identifier: MIT */
/* test_daemon.c - the daemon end to end (src/daemon/daemon.c, daemon_ctl.c, dsink.c) as real
 * processes: this binary is the pod executable (`__holder` = the real holder, `__daemon` = the
 * real daemon with the fake backend of fake_backend.h, whose containers are real processes),
 * started the command line's way (spawn), driven through the real control socket and real
 * signals.  Start, status, logs through the pump, control requests, a config edit, stop that
 * returns only after the daemon exited; kill -9 of the daemon: `readiness: 0` while none runs,
 * the holder respawns it, it re-adopts the running container and loses no output; TERM stops
 * the pod; an idle daemon wakes only for its deadlines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_backend.h"
#include "sv_harness.h"

#include <jansson.h>

#include "pod/ctl.h"
#include "pod/holder.h"
#include "pod/spawn.h"

static const char *const spec_full =
    "api: 1.0.0-beta2\n"
    "podVersion: 1.0.0\n"
    "configDebounceSeconds: 0\n"
    "volumes:\n"
    "  - name: cfg\n"
    "    type: config\n"
    "containers:\n"
    "  - name: web\n"
    "    image: busybox\n"
    "    restart: always\n"
    "    command: [/bin/sh, -c, 'echo web-up; echo err-line >&2; i=0; while :; do echo \"tick "
    "$i\"; i=$((i+1)); sleep 0.05; done']\n"
    "    mounts: [{dest: /cfg, volume: cfg}]\n"
    "  - name: job\n"
    "    image: busybox\n"
    "    restart: on-config\n"
    "    command: [/bin/sh, -c, 'echo job-ran']\n"
    "    mounts: [{dest: /cfg, volume: cfg}]\n";

static const char *const spec_idle = "api: 1.0.0-beta2\n"
                                     "podVersion: 1.0.0\n"
                                     "containers:\n"
                                     "  - name: web\n"
                                     "    image: busybox\n"
                                     "    restart: always\n"
                                     "    command: [sleep, '1000']\n";

/* ------------------------------------------------------------------ the daemon side */

static int test_daemon_main(int argc, char **argv)
{
    struct daemon_cfg cfg;
    struct pod_err err = POD_ERR_ZERO;
    if (daemon_parse_args(argc, argv, &cfg, &err) < 0)
        return 100;
    char *path = xasprintf("%s/spec.yaml", cfg.dir), *text;
    size_t len;
    if (pod_read_file(path, 1 << 20, &text, &len, &err) < 0)
        return 111;
    free(path);
    struct spec_opts o = {.file = "spec.yaml", .pod_name = "tdm", .check_files = false};
    struct spec_diags dg;
    memset(&dg, 0, sizeof dg);
    struct pod_spec *spec = NULL;
    int rc = spec_load(text, len, &o, &dg, &spec);
    free(text);
    spec_diags_free(&dg);
    if (rc < 0)
        return 101;
    cfg.spec = spec;
    cfg.backend = fake_factory;
    pod_log_set_level(POD_LOG_DEBUG);
    rc = daemon_run(&cfg);
    spec_free(spec);
    return rc;
}

/* ------------------------------------------------------------------ helpers */

static char *new_pod(const char *spec)
{
    char *dir = sv_mkpod();
    sv_write(dir, "spec.yaml", spec);
    char *cfg = xasprintf("%s/config/cfg", dir);
    char *cmd = xasprintf("mkdir -p '%s'", cfg);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(cfg);
    return dir;
}

static void start_pod(const char *dir)
{
    struct spawn_cfg c = {.dir = dir, .name = "pod"};
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(spawn_supervisor(&c, &started, &err), 0);
    assert_true(started);
}

/* One request; returns the exit code, stdout into *out (may be NULL). */
static int call(const char *dir, char **out, char **errtext, int n, ...)
{
    char *argv[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    struct ctl_reply r;
    struct pod_err err = POD_ERR_ZERO;
    if (ctl_call(dir, ".pod.sock", argv, (size_t)n, 5000, &r, &err) < 0) {
        print_message("ctl_call: %s\n", err.msg);
        return -1;
    }
    if (out)
        *out = pod_steal_ptr(&r.out);
    if (errtext)
        *errtext = pod_steal_ptr(&r.err);
    ctl_reply_free(&r);
    return r.code;
}

static json_t *status_of(const char *dir)
{
    char *out = NULL;
    if (call(dir, &out, NULL, 2, "status", "json") != 0)
        return NULL;
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

/* A container's integer field from `status json`, -1 when unavailable. */
static long long ctr_field(const char *dir, const char *ctr, const char *key)
{
    json_t *j = status_of(dir);
    long long v = -1;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "containers"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), ctr) == 0)
            v = json_integer_value(json_object_get(c, key));
    }
    json_decref(j);
    return v;
}

static bool wait_field_ge(const char *dir, const char *ctr, const char *key, long long want,
                          int64_t timeout_ms)
{
    int64_t end = sv_now() + timeout_ms;
    while (ctr_field(dir, ctr, key) < want) {
        if (sv_now() >= end)
            return false;
        sv_sleep(10);
    }
    return true;
}

/* The largest n such that "tick 0" .. "tick n" are all in the log, and whether any tick beyond
 * a gap exists (*gap). */
static long ticks_contiguous(const char *dir, bool *gap)
{
    char *t = sv_read(dir, "log/web-tdm-1.0.0-stdout.log");
    long max = -1;
    static char seen[100000];
    memset(seen, 0, sizeof seen);
    for (const char *p = t; (p = strstr(p, "tick ")); p += 5) {
        long n = atol(p + 5);
        if (n >= 0 && n < (long)sizeof seen)
            seen[n] = 1;
        if (n > max)
            max = n;
    }
    free(t);
    long k = 0;
    while (k <= max && seen[k])
        k++;
    *gap = k <= max;
    return k - 1;
}

static pid_t fake_pid(const char *dir, const char *ctr)
{
    char *name = xasprintf("fakebe-%s", ctr);
    char *t = sv_read(dir, name);
    free(name);
    long pid = 0;
    unsigned long long inst;
    int running;
    if (sscanf(t, "%llu %d %ld", &inst, &running, &pid) != 3)
        pid = 0;
    free(t);
    return (pid_t)pid;
}

static void stop_pod(char *dir)
{
    bool was;
    struct pod_err err = POD_ERR_ZERO;
    pid_t d = sv_pid(dir, "daemon");
    assert_int_equal(spawn_stop(dir, "pod", false, 20000, &was, &err), 0);
    assert_true(was);
    assert_false(sv_alive(d)); /* stop returned only after the daemon exited */
    assert_false(sv_lock_held(dir));
}

/* ------------------------------------------------------------------ tests */

static void test_daemon__lifecycle(void **state)
{
    (void)state;
    char *dir = new_pod(spec_full);
    start_pod(dir);
    char *out = NULL, *err = NULL;
    assert_int_equal(call(dir, NULL, NULL, 1, "ping"), 0);
    json_t *j = status_of(dir);
    assert_string_equal(json_string_value(json_object_get(j, "phase")), "created");
    json_decref(j);
    assert_int_equal(call(dir, NULL, NULL, 1, "start"), 0);
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 10000));
    char *pidline = xasprintf("pid: %ld\n", (long)sv_pid(dir, "daemon"));
    assert_true(sv_wait_count(dir, ".pod.status", pidline, 1, 100));
    free(pidline);
    /* container output through the pump, the daemon's own log through a log writer */
    assert_true(sv_wait_count(dir, "log/web-tdm-1.0.0-stdout.log", " web-up\n", 1, 5000));
    assert_true(sv_wait_count(dir, "log/web-tdm-1.0.0-stderr.log", " err-line\n", 1, 5000));
    assert_true(sv_wait_count(dir, "log/job-tdm-1.0.0-stdout.log", " job-ran\n", 1, 5000));
    assert_true(sv_wait_count(dir, "log/tdm-1.0.0-stderr.log", "pod running", 1, 5000));
    /* the live view */
    assert_int_equal(call(dir, &out, NULL, 1, "status"), 0);
    assert_non_null(strstr(out, "phase: running\n"));
    assert_non_null(strstr(out, "    - name: web\n"));
    free(out);
    assert_int_equal(ctr_field(dir, "web", "instance"), 1);
    /* names are checked first */
    assert_int_equal(call(dir, NULL, &err, 3, "signal", "web", "nope"), 1);
    assert_non_null(strstr(err, "known containers: web job"));
    free(err);
    assert_int_equal(call(dir, NULL, &err, 2, "reload-configs", "nope"), 1);
    assert_non_null(strstr(err, "known configs: cfg"));
    free(err);
    assert_int_equal(call(dir, NULL, NULL, 2, "rerun", "nope"), 1);
    assert_int_equal(call(dir, NULL, NULL, 1, "rerun"), 100);
    assert_int_equal(call(dir, NULL, NULL, 1, "frobnicate"), 100);
    /* a config edit restarts the on-config job; reload-configs does too; rerun cycles web */
    assert_true(wait_field_ge(dir, "job", "instance", 1, 2000));
    sv_write(dir, "config/cfg/a", "1"); /* create, then write: with debounce 0 maybe 2 bursts */
    assert_true(wait_field_ge(dir, "job", "instance", 2, 5000));
    assert_true(sv_wait_count(dir, "log/job-tdm-1.0.0-stdout.log", " job-ran\n", 2, 5000));
    sv_sleep(100);
    long long inst = ctr_field(dir, "job", "instance");
    assert_int_equal(call(dir, NULL, NULL, 2, "reload-configs", "cfg"), 0);
    assert_true(wait_field_ge(dir, "job", "instance", inst + 1, 5000));
    assert_int_equal(call(dir, NULL, NULL, 2, "rerun", "web"), 0);
    assert_true(wait_field_ge(dir, "web", "instance", 2, 15000));
    assert_true(sv_wait_count(dir, "log/web-tdm-1.0.0-stdout.log", " web-up\n", 2, 5000));
    /* stop: returns once holder and daemon are gone; nothing runs; files say so */
    pid_t web = fake_pid(dir, "web");
    assert_true(web > 0 && sv_alive(web));
    stop_pod(dir);
    assert_false(sv_alive(web));
    char *st = sv_read(dir, ".pod.status");
    assert_non_null(strstr(st, "\npid:\n"));
    assert_non_null(strstr(st, "\nreadiness: 0\n"));
    assert_non_null(strstr(st, "\nphase: exited\n"));
    free(st);
    assert_int_equal(sv_count(dir, "log/tdm-1.0.0-stderr.log", "[INFO]  pod stopped"), 1);
    /* at DEBUG, every trace record of the driver in podsim's format (tests/e2e/t_parity.sh) */
    assert_int_equal(sv_count(dir, "log/tdm-1.0.0-stderr.log", " pod        stopped      \n"), 1);
    assert_int_equal(
        sv_count(dir, "log/tdm-1.0.0-stderr.log", " web        start        instance=2\n"), 1);
    assert_int_equal(sv_count(dir, "log/tdm-1.0.0-stderr.log", "exiting"), 1);
    struct stat sb;
    char *sock = xasprintf("%s/.pod.sock", dir), *pidf = xasprintf("%s/.pod.pid", dir);
    assert_int_equal(stat(sock, &sb), -1);
    assert_int_equal(stat(pidf, &sb), -1);
    free(sock);
    free(pidf);
    /* a new start after the stop is a fresh supervisor (SPEC 8.1) */
    start_pod(dir);
    assert_int_equal(call(dir, NULL, NULL, 1, "start"), 0);
    assert_true(wait_field_ge(dir, "web", "instance", 1, 10000));
    assert_int_equal(ctr_field(dir, "web", "instance"), 1);
    assert_int_equal(ctr_field(dir, "web", "restartCount"), 0);
    stop_pod(dir);
    sv_rm_pod(dir);
}

static void test_daemon__kill9_recovers_without_loss(void **state)
{
    (void)state;
    char *dir = new_pod(spec_full);
    start_pod(dir);
    assert_int_equal(call(dir, NULL, NULL, 1, "start"), 0);
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 10000));
    assert_true(sv_wait_count(dir, "log/web-tdm-1.0.0-stdout.log", "tick 5\n", 1, 5000));
    pid_t d1 = sv_pid(dir, "daemon"), h = sv_pid(dir, "holder"), web = fake_pid(dir, "web");
    /* kill right after a tick reached the file: nothing is in flight in the pump */
    int before = sv_count(dir, "log/web-tdm-1.0.0-stdout.log", "tick ");
    assert_true(sv_wait_count(dir, "log/web-tdm-1.0.0-stdout.log", "tick ", before + 1, 2000));
    assert_int_equal(kill(d1, SIGKILL), 0);
    /* no daemon: the holder says so in the status file */
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 0\n", 1, 200));
    assert_true(sv_wait_count(dir, ".pod.status", "\npid:\n", 1, 100));
    /* it comes back by itself, adopts the running container and its pipes */
    pid_t d2 = sv_wait_new_pid(dir, "daemon", d1, 5000);
    assert_true(d2 > 0);
    char *pidline = xasprintf("pid: %ld\n", (long)d2);
    assert_true(sv_wait_count(dir, ".pod.status", pidline, 1, 5000));
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 5000));
    free(pidline);
    assert_int_equal(sv_pid(dir, "holder"), h);
    assert_int_equal(fake_pid(dir, "web"), web);
    assert_true(sv_alive(web));
    assert_int_equal(ctr_field(dir, "web", "instance"), 1);
    assert_int_equal(ctr_field(dir, "web", "restartCount"), 0);
    assert_true(sv_wait_count(dir, "log/tdm-1.0.0-stderr.log",
                              "restarted by the holder (restart #1): the previous daemon was "
                              "killed by signal 9",
                              1, 2000));
    assert_true(sv_wait_count(dir, "log/tdm-1.0.0-stderr.log", "re-attached", 1, 2000));
    /* every tick written while no daemon ran is in the log */
    int64_t end = sv_now() + 10000;
    bool gap = true;
    long k = -1;
    while (sv_now() < end) {
        k = ticks_contiguous(dir, &gap);
        if (!gap && k > before + 20)
            break;
        sv_sleep(50);
    }
    assert_false(gap);
    assert_true(k > before + 20);
    stop_pod(dir);
    sv_rm_pod(dir);
}

static void test_daemon__term_stops_and_stop_before_start(void **state)
{
    (void)state;
    char *dir = new_pod(spec_idle);
    start_pod(dir);
    int64_t t0 = sv_now();
    stop_pod(dir); /* created, never started: ends at once */
    assert_true(sv_now() - t0 < 3000);
    start_pod(dir);
    assert_int_equal(call(dir, NULL, NULL, 1, "start"), 0);
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 10000));
    pid_t d = sv_pid(dir, "daemon"), web = fake_pid(dir, "web");
    assert_int_equal(kill(d, SIGTERM), 0);
    int64_t end = sv_now() + 15000;
    while (sv_lock_held(dir) && sv_now() < end)
        sv_sleep(10);
    assert_false(sv_lock_held(dir));
    assert_false(sv_alive(d));
    assert_false(sv_alive(web));
    assert_true(sv_wait_count(dir, "log/tdm-1.0.0-stderr.log", "TERM from pid", 1, 100));
    sv_rm_pod(dir);
}

static long long daemon_field(const char *dir, const char *key)
{
    json_t *j = status_of(dir);
    long long v = json_integer_value(json_object_get(json_object_get(j, "daemon"), key));
    json_decref(j);
    return v;
}

static void test_daemon__idle_wakeups_and_rss(void **state)
{
    (void)state;
    char *dir = new_pod(spec_idle);
    start_pod(dir);
    assert_int_equal(call(dir, NULL, NULL, 1, "start"), 0);
    assert_true(sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 10000));
    sv_sleep(1000);
    pid_t d = sv_pid(dir, "daemon"), h = sv_pid(dir, "holder");
    long long w0 = daemon_field(dir, "wakeups");
    sv_sleep(20000);
    long long w1 = daemon_field(dir, "wakeups");
    long long w2 = daemon_field(dir, "wakeups"); /* what one request costs (accept, read, EOF) */
    long long idle = (w1 - w0) - (w2 - w1);
    print_message("idle 20 s: daemon %lld wake-ups (%lld/min; a status request costs %lld); RSS "
                  "daemon %ld kB, holder %ld kB (test binary, dynamically linked)\n",
                  idle, idle * 3, w2 - w1, sv_rss_kb(d), sv_rss_kb(h));
    /* .pod.status every 5 s, the inspect reconcile every 10 s at the same wake-ups (drv_cfg
     * coalesce_timers): 4 in 20 s (6 when the reconcile wakes on its own) */
    assert_true(idle >= 3 && idle <= 5);
    stop_pod(dir);
    sv_rm_pod(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "__holder") == 0)
        return holder_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "__daemon") == 0)
        return test_daemon_main(argc, argv);
    if (argc > 3 && strcmp(argv[1], "ctl") == 0) { /* by hand: ctl DIR ACTION ARGS... */
        struct ctl_reply r;
        struct pod_err err = POD_ERR_ZERO;
        if (strcmp(argv[3], "spawn") == 0) {
            bool started;
            struct spawn_cfg c = {.dir = argv[2], .name = "pod"};
            int rc = spawn_supervisor(&c, &started, &err);
            fprintf(stderr, "%s\n", rc < 0 ? err.msg : started ? "started" : "alive");
            return rc < 0;
        }
        if (ctl_call(argv[2], ".pod.sock", argv + 3, (size_t)argc - 3, 5000, &r, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 111;
        }
        fputs(r.out, stdout);
        fputs(r.err, stderr);
        ctl_reply_free(&r);
        return r.code;
    }
    signal(SIGPIPE, SIG_IGN);
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest t[] = {
        cmocka_unit_test_teardown(test_daemon__lifecycle, sv_cleanup),
        cmocka_unit_test_teardown(test_daemon__kill9_recovers_without_loss, sv_cleanup),
        cmocka_unit_test_teardown(test_daemon__term_stops_and_stop_before_start, sv_cleanup),
        cmocka_unit_test_teardown(test_daemon__idle_wakeups_and_rss, sv_cleanup),
    };
    sv_san_setup();
    int failed = cmocka_run_group_tests(t, NULL, NULL);
    int reports = sv_san_check(); /* from the holders and daemons */
    return failed || reports ? 1 : 0;
}
