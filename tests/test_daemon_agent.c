/* SPDX-License-Identifier: MIT */
/* test_daemon_agent.c - the daemon's exec strategy on the in-container agent
 * (src/daemon/daemon_agent.c) without podman: a fake podman whose `exec -d CTR /.podc/agent
 * __agent SOCK` starts this very test binary as the agent on the host (main() dispatches
 * `__agent` like the pod executable), with the socket in the run directory.  Checked: the
 * agent is started and connected once per instance; requests are declined while it is not
 * ready, for another instance and when it cannot be started; results map to backend results;
 * every request taken reports exactly once - its own result, CANCELLED after a cancel,
 * TIMEOUT from the agent, and CANCELLED/UNKNOWN when the instance ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/daemon/daemon_agent.h"
#include "pod/agent.h"
#include "pod/util.h"

static const char *const YAML = "api: 1.0.0-beta2\n"
                                "podVersion: 1.0.0\n"
                                "containers:\n"
                                "  - name: web\n"
                                "    image: img/a:1\n"
                                "    readinessProbe:\n"
                                "      cmd: [true]\n"
                                "  - name: plain\n"
                                "    image: img/a:1\n";

/* exec -d <ctr>-mypod-1.0.0 /.podc/agent __agent /.podc/run/agent.sock: the agent on the host,
 * detached, with its socket in <dir>/run/<ctr>/.  A file `fail` makes it fail as podman. */
static const char *const FAKE =
    "#!/bin/sh\n"
    "d=$(dirname \"$0\")\n"
    "echo \"$*\" >>\"$d/calls\"\n"
    "[ -f \"$d/fail\" ] && { echo 'Error: fake exec failed' >&2; exit 125; }\n"
    "[ \"$1 $2\" = 'exec -d' ] || exit 125\n"
    "c=${3%%-mypod-1.0.0}\n"
    "setsid \"$AGENT_EXE\" __agent \"$d/run/$c/agent.sock\" </dev/null >/dev/null 2>&1 &\n"
    "exit 0\n";

struct res {
    uint64_t tag;
    enum backend_result r;
    int code;
};

struct fx {
    char dir[64];
    struct pod_spec *spec;
    struct loop *loop;
    struct dagent *a;
    struct res got[64];
    size_t n;
};

static void on_done(void *arg, uint64_t tag, enum backend_result r, int code, const char *msg)
{
    struct fx *f = arg;
    (void)msg;
    assert_true(f->n < 64);
    f->got[f->n++] = (struct res){tag, r, code};
}

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_dagent.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char *p = pod_path_join(f->dir, "podman"), *run = pod_path_join(f->dir, "run");
    char *sub = pod_path_join(run, "web");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(p, FAKE, strlen(FAKE), 0755, &e), 0);
    assert_int_equal(mkdir(run, 0700), 0);
    assert_int_equal(mkdir(sub, 0777), 0);
    struct spec_opts o = {.file = "pod.yaml", .pod_name = "mypod", .srcdir = "/src"};
    struct spec_diags d = {0};
    assert_int_equal(spec_load(YAML, strlen(YAML), &o, &d, &f->spec), 0);
    spec_diags_free(&d);
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    struct dagent_cfg c = {.loop = f->loop,
                           .clk = &clk_real,
                           .spec = f->spec,
                           .pod_dir = f->dir,
                           .run_dir = run,
                           .podman = p,
                           .enabled = true,
                           .done = on_done,
                           .done_arg = f};
    f->a = dagent_new(&c);
    free(p);
    free(run);
    free(sub);
    pod_log_set_level(0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    dagent_free(f->a);
    loop_free(f->loop);
    char *cmd = xasprintf("rm -rf '%s'", f->dir); /* the agents leave with their sockets */
    assert_int_equal(system(cmd), 0);
    free(cmd);
    spec_free(f->spec);
    free(f);
    pod_log_set_level(POD_LOG_INFO);
    return 0;
}

/* Runs the loop until pred(f) or ms passed. */
static bool pump(struct fx *f, int64_t ms, bool (*pred)(struct fx *f))
{
    int64_t end = clk_mono_ms(&clk_real) + ms;
    while (!(pred && pred(f))) {
        int64_t now = clk_mono_ms(&clk_real);
        if (now >= end)
            return false;
        int64_t dl = dagent_next_deadline(f->a);
        if (dl > now + 20)
            dl = now + 20;
        struct pod_err e = POD_ERR_ZERO;
        assert_true(loop_run_once(f->loop, &clk_real, dl, &e) >= 0);
        dagent_tick(f->a);
    }
    return true;
}

static bool ready0(struct fx *f)
{
    return dagent_ready(f->a, 0);
}

static size_t want_n;
static bool has_n(struct fx *f)
{
    return f->n >= want_n;
}

static int run(struct fx *f, uint64_t tag, uint64_t inst, int64_t in_ms, char **argv)
{
    struct backend_probe_req r = {.kind = BACKEND_PROBE_EXEC,
                                  .ctr = 0,
                                  .instance = inst,
                                  .tag = tag,
                                  .deadline_mono_ms = clk_mono_ms(&clk_real) + in_ms,
                                  .argv = argv};
    struct pod_err e = POD_ERR_ZERO;
    return dagent_start(f->a, &r, &e);
}

static const struct res *result(struct fx *f, uint64_t tag)
{
    const struct res *hit = NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->got[i].tag == tag) {
            assert_null(hit); /* exactly once */
            hit = &f->got[i];
        }
    return hit;
}

static void wait_result(struct fx *f, size_t n)
{
    want_n = n;
    assert_true(pump(f, 5000, has_n));
}

static void test_dagent__runs_through_the_agent(void **state)
{
    struct fx *f = *state;
    char *ok[] = {"true", NULL}, *three[] = {"sh", "-c", "exit 3", NULL};
    char *missing[] = {"/nonexistent/x", NULL};
    assert_int_equal(run(f, 1, 1, 5000, ok), 1); /* no instance yet: declined */
    dagent_instance(f->a, 1, 1, 4242, NULL);     /* `plain` needs no agent: nothing */
    dagent_instance(f->a, 0, 1, 4242, NULL);
    assert_int_equal(run(f, 2, 1, 5000, ok), 1); /* starting: declined */
    assert_true(pump(f, 5000, ready0));
    dagent_instance(f->a, 0, 1, 4242, NULL);     /* the same instance again: nothing new */
    assert_int_equal(run(f, 3, 2, 5000, ok), 1); /* another instance: declined */
    assert_int_equal(run(f, 4, 1, 5000, ok), 0);
    assert_int_equal(run(f, 5, 1, 5000, three), 0);
    assert_int_equal(run(f, 6, 1, 5000, missing), 0);
    wait_result(f, 3);
    assert_true(result(f, 4)->r == BACKEND_OK && result(f, 4)->code == 0);
    assert_true(result(f, 5)->r == BACKEND_FAIL && result(f, 5)->code == 3);
    assert_true(result(f, 6)->r == BACKEND_UNKNOWN && result(f, 6)->code == 127);
    struct dagent_stats st;
    dagent_stats(f->a, &st);
    assert_int_equal(st.starts, 1);
    assert_int_equal(st.runs, 3);
    assert_int_equal(st.declined, 3);
}

static void test_dagent__cancel_timeout_and_instance_end(void **state)
{
    struct fx *f = *state;
    char *hang[] = {"sleep", "30", NULL};
    struct pod_err e = POD_ERR_ZERO;
    dagent_instance(f->a, 0, 1, 4242, NULL);
    assert_true(pump(f, 5000, ready0));
    /* cancel: exactly one CANCELLED once the agent reaped it; a second cancel adds nothing */
    assert_int_equal(run(f, 10, 1, 30000, hang), 0);
    assert_int_equal(dagent_cancel(f->a, 10, &e), 0);
    assert_int_equal(dagent_cancel(f->a, 10, &e), 0);
    wait_result(f, 1);
    assert_int_equal(result(f, 10)->r, BACKEND_CANCELLED);
    /* its deadline (+ the 2 s grace): the agent kills it, TIMEOUT */
    assert_int_equal(run(f, 11, 1, 10, hang), 0);
    wait_result(f, 2);
    assert_int_equal(result(f, 11)->r, BACKEND_TIMEOUT);
    /* the instance ends with requests in flight: they end with it */
    assert_int_equal(run(f, 12, 1, 30000, hang), 0);
    assert_int_equal(run(f, 13, 1, 30000, hang), 0);
    assert_int_equal(dagent_cancel(f->a, 13, &e), 0);
    dagent_instance(f->a, 0, 1, -1, NULL);
    assert_int_equal(f->n, 4);
    assert_int_equal(result(f, 12)->r, BACKEND_UNKNOWN);
    assert_int_equal(result(f, 13)->r, BACKEND_CANCELLED);
    char *sock = xasprintf("%s/run/web/agent.sock", f->dir);
    assert_int_equal(access(sock, F_OK), -1); /* removed: nobody to connect to */
    free(sock);
    char *ok[] = {"true", NULL};
    assert_int_equal(run(f, 14, 1, 5000, ok), 1);
    pump(f, 300, NULL);
    assert_int_equal(f->n, 4); /* nothing late */
}

static void test_dagent__start_failure_falls_back(void **state)
{
    struct fx *f = *state;
    char *fail = pod_path_join(f->dir, "fail");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(fail, "", 0, 0644, &e), 0);
    free(fail);
    dagent_instance(f->a, 0, 1, 4242, NULL);
    pump(f, 1500, ready0);
    assert_false(dagent_ready(f->a, 0));
    char *ok[] = {"true", NULL};
    assert_int_equal(run(f, 20, 1, 5000, ok), 1); /* podman exec for this instance */
    struct dagent_stats st;
    dagent_stats(f->a, &st);
    assert_int_equal(st.start_failures, 1);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], AGENT_ACTION) == 0)
        return agent_main(argc, argv);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    setenv("AGENT_EXE", self, 1);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_dagent__runs_through_the_agent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_dagent__cancel_timeout_and_instance_end, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_dagent__start_failure_falls_back, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
