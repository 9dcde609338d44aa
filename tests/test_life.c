/* SPDX-License-Identifier: MIT */
/* test_life.c - the lifecycle actions without podman (pod/life.h): the command line of every
 * action, name checks, the create/run and stop/kill/rm decisions from facts, the stop budget,
 * what ps prints (live and dead, text and JSON), the status marking, the host interface file;
 * and the actions themselves against a fake podman (a shell script that records its argv and
 * answers from files) where no supervisor runs: a never-created pod costs no podman call, a
 * pod whose supervisor died is stopped or removed directly, podman missing is exit 111.
 * Real podman: tests/e2e/t_life.sh and the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/daemon.h"
#include "pod/drv.h"
#include "pod/life.h"
#include "pod/util.h"
#include "spec_fixture.h"

static const char *const YAML = "api: 1.0.0-beta2\n"
                                "podVersion: 1.0.0\n"
                                "volumes:\n"
                                "  - name: cfg\n"
                                "    type: config\n"
                                "containers:\n"
                                "  - name: web\n"
                                "    image: img/a:1\n"
                                "    stopTimeout: 3\n"
                                "  - name: db\n"
                                "    image: img/b:1\n"
                                "    mounts:\n"
                                "      - volume: cfg\n"
                                "        dest: /cfg\n"
                                "  - name: log\n"
                                "    image: img/a:1\n"
                                "    kind: sidecar\n"
                                "    stopTimeout: 1\n";

static struct pod_spec *load(void)
{
    return spec_fixture_load(YAML);
}

/* ------------------------------------------------------------------ command lines */

static int parse(const char *action, const char *words, struct life_args *a)
{
    char *copy = xstrdup(words);
    char *argv[16];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    struct pod_err e = POD_ERR_ZERO;
    int rc = life_parse(action, argc, argv, a, &e);
    /* names are copies: the words may go */
    static char keep[512];
    snprintf(keep, sizeof keep, "%s", a->host_if ? a->host_if : "");
    a->host_if = a->host_if ? keep : NULL;
    free(copy);
    return rc < 0 ? e.code : 0;
}

static void test_life_parse__every_action(void **state)
{
    (void)state;
    struct life_args a;
    static const char *const plain[] = {"start", "stop", "kill", "readiness"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(parse(plain[i], "", &a), 0);
        life_args_free(&a);
        assert_int_equal(parse(plain[i], "x", &a), POD_E_USAGE);
        assert_int_equal(parse(plain[i], "-k", &a), POD_E_USAGE);
        assert_int_equal(parse(plain[i], "--host-interface=1.2.3.4", &a), POD_E_USAGE);
    }
    assert_int_equal(parse("create", "--host-interface=10.0.0.5", &a), 0);
    assert_string_equal(a.host_if, "10.0.0.5");
    life_args_free(&a);
    assert_int_equal(parse("run", "--host-interface 10.0.0.5", &a), 0);
    assert_string_equal(a.host_if, "10.0.0.5");
    life_args_free(&a);
    assert_int_equal(parse("run", "--host-interface=", &a), 0); /* none */
    assert_string_equal(a.host_if, "");
    life_args_free(&a);
    static const char *const bad_ip[] = {"--host-interface=1.2.3",    "--host-interface=256.1.1.1",
                                         "--host-interface=01.2.3.4", "--host-interface=a.b.c.d",
                                         "--host-interface=::1",      "--host-interface=1.2.3.4.5"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(parse("run", bad_ip[i], &a), POD_E_USAGE);
    assert_int_equal(parse("run", "web", &a), POD_E_USAGE);
    assert_int_equal(parse("rm", "-k", &a), 0);
    assert_true(a.kill);
    life_args_free(&a);
    assert_int_equal(parse("rm", "--kill", &a), 0);
    life_args_free(&a);
    assert_int_equal(parse("rm", "web", &a), POD_E_USAGE);
    assert_int_equal(parse("rerun", "-k --host-interface=1.2.3.4", &a), 0);
    assert_true(a.kill && a.host_if && !a.names);
    life_args_free(&a);
    assert_int_equal(parse("rerun", "web db", &a), 0);
    assert_int_equal(pod_strv_len(a.names), 2);
    life_args_free(&a);
    assert_int_equal(parse("rerun", "-k web", &a), POD_E_USAGE);
    assert_int_equal(parse("rerun", "web --host-interface=1.2.3.4", &a), POD_E_USAGE);
    assert_int_equal(parse("signal", "", &a), 0);
    assert_null(a.names);
    assert_int_equal(parse("signal", "web db", &a), 0);
    life_args_free(&a);
    assert_int_equal(parse("reload-configs", "", &a), POD_E_USAGE);
    assert_int_equal(parse("reload-configs", "cfg", &a), 0);
    life_args_free(&a);
    assert_int_equal(parse("ps", "--json", &a), 0);
    assert_true(a.json);
    assert_int_equal(parse("ps", "--bogus", &a), POD_E_USAGE);
    assert_int_equal(parse("frob", "", &a), POD_E_USAGE);
}

static void test_life_check_names(void **state)
{
    (void)state;
    struct pod_spec *s = load();
    struct pod_err e = POD_ERR_ZERO;
    char *ok[] = {"web", "log", NULL}, *bad[] = {"web", "nope", NULL}, *cfg[] = {"cfg", NULL};
    assert_int_equal(life_check_names(s, ok, false, &e), 0);
    assert_int_equal(life_check_names(s, NULL, false, &e), 0);
    assert_int_equal(life_check_names(s, bad, false, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    assert_non_null(strstr(e.msg, "`nope`"));
    assert_non_null(strstr(e.msg, "known: web db log"));
    assert_int_equal(life_check_names(s, cfg, true, &e), 0);
    assert_int_equal(life_check_names(s, ok, true, &e), -1);
    assert_non_null(strstr(e.msg, "known: cfg"));
    spec_free(s);
}

/* ------------------------------------------------------------------ decisions */

static void test_life_plan_up(void **state)
{
    (void)state;
    struct life_facts f = {
        .status_word = "", .stored_if = "", .pod_exists = -1, .running = -1, .containers = -1};
    f.supervisor = true;
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_KEEP);
    assert_int_equal(life_plan_up(&f, false), LIFE_UP_KEEP);
    f.supervisor = false;
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_ASK);
    f.pod_exists = f.running = f.containers = 0;
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_CREATE);
    /* the supervisor died, its containers run, the state is live: run re-adopts */
    f.pod_exists = 1;
    f.running = f.containers = 2;
    f.state_live = true;
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_ADOPT);
    assert_int_equal(life_plan_up(&f, false), LIFE_UP_RECREATE); /* create: a bad state */
    f.want_if = "10.0.0.5";                                      /* another interface */
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_RECREATE);
    f.stored_if = "10.0.0.5";
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_ADOPT);
    f.state_live = false; /* stopped: nothing to keep */
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_RECREATE);
    f.state_live = true;
    f.running = 0; /* after a reboot: nothing runs */
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_RECREATE);
    f.pod_exists = 0; /* a network: host container left over */
    f.running = f.containers = 1;
    assert_int_equal(life_plan_up(&f, true), LIFE_UP_RECREATE);
}

static void test_life_plan_down(void **state)
{
    (void)state;
    struct life_facts f = {.status_word = ""};
    assert_int_equal(life_plan_down(&f, false), LIFE_DOWN_NOTHING); /* never created */
    assert_int_equal(life_plan_down(&f, true), LIFE_DOWN_NOTHING);
    f.supervisor = true;
    assert_int_equal(life_plan_down(&f, false), LIFE_DOWN_SUPERVISOR);
    assert_int_equal(life_plan_down(&f, true), LIFE_DOWN_SUPERVISOR);
    f.supervisor = false;
    f.traces = true;
    f.status_word = "running"; /* holder and daemon died */
    assert_int_equal(life_plan_down(&f, false), LIFE_DOWN_DIRECT);
    assert_int_equal(life_plan_down(&f, true), LIFE_DOWN_DIRECT);
    f.status_word = "exited"; /* stopped */
    assert_int_equal(life_plan_down(&f, false), LIFE_DOWN_NOTHING);
    assert_int_equal(life_plan_down(&f, true), LIFE_DOWN_DIRECT);
    f.status_word = "removed";
    assert_int_equal(life_plan_down(&f, false), LIFE_DOWN_NOTHING);
    assert_int_equal(life_plan_down(&f, true), LIFE_DOWN_NOTHING);
}

static void test_life_stop_budget(void **state)
{
    (void)state;
    struct pod_spec *s = load();
    /* tier 1: max(web 3 s, db 10 s) + 2 + 5; tier 2: the sidecar 1 + 2 + 5; margin 10 */
    assert_int_equal(life_stop_budget_ms(s, false), 17000 + 8000 + LIFE_STOP_MARGIN_MS);
    assert_int_equal(life_stop_budget_ms(s, true), 5000 + LIFE_STOP_MARGIN_MS);
    spec_free(s);
}

/* ------------------------------------------------------------------ ps */

static const char *const LIVE =
    "{\"pod\":\"mypod-1.0.0\",\"phase\":\"running\",\"ready\":true,\"healthy\":false,"
    "\"daemon\":{\"pid\":42,\"holderPid\":41,\"started\":1000,\"restarts\":2,\"wakeups\":9},"
    "\"containers\":[{\"name\":\"web\",\"phase\":\"backoff\",\"instance\":3,\"startCount\":3,"
    "\"restartCount\":2,\"running\":false,\"ready\":false,\"live\":true,\"backoffMs\":4000,"
    "\"failures\":2,\"gaveUp\":false,\"exitCode\":1,\"nextStartMs\":1005000,"
    "\"warmStandby\":\"preparing\","
    "\"probes\":{\"readiness\":{\"result\":\"fail\",\"code\":1,\"at\":1090,\"instance\":3},"
    "\"liveness\":{\"result\":\"timeout\",\"code\":0,\"at\":1099,\"instance\":3}}}]}";

static void test_life_ps_live(void **state)
{
    (void)state;
    char *t = life_ps_live(LIVE, false, 1100);
    assert_non_null(t);
    assert_string_equal(t, "pod: mypod-1.0.0\n"
                           "phase: running\n"
                           "readiness: 1\n"
                           "healthy: 0\n"
                           "daemon: alive\n"
                           "daemonPid: 42\n"
                           "holderPid: 41\n"
                           "daemonStarted: 1000\n"
                           "daemonRestarts: 2\n"
                           "containers:\n"
                           "    - name: web\n"
                           "      phase: backoff\n"
                           "      instance: 3\n"
                           "      running: 0\n"
                           "      ready: 0\n"
                           "      live: 1\n"
                           "      startCount: 3\n"
                           "      restartCount: 2\n"
                           "      backoffMs: 4000\n"
                           "      failures: 2\n"
                           "      gaveUp: 0\n"
                           "      exitCode: 1\n"
                           "      nextStartMs: 1005000\n"
                           "      warmStandby: preparing\n"
                           "      readinessProbe: fail (code 1), 10 s ago\n"
                           "      livenessProbe: timeout, 1 s ago\n");
    free(t);
    t = life_ps_live(LIVE, true, 1100);
    assert_non_null(strstr(t, "\"daemon\":{\"pid\":42,"));
    assert_non_null(strstr(t, "\"alive\":true}"));
    assert_int_equal(t[strlen(t) - 1], '\n');
    free(t);
    assert_null(life_ps_live("not json", false, 0));
}

/* The last problem (SPEC 7.2): one line, control characters shown as `?`, with its age. */
static void test_life_ps_live__last_warning(void **state)
{
    (void)state;
    static const char *const j =
        "{\"pod\":\"p-1\",\"phase\":\"running\",\"ready\":true,\"healthy\":true,"
        "\"daemon\":{\"pid\":42,\"holderPid\":41,\"started\":1000,\"restarts\":0,"
        "\"lastWarning\":\"pod-remove failed: x\",\"lastWarningAt\":1090},"
        "\"containers\":[{\"name\":\"a\",\"phase\":\"backoff\","
        "\"lastWarning\":\"run failed: exit 125\\nError\",\"lastWarningAt\":1095}]}";
    char *t = life_ps_live(j, false, 1100);
    assert_non_null(t);
    assert_string_equal(t, "pod: p-1\n"
                           "phase: running\n"
                           "readiness: 1\n"
                           "healthy: 1\n"
                           "daemon: alive\n"
                           "daemonPid: 42\n"
                           "holderPid: 41\n"
                           "daemonStarted: 1000\n"
                           "daemonRestarts: 0\n"
                           "lastWarning: pod-remove failed: x (10 s ago)\n"
                           "containers:\n"
                           "    - name: a\n"
                           "      phase: backoff\n"
                           "      lastWarning: run failed: exit 125?Error (5 s ago)\n");
    free(t);
}

/* The log loss counters (SPEC 7.7, 9.5): shown only when one is not zero, the daemon's own
 * log's under the daemon's lines. */
static void test_life_ps_live__log_loss(void **state)
{
    (void)state;
    static const char *const j =
        "{\"pod\":\"p-1\",\"phase\":\"running\",\"ready\":true,\"healthy\":true,"
        "\"daemon\":{\"pid\":42,\"holderPid\":41,\"started\":1000,\"restarts\":0,"
        "\"logDroppedLines\":0,\"logDroppedBytes\":0,\"logWriteErrors\":3,"
        "\"logBacklogBytes\":100,\"logFailing\":true,\"logLastError\":\"open: x\\ny\"},"
        "\"containers\":[{\"name\":\"a\",\"phase\":\"running\",\"logDroppedLines\":7,"
        "\"logDroppedBytes\":70,\"logWriteErrors\":2,\"logBacklogBytes\":0,"
        "\"logFailing\":false,\"logLastError\":\"write: Input/output "
        "error\"},{\"name\":\"b\",\"phase\":\"running\","
        "\"logDroppedLines\":0,\"logDroppedBytes\":0,\"logWriteErrors\":0,"
        "\"logBacklogBytes\":0,\"logFailing\":false}]}";
    char *t = life_ps_live(j, false, 1100);
    assert_non_null(t);
    assert_string_equal(t, "pod: p-1\n"
                           "phase: running\n"
                           "readiness: 1\n"
                           "healthy: 1\n"
                           "daemon: alive\n"
                           "daemonPid: 42\n"
                           "holderPid: 41\n"
                           "daemonStarted: 1000\n"
                           "daemonRestarts: 0\n"
                           "daemonLogDroppedLines: 0\n"
                           "daemonLogDroppedBytes: 0\n"
                           "daemonLogWriteErrors: 3\n"
                           "daemonLogBacklogBytes: 100\n"
                           "daemonLogFailing: 1\n"
                           "daemonLogLastError: open: x?y\n"
                           "containers:\n"
                           "    - name: a\n"
                           "      phase: running\n"
                           "      logDroppedLines: 7\n"
                           "      logDroppedBytes: 70\n"
                           "      logWriteErrors: 2\n"
                           "      logBacklogBytes: 0\n"
                           "      logFailing: 0\n"
                           "      logLastError: write: Input/output error\n"
                           "    - name: b\n"
                           "      phase: running\n");
    free(t);
}

static const char *const STATUS = "pod: mypod-1.0.0\n"
                                  "podVersion: 1.0.0\n"
                                  "updated: 1000\n"
                                  "status: running\n"
                                  "pid:\n"
                                  "readiness: 0\n"
                                  "containers:\n"
                                  "    - name: web\n"
                                  "      status: running\n"
                                  "      instance: 2\n";

static void test_life_ps_dead(void **state)
{
    (void)state;
    char *t = life_ps_dead(NULL, "mypod-1.0.0", false);
    assert_string_equal(t, "pod: mypod-1.0.0\nstatus: non-existing\ndaemon: dead\n");
    free(t);
    t = life_ps_dead(STATUS, "mypod-1.0.0", false);
    assert_non_null(strstr(t, "readiness: 0\ndaemon: dead\ncontainers:\n    - name: web\n"));
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(drv_status_check(t, strlen(t), &e), 0);
    free(t);
    t = life_ps_dead(STATUS, "mypod-1.0.0", true);
    assert_string_equal(t, "{\"pod\":\"mypod-1.0.0\",\"podVersion\":\"1.0.0\",\"updated\":1000,"
                           "\"status\":\"running\",\"pid\":\"\",\"readiness\":0,\"containers\":"
                           "[{\"name\":\"web\",\"status\":\"running\",\"instance\":2}],"
                           "\"daemon\":{\"alive\":false}}\n");
    free(t);
    t = life_ps_dead(NULL, "mypod-1.0.0", true);
    assert_string_equal(t, "{\"pod\":\"mypod-1.0.0\",\"status\":\"non-existing\","
                           "\"daemon\":{\"alive\":false}}\n");
    free(t);
}

/* ------------------------------------------------------------------ files and the actions */

struct fx {
    char dir[64];
    char *podman, *calls;
    struct pod_spec *spec;
    struct life_env env;
    char *out;
    size_t out_len;
};

/* The fake podman: appends its argv to calls; prints out_<verb> when there is one; exits with
 * the next code of rc_<verb> (default 0).  <verb>: "ps", "stop", "pod_stop", "pod_rm", ... */
static const char *const FAKE = "#!/bin/sh\n"
                                "d=$(dirname \"$0\")\n"
                                "echo \"$*\" >>\"$d/calls\"\n"
                                "case \"$2\" in -*|'') key=$1 ;; *) key=$1_$2 ;; esac\n"
                                "[ -f \"$d/out_$key\" ] && cat \"$d/out_$key\"\n"
                                "f=\"$d/rc_$key\"\n"
                                "[ -s \"$f\" ] || exit 0\n"
                                "rc=$(head -n1 \"$f\"); sed -i 1d \"$f\"\n"
                                "[ \"$rc\" = 0 ] || echo \"Error: fake $key failed\" >&2\n"
                                "exit \"$rc\"\n";

static void put(struct fx *f, const char *name, const char *text)
{
    char *p = pod_path_join(f->dir, name);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(p, text, strlen(text), 0755, &e), 0);
    free(p);
}

static char *get(struct fx *f, const char *name)
{
    char *p = pod_path_join(f->dir, name), *d = NULL;
    size_t n;
    struct pod_err e = POD_ERR_ZERO;
    int rc = pod_read_file(p, 1 << 20, &d, &n, &e);
    free(p);
    return rc < 0 ? NULL : d;
}

static bool there(struct fx *f, const char *name)
{
    char *p = pod_path_join(f->dir, name);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_life.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->podman = pod_path_join(f->dir, "podman");
    f->calls = pod_path_join(f->dir, "calls");
    put(f, "podman", FAKE);
    f->spec = load();
    f->env = (struct life_env){.spec = f->spec,
                               .exe = "/nonexistent/pod",
                               .dir = f->dir,
                               .name = "pod",
                               .podman = f->podman};
    pod_log_set_level(0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f->podman);
    free(f->calls);
    free(f->out);
    spec_free(f->spec);
    free(f);
    pod_log_set_level(POD_LOG_INFO);
    return 0;
}

/* Runs one action with words; its stdout in f->out. */
static int act(struct fx *f, life_action_fn *fn, const char *action, const char *words)
{
    free(f->out);
    f->out = NULL;
    FILE *out = open_memstream(&f->out, &f->out_len);
    f->env.out = out;
    char *copy = xstrdup(words);
    char *argv[16];
    int argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    int rc = fn(&f->env, action, argc, argv);
    fclose(out);
    free(copy);
    return rc;
}

static char *calls(struct fx *f)
{
    char *c = get(f, "calls");
    return c ? c : xstrdup("");
}

static void test_life_status_mark(void **state)
{
    struct fx *f = *state;
    struct pod_err e = POD_ERR_ZERO;
    /* none: a minimal one */
    assert_int_equal(life_status_mark(f->spec, f->dir, "pod", "removed", &e), 0);
    char *t = get(f, ".pod.status");
    assert_int_equal(drv_status_check(t, strlen(t), &e), 0);
    assert_non_null(strstr(t, "\nstatus: removed\n"));
    free(t);
    put(f, ".pod.status",
        "pod: mypod-1.0.0\nupdated: 5\nstatus: running\nphase: running\n"
        "pid: 77\nreadiness: 1\nhealthy: 1\ncontainers:\n    - name: web\n"
        "      status: running\n      running: 1\n      ready: 1\n");
    assert_int_equal(life_status_mark(f->spec, f->dir, "pod", "exited", &e), 0);
    t = get(f, ".pod.status");
    assert_int_equal(drv_status_check(t, strlen(t), &e), 0);
    assert_non_null(strstr(t, "\nstatus: exited\nphase: exited\npid:\nreadiness: 0\nhealthy: 0\n"));
    assert_non_null(strstr(t, "      status: running\n      running: 0\n      ready: 0\n"));
    assert_null(strstr(t, "updated: 5\n"));
    free(t);
}

static void test_life_hostif(void **state)
{
    struct fx *f = *state;
    assert_true(daemon_hostif_valid(""));
    assert_true(daemon_hostif_valid("0.0.0.0"));
    assert_true(daemon_hostif_valid("192.168.10.255"));
    assert_false(daemon_hostif_valid("192.168.10"));
    assert_false(daemon_hostif_valid("1.2.3.04"));
    assert_false(daemon_hostif_valid("1.2.3.4 "));
    char *ip = (char *)"x";
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(daemon_hostif_read(f->dir, "pod", &ip, &e), 0); /* no file */
    assert_null(ip);
    put(f, ".pod.hostif", "10.1.2.3\n");
    assert_int_equal(daemon_hostif_read(f->dir, "pod", &ip, &e), 0);
    assert_string_equal(ip, "10.1.2.3");
    free(ip);
    put(f, ".pod.hostif", "\n");
    assert_int_equal(daemon_hostif_read(f->dir, "pod", &ip, &e), 0);
    assert_null(ip);
    put(f, ".pod.hostif", "evil; rm -rf /\n");
    assert_int_equal(daemon_hostif_read(f->dir, "pod", &ip, &e), -1);
}

/* Nothing of the pod here: stop, kill, rm exit 0 and never run podman; queries answer. */
static void test_life_never_created(void **state)
{
    struct fx *f = *state;
    assert_int_equal(act(f, life_stop, "stop", ""), 0);
    assert_int_equal(act(f, life_kill, "kill", ""), 0);
    assert_int_equal(act(f, life_rm, "rm", "-k"), 0);
    assert_int_equal(act(f, life_readiness, "readiness", ""), 1);
    assert_string_equal(f->out, "");
    assert_int_equal(act(f, life_ps, "ps", ""), 0);
    assert_string_equal(f->out, "pod: mypod-1.0.0\nstatus: non-existing\ndaemon: dead\n");
    assert_int_equal(act(f, life_signal, "signal", "web"), 1);
    assert_int_equal(act(f, life_rerun, "rerun", "nope"), 1);
    assert_int_equal(act(f, life_reload_configs, "reload-configs", "nope"), 1);
    assert_int_equal(act(f, life_rerun, "rerun", "-k web"), 100);
    char *c = calls(f);
    assert_string_equal(c, "");
    free(c);
    assert_false(there(f, ".pod.status"));
    assert_false(there(f, ".pod.lock"));
}

static const char *const PS_ONE_RUNNING =
    "[{\"Id\":\"a1\",\"Names\":[\"web-mypod-1.0.0\"],\"State\":\"running\",\"Pid\":4242,"
    "\"Labels\":{\"podc.pod\":\"mypod-1.0.0\",\"podc.container\":\"web\",\"podc.instance\":\"1\"}},"
    "{\"Id\":\"b2\",\"Names\":[\"db-mypod-1.0.0\"],\"State\":\"exited\",\"ExitCode\":0,"
    "\"Labels\":{\"podc.pod\":\"mypod-1.0.0\",\"podc.container\":\"db\",\"podc.instance\":\"1\"}}]";

/* Holder and daemon died (the status still says running): stop stops what runs directly. */
static void test_life_stop_without_supervisor(void **state)
{
    struct fx *f = *state;
    put(f, ".pod.status",
        "pod: mypod-1.0.0\nupdated: 5\nstatus: running\npid: 99999999\n"
        "readiness: 1\ncontainers:\n");
    put(f, "out_ps", PS_ONE_RUNNING);
    assert_int_equal(act(f, life_stop, "stop", ""), 0);
    char *c = calls(f);
    assert_non_null(strstr(c, "ps -a --filter label=podc.pod=mypod-1.0.0"));
    assert_non_null(strstr(c, "\nstop -t 10 web-mypod-1.0.0\n"));
    assert_null(strstr(c, "stop -t 10 db-mypod")); /* not running */
    assert_non_null(strstr(c, "pod stop -i -t 0 mypod-1.0.0\n"));
    free(c);
    char *t = get(f, ".pod.status");
    assert_non_null(strstr(t, "\nstatus: exited\n"));
    assert_non_null(strstr(t, "\nreadiness: 0\n"));
    free(t);
    /* stopped: a second stop costs nothing */
    put(f, "calls", "");
    assert_int_equal(act(f, life_stop, "stop", ""), 0);
    c = calls(f);
    assert_string_equal(c, "");
    free(c);
}

static void test_life_rm_without_supervisor(void **state)
{
    struct fx *f = *state;
    put(f, ".pod.status",
        "pod: mypod-1.0.0\nupdated: 5\nstatus: exited\npid:\n"
        "readiness: 0\ncontainers:\n");
    put(f, ".pod.state", "{\"sup\":{\"phase\":\"exited\"}}");
    put(f, ".pod.hostif", "10.0.0.1\n");
    assert_int_equal(act(f, life_rm, "rm", ""), 0);
    char *c = calls(f);
    assert_string_equal(c, "pod rm -f -i mypod-1.0.0\n"); /* stopped: nothing to stop first */
    free(c);
    char *t = get(f, ".pod.status");
    assert_non_null(strstr(t, "\nstatus: removed\n"));
    free(t);
    assert_false(there(f, ".pod.state"));
    assert_true(there(f, ".pod.hostif")); /* rerun/run keep the interface */
    put(f, "calls", "");
    assert_int_equal(act(f, life_rm, "rm", ""), 0); /* removed: nothing */
    c = calls(f);
    assert_string_equal(c, "");
    free(c);
    /* a failing removal is exit 1 */
    put(f, ".pod.status", "pod: mypod-1.0.0\nupdated: 5\nstatus: exited\nreadiness: 0\n");
    put(f, "rc_pod_rm", "125\n");
    assert_int_equal(act(f, life_rm, "rm", ""), 1);
}

static void test_life_start_and_podman_missing(void **state)
{
    struct fx *f = *state;
    put(f, "rc_pod_exists", "1\n");
    assert_int_equal(act(f, life_start, "start", ""), 1); /* no such pod */
    put(f, ".pod.status", "pod: mypod-1.0.0\nupdated: 5\nstatus: running\nreadiness: 0\n");
    f->env.podman = "/nonexistent/podman";
    assert_int_equal(act(f, life_stop, "stop", ""), 111);
    assert_int_equal(act(f, life_run, "run", ""), 111);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_life_parse__every_action),
        cmocka_unit_test(test_life_check_names),
        cmocka_unit_test(test_life_plan_up),
        cmocka_unit_test(test_life_plan_down),
        cmocka_unit_test(test_life_stop_budget),
        cmocka_unit_test(test_life_ps_live),
        cmocka_unit_test(test_life_ps_live__log_loss),
        cmocka_unit_test(test_life_ps_live__last_warning),
        cmocka_unit_test(test_life_ps_dead),
        cmocka_unit_test_setup_teardown(test_life_status_mark, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_life_hostif, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_life_never_created, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_life_stop_without_supervisor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_life_rm_without_supervisor, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_life_start_and_podman_missing, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
