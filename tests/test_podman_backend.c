/* SPDX-License-Identifier: MIT */
/* test_podman_backend.c - the podman backend without podman (src/backend): a podman that cannot
 * be started turns into events, never a hang; log pipes handed to the backend (adoption) give
 * exact OUTPUT / OUTPUT_EOF with the output_room gate and the holder hooks; tcp/http probes
 * against a server in this process (ok, status codes, garbage, silence -> TIMEOUT, cancel,
 * refused); exec on an instance that does not run.  Real podman: tests/podman/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod/clk.h"
#include "pod/loop.h"
#include "pod/podman.h"
#include "pod/spec.h"
#include "pod/util.h"

struct fx {
    struct loop *loop;
    struct pod_spec *spec;
    struct backend be;
    struct backend_event ev[64];
    size_t n;
    struct pod_buf out;
    int eofs, holds, drops;
    bool room;
    int srv, port;
    const char *reply; /* what the server answers (NULL: nothing, keeps the connection) */
    int conns[8];
    size_t n_conns;
    int64_t skew_ms; /* added to the real monotonic clock the backend sees */
};

static int64_t skewed_mono(void *self)
{
    return clk_mono_ms(&clk_real) + ((struct fx *)self)->skew_ms;
}

static int64_t real_wall(void *self)
{
    (void)self;
    return clk_wall_ns(&clk_real);
}

static void hold_fd(void *self, size_t ctr, uint64_t instance, int stream, int fd)
{
    (void)ctr, (void)instance, (void)stream, (void)fd;
    ((struct fx *)self)->holds++;
}

static void drop_fd(void *self, size_t ctr, uint64_t instance, int stream)
{
    (void)ctr, (void)instance, (void)stream;
    ((struct fx *)self)->drops++;
}

static bool room(void *self)
{
    return ((struct fx *)self)->room;
}

static void on_accept(void *arg, int fd, unsigned events)
{
    (void)events;
    struct fx *f = arg;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (f->reply) {
        ssize_t w = write(c, f->reply, strlen(f->reply));
        (void)w;
        close(c);
    } else if (f->n_conns < 8) {
        f->conns[f->n_conns++] = c; /* silent */
    } else {
        close(c);
    }
}

static const char yaml[] = "api: 1.0.0-beta2\n"
                           "podVersion: 0.0.1\n"
                           "containers:\n"
                           "  - name: a\n"
                           "    image: localhost/podtest:1\n"
                           "  - name: b\n"
                           "    image: localhost/podtest:1\n";

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    struct pod_err err = POD_ERR_ZERO;
    f->loop = loop_new(&err);
    assert_non_null(f->loop);
    struct spec_opts o = {.file = "pod.yaml", .pod_name = "tbeunit", .srcdir = "/"};
    struct spec_diags d = {0};
    assert_int_equal(spec_load(yaml, strlen(yaml), &o, &d, &f->spec), 0);
    spec_diags_free(&d);
    struct podman_cfg cfg = {.spec = f->spec,
                             .loop = f->loop,
                             .clk = {.mono_ms = skewed_mono, .wall_ns = real_wall, .self = f},
                             .pod_dir = "/nonexistent/pod",
                             .podman = "/nonexistent/podman",
                             .hold_fd = hold_fd,
                             .drop_fd = drop_fd,
                             .hold_self = f,
                             .output_room = room,
                             .room_self = f};
    f->room = true;
    assert_int_equal(backend_podman_new(&cfg, &f->be, &err), 0);
    /* a local server for the probes */
    f->srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(f->srv, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->srv, 8), 0);
    assert_int_equal(getsockname(f->srv, (struct sockaddr *)&a, &l), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(loop_add(f->loop, f->srv, LOOP_IN, on_accept, f, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    backend_podman_free(&f->be);
    loop_del(f->loop, f->srv);
    close(f->srv);
    for (size_t i = 0; i < f->n_conns; i++)
        close(f->conns[i]);
    loop_free(f->loop);
    spec_free(f->spec);
    pod_buf_free(&f->out);
    free(f);
    return 0;
}

static void drain(struct fx *f)
{
    struct backend_event evs[8];
    struct pod_err err = POD_ERR_ZERO;
    int n;
    while ((n = f->be.ops->poll_events(f->be.self, evs, 8, &err)) > 0)
        for (int i = 0; i < n; i++) {
            if (evs[i].type == BACKEND_EV_OUTPUT)
                pod_buf_add(&f->out, evs[i].data, evs[i].len);
            if (evs[i].type == BACKEND_EV_OUTPUT_EOF)
                f->eofs++;
            if (f->n < 64) {
                f->ev[f->n] = evs[i];
                f->ev[f->n++].data = NULL;
            }
        }
}

/* Runs the loop for ms (or until an event of type t arrives, when t != 0). */
static const struct backend_event *run(struct fx *f, int64_t ms, enum backend_event_type t,
                                       uint64_t tag)
{
    int64_t end = clk_mono_ms(&clk_real) + ms;
    size_t from = f->n;
    for (;;) {
        drain(f);
        for (size_t i = from; t && i < f->n; i++)
            if (f->ev[i].type == t && (t != BACKEND_EV_EXEC_DONE || f->ev[i].tag == tag))
                return &f->ev[i];
        if (clk_mono_ms(&clk_real) >= end)
            return NULL;
        int64_t d = f->be.ops->next_deadline(f->be.self);
        struct pod_err err = POD_ERR_ZERO;
        assert_true(loop_run_once(f->loop, &clk_real, d < end ? d : end, &err) >= 0);
    }
}

static void test_backend__podman_missing_gives_events(void **state)
{
    struct fx *f = *state;
    struct pod_err err = POD_ERR_ZERO;
    struct backend_ctr_state cs;
    run(f, 100, 0, 0);
    assert_int_equal(f->be.ops->inspect(f->be.self, 0, &cs, &err), -1); /* no listing */
    assert_int_equal(f->be.ops->ctr_start(f->be.self, 0, 1, &err), 0);
    const struct backend_event *e = run(f, 5000, BACKEND_EV_START_FAILED, 0);
    assert_non_null(e);
    /* (under valgrind too: no pidfd_open there, but the emulated pidfds, SPEC 7.8.1) */
    assert_non_null(strstr(e->msg, "/nonexistent/podman"));
    assert_int_equal(f->holds, 2); /* both read ends went to the holder */
    run(f, 200, 0, 0);
    assert_int_equal(f->eofs, 2); /* nobody holds the write ends any more */
    assert_int_equal(f->drops, 2);
    assert_int_equal(f->be.ops->pod_create(f->be.self, &err), 0);
    e = run(f, 5000, BACKEND_EV_CALL_FAILED, 0);
    assert_non_null(e);
    assert_int_equal(e->op, BACKEND_OP_POD_CREATE);
    assert_true(e->ctr == SIZE_MAX);
    /* nothing runs: stop is a no-op, kill says so */
    assert_int_equal(f->be.ops->ctr_stop(f->be.self, 0, 1, 1000, &err), 0);
    assert_int_equal(f->be.ops->ctr_kill(f->be.self, 0, 1, 9, &err), -1);
    assert_int_equal(f->be.ops->ctr_kill(f->be.self, 0, 1, 99, &err), -1);
    assert_int_equal(f->be.ops->ctr_start(f->be.self, 7, 1, &err), -1);
    struct podman_stats st;
    backend_podman_stats(&f->be, &st);
    assert_true(st.calls >= 3 && st.calls_failed == st.calls);
}

static void test_backend__adopted_pipe_output_room_eof(void **state)
{
    struct fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    backend_podman_adopt_pipe(&f->be, 1, 5, BACKEND_STDOUT, p[0]);
    assert_int_equal(write(p[1], "abc\npartial", 11), 11);
    run(f, 200, 0, 0);
    assert_int_equal(f->out.len, 11);
    assert_memory_equal(f->out.data, "abc\npartial", 11);
    assert_int_equal(f->ev[f->n - 1].instance, 5);
    f->room = false;  /* the log pump is full: the pipe is not read */
    run(f, 20, 0, 0); /* releases the buffer of the last event */
    assert_int_equal(write(p[1], "more", 4), 4);
    run(f, 200, 0, 0);
    assert_int_equal(f->out.len, 11);
    f->room = true;
    backend_podman_output_resume(&f->be);
    run(f, 200, 0, 0);
    assert_int_equal(f->out.len, 15);
    /* a second read end for the same key is refused (closed) */
    int q[2];
    assert_int_equal(pipe(q), 0);
    backend_podman_adopt_pipe(&f->be, 1, 5, BACKEND_STDOUT, q[0]);
    assert_int_equal(write(q[1], "x", 1), -1); /* EPIPE: no reader left (SIGPIPE ignored) */
    close(q[1]);
    close(p[1]);
    assert_non_null(run(f, 2000, BACKEND_EV_OUTPUT_EOF, 0));
    assert_int_equal(f->drops, 1);
    assert_int_equal(f->holds, 0); /* adopted: the holder has it already */
}

/* SPEC 7.8 "Pipe size": a read that finds the pipe busy grows it to PODMAN_PIPE_BURST; reads that
 * find it nearly empty PODMAN_PIPE_SHRINK_MS after that shrink it back; the bytes are unchanged. */
static void test_backend__busy_pipe_grows_then_shrinks(void **state)
{
    struct fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    backend_podman_adopt_pipe(&f->be, 0, 1, BACKEND_STDOUT, p[0]);
    f->room = false; /* the pump is full: the container fills the pipe */
    static char big[PODMAN_OUT_BUF];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(write(p[1], big, sizeof big), (ssize_t)sizeof big);
    run(f, 50, 0, 0);
    assert_int_equal(f->out.len, 0);
    f->room = true;
    backend_podman_output_resume(&f->be);
    run(f, 200, 0, 0);
    assert_int_equal(f->out.len, sizeof big);
    assert_memory_equal(f->out.data, big, sizeof big);
    struct podman_stats st;
    backend_podman_stats(&f->be, &st);
    assert_int_equal(st.pipe_grows, 1);
    assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), PODMAN_PIPE_BURST);
    /* a trickle soon after: the pipe stays big */
    assert_int_equal(write(p[1], "x\n", 2), 2);
    run(f, 100, 0, 0);
    assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), PODMAN_PIPE_BURST);
    /* the same trickle PODMAN_PIPE_SHRINK_MS later: back to the default */
    f->skew_ms += PODMAN_PIPE_SHRINK_MS;
    assert_int_equal(write(p[1], "y\n", 2), 2);
    run(f, 100, 0, 0);
    assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), PODMAN_PIPE_DEFAULT);
    backend_podman_stats(&f->be, &st);
    assert_int_equal(st.pipe_shrinks, 1);
    assert_int_equal(f->out.len, sizeof big + 4);
    assert_memory_equal(f->out.data + sizeof big, "x\ny\n", 4);
    close(p[1]);
    assert_non_null(run(f, 2000, BACKEND_EV_OUTPUT_EOF, 0));
}

/* The policy alone. */
static void test_backend__pipe_resize_policy(void **state)
{
    (void)state;
    assert_int_equal(podman_pipe_resize(0, 100, 0, 0), 0);
    assert_int_equal(podman_pipe_resize(0, PODMAN_PIPE_BUSY - 1, 0, 0), 0);
    assert_int_equal(podman_pipe_resize(0, PODMAN_PIPE_BUSY, 0, 0), PODMAN_PIPE_BURST);
    assert_int_equal(podman_pipe_resize(0, PODMAN_OUT_BUF, 0, 0), PODMAN_PIPE_BURST);
    assert_int_equal(podman_pipe_resize(PODMAN_PIPE_BURST, PODMAN_OUT_BUF, 0, 99999), 0);
    assert_int_equal(
        podman_pipe_resize(PODMAN_PIPE_BURST, 10, 1000, 1000 + PODMAN_PIPE_SHRINK_MS - 1), 0);
    assert_int_equal(podman_pipe_resize(PODMAN_PIPE_BURST, 10, 1000, 1000 + PODMAN_PIPE_SHRINK_MS),
                     PODMAN_PIPE_DEFAULT);
    assert_int_equal(podman_pipe_resize(PODMAN_PIPE_BURST, PODMAN_PIPE_CALM, 0, 99999), 0);
}

/* A cancelled `podman exec` whose process's environment cannot be read (rootless, container
 * user not root) is recognised by its exec session's conmon: the `--exec-process-spec` file its
 * command line names holds the marker as a JSON string (podman 4.3's process spec, trimmed). */
static void test_backend__exec_spec_marker(void **state)
{
    (void)state;
    char dir[] = "/tmp/podc-test-spec.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *spec = xasprintf("%s/exec-process-1903763161", dir);
    FILE *fp = fopen(spec, "w");
    assert_non_null(fp);
    fputs("{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":1000},\"args\":[\"sleep\",\"3701\"],"
          "\"env\":[\"PATH=/usr/bin:/bin\",\"PODC_PROBE_TAG=12\",\"HOSTNAME=x\"],\"cwd\":\"/\"}",
          fp);
    fclose(fp);
    /* conmon's argv as /proc/PID/cmdline gives it: NUL after each argument */
    char cmd[512];
    size_t n = 0;
    const char *argv[] = {"/usr/bin/conmon",
                          "--api-version",
                          "1",
                          "-i",
                          "-e",
                          "--exec-attach",
                          "--exec-process-spec",
                          spec,
                          "--exit-command",
                          "/usr/bin/podman"};
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++) {
        size_t l = strlen(argv[i]) + 1;
        assert_true(n + l <= sizeof cmd);
        memcpy(cmd + n, argv[i], l);
        n += l;
    }
    assert_true(podman_exec_spec_has(cmd, n, "PODC_PROBE_TAG=12"));
    assert_false(podman_exec_spec_has(cmd, n, "PODC_PROBE_TAG=1"));   /* a prefix is not it */
    assert_false(podman_exec_spec_has(cmd, n, "PODC_PROBE_TAG=123")); /* nor a longer tag */
    assert_false(podman_exec_spec_has(cmd, n, "PODC_PROBE_TAG=3701"));
    /* the `--flag=value` form */
    char *eq = xasprintf("/usr/bin/conmon%c--exec-process-spec=%s%c", 0, spec, 0);
    size_t eqn = strlen("/usr/bin/conmon") + 1 + strlen("--exec-process-spec=") + strlen(spec) + 1;
    assert_true(podman_exec_spec_has(eq, eqn, "PODC_PROBE_TAG=12"));
    /* the container's own conmon (no exec session), a truncated command line, a relative or
     * missing spec: not marked */
    const char own[] = "/usr/bin/conmon\0--api-version\0"
                       "1\0-c\0abc\0";
    assert_false(podman_exec_spec_has(own, sizeof own - 1, "PODC_PROBE_TAG=12"));
    size_t upto_flag = 0;
    for (size_t i = 0; i < 7; i++)
        upto_flag += strlen(argv[i]) + 1;
    assert_false(podman_exec_spec_has(cmd, upto_flag, "PODC_PROBE_TAG=12"));     /* no FILE */
    assert_false(podman_exec_spec_has(cmd, upto_flag + 5, "PODC_PROBE_TAG=12")); /* FILE cut */
    const char rel[] = "conmon\0--exec-process-spec\0exec-process-1\0";
    assert_false(podman_exec_spec_has(rel, sizeof rel - 1, "PODC_PROBE_TAG=12"));
    unlink(spec);
    assert_false(podman_exec_spec_has(cmd, n, "PODC_PROBE_TAG=12"));
    assert_int_equal(rmdir(dir), 0);
    free(eq);
    free(spec);
}

static const struct backend_event *probe(struct fx *f, enum backend_probe_kind k, int port,
                                         const char *path, uint64_t tag, int64_t deadline_in,
                                         int64_t wait)
{
    struct backend_probe_req r = {.kind = k,
                                  .ctr = 0,
                                  .instance = 1,
                                  .tag = tag,
                                  .deadline_mono_ms = clk_mono_ms(&clk_real) + deadline_in,
                                  .host = "127.0.0.1",
                                  .port = port,
                                  .http_path = path};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), 0);
    return run(f, wait, BACKEND_EV_EXEC_DONE, tag);
}

static void test_backend__tcp_http_probes(void **state)
{
    struct fx *f = *state;
    f->reply = "HTTP/1.0 204 No Content\r\n\r\n";
    const struct backend_event *e = probe(f, BACKEND_PROBE_TCP, f->port, NULL, 1, 1000, 2000);
    assert_non_null(e);
    assert_int_equal(e->result, BACKEND_OK);
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/healthz?x=1", 2, 1000, 2000);
    assert_non_null(e);
    assert_int_equal(e->result, BACKEND_OK);
    assert_int_equal(e->exit_code, 204);
    f->reply = "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n";
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/", 3, 1000, 2000);
    assert_true(e && e->result == BACKEND_OK && e->exit_code == 302);
    f->reply = "HTTP/1.1 500 Oops\r\n\r\n";
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/", 4, 1000, 2000);
    assert_true(e && e->result == BACKEND_FAIL && e->exit_code == 500);
    f->reply = "SSH-2.0-OpenSSH\r\n";
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/", 5, 1000, 2000);
    assert_true(e && e->result == BACKEND_FAIL && strstr(e->msg, "not an HTTP"));
    f->reply = "";
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/", 6, 1000, 2000);
    assert_true(e && e->result == BACKEND_FAIL);
    /* silence: TIMEOUT from the backend itself 2 s after the deadline */
    f->reply = NULL;
    e = probe(f, BACKEND_PROBE_HTTP, f->port, "/", 7, 100, 4000);
    assert_true(e && e->result == BACKEND_TIMEOUT);
    /* cancelled: exactly one EXEC_DONE, CANCELLED (the socket is closed); a second cancel of the
     * same tag adds nothing */
    struct pod_err err = POD_ERR_ZERO;
    assert_null(probe(f, BACKEND_PROBE_HTTP, f->port, "/", 8, 100, 50));
    assert_int_equal(f->be.ops->cancel(f->be.self, 8, &err), 0);
    e = run(f, 500, BACKEND_EV_EXEC_DONE, 8);
    assert_true(e && e->result == BACKEND_CANCELLED);
    assert_int_equal(f->be.ops->cancel(f->be.self, 8, &err), 0);
    assert_null(run(f, 2500, BACKEND_EV_EXEC_DONE, 8));
    /* refused */
    int closed = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(closed, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(closed, (struct sockaddr *)&a, &l), 0);
    e = probe(f, BACKEND_PROBE_TCP, ntohs(a.sin_port), NULL, 9, 1000, 2000);
    close(closed);
    assert_true(e && e->result == BACKEND_FAIL);
    /* refused before anything runs: a path that would split the request, a bad port, a tag in
     * use */
    struct backend_probe_req r = {.kind = BACKEND_PROBE_HTTP,
                                  .ctr = 0,
                                  .instance = 1,
                                  .tag = 10,
                                  .deadline_mono_ms = clk_mono_ms(&clk_real) + 1000,
                                  .port = f->port,
                                  .http_path = "/a\r\nX: y"};
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), -1);
    r.http_path = "/";
    r.port = 0;
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), -1);
    r.port = f->port;
    f->reply = NULL;
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), 0);
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), -1);
    assert_int_equal(f->be.ops->cancel(f->be.self, 10, &err), 0);
}

static void test_backend__exec_on_a_container_not_running(void **state)
{
    struct fx *f = *state;
    char *argv[] = {"true", NULL};
    struct backend_probe_req r = {.kind = BACKEND_PROBE_EXEC,
                                  .ctr = 1,
                                  .instance = 3,
                                  .tag = 20,
                                  .deadline_mono_ms = clk_mono_ms(&clk_real) + 1000,
                                  .argv = argv};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(f->be.ops->probe(f->be.self, &r, &err), 0);
    const struct backend_event *e = run(f, 1000, BACKEND_EV_EXEC_DONE, 20);
    assert_true(e && e->result == BACKEND_UNKNOWN && strstr(e->msg, "not running"));
    assert_int_equal(f->be.ops->cancel(f->be.self, 12345, &err), 0); /* unknown tag */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    pod_log_set_level(POD_LOG_ERROR); /* the failing listing warns on every try */
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_backend__podman_missing_gives_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend__adopted_pipe_output_room_eof, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backend__busy_pipe_grows_then_shrinks, setup,
                                        teardown),
        cmocka_unit_test(test_backend__pipe_resize_policy),
        cmocka_unit_test(test_backend__exec_spec_marker),
        cmocka_unit_test_setup_teardown(test_backend__tcp_http_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend__exec_on_a_container_not_running, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
