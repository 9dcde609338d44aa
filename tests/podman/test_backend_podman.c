/* SPDX-License-Identifier: MIT */
/* test_backend_podman.c - the podman backend (src/backend) driven directly on real podman with a
 * real loop (`make test-podman-backend`, SPEC.md 7.8).
 *
 * One pod `tbebk<pid>-0.0.1` with containers named tbe*: start -> STARTED, exact output with a
 * partial last line, the exit code from the exit source, restart under the same name, stop
 * with its timeout, kill, a HUP delivered, exec probes (ok, fail, not found, cancel and
 * timeout: the process inside the container is gone), tcp/http probes against busybox httpd on
 * a published port, a container that closes its stdout and runs on, backpressure, a daemon
 * restart (listing, exit source re-armed, log pipes handed back without a gap), a faulty podman
 * (fails, hangs) and a pull, the warm standby (SPEC 7.8.2: the next instance is the standby made
 * while the first ran, renamed, its output exact), then cleanup that leaves nothing.  Without
 * usable podman it skips (exit 0), unless CI=true (exit 1).  Prints the measured latencies.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pod/clk.h"
#include "pod/loop.h"
#include "pod/podman.h"
#include "pod/proc.h"
#include "pod/spec.h"
#include "pod/util.h"

static const char spec_fmt[] =
    "api: 1.0.0-beta2\n"
    "podVersion: 0.0.1\n"
    "containers:\n"
    "  - name: tbeout\n"
    "    image: " IMAGE "\n"
    "    command: [sh, -c]\n"
    "    args: ['printf \"line1\\nline2\\npartial\"; printf \"err1\\n\" >&2; exit 3']\n"
    "  - name: tbesig\n"
    "    image: " IMAGE "\n"
    "    stopTimeout: 1\n"
    "    command: [sh, -c, 'trap \"echo got-hup\" HUP; echo ready; while :; do sleep 0.1; "
    "done']\n"
    "    readinessProbe:\n"
    "      cmd: [sh, -c, 'exit 0']\n"
    "  - name: tbeweb\n"
    "    image: " IMAGE "\n"
    "    stopTimeout: 1\n"
    "    command: [httpd, -f, -p, '80', -h, /www]\n"
    "    expose:\n"
    "      - targetPort: 80\n"
    "        hostPort: %d\n"
    "        hostInterface: 127.0.0.1\n"
    "  - name: tbequiet\n"
    "    image: " IMAGE "\n"
    "    command: [sh, -c, 'echo before; exec >&- 2>&-; sleep 2; exit 5']\n"
    "  - name: tbepull\n"
    "    image: " PULL_IMAGE "\n"
    "    command: [sh, -c, 'echo pulled-ok']\n"
    "  - name: tbechat\n"
    "    image: " IMAGE "\n"
    "    stopTimeout: 1\n"
    "    command: [sh, -c, 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.05; done']\n"
    "  - name: tbeflood\n"
    "    image: " IMAGE "\n"
    "    command: [sh, -c, 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 2000000']\n"
    "  - name: tbewarm\n"
    "    image: " IMAGE "\n"
    "    restart: on-failure\n"
    "    warmStandby: true\n"
    "    command: [sh, -c, 'trap \"exit 3\" TERM; echo hello; echo we >&2; while :; do sleep 0.1; "
    "done']\n";

/* The faulty podman: `verb:hang`, `verb:fail`, `pull:tag` words in the mode file. */
static const char fake_fmt[] =
    "#!/bin/sh\n"
    "mode=$(cat '%s' 2>/dev/null)\n"
    "verb=\"$1\"\n"
    "[ \"$1\" = container ] && verb=\"$2\"\n"
    "[ \"$1\" = pod ] && verb=\"pod-$2\"\n"
    "case \"$mode\" in\n"
    "*\" $verb:hang \"*) exec sleep 1000;;\n"
    "*\" $verb:fail \"*) echo \"Error: injected failure of $verb\" >&2; exit 125;;\n"
    "*\" $verb:tag \"*) exec podman tag " IMAGE " \"$3\";;\n"
    "esac\n"
    "exec podman \"$@\"\n";

static struct pod_spec *load_spec(const char *name, int port)
{
    char *yaml = xasprintf(spec_fmt, port);
    struct spec_opts o = {.file = "pod.yaml", .pod_name = name, .srcdir = "/"};
    struct spec_diags d = {0};
    struct pod_spec *s = NULL;
    if (spec_load(yaml, strlen(yaml), &o, &d, &s) != 0) {
        for (size_t i = 0; i < d.n; i++) {
            char *m = spec_diag_format("pod.yaml", &d.v[i]);
            fprintf(stderr, "%s\n", m);
            free(m);
        }
        exit(1);
    }
    spec_diags_free(&d);
    free(yaml);
    return s;
}

/* ------------------------------------------------------------------ scenarios */

static struct {
    int64_t listing_ms, run_ms[8], exit_lat_ms, exec_ok_ms, exec_fail_ms, tcp_ms, http_ms;
    int64_t stop_ms, kill_ms, cancel_ms, timeout_report_ms, relisting_ms, confirm_ms, warm_ms;
    int confirm_retries, exit_files;
    int n_run;
} M;

static const struct rec *start(struct t *t, size_t ctr, uint64_t inst, size_t *m)
{
    struct pod_err err = POD_ERR_ZERO;
    *m = mark(t);
    int64_t t0 = now_ms();
    CHECK(t->be.ops->ctr_start(t->be.self, ctr, inst, &err) == 0, "ctr_start: %s", err.msg);
    const struct rec *r = wait_ev(t, *m, BACKEND_EV_STARTED, ctr, inst, 30000);
    CHECK(r, "ctr %zu instance %llu: no STARTED", ctr, (unsigned long long)inst);
    if (r && M.n_run < 8)
        M.run_ms[M.n_run++] = r->mono_ms - t0;
    return r;
}

static void s_output_exit_restart(struct t *t)
{
    size_t m;
    start(t, C_OUT, 1, &m);
    const struct rec *ex = wait_ev(t, m, BACKEND_EV_EXITED, C_OUT, 1, 20000);
    CHECK(ex && ex->ev.exit_code == 3, "exit code %d", ex ? ex->ev.exit_code : -1);
    size_t c = C_OUT;
    CHECK(pump(t, 5000, pred_eof2, &c), "no EOF on both streams");
    CHECK(t->out[C_OUT][0].data && !strcmp(t->out[C_OUT][0].data, "line1\nline2\npartial"),
          "stdout [%s]", t->out[C_OUT][0].data ? t->out[C_OUT][0].data : "");
    CHECK(t->out[C_OUT][1].data && !strcmp(t->out[C_OUT][1].data, "err1\n"), "stderr [%s]",
          t->out[C_OUT][1].data ? t->out[C_OUT][1].data : "");
    struct backend_ctr_state cs = inspect_op(t, C_OUT);
    CHECK(cs.exists && !cs.running && cs.instance == 1 && cs.exit_code == 3 &&
              cs.finished_wall_ns > 0,
          "cache after exit: exists=%d running=%d instance=%llu code=%d", cs.exists, cs.running,
          (unsigned long long)cs.instance, cs.exit_code);
    /* the same name again (--replace) */
    start(t, C_OUT, 2, &m);
    ex = wait_ev(t, m, BACKEND_EV_EXITED, C_OUT, 2, 20000);
    CHECK(ex && ex->ev.exit_code == 3, "second instance exit");
    CHECK(pump(t, 5000, pred_eof2, &c) && t->eofs[C_OUT][0] == 2, "second EOF");
    CHECK(!strcmp(t->out[C_OUT][0].data, "line1\nline2\npartialline1\nline2\npartial"),
          "stdout of both instances [%s]", t->out[C_OUT][0].data);
    cs = inspect_op(t, C_OUT);
    CHECK(cs.instance == 2 && cs.exit_code == 3, "cache instance %llu",
          (unsigned long long)cs.instance);
}

/* Container `name`'s id once its state is `state` (podman inspect). */
struct state_want {
    const char *name, *state;
    char id[80];
};

static bool pred_state(struct t *t, const void *arg)
{
    (void)t;
    struct state_want *w = (struct state_want *)arg;
    char *out = NULL;
    bool ok = false;
    if (sh_podman(&out, "container inspect --format '{{.Id}} {{.State.Status}}' %s", w->name) ==
        0) {
        char id[80], st[40];
        if (out && sscanf(out, "%79s %39s", id, st) == 2 && !strcmp(st, w->state)) {
            snprintf(w->id, sizeof w->id, "%s", id);
            ok = true;
        }
    }
    free(out);
    return ok;
}

static bool pred_warm_ready(struct t *t, const void *arg)
{
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    return st.warm_ready >= *(const uint64_t *)arg;
}

static void s_warm_standby(struct t *t)
{
    char base[96], sb[112];
    snprintf(base, sizeof base, "tbewarm-%s", t->pod);
    snprintf(sb, sizeof sb, "%s" PODMAN_STANDBY_SUFFIX, base);
    size_t m;
    struct pod_err err = POD_ERR_ZERO;
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    uint64_t ready = st.warm_ready + 1;
    CHECK(!backend_podman_standby(&t->be, C_OUT), "a standby state for a container without one");
    const char *sbs = backend_podman_standby(&t->be, C_WARM);
    CHECK(sbs && !strcmp(sbs, "none"), "standby before the start: %s", sbs ? sbs : "NULL");
    start(t, C_WARM, 1, &m);
    CHECK(pump(t, 30000, pred_warm_ready, &ready), "no standby ready");
    sbs = backend_podman_standby(&t->be, C_WARM);
    CHECK(sbs && !strcmp(sbs, "ready"), "standby state %s", sbs ? sbs : "NULL");
    struct state_want s1 = {.name = sb, .state = "initialized"};
    CHECK(pump(t, 10000, pred_state, &s1), "no standby %s initialised", sb);
    CHECK(wait_out(t, C_WARM, 1, "we\n", 10000), "first instance: no stderr");
    CHECK(t->be.ops->ctr_kill(t->be.self, C_WARM, 1, SIGTERM, &err) == 0, "kill: %s", err.msg);
    const struct rec *ex = wait_ev(t, m, BACKEND_EV_EXITED, C_WARM, 1, 20000);
    CHECK(ex && ex->ev.exit_code == 3, "exit code %d", ex ? ex->ev.exit_code : -1);
    int64_t t0 = now_ms();
    const struct rec *r = start(t, C_WARM, 2, &m);
    if (r)
        M.warm_ms = r->mono_ms - t0;
    struct state_want run = {.name = base, .state = "running"};
    CHECK(pump(t, 20000, pred_state, &run) && !strcmp(run.id, s1.id),
          "the running %s (%s) is not the standby (%s)", base, run.id, s1.id);
    ready++;
    CHECK(pump(t, 30000, pred_warm_ready, &ready), "no second standby ready");
    struct state_want s2 = {.name = sb, .state = "initialized"};
    CHECK(pump(t, 10000, pred_state, &s2) && strcmp(s2.id, s1.id) != 0, "no new standby");
    backend_podman_stats(&t->be, &st);
    CHECK(st.warm_starts == 1 && st.warm_failures == 0, "warm starts %llu, failures %llu",
          (unsigned long long)st.warm_starts, (unsigned long long)st.warm_failures);
    CHECK(wait_out(t, C_WARM, 1, "we\nwe\n", 10000), "second instance: no stderr");
    m = mark(t);
    CHECK(t->be.ops->ctr_kill(t->be.self, C_WARM, 2, SIGTERM, &err) == 0, "kill: %s", err.msg);
    ex = wait_ev(t, m, BACKEND_EV_EXITED, C_WARM, 2, 20000);
    CHECK(ex && ex->ev.exit_code == 3, "second exit code %d", ex ? ex->ev.exit_code : -1);
    /* byte-exact: no line of podman's (init prints the standby's name on its stdout pipe) */
    CHECK(t->out[C_WARM][0].data && !strcmp(t->out[C_WARM][0].data, "hello\nhello\n"),
          "stdout [%s]", t->out[C_WARM][0].data ? t->out[C_WARM][0].data : "");
    CHECK(t->out[C_WARM][1].data && !strcmp(t->out[C_WARM][1].data, "we\nwe\n"), "stderr [%s]",
          t->out[C_WARM][1].data ? t->out[C_WARM][1].data : "");

    /* a standby still being prepared (its `podman init` hangs) at the next start: that start is
     * a `podman run` at once, not after init's deadline (the hung init is ended) */
    set_mode(t, "init:hang");
    start(t, C_WARM, 3, &m); /* from the standby made ready above */
    CHECK(wait_out(t, C_WARM, 1, "we\nwe\nwe\n", 10000), "third instance: no stderr");
    pump(t, 2000, NULL, NULL); /* renamed; the next standby's init hangs */
    sbs = backend_podman_standby(&t->be, C_WARM);
    CHECK(sbs && !strcmp(sbs, "preparing"), "standby state with init hanging: %s",
          sbs ? sbs : "NULL");
    m = mark(t);
    CHECK(t->be.ops->ctr_kill(t->be.self, C_WARM, 3, SIGTERM, &err) == 0, "kill: %s", err.msg);
    CHECK(wait_ev(t, m, BACKEND_EV_EXITED, C_WARM, 3, 20000), "third instance: no exit");
    set_mode(t, "");
    CHECK(start(t, C_WARM, 4, &m), "fourth instance: no STARTED");
    backend_podman_stats(&t->be, &st);
    CHECK(st.warm_starts == 2 && st.warm_killed == 1, "warm starts %llu, hung calls ended %llu",
          (unsigned long long)st.warm_starts, (unsigned long long)st.warm_killed);
    ready = st.warm_ready + 1;
    CHECK(pump(t, 30000, pred_warm_ready, &ready), "no standby after the hung one");
    CHECK(wait_out(t, C_WARM, 1, "we\nwe\nwe\nwe\n", 10000), "fourth instance: no stderr");
    m = mark(t);
    CHECK(t->be.ops->ctr_kill(t->be.self, C_WARM, 4, SIGTERM, &err) == 0, "kill: %s", err.msg);
    CHECK(wait_ev(t, m, BACKEND_EV_EXITED, C_WARM, 4, 20000), "fourth instance: no exit");
    CHECK(t->out[C_WARM][0].data && !strcmp(t->out[C_WARM][0].data, "hello\nhello\nhello\nhello\n"),
          "stdout of 4 instances [%s]", t->out[C_WARM][0].data ? t->out[C_WARM][0].data : "");
}

static const struct rec *exec_probe(struct t *t, uint64_t tag, char **argv, int64_t deadline_in,
                                    int64_t wait_ms)
{
    struct backend_probe_req req = {.kind = BACKEND_PROBE_EXEC,
                                    .ctr = C_SIG,
                                    .instance = 1,
                                    .tag = tag,
                                    .deadline_mono_ms = now_ms() + deadline_in,
                                    .argv = argv};
    return probe(t, &req, wait_ms);
}

static void s_signal_exec_stop(struct t *t)
{
    size_t m;
    struct pod_err err = POD_ERR_ZERO;
    struct podman_stats st0, st1;
    backend_podman_stats(&t->be, &st0);
    start(t, C_SIG, 1, &m);
    CHECK(wait_out(t, C_SIG, 0, "ready\n", 10000), "no ready");
    uint64_t armed = st0.armed + 1;
    CHECK(pump(t, 5000, pred_armed, &armed), "exit source not armed");
    backend_podman_stats(&t->be, &st0);
    CHECK(t->be.ops->ctr_kill(t->be.self, C_SIG, 1, SIGHUP, &err) == 0, "kill HUP: %s", err.msg);
    CHECK(wait_out(t, C_SIG, 0, "got-hup\n", 10000), "HUP not delivered");
    backend_podman_stats(&t->be, &st1);
    CHECK(st1.pidfd_signals == st0.pidfd_signals + 1, "HUP not sent by pidfd");

    char *ok[] = {"sh", "-c", "exit 0", NULL}, *fail[] = {"sh", "-c", "exit 3", NULL};
    char *nf[] = {"tbe-no-such-command", NULL};
    int64_t t0 = now_ms();
    const struct rec *r = exec_probe(t, 101, ok, 10000, 10000);
    CHECK(r && r->ev.result == BACKEND_OK && r->ev.exit_code == 0, "exec ok");
    M.exec_ok_ms = now_ms() - t0;
    t0 = now_ms();
    r = exec_probe(t, 102, fail, 10000, 10000);
    CHECK(r && r->ev.result == BACKEND_FAIL && r->ev.exit_code == 3, "exec fail");
    M.exec_fail_ms = now_ms() - t0;
    r = exec_probe(t, 103, nf, 10000, 10000);
    CHECK(r && r->ev.result == BACKEND_UNKNOWN && r->ev.exit_code == 127 &&
              strstr(r->ev.msg, "configuration error"),
          "exec not found: %d %d %s", r ? (int)r->ev.result : -1, r ? r->ev.exit_code : -1,
          r ? r->ev.msg : "");
    /* a request for another instance is not run */
    struct backend_probe_req other = {.kind = BACKEND_PROBE_EXEC,
                                      .ctr = C_SIG,
                                      .instance = 99,
                                      .tag = 106,
                                      .deadline_mono_ms = now_ms() + 5000,
                                      .argv = ok};
    r = probe(t, &other, 2000);
    CHECK(r && r->ev.result == BACKEND_UNKNOWN, "exec on a stale instance");

    /* cancel at the deadline (what the supervisor does): the process is killed inside the
     * container, then exactly one EXEC_DONE says CANCELLED */
    char *hang[] = {"sh", "-c", "sleep 300", NULL};
    r = exec_probe(t, 104, hang, 1500, 1500);
    CHECK(!r, "hanging exec reported");
    CHECK(in_container(t, C_SIG, "sleep 300"), "the hanging probe is not running in the container");
    t0 = now_ms();
    size_t mk = mark(t);
    CHECK(t->be.ops->cancel(t->be.self, 104, &err) == 0, "cancel: %s", err.msg);
    pump(t, 300, NULL, NULL);
    M.cancel_ms = now_ms() - t0;
    CHECK(!in_container(t, C_SIG, "sleep 300"), "cancelled probe still runs in the container");
    struct want w0 = {mk, BACKEND_EV_EXEC_DONE, C_SIG, 1, 104};
    pump(t, 5000, pred_ev, &w0);
    r = find_ev(t, &w0);
    CHECK(r && r->ev.result == BACKEND_CANCELLED, "no CANCELLED after the cancel");
    size_t mk2 = mark(t);
    CHECK(t->be.ops->cancel(t->be.self, 104, &err) == 0, "second cancel: %s", err.msg);
    pump(t, 1000, NULL, NULL);
    struct want w = {mk2, BACKEND_EV_EXEC_DONE, C_SIG, 1, 104};
    CHECK(!find_ev(t, &w), "a second EXEC_DONE after the cancel");
    /* no cancel: the backend times it out itself and kills it inside */
    char *hang2[] = {"sh", "-c", "sleep 301", NULL};
    t0 = now_ms();
    r = exec_probe(t, 105, hang2, 1000, 8000);
    CHECK(r && r->ev.result == BACKEND_TIMEOUT, "no TIMEOUT");
    M.timeout_report_ms = now_ms() - t0;
    pump(t, 4000, NULL, NULL);
    CHECK(!in_container(t, C_SIG, "sleep 301"), "timed-out probe still runs in the container");
    backend_podman_stats(&t->be, &st1);
    CHECK(st1.cancel_kills >= 2, "cancel kills %llu", (unsigned long long)st1.cancel_kills);

    /* stop: PID 1 ignores TERM, SIGKILL after the 1 s timeout */
    mk = mark(t);
    t0 = now_ms();
    CHECK(t->be.ops->ctr_stop(t->be.self, C_SIG, 1, 1000, &err) == 0, "stop: %s", err.msg);
    r = wait_ev(t, mk, BACKEND_EV_EXITED, C_SIG, 1, 20000);
    CHECK(r && r->ev.exit_code == 137, "stop exit code %d", r ? r->ev.exit_code : -1);
    M.stop_ms = now_ms() - t0;
    CHECK(M.stop_ms >= 900 && M.stop_ms < 8000, "stop took %lld ms", (long long)M.stop_ms);
}

static void s_web_probes(struct t *t)
{
    size_t m;
    struct pod_err err = POD_ERR_ZERO;
    start(t, C_WEB, 1, &m);
    struct backend_probe_req q = {.kind = BACKEND_PROBE_TCP,
                                  .ctr = C_WEB,
                                  .instance = 1,
                                  .host = "127.0.0.1",
                                  .port = t->port};
    const struct rec *r = NULL;
    for (int k = 0; k < 50; k++) {
        q.tag = 200 + (uint64_t)k;
        q.deadline_mono_ms = now_ms() + 1000;
        int64_t t0 = now_ms();
        r = probe(t, &q, 3000);
        M.tcp_ms = now_ms() - t0;
        if (r && r->ev.result == BACKEND_OK)
            break;
        pump(t, 100, NULL, NULL);
    }
    CHECK(r && r->ev.result == BACKEND_OK, "tcp probe never ok");
    q.kind = BACKEND_PROBE_HTTP;
    q.http_path = "/";
    q.tag = 300;
    q.deadline_mono_ms = now_ms() + 2000;
    int64_t t0 = now_ms();
    r = probe(t, &q, 3000);
    M.http_ms = now_ms() - t0;
    CHECK(r && r->ev.result == BACKEND_OK && r->ev.exit_code == 200, "http / : %d %d",
          r ? (int)r->ev.result : -1, r ? r->ev.exit_code : -1);
    q.http_path = "/tbe-nope";
    q.tag = 301;
    r = probe(t, &q, 3000);
    CHECK(r && r->ev.result == BACKEND_FAIL && r->ev.exit_code == 404, "http 404");
    q.port = t->closed_port;
    q.tag = 302;
    r = probe(t, &q, 3000);
    CHECK(r && r->ev.result == BACKEND_FAIL, "http to a closed port");
    q.kind = BACKEND_PROBE_TCP;
    q.tag = 303;
    r = probe(t, &q, 3000);
    CHECK(r && r->ev.result == BACKEND_FAIL, "tcp to a closed port");
    size_t mk = mark(t);
    t0 = now_ms();
    CHECK(t->be.ops->ctr_kill(t->be.self, C_WEB, 1, SIGKILL, &err) == 0, "kill: %s", err.msg);
    r = wait_ev(t, mk, BACKEND_EV_EXITED, C_WEB, 1, 10000);
    CHECK(r && r->ev.exit_code == 137, "kill -9 exit %d", r ? r->ev.exit_code : -1);
    M.kill_ms = now_ms() - t0;
}

static void s_quiet(struct t *t)
{
    size_t m;
    start(t, C_QUIET, 1, &m);
    size_t c = C_QUIET;
    CHECK(pump(t, 5000, pred_eof2, &c), "no EOF after closing stdout/stderr");
    CHECK(t->out[C_QUIET][0].data && !strcmp(t->out[C_QUIET][0].data, "before\n"), "quiet stdout");
    struct want w = {m, BACKEND_EV_EXITED, C_QUIET, 1, 0};
    CHECK(!find_ev(t, &w), "EXITED before the container exited");
    struct backend_ctr_state cs = inspect_op(t, C_QUIET);
    CHECK(cs.running, "not seen running after EOF");
    struct podman_ctr_info in;
    CHECK(podman_inspect(t, C_QUIET, &in) && in.state == PODMAN_ST_RUNNING,
          "podman says not running");
    podman_ctr_info_clear(&in);
    const struct rec *r = wait_ev(t, m, BACKEND_EV_EXITED, C_QUIET, 1, 10000);
    CHECK(r && r->ev.exit_code == 5, "quiet exit %d", r ? r->ev.exit_code : -1);
    /* the exit of a watched PID 1: how late is the event? */
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    M.confirm_ms = st.last_exit_confirm_ms;
    M.confirm_retries = (int)st.confirm_retries;
    M.exit_files = (int)st.exit_files;
    if (r && podman_inspect(t, C_QUIET, &in)) {
        M.exit_lat_ms = (r->wall_ns - in.finished_wall_ns) / 1000000;
        podman_ctr_info_clear(&in);
    }
}

/* tickN lines 1..K without a gap; returns K (0 when broken). */
static long ticks(const struct pod_buf *b)
{
    long want = 1;
    const char *p = b->data ? b->data : "";
    while (*p) {
        long v;
        if (sscanf(p, "tick%ld\n", &v) != 1 || v != want)
            return 0;
        want++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return want - 1;
}

/* A flood: while the pump has no room the pipe fills, the first read finds 64 KiB, and the
 * pipe grows to PODMAN_PIPE_BURST (SPEC 7.8 "Pipe size"); every byte arrives, in order. */
static void s_flood_pipe_grows(struct t *t)
{
    size_t m;
    struct podman_stats st0, st1;
    backend_podman_stats(&t->be, &st0);
    t->room = false;
    start(t, C_FLOOD, 1, &m);
    pump(t, 500, NULL, NULL); /* the container writes into the pipe, which fills */
    CHECK(t->out[C_FLOOD][0].len == 0, "read while the pump had no room");
    t->room = true;
    backend_podman_output_resume(&t->be);
    size_t c = C_FLOOD;
    CHECK(pump(t, 20000, pred_eof2, &c), "no EOF of the flood");
    backend_podman_stats(&t->be, &st1);
    CHECK(st1.pipe_grows > st0.pipe_grows,
          "the flooded pipe did not grow (grows %llu, refused "
          "%llu)",
          (unsigned long long)st1.pipe_grows, (unsigned long long)st1.pipe_grow_refused);
    const struct pod_buf *b = &t->out[C_FLOOD][0];
    CHECK(b->len == 2000000, "flood: %zu bytes, want 2000000", b->len);
    const char *line = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    size_t ll = strlen(line), bad = 0;
    for (size_t i = 0; i < b->len && !bad; i++)
        if (b->data[i] != line[i % ll])
            bad = i + 1;
    CHECK(!bad, "flood: byte %zu differs", bad - 1);
}

static void s_backpressure_restart(struct t *t)
{
    size_t m;
    struct pod_err err = POD_ERR_ZERO;
    start(t, C_CHAT, 1, &m);
    CHECK(wait_out(t, C_CHAT, 0, "tick20\n", 10000), "no ticks");
    t->room = false;
    pump(t, 300, NULL, NULL);
    size_t l1 = t->out[C_CHAT][0].len;
    pump(t, 700, NULL, NULL);
    CHECK(t->out[C_CHAT][0].len == l1, "read while the pump had no room");
    t->room = true;
    backend_podman_output_resume(&t->be);
    pump(t, 300, NULL, NULL);
    CHECK(t->out[C_CHAT][0].len > l1, "not resumed");
    /* daemon restart: the holder keeps the read ends, a new backend adopts them */
    long k1 = ticks(&t->out[C_CHAT][0]);
    backend_podman_free(&t->be);
    struct timespec ts = {0, 500 * 1000000};
    nanosleep(&ts, NULL); /* the container writes on, into the pipe */
    int64_t t0 = now_ms();
    backend_up(t, NULL, 0);
    struct backend_ctr_state cs;
    CHECK(t->be.ops->inspect(t->be.self, C_CHAT, &cs, &err) < 0, "inspect before the listing");
    CHECK(pump(t, 20000, pred_listed, NULL), "no listing");
    M.relisting_ms = now_ms() - t0;
    cs = inspect_op(t, C_CHAT);
    CHECK(cs.exists && cs.running && cs.instance == 1, "adopted: %d %d %llu", cs.exists, cs.running,
          (unsigned long long)cs.instance);
    cs = inspect_op(t, C_OUT);
    CHECK(cs.exists && !cs.running && cs.instance == 2 && cs.exit_code == 3 &&
              cs.finished_wall_ns > 0,
          "listing of an exited one");
    for (size_t i = 0; i < t->n_held; i++)
        if (t->held[i].ctr == C_CHAT && t->held[i].instance == 1)
            backend_podman_adopt_pipe(&t->be, C_CHAT, 1, t->held[i].stream, dup(t->held[i].fd));
    char want[32];
    snprintf(want, sizeof want, "tick%ld\n", k1 + 30);
    CHECK(wait_out(t, C_CHAT, 0, want, 10000), "no ticks after the restart");
    long k2 = ticks(&t->out[C_CHAT][0]);
    CHECK(k2 >= k1 + 30, "a gap in the ticks across the restart (%ld, %ld)", k1, k2);
    size_t mk = mark(t);
    CHECK(t->be.ops->ctr_kill(t->be.self, C_CHAT, 1, SIGKILL, &err) == 0, "kill: %s", err.msg);
    const struct rec *r = wait_ev(t, mk, BACKEND_EV_EXITED, C_CHAT, 1, 10000);
    CHECK(r && r->ev.exit_code == 137, "adopted exit %d", r ? r->ev.exit_code : -1);
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    CHECK(st.pidfd_signals == 1 && st.pidfd_exits >= 1, "adopted exit source not re-armed");
}

static const struct rec *wait_type(struct t *t, size_t from, enum backend_event_type type,
                                   size_t ctr, uint64_t inst, int64_t ms)
{
    return wait_ev(t, from, type, ctr, inst, ms);
}

static void s_faulty(struct t *t)
{
    struct pod_err err = POD_ERR_ZERO;
    backend_podman_free(&t->be);
    set_mode(t, "ps:fail");
    setenv("POD_PODMAN", t->fake, 1); /* the way a test puts a faulty podman in front */
    backend_up(t, NULL, 2500);
    unsetenv("POD_PODMAN");
    CHECK(!pump(t, 1500, pred_listed, NULL), "listed although ps fails");
    set_mode(t, "");
    CHECK(pump(t, 8000, pred_listed, NULL), "listing not retried");

    set_mode(t, "run:fail");
    size_t m = mark(t);
    CHECK(t->be.ops->ctr_start(t->be.self, C_OUT, 10, &err) == 0, "start: %s", err.msg);
    const struct rec *r = wait_type(t, m, BACKEND_EV_START_FAILED, C_OUT, 10, 10000);
    CHECK(r && strstr(r->ev.msg, "injected failure of run"), "run:fail -> %s",
          r ? r->ev.msg : "nothing");

    set_mode(t, "run:hang");
    m = mark(t);
    int64_t t0 = now_ms();
    CHECK(t->be.ops->ctr_start(t->be.self, C_OUT, 11, &err) == 0, "start: %s", err.msg);
    r = wait_type(t, m, BACKEND_EV_START_FAILED, C_OUT, 11, 10000);
    CHECK(r && strstr(r->ev.msg, "no answer"), "run:hang -> %s", r ? r->ev.msg : "nothing");
    CHECK(now_ms() - t0 < 6000, "hung run not killed at its deadline");

    set_mode(t, "inspect:hang");
    m = mark(t);
    CHECK(t->be.ops->ctr_start(t->be.self, C_OUT, 12, &err) == 0, "start: %s", err.msg);
    CHECK(wait_type(t, m, BACKEND_EV_STARTED, C_OUT, 12, 10000), "no STARTED");
    pump(t, 3000, NULL, NULL);
    set_mode(t, "");
    r = wait_type(t, m, BACKEND_EV_EXITED, C_OUT, 12, 15000);
    CHECK(r && r->ev.exit_code == 3, "exit after inspect hung: %d", r ? r->ev.exit_code : -1);

    set_mode(t, "stop:fail");
    m = mark(t);
    CHECK(t->be.ops->ctr_start(t->be.self, C_CHAT, 13, &err) == 0, "start: %s", err.msg);
    CHECK(wait_type(t, m, BACKEND_EV_STARTED, C_CHAT, 13, 10000), "no STARTED");
    CHECK(t->be.ops->ctr_stop(t->be.self, C_CHAT, 13, 1000, &err) == 0, "stop: %s", err.msg);
    r = wait_type(t, m, BACKEND_EV_CALL_FAILED, C_CHAT, 13, 10000);
    CHECK(r && r->ev.op == BACKEND_OP_STOP && strstr(r->ev.msg, "injected"), "stop:fail -> %s",
          r ? r->ev.msg : "nothing");
    set_mode(t, "");
    CHECK(t->be.ops->ctr_kill(t->be.self, C_CHAT, 13, SIGKILL, &err) == 0, "kill: %s", err.msg);
    r = wait_type(t, m, BACKEND_EV_EXITED, C_CHAT, 13, 10000);
    CHECK(r && r->ev.exit_code == 137, "exit after kill");

    set_mode(t, "rm:fail");
    m = mark(t);
    CHECK(t->be.ops->ctr_remove(t->be.self, C_OUT, &err) == 0, "rm: %s", err.msg);
    struct want w = {m, BACKEND_EV_CALL_FAILED, C_OUT, 12, 0};
    pump(t, 5000, pred_ev, &w);
    r = find_ev(t, &w);
    CHECK(r && r->ev.op == BACKEND_OP_REMOVE, "rm:fail not reported");

    /* a missing image is pulled (the fake pull tags the local image) and the run retried */
    (void)sh_podman(NULL, "rmi %s >/dev/null 2>&1", PULL_IMAGE);
    set_mode(t, "pull:tag");
    m = mark(t);
    CHECK(t->be.ops->ctr_start(t->be.self, C_PULL, 14, &err) == 0, "start: %s", err.msg);
    r = wait_type(t, m, BACKEND_EV_STARTED, C_PULL, 14, 15000);
    CHECK(r, "no STARTED after the pull");
    r = wait_type(t, m, BACKEND_EV_EXITED, C_PULL, 14, 10000);
    CHECK(r && r->ev.exit_code == 0, "pulled container exit");
    CHECK(wait_out(t, C_PULL, 0, "pulled-ok\n", 5000), "pulled container output");
    (void)sh_podman(NULL, "rm -f -t 0 %s-%s >/dev/null 2>&1", "tbepull", t->pod);
    (void)sh_podman(NULL, "rmi %s >/dev/null 2>&1", PULL_IMAGE);
    set_mode(t, "pull:fail");
    m = mark(t);
    CHECK(t->be.ops->ctr_start(t->be.self, C_PULL, 15, &err) == 0, "start: %s", err.msg);
    r = wait_type(t, m, BACKEND_EV_START_FAILED, C_PULL, 15, 15000);
    CHECK(r && strstr(r->ev.msg, "pull failed"), "pull:fail -> %s", r ? r->ev.msg : "nothing");
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    CHECK(st.pulls == 2, "pulls %llu", (unsigned long long)st.pulls);
    set_mode(t, "");
}

static void s_cleanup(struct t *t)
{
    struct pod_err err = POD_ERR_ZERO;
    struct podman_stats st;
    backend_podman_stats(&t->be, &st);
    uint64_t want = st.calls + 1;
    size_t m = mark(t);
    CHECK(t->be.ops->pod_remove(t->be.self, &err) == 0, "pod_remove: %s", err.msg);
    CHECK(pump(t, 30000, pred_calls, &want), "pod rm did not finish");
    for (size_t i = m; i < t->n; i++)
        CHECK(t->ev[i].ev.type != BACKEND_EV_CALL_FAILED, "pod rm failed: %s", t->ev[i].ev.msg);
    char *out = NULL;
    (void)sh_podman(&out, "ps -a -q --filter label=podc.pod=%s", t->pod);
    CHECK(out && !out[0], "containers left: %s", out ? out : "?");
    free(out);
    CHECK(sh_podman(NULL, "pod exists %s", t->pod) == 1, "pod left");
    backend_podman_free(&t->be);
}

/* ------------------------------------------------------------------ main */

static void setup(struct t *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/tbe-be.XXXXXX");
    if (!mkdtemp(t->dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(t->run_dir, sizeof t->run_dir, "%s/.pod.run", t->dir);
    char *d = xasprintf("%s/tbesig", t->run_dir);
    if (mkdir(t->run_dir, 0700) < 0 || mkdir(d, 0777) < 0) {
        perror("mkdir");
        exit(1);
    }
    free(d);
    snprintf(t->modefile, sizeof t->modefile, "%s/mode", t->dir);
    snprintf(t->fake, sizeof t->fake, "%s/fake-podman", t->dir);
    set_mode(t, "");
    FILE *f = fopen(t->fake, "w");
    if (!f) {
        perror(t->fake);
        exit(1);
    }
    fprintf(f, fake_fmt, t->modefile);
    fclose(f);
    chmod(t->fake, 0755);
    ssize_t n = readlink("/proc/self/exe", t->exe, sizeof t->exe - 1);
    t->exe[n > 0 ? n : 0] = 0;
    snprintf(t->pod, sizeof t->pod, "tbebk%d-0.0.1", (int)getpid());
    t->port = free_port();
    do
        t->closed_port = free_port();
    while (t->closed_port == t->port);
    t->room = true;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char why[512];
    bool ci = getenv("CI") && !strcmp(getenv("CI"), "true");
    if (!podman_usable(why, sizeof why)) {
        printf("test_backend_podman: %s: %s\n", ci ? "FAIL" : "skipped", why);
        return ci ? 1 : 0;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    alarm(240);
    static struct t tt;
    struct t *t = &tt;
    g = t;
    setup(t);
    struct pod_err err = POD_ERR_ZERO;
    t->loop = loop_new(&err);
    char name[32];
    snprintf(name, sizeof name, "tbebk%d", (int)getpid());
    t->spec = load_spec(name, t->port);
    int64_t t0 = now_ms();
    backend_up(t, NULL, 0);
    CHECK(pump(t, 20000, pred_listed, NULL), "first listing never answered");
    M.listing_ms = now_ms() - t0;
    CHECK(t->be.ops->pod_create(t->be.self, &err) == 0, "pod_create: %s", err.msg);
    struct {
        const char *name;
        void (*fn)(struct t *);
    } steps[] = {
        {"output, exit code, restart under the same name", s_output_exit_restart},
        {"signal, exec probes (ok/fail/not found/cancel/timeout), stop", s_signal_exec_stop},
        {"tcp/http probes on a published port, kill", s_web_probes},
        {"stdout closed, container runs on", s_quiet},
        {"flood: the pipe grows, every byte arrives", s_flood_pipe_grows},
        {"backpressure, daemon restart (listing, exit source, pipes)", s_backpressure_restart},
        {"faulty podman (fails, hangs), pull", s_faulty},
        {"warm standby: started from it, renamed, output exact, a new one", s_warm_standby},
        {"cleanup leaves nothing", s_cleanup},
    };
    int total_start = (int)now_ms();
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int before = failures;
        int64_t s0 = now_ms();
        steps[i].fn(t);
        printf("%s %zu - %s (%lld ms)\n", failures == before ? "ok" : "not ok", i + 1,
               steps[i].name, (long long)(now_ms() - s0));
    }
    printf("# listing (first, empty pod): %lld ms; after a restart: %lld ms\n",
           (long long)M.listing_ms, (long long)M.relisting_ms);
    printf("# ctr_start -> STARTED (run -d):");
    for (int i = 0; i < M.n_run; i++)
        printf(" %lld", (long long)M.run_ms[i]);
    printf(" ms\n# ctr_start -> STARTED from the warm standby (podman start): %lld ms",
           (long long)M.warm_ms);
    printf("\n# container exit (FinishedAt) -> EXITED event: %lld ms (PID 1 gone -> EXITED: "
           "%lld ms; exits from conmon's exit file so far: %d, inspect retries: %d)\n",
           (long long)M.exit_lat_ms, (long long)M.confirm_ms, M.exit_files, M.confirm_retries);
    printf("# exec probe (podman exec) ok: %lld ms, fail: %lld ms\n", (long long)M.exec_ok_ms,
           (long long)M.exec_fail_ms);
    printf("# tcp probe: %lld ms, http probe: %lld ms\n", (long long)M.tcp_ms,
           (long long)M.http_ms);
    printf("# cancel -> process gone: <= %lld ms; backend timeout report: %lld ms after start "
           "(deadline 1000 ms)\n",
           (long long)M.cancel_ms, (long long)M.timeout_report_ms);
    printf("# stop -t 1 -> EXITED: %lld ms; kill -9 -> EXITED: %lld ms\n", (long long)M.stop_ms,
           (long long)M.kill_ms);
    printf("# total %d ms, %d failure(s)\n", (int)now_ms() - total_start, failures);
    cleanup();
    for (size_t i = 0; i < t->n_held; i++)
        close(t->held[i].fd);
    for (int c = 0; c < C_N; c++)
        for (int s = 0; s < 2; s++)
            pod_buf_free(&t->out[c][s]);
    free(t->ev);
    spec_free(t->spec);
    loop_free(t->loop);
    return failures ? 1 : 0;
}
