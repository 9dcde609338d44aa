/* SPDX-License-Identifier: MIT */
/* test_agent_client.c - the daemon's agent client (src/agent/agent_client.c) against a fake
 * agent on the other end of a socketpair, with a fake clock: request life cycle, cancel
 * semantics (never success after a cancel), every deadline, and a hostile agent (garbage,
 * oversized frames, answers nobody asked for, a peer that never reads) - the client must end
 * every request LOST and report the loss, never crash or block.  Connecting through a real path:
 * retries, a long directory, a symlink planted in the socket's place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../sim/clk_fake.h"
#include "pod/agent.h"
#include "pod/util.h"

#define MAXEV 64

struct fx {
    struct clk_fake fake;
    struct clk clk;
    struct loop *loop;
    struct agent_client *c;
    int peer; /* the fake agent's end */
    size_t n_done, n_lost, n_ready;
    uint64_t tag[MAXEV];
    int code[MAXEV];
    enum agent_state st[MAXEV];
    char why[200];
    /* reentrancy: the done callback runs this tag once */
    uint64_t rerun_tag;
    bool reconnect_on_lost;
};

static void on_done(void *arg, uint64_t tag, int code, enum agent_state st)
{
    struct fx *f = arg;
    assert_true(f->n_done < MAXEV);
    f->tag[f->n_done] = tag;
    f->code[f->n_done] = code;
    f->st[f->n_done] = st;
    f->n_done++;
    if (f->rerun_tag) {
        char *argv[] = {"again", NULL};
        struct pod_err err = POD_ERR_ZERO;
        assert_int_equal(agent_run(f->c, f->rerun_tag, 0, argv, &err), 0);
        f->rerun_tag = 0;
    }
}

static void on_ready(void *arg)
{
    ((struct fx *)arg)->n_ready++;
}

static void on_lost(void *arg, const char *why)
{
    struct fx *f = arg;
    f->n_lost++;
    snprintf(f->why, sizeof f->why, "%s", why);
    if (f->reconnect_on_lost) {
        struct pod_err err = POD_ERR_ZERO;
        assert_int_equal(agent_connect(f->c, clk_mono_ms(&f->clk) + 1000, &err), 0);
    }
}

static struct fx *fx_new(const char *path)
{
    struct fx *f = xcalloc(1, sizeof *f);
    clk_fake_init(&f->fake, 0);
    clk_fake_set(&f->fake, 1000);
    f->clk = clk_fake_clock(&f->fake);
    struct pod_err err = POD_ERR_ZERO;
    f->loop = loop_new(&err);
    assert_non_null(f->loop);
    struct agent_client_cbs cbs = {on_done, on_ready, on_lost, f};
    f->c = agent_client_new(f->loop, &f->clk, path, &cbs);
    f->peer = -1;
    return f;
}

/* A client connected to a fake agent (socketpair), HELLO not yet sent. */
static struct fx *fx_pair(void)
{
    struct fx *f = fx_new("/nonexistent/agent.sock");
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_client_adopt_fd(f->c, sv[0], 1000 + 5000, &err), 0);
    f->peer = sv[1];
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_CONNECTING);
    return f;
}

static void fx_free(struct fx *f)
{
    agent_client_free(f->c);
    loop_free(f->loop);
    if (f->peer >= 0)
        close(f->peer);
    free(f);
}

/* Runs the client: ready fds, then whatever deadline has passed on the fake clock. */
static void pump(struct fx *f)
{
    struct pod_err err = POD_ERR_ZERO;
    for (int i = 0; i < 8; i++) {
        (void)loop_run_once(f->loop, &f->clk, clk_mono_ms(&f->clk), &err);
        if (agent_next_deadline(f->c) <= clk_mono_ms(&f->clk))
            agent_handle_deadline(f->c);
    }
}

static void advance(struct fx *f, int64_t ms)
{
    clk_fake_advance(&f->fake, ms);
    pump(f);
}

static void peer_raw(struct fx *f, const void *p, size_t n)
{
    assert_int_equal(write(f->peer, p, n), (ssize_t)n);
}

static void peer_send(struct fx *f, const char *const *fields, size_t n)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    agent_frame_put(&buf, &len, &cap, fields, n);
    peer_raw(f, buf, len);
    free(buf);
}

#define SEND(f, ...)                                                                               \
    do {                                                                                           \
        const char *fs_[] = {__VA_ARGS__};                                                         \
        peer_send(f, fs_, sizeof fs_ / sizeof fs_[0]);                                             \
        pump(f);                                                                                   \
    } while (0)

static void hello(struct fx *f)
{
    SEND(f, "HELLO", AGENT_PROTO_VERSION, "42");
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_READY);
}

/* Reads one frame from the client into a static buffer; returns the field count, 0 when
 * nothing arrives within 200 ms. */
static int peer_recv(struct fx *f, char **fields, size_t max)
{
    static char buf[AGENT_REQ_MAX + 4];
    size_t len = 0, need = 4;
    while (len < need) {
        struct pollfd pf = {.fd = f->peer, .events = POLLIN};
        if (poll(&pf, 1, 200) != 1)
            return 0;
        ssize_t r = read(f->peer, buf + len, need - len);
        if (r <= 0)
            return 0;
        len += (size_t)r;
        if (len == 4 && need == 4) {
            const unsigned char *u = (const unsigned char *)buf;
            need = 4 + ((size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16);
        }
    }
    return agent_fields(buf + 4, need - 4, fields, max);
}

static void run(struct fx *f, uint64_t tag, int64_t timeout)
{
    char *argv[] = {"sh", "-c", "exit 3", NULL};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_run(f->c, tag, timeout, argv, &err), 0);
    pump(f);
}

/* ------------------------------------------------------------------ life cycle */

static void test_agent_client__queued_until_hello_then_done(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    run(f, 7, 1000); /* before HELLO: queued */
    char *g[16];
    assert_int_equal(peer_recv(f, g, 16), 0);
    hello(f);
    assert_int_equal(f->n_ready, 1);
    assert_int_equal(peer_recv(f, g, 16), 6);
    assert_string_equal(g[0], "RUN");
    assert_string_equal(g[1], "7");
    assert_string_equal(g[2], "1000");
    assert_string_equal(g[3], "sh");
    assert_string_equal(g[5], "exit 3");
    assert_int_equal(agent_inflight(f->c), 1);
    SEND(f, "DONE", "7", "exit", "3");
    assert_int_equal(f->n_done, 1);
    assert_true(f->tag[0] == 7 && f->code[0] == 3 && f->st[0] == AGENT_OK);
    assert_int_equal(agent_inflight(f->c), 0);
    assert_int_equal(f->n_lost, 0);
    assert_int_equal(agent_next_deadline(f->c), INT64_MAX); /* idle: nothing to wake up for */
    fx_free(f);
}

static void test_agent_client__every_answer(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    for (uint64_t t = 1; t <= 4; t++)
        run(f, t, 0);
    SEND(f, "DONE", "2", "timeout");
    SEND(f, "DONE", "1", "exit", "137");
    SEND(f, "DONE", "3", "error", "11");
    SEND(f, "DONE", "4", "cancelled"); /* the agent's word, though nobody cancelled */
    assert_int_equal(f->n_done, 4);
    assert_true(f->tag[0] == 2 && f->st[0] == AGENT_TIMEOUT && f->code[0] == -1);
    assert_true(f->tag[1] == 1 && f->st[1] == AGENT_OK && f->code[1] == 137);
    assert_true(f->tag[2] == 3 && f->st[2] == AGENT_ERROR && f->code[2] == 11);
    assert_true(f->tag[3] == 4 && f->st[3] == AGENT_CANCELLED);
    assert_int_equal(f->n_lost, 0);
    fx_free(f);
}

static void test_agent_client__split_frames(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    const char hello_done[] = "\x0a\0\0\0HELLO\0"
                              "1\0"
                              "9\0"
                              "\x0e\0\0\0DONE\0"
                              "5\0"
                              "exit\0"
                              "0\0";
    run(f, 5, 0);
    for (size_t i = 0; i < sizeof hello_done - 1; i++) {
        peer_raw(f, hello_done + i, 1);
        pump(f);
    }
    assert_int_equal(f->n_done, 1);
    assert_true(f->tag[0] == 5 && f->st[0] == AGENT_OK && f->code[0] == 0);
    assert_int_equal(f->n_lost, 0);
    fx_free(f);
}

/* ------------------------------------------------------------------ cancel */

static void test_agent_client__cancel_never_reports_success(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    run(f, 5, 1000);
    run(f, 6, 1000);
    char *g[16];
    assert_int_equal(peer_recv(f, g, 16), 6);
    assert_int_equal(peer_recv(f, g, 16), 6);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_cancel(f->c, 5, &err), 0);
    assert_int_equal(agent_cancel(f->c, 5, &err), -1); /* once */
    assert_int_equal(agent_cancel(f->c, 99, &err), -1);
    pump(f);
    assert_int_equal(peer_recv(f, g, 16), 2);
    assert_string_equal(g[0], "CANCEL");
    assert_string_equal(g[1], "5");
    assert_int_equal(f->n_done, 0); /* only once the agent confirmed */
    /* the exit 0 crossed our CANCEL: still cancelled */
    SEND(f, "DONE", "5", "exit", "0");
    assert_true(f->n_done == 1 && f->tag[0] == 5 && f->st[0] == AGENT_CANCELLED);
    assert_int_equal(agent_cancel(f->c, 6, &err), 0);
    pump(f);
    SEND(f, "DONE", "6", "cancelled");
    assert_true(f->n_done == 2 && f->tag[1] == 6 && f->st[1] == AGENT_CANCELLED);
    fx_free(f);
}

static void test_agent_client__cancel_before_sent(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    run(f, 1, 0);
    run(f, 2, 0);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_cancel(f->c, 1, &err), 0);
    assert_int_equal(f->n_done, 0); /* never from inside agent_cancel */
    assert_true(agent_next_deadline(f->c) <= clk_mono_ms(&f->clk));
    pump(f);
    assert_true(f->n_done == 1 && f->tag[0] == 1 && f->st[0] == AGENT_CANCELLED);
    hello(f);
    char *g[16];
    assert_int_equal(peer_recv(f, g, 16), 6); /* only tag 2 is sent */
    assert_string_equal(g[1], "2");
    assert_int_equal(peer_recv(f, g, 16), 0);
    fx_free(f);
}

/* ------------------------------------------------------------------ a hostile or broken agent */

struct garbage {
    const char *name;
    const char *f[6]; /* fields of a well-formed frame with bad content, or */
    const char *raw;  /* bytes (rawlen) that are no frame at all */
    size_t rawlen;
    bool before_hello; /* sent instead of HELLO */
};

static void test_agent_client__garbage_drops_the_agent(void **state)
{
    (void)state;
    const struct garbage cases[] = {
        {"oversized (257 > AGENT_REPLY_MAX)", {0}, "\x01\x01\0\0", 4, false},
        {"4 GiB length", {0}, "\xff\xff\xff\xff", 4, false},
        {"empty frame", {0}, "\0\0\0\0", 4, false},
        {"last field unterminated",
         {0},
         "\x08\0\0\0DONE\0"
         "1\0x",
         12,
         false},
        {"binary", {0}, "\x03\0\0\0\xff\xfe\0", 7, true},
        {"unknown verb", {"HELO"}, NULL, 0, false},
        {"bad tag", {"DONE", "a1", "exit", "0"}, NULL, 0, false},
        {"tag beyond u64", {"DONE", "18446744073709551616", "exit", "0"}, NULL, 0, false},
        {"exit 256", {"DONE", "1", "exit", "256"}, NULL, 0, false},
        {"exit -1", {"DONE", "1", "exit", "-1"}, NULL, 0, false},
        {"exit without code", {"DONE", "1", "exit"}, NULL, 0, false},
        {"extra field", {"DONE", "1", "exit", "0", "x"}, NULL, 0, false},
        {"unknown state", {"DONE", "1", "fine"}, NULL, 0, false},
        {"timeout with code", {"DONE", "1", "timeout", "0"}, NULL, 0, false},
        {"errno out of range", {"DONE", "1", "error", "99999"}, NULL, 0, false},
        {"second HELLO", {"HELLO", "1", "9"}, NULL, 0, false},
        {"DONE before HELLO", {"DONE", "1", "exit", "0"}, NULL, 0, true},
        {"other protocol version", {"HELLO", "2", "9"}, NULL, 0, true},
        {"HELLO without pid", {"HELLO", "1"}, NULL, 0, true},
        {"HELLO with a bad pid", {"HELLO", "1", "-9"}, NULL, 0, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct garbage *g = &cases[i];
        struct fx *f = fx_pair();
        run(f, 1, 0);
        if (!g->before_hello)
            hello(f);
        if (g->raw) {
            peer_raw(f, g->raw, g->rawlen);
        } else {
            size_t n = 0;
            while (n < 6 && g->f[n])
                n++;
            peer_send(f, g->f, n);
        }
        pump(f);
        if (f->n_lost != 1)
            fail_msg("case `%s`: not dropped", g->name);
        assert_int_equal(agent_conn_state(f->c), AGENT_CONN_DOWN);
        assert_true(f->n_done == 1 && f->tag[0] == 1 && f->st[0] == AGENT_LOST);
        char *argv[] = {"true", NULL};
        struct pod_err err = POD_ERR_ZERO;
        assert_int_equal(agent_run(f->c, 2, 0, argv, &err), -1); /* DOWN */
        fx_free(f);
    }
}

static void test_agent_client__unknown_tags_within_budget(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    run(f, 1, 0);
    run(f, 2, 0);
    SEND(f, "DONE", "77", "exit", "0"); /* unknown: ignored */
    assert_int_equal(f->n_done, 0);
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_READY);
    SEND(f, "DONE", "1", "exit", "0");
    assert_int_equal(f->n_done, 1);
    /* a third answer to two requests: the agent answers what nobody asked */
    SEND(f, "DONE", "78", "exit", "0");
    assert_int_equal(f->n_lost, 1);
    assert_true(f->n_done == 2 && f->tag[1] == 2 && f->st[1] == AGENT_LOST);
    assert_non_null(strstr(f->why, "more requests"));
    fx_free(f);
}

static void test_agent_client__eof_loses_everything(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    char *g[16];
    for (uint64_t t = 1; t <= 3; t++) {
        run(f, t, 0);
        assert_int_equal(peer_recv(f, g, 16), 6); /* read: a clean EOF, not a reset */
    }
    close(f->peer);
    f->peer = -1;
    pump(f);
    assert_int_equal(f->n_lost, 1);
    assert_int_equal(f->n_done, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->st[i], AGENT_LOST);
    if (!strstr(f->why, "closed"))
        fail_msg("why: %s", f->why);
    fx_free(f);
}

static void test_agent_client__stuck_agent(void **state)
{
    (void)state;
    /* a request not answered by its timeout + grace */
    struct fx *f = fx_pair();
    hello(f);
    run(f, 1, 1000);
    advance(f, 1000 + AGENT_REPLY_GRACE_MS - 1);
    assert_int_equal(f->n_lost, 0);
    advance(f, 1);
    assert_int_equal(f->n_lost, 1);
    assert_true(f->n_done == 1 && f->st[0] == AGENT_LOST);
    assert_non_null(strstr(f->why, "did not answer request 1"));
    fx_free(f);
    /* a cancel not confirmed within the grace, for a request without timeout */
    f = fx_pair();
    hello(f);
    run(f, 1, 0);
    assert_int_equal(agent_next_deadline(f->c), INT64_MAX);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_cancel(f->c, 1, &err), 0);
    advance(f, AGENT_REPLY_GRACE_MS);
    assert_true(f->n_lost == 1 && f->n_done == 1 && f->st[0] == AGENT_LOST);
    fx_free(f);
    /* no HELLO by the connect deadline */
    f = fx_pair();
    run(f, 1, 0);
    advance(f, 4999);
    assert_int_equal(f->n_lost, 0);
    advance(f, 1);
    assert_true(f->n_lost == 1 && f->n_done == 1 && f->st[0] == AGENT_LOST);
    assert_non_null(strstr(f->why, "no HELLO"));
    fx_free(f);
}

static void test_agent_client__agent_that_does_not_read(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    char *big = xmalloc(200 * 1024);
    memset(big, 'x', 200 * 1024 - 1);
    big[200 * 1024 - 1] = '\0';
    char *argv[] = {"echo", big, NULL};
    struct pod_err err = POD_ERR_ZERO;
    uint64_t tag = 1;
    while (agent_run(f->c, tag, 0, argv, &err) == 0) /* until the client refuses */
        tag++;
    assert_non_null(strstr(err.msg, "does not read"));
    assert_true(tag > (AGENT_OUTBUF_MAX / (200 * 1024)));
    assert_int_equal(f->n_done, 0);
    advance(f, AGENT_WRITE_STALL_MS);
    assert_int_equal(f->n_lost, 1);
    assert_int_equal(f->n_done, tag - 1);
    assert_non_null(strstr(f->why, "does not read"));
    free(big);
    fx_free(f);
}

static void test_agent_client__refused_requests(void **state)
{
    (void)state;
    struct fx *f = fx_new("/nonexistent/agent.sock");
    struct pod_err err = POD_ERR_ZERO;
    char *ok[] = {"true", NULL}, *empty[] = {"", NULL}, *none[] = {NULL};
    assert_int_equal(agent_run(f->c, 1, 0, ok, &err), -1); /* DOWN */
    fx_free(f);
    f = fx_pair();
    assert_int_equal(agent_run(f->c, 1, 0, ok, &err), 0);
    assert_int_equal(agent_run(f->c, 1, 0, ok, &err), -1); /* duplicate tag */
    assert_int_equal(agent_run(f->c, 2, 0, empty, &err), -1);
    assert_int_equal(agent_run(f->c, 2, 0, none, &err), -1);
    assert_int_equal(agent_run(f->c, 2, -1, ok, &err), -1);
    assert_int_equal(agent_run(f->c, 2, AGENT_TIMEOUT_MAX_MS + 1, ok, &err), -1);
    char **many = xcalloc(AGENT_ARGC_MAX + 2, sizeof *many);
    for (size_t i = 0; i <= AGENT_ARGC_MAX; i++)
        many[i] = "a";
    assert_int_equal(agent_run(f->c, 2, 0, many, &err), -1);
    many[AGENT_ARGC_MAX] = NULL;
    assert_int_equal(agent_run(f->c, 2, 0, many, &err), 0);
    free(many);
    char *big = xmalloc(AGENT_REQ_MAX);
    memset(big, 'y', AGENT_REQ_MAX - 1);
    big[AGENT_REQ_MAX - 1] = '\0';
    char *bigv[] = {"echo", big, NULL};
    assert_int_equal(agent_run(f->c, 3, 0, bigv, &err), -1);
    free(big);
    assert_int_equal(agent_inflight(f->c), 2);
    fx_free(f);
}

static void test_agent_client__callbacks_may_call_back(void **state)
{
    (void)state;
    struct fx *f = fx_pair();
    hello(f);
    run(f, 1, 0);
    f->rerun_tag = 2; /* the done callback of 1 starts 2 */
    SEND(f, "DONE", "1", "exit", "0");
    assert_int_equal(agent_inflight(f->c), 1);
    char *g[16];
    assert_int_equal(peer_recv(f, g, 16), 6);
    assert_int_equal(peer_recv(f, g, 16), 4);
    assert_string_equal(g[1], "2");
    /* the lost callback reconnects (here: a path that does not exist, so it retries) */
    f->reconnect_on_lost = true;
    close(f->peer);
    f->peer = -1;
    pump(f);
    assert_int_equal(f->n_lost, 1);
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_CONNECTING);
    f->reconnect_on_lost = false;
    advance(f, 1000);
    assert_int_equal(f->n_lost, 2);
    assert_non_null(strstr(f->why, "cannot connect"));
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_DOWN);
    fx_free(f);
}

/* ------------------------------------------------------------------ connecting by path */

static int listen_at(const char *dir, const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0); /* dir may be longer than sun_path */
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", name);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

static void test_agent_client__connect_retries_long_path(void **state)
{
    (void)state;
    char tmp[] = "/tmp/podc-test-agent.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    /* a directory path well beyond sun_path's 108 bytes */
    struct pod_buf dir = {0};
    pod_buf_adds(&dir, tmp);
    for (int i = 0; i < 5; i++) {
        pod_buf_adds(&dir, "/a-rather-long-directory-name-for-the-pod");
        assert_int_equal(mkdir(dir.data, 0700), 0);
    }
    char *sock = pod_path_join(dir.data, "agent.sock");
    assert_true(strlen(sock) > 200);
    struct fx *f = fx_new(sock);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_connect(f->c, 1000 + 2000, &err), 0);
    run(f, 1, 0);    /* accepted while connecting */
    advance(f, 100); /* nothing there yet: retries */
    assert_int_equal(agent_conn_state(f->c), AGENT_CONN_CONNECTING);
    int lfd = listen_at(dir.data, "agent.sock");
    advance(f, 300); /* the next retry (<= 250 ms apart) connects */
    int a = accept(lfd, NULL, NULL);
    assert_true(a >= 0);
    f->peer = a;
    hello(f);
    char *g[16];
    assert_int_equal(peer_recv(f, g, 16), 6);
    SEND(f, "DONE", "1", "exit", "0");
    assert_true(f->n_done == 1 && f->st[0] == AGENT_OK);
    fx_free(f);
    close(lfd);
    /* a symlink in the socket's place (the container owns that directory) is not followed */
    char *real = pod_path_join(tmp, "real.sock");
    int l2 = listen_at(tmp, "real.sock");
    assert_int_equal(unlink(sock), 0);
    assert_int_equal(symlink(real, sock), 0);
    f = fx_new(sock);
    assert_int_equal(agent_connect(f->c, 1000 + 500, &err), 0);
    advance(f, 500);
    advance(f, 1);
    assert_int_equal(f->n_lost, 1);
    if (!strstr(f->why, "cannot connect"))
        fail_msg("why: %s", f->why);
    struct pollfd pf = {.fd = l2, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 0), 0); /* nobody knocked */
    fx_free(f);
    close(l2);
    unlink(sock);
    unlink(real);
    free(real);
    free(sock);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rmdir(dir.data), 0);
        *strrchr(dir.data, '/') = '\0';
    }
    assert_int_equal(rmdir(tmp), 0);
    pod_buf_free(&dir);
}

/* agent_client_beneath: the socket's directory `run/main` is resolved beneath the pod
 * directory's fd; `run` swapped for a link to another directory holding a listening agent
 * socket (another pod's agents) is refused, nobody there is connected to (SPEC 7.5.1). */
static void test_agent_client__beneath_refuses_a_linked_directory(void **state)
{
    (void)state;
    char tmp[] = "/tmp/podc-test-agent.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char *pod = pod_path_join(tmp, "pod"), *other = pod_path_join(tmp, "other");
    char *other_main = pod_path_join(other, "main"), *link = pod_path_join(pod, "run");
    assert_int_equal(mkdir(pod, 0700), 0);
    assert_int_equal(mkdir(other, 0700), 0);
    assert_int_equal(mkdir(other_main, 0700), 0);
    int l = listen_at(other_main, "agent.sock");
    assert_int_equal(symlink(other, link), 0);
    int pfd = open(pod, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(pfd >= 0);
    char *sock = pod_path_join(pod, "run/main/agent.sock");
    struct fx *f = fx_new(sock);
    agent_client_beneath(f->c, pfd, "run/main");
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_connect(f->c, 1000 + 500, &err), 0);
    advance(f, 500);
    advance(f, 1);
    assert_int_equal(f->n_lost, 1);
    if (!strstr(f->why, "cannot connect") || !strstr(f->why, "symbolic links"))
        fail_msg("why: %s", f->why);
    struct pollfd pf = {.fd = l, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 0), 0); /* nobody knocked */
    fx_free(f);
    /* the path alone (no beneath) follows the link: the knock arrives */
    f = fx_new(sock);
    assert_int_equal(agent_connect(f->c, 1000 + 500, &err), 0);
    run(f, 1, 0);
    assert_int_equal(poll(&pf, 1, 1000), 1);
    fx_free(f);
    close(l);
    close(pfd);
    char *s2 = pod_path_join(other_main, "agent.sock");
    assert_int_equal(unlink(s2), 0);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(rmdir(other_main), 0);
    assert_int_equal(rmdir(other), 0);
    assert_int_equal(rmdir(pod), 0);
    assert_int_equal(rmdir(tmp), 0);
    free(s2);
    free(sock);
    free(link);
    free(other_main);
    free(other);
    free(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_client__queued_until_hello_then_done),
        cmocka_unit_test(test_agent_client__every_answer),
        cmocka_unit_test(test_agent_client__split_frames),
        cmocka_unit_test(test_agent_client__cancel_never_reports_success),
        cmocka_unit_test(test_agent_client__cancel_before_sent),
        cmocka_unit_test(test_agent_client__garbage_drops_the_agent),
        cmocka_unit_test(test_agent_client__unknown_tags_within_budget),
        cmocka_unit_test(test_agent_client__eof_loses_everything),
        cmocka_unit_test(test_agent_client__stuck_agent),
        cmocka_unit_test(test_agent_client__agent_that_does_not_read),
        cmocka_unit_test(test_agent_client__refused_requests),
        cmocka_unit_test(test_agent_client__callbacks_may_call_back),
        cmocka_unit_test(test_agent_client__connect_retries_long_path),
        cmocka_unit_test(test_agent_client__beneath_refuses_a_linked_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
