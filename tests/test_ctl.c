/* SPDX-License-Identifier: MIT */
/* test_ctl.c - the control channel (src/daemon/ctl.c): real sockets, the server on a real loop in
 * this process, clients in forked children (the real blocking client, or raw byte-level ones):
 * round trips, no limit on the number of arguments, partial reads and writes, garbage and
 * oversize frames, a client that never reads or never completes a frame, a reply after the
 * client left, a 300-character pod directory, the socket mode and a foreign uid, a stale socket
 * file, the client's deadline. */
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/ctl.h"
#include "pod/pidfd.h"
#include "pod/util.h"

#define SOCK ".pod.sock"

struct fx {
    char dir[1024];
    int dirfd;
    struct loop *loop;
    struct ctl_server *srv;
    uint64_t deferred[8];
    size_t n_deferred;
    int requests;
};

/* What a child reports back (shared memory). */
struct shared {
    int rc, errcode, code;
    char out[256], err[600];
    size_t out_len;
    int step_ok;
};

static struct shared *sh;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void handler(void *arg, struct ctl_server *s, uint64_t id, int argc, char **argv)
{
    struct fx *f = arg;
    f->requests++;
    if (strcmp(argv[0], "echo") == 0) {
        struct pod_buf b = {0};
        for (int i = 1; i < argc; i++)
            pod_buf_printf(&b, "%s%s", i > 1 ? " " : "", argv[i]);
        ctl_server_reply(s, id, 0, b.data ? b.data : "", "to stderr");
        pod_buf_free(&b);
    } else if (strcmp(argv[0], "count") == 0) {
        char n[32];
        snprintf(n, sizeof n, "%d", argc - 1);
        int ok = 1;
        for (int i = 1; i < argc; i++) {
            char want[32];
            snprintf(want, sizeof want, "container-%06d", i - 1);
            ok &= strcmp(argv[i], want) == 0;
        }
        ctl_server_reply(s, id, ok ? 0 : 1, n, "");
    } else if (strcmp(argv[0], "big") == 0) {
        size_t n = (size_t)atol(argv[1]);
        char *t = xmalloc(n + 1);
        memset(t, 'x', n);
        t[n] = '\0';
        ctl_server_reply(s, id, 3, t, "");
        free(t);
    } else if (strcmp(argv[0], "later") == 0) {
        f->deferred[f->n_deferred++] = id;
    } else {
        ctl_server_reply(s, id, 100, "", "unknown action");
    }
}

static void mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0711);
            *p = '/';
        }
    (void)mkdir(path, 0711);
}

static void fx_start(struct fx *f, int64_t stall_ms)
{
    struct pod_err err = POD_ERR_ZERO;
    f->dirfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->dirfd >= 0);
    f->loop = loop_new(&err);
    assert_non_null(f->loop);
    struct ctl_server_cfg c = {.loop = f->loop,
                               .clk = &clk_real,
                               .dirfd = f->dirfd,
                               .file = SOCK,
                               .fn = handler,
                               .arg = f,
                               .stall_ms = stall_ms,
                               .uid = geteuid()};
    assert_int_equal(ctl_server_new(&c, &f->srv, &err), 0);
}

static struct fx *fx_new(int64_t stall_ms)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tdm-ctl-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(chmod(f->dir, 0711), 0);
    fx_start(f, stall_ms);
    return f;
}

static void rm_rf(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    pid_t p = fork();
    if (p == 0) {
        execvp("rm", argv);
        _exit(127);
    }
    waitpid(p, NULL, 0);
}

static void fx_free(struct fx *f, const char *rm_root)
{
    ctl_server_free(f->srv, true);
    struct stat st;
    assert_int_equal(fstatat(f->dirfd, SOCK, &st, 0), -1); /* unlinked */
    loop_free(f->loop);
    close(f->dirfd);
    rm_rf(rm_root ? rm_root : f->dir);
    free(f);
}

/* Runs the loop (and the stall ticks) until the child exits; returns its exit status. */
static int pump_until_exit(struct fx *f, pid_t pid, int64_t max_ms)
{
    int pfd = pod_pidfd_open(pid);
    assert_true(pfd >= 0);
    int64_t end = clk_mono_ms(&clk_real) + max_ms;
    struct pod_err err = POD_ERR_ZERO;
    for (;;) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1)
            break;
        assert_true(clk_mono_ms(&clk_real) < end);
        int64_t dl = ctl_server_next_deadline(f->srv);
        int64_t soon = clk_mono_ms(&clk_real) + 10;
        int64_t t0 = clk_mono_ms(&clk_real);
        assert_true(loop_run_once(f->loop, &clk_real, dl < soon ? dl : soon, &err) >= 0);
        /* the server never blocks the loop: one round never takes long */
        assert_true(clk_mono_ms(&clk_real) - t0 < 500);
        ctl_server_tick(f->srv);
    }
    close(pfd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

/* After a client exited: runs the loop until the server has seen its connection close (on a
 * loaded machine the exit can be noticed before the EOF is read). */
static void drain_clients(struct fx *f)
{
    int64_t end = clk_mono_ms(&clk_real) + 5000;
    struct pod_err err = POD_ERR_ZERO;
    while (ctl_server_clients(f->srv) > 0 && clk_mono_ms(&clk_real) < end) {
        assert_true(loop_run_once(f->loop, &clk_real, clk_mono_ms(&clk_real) + 10, &err) >= 0);
        ctl_server_tick(f->srv);
    }
}

static void child_call(const char *dir, char *const *argv, size_t argc, int64_t timeout_ms)
{
    struct ctl_reply r;
    struct pod_err err = POD_ERR_ZERO;
    sh->rc = ctl_call(dir, SOCK, argv, argc, timeout_ms, &r, &err);
    sh->errcode = err.code;
    if (sh->rc == 0) {
        sh->code = r.code;
        sh->out_len = strlen(r.out);
        snprintf(sh->out, sizeof sh->out, "%s", r.out);
        snprintf(sh->err, sizeof sh->err, "%s", r.err);
        ctl_reply_free(&r);
    } else {
        snprintf(sh->err, sizeof sh->err, "%s", err.msg);
    }
}

static int call_in_child(struct fx *f, char *const *argv, size_t argc, int64_t timeout_ms)
{
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_call(f->dir, argv, argc, timeout_ms);
        _exit(0);
    }
    return pump_until_exit(f, pid, 20000);
}

static int raw_connect(struct fx *f)
{
    int fd;
    int dfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctl_connect_at(dfd, SOCK, &fd) < 0)
        _exit(90);
    close(dfd);
    int fl = fcntl(fd, F_GETFL);
    (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* ------------------------------------------------------------------ tests */

static void test_ctl_payload_split__strict(void **state)
{
    (void)state;
    char **v;
    assert_int_equal(ctl_payload_split("", 0, &v), -1);
    assert_int_equal(ctl_payload_split("ab", 2, &v), -1);
    assert_int_equal(ctl_payload_split("a\0\0b\0", 5, &v), 0);
    assert_int_equal(pod_strv_len(v), 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "");
    assert_string_equal(v[2], "b");
    pod_strv_free(v);
    struct pod_buf b = {0};
    char *in[] = {"stop", "x"};
    ctl_frame_add(&b, in, 2);
    assert_int_equal(b.len, 4 + 7);
    assert_memory_equal(b.data, "\x07\0\0\0stop\0x\0", 11);
    pod_buf_free(&b);
}

static void test_ctl__request_reply_roundtrip(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    char *argv[] = {"echo", "a b", "", "c"};
    assert_int_equal(call_in_child(f, argv, 4, 5000), 0);
    assert_int_equal(sh->rc, 0);
    assert_int_equal(sh->code, 0);
    assert_string_equal(sh->out, "a b  c");
    assert_string_equal(sh->err, "to stderr");
    char *unk[] = {"nope"};
    assert_int_equal(call_in_child(f, unk, 1, 5000), 0);
    assert_int_equal(sh->code, 100);
    assert_int_equal(f->requests, 2);
    drain_clients(f);
    assert_int_equal(ctl_server_clients(f->srv), 0);
    struct stat st;
    assert_int_equal(fstatat(f->dirfd, SOCK, &st, 0), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    fx_free(f, NULL);
}

static void test_ctl__many_args_no_limit(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    size_t n = 200000; /* ~3.2 MB: many partial reads and writes on both sides */
    char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = xstrdup("count");
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = xasprintf("container-%06zu", i);
    assert_int_equal(call_in_child(f, argv, n + 1, 20000), 0);
    assert_int_equal(sh->rc, 0);
    assert_int_equal(sh->code, 0);
    assert_string_equal(sh->out, "200000");
    pod_strv_free(argv);
    /* a big reply (4 MiB) comes back whole */
    char *big[] = {"big", "4194304"};
    assert_int_equal(call_in_child(f, big, 2, 20000), 0);
    assert_int_equal(sh->rc, 0);
    assert_int_equal(sh->code, 3);
    assert_int_equal(sh->out_len, 4194304);
    fx_free(f, NULL);
}

static void test_ctl__byte_by_byte_frames(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = raw_connect(f);
        struct pod_buf b = {0};
        char *v[] = {"echo", "slow"};
        ctl_frame_add(&b, v, 2);
        ctl_frame_add(&b, v, 2); /* a second request on the same connection */
        for (size_t i = 0; i < b.len; i++) {
            if (write(fd, b.data + i, 1) != 1)
                _exit(91);
            sleep_ms(1);
        }
        /* read both replies one byte at a time */
        char got[256];
        size_t n = 0;
        while (n < sizeof got) {
            ssize_t r = read(fd, got + n, 1);
            if (r <= 0)
                break;
            n++;
            if (n == 2 * (4 + strlen("0") + 1 + strlen("slow") + 1 + strlen("to stderr") + 1))
                break;
        }
        const char one[] = "\x11\0\0\0"
                           "0\0slow\0to stderr";
        sh->step_ok = n == 2 * 21 && memcmp(got, one, 21) == 0 && memcmp(got + 21, one, 21) == 0;
        _exit(0);
    }
    assert_int_equal(pump_until_exit(f, pid, 20000), 0);
    assert_true(sh->step_ok);
    assert_int_equal(f->requests, 2);
    fx_free(f, NULL);
}

/* A raw client sends bytes; the server must hang up (EOF) without a reply. */
static void expect_hangup(struct fx *f, const void *bytes, size_t len)
{
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = raw_connect(f);
        if (write(fd, bytes, len) != (ssize_t)len)
            _exit(91);
        char c;
        /* EOF, or ECONNRESET when the server closed with our bytes unread */
        ssize_t r = read(fd, &c, 1);
        sh->step_ok = r == 0 || (r < 0 && errno == ECONNRESET);
        _exit(0);
    }
    assert_int_equal(pump_until_exit(f, pid, 20000), 0);
    assert_true(sh->step_ok);
}

static void test_ctl__garbage_and_oversize_hang_up(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    expect_hangup(f, "\0\0\0\0", 4);                  /* empty frame */
    expect_hangup(f, "\x01\0\0\x01", 4);              /* 16 MiB + 1 */
    expect_hangup(f, "\x03\0\0\0abc", 7);             /* no NUL at the end */
    expect_hangup(f, "\xff\xff\xff\xff garbage", 12); /* nonsense */
    assert_int_equal(f->requests, 0);
    char *argv[] = {"echo", "still", "fine"};
    assert_int_equal(call_in_child(f, argv, 3, 5000), 0);
    assert_string_equal(sh->out, "still fine");
    fx_free(f, NULL);
}

static void test_ctl__client_that_never_reads_is_dropped(void **state)
{
    (void)state;
    struct fx *f = fx_new(300);
    int sv[2];
    assert_int_equal(pipe(sv), 0);
    pid_t stuck = fork();
    if (stuck == 0) {
        close(sv[0]);
        int fd = raw_connect(f);
        struct pod_buf b = {0};
        char *v[] = {"big", "8388608"};
        ctl_frame_add(&b, v, 2);
        if (write(fd, b.data, b.len) != (ssize_t)b.len)
            _exit(91);
        char c = 0;
        (void)!write(sv[1], &c, 1);
        pause(); /* never reads */
        _exit(0);
    }
    close(sv[1]);
    /* serve until the stuck client's reply is queued */
    struct pod_err err = POD_ERR_ZERO;
    int64_t end = clk_mono_ms(&clk_real) + 5000;
    while (ctl_server_pending_bytes(f->srv) == 0) {
        assert_true(clk_mono_ms(&clk_real) < end);
        assert_true(loop_run_once(f->loop, &clk_real, clk_mono_ms(&clk_real) + 10, &err) >= 0);
    }
    assert_true(ctl_server_pending_bytes(f->srv) > 0);
    /* others are served meanwhile */
    char *argv[] = {"echo", "other"};
    assert_int_equal(call_in_child(f, argv, 2, 5000), 0);
    assert_string_equal(sh->out, "other");
    /* and the stuck one is dropped after the stall time */
    int64_t t0 = clk_mono_ms(&clk_real);
    while (ctl_server_clients(f->srv) > 0) {
        assert_true(clk_mono_ms(&clk_real) - t0 < 3000);
        int64_t dl = ctl_server_next_deadline(f->srv);
        assert_true(dl != INT64_MAX);
        assert_true(loop_run_once(f->loop, &clk_real, dl, &err) >= 0);
        ctl_server_tick(f->srv);
    }
    assert_int_equal(ctl_server_pending_bytes(f->srv), 0);
    kill(stuck, SIGKILL);
    waitpid(stuck, NULL, 0);
    close(sv[0]);
    fx_free(f, NULL);
}

static void test_ctl__incomplete_frame_is_dropped(void **state)
{
    (void)state;
    struct fx *f = fx_new(200);
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = raw_connect(f);
        if (write(fd, "\x10\0", 2) != 2) /* half a header, then nothing */
            _exit(91);
        char c;
        int64_t t0 = clk_mono_ms(&clk_real);
        sh->step_ok = read(fd, &c, 1) == 0;
        sh->code = (int)(clk_mono_ms(&clk_real) - t0);
        _exit(0);
    }
    assert_int_equal(pump_until_exit(f, pid, 5000), 0);
    assert_true(sh->step_ok);
    assert_true(sh->code >= 150 && sh->code < 2000);
    fx_free(f, NULL);
}

static void test_ctl__reply_after_client_left(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = raw_connect(f);
        struct pod_buf b = {0};
        char *v[] = {"later"};
        ctl_frame_add(&b, v, 1);
        if (write(fd, b.data, b.len) != (ssize_t)b.len)
            _exit(91);
        _exit(0); /* leaves without waiting */
    }
    assert_int_equal(pump_until_exit(f, pid, 5000), 0);
    struct pod_err err = POD_ERR_ZERO;
    for (int i = 0; i < 20 && (f->n_deferred == 0 || ctl_server_clients(f->srv) > 0); i++)
        assert_true(loop_run_once(f->loop, &clk_real, clk_mono_ms(&clk_real) + 10, &err) >= 0);
    assert_int_equal(f->n_deferred, 1);
    assert_int_equal(ctl_server_clients(f->srv), 0); /* its hang-up was noticed while waiting */
    ctl_server_reply(f->srv, f->deferred[0], 0, "late", "");
    ctl_server_reply(f->srv, 12345, 0, "unknown id", "");
    fx_free(f, NULL);
}

static void test_ctl__client_deadline(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    char *argv[] = {"later"};
    int64_t t0 = clk_mono_ms(&clk_real);
    assert_int_equal(call_in_child(f, argv, 1, 200), 0);
    assert_int_equal(sh->rc, -1);
    assert_int_equal(sh->errcode, POD_E_TIMEOUT);
    assert_true(clk_mono_ms(&clk_real) - t0 < 2000);
    fx_free(f, NULL);
}

static void test_ctl__long_pod_directory(void **state)
{
    (void)state;
    struct fx *f = xcalloc(1, sizeof *f);
    char root[64];
    snprintf(root, sizeof root, "/tmp/tdm-ctl-XXXXXX");
    assert_non_null(mkdtemp(root));
    assert_int_equal(chmod(root, 0711), 0);
    int n = snprintf(f->dir, sizeof f->dir, "%s", root);
    while (n < 300)
        n += snprintf(f->dir + n, sizeof f->dir - (size_t)n, "/%s",
                      "a-rather-long-directory-name-0123456789");
    mkdirs(f->dir);
    assert_true(strlen(f->dir) >= 300);
    fx_start(f, 0);
    char *argv[] = {"echo", "long", "path"};
    assert_int_equal(call_in_child(f, argv, 3, 5000), 0);
    assert_int_equal(sh->rc, 0);
    assert_string_equal(sh->out, "long path");
    fx_free(f, root);
}

static void test_ctl__stale_socket_file(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tdm-ctl-XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* a socket file nobody listens on any more (a dead daemon) */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, SOCK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s, 1), 0);
    close(s);
    struct ctl_reply r;
    struct pod_err err = POD_ERR_ZERO;
    char *argv[] = {"ping"};
    int64_t t0 = clk_mono_ms(&clk_real);
    assert_int_equal(ctl_call(dir, SOCK, argv, 1, 5000, &r, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    assert_true(clk_mono_ms(&clk_real) - t0 < 1000);
    /* no socket at all */
    char *none = xasprintf("%s/nowhere", dir);
    assert_int_equal(ctl_call(none, SOCK, argv, 1, 5000, &r, &err), -1);
    assert_int_equal(err.code, POD_E_NOTFOUND);
    free(none);
    /* a new server replaces the stale file */
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    fx_start(f, 0);
    char *echo[] = {"echo", "fresh"};
    assert_int_equal(call_in_child(f, echo, 2, 5000), 0);
    assert_string_equal(sh->out, "fresh");
    fx_free(f, NULL);
}

/* The server keeps its own copy of the socket name: a caller's buffer that goes out of scope
 * (the fake daemon's stack array did) or is reused does not change what free removes. */
static void test_ctl__socket_name_is_copied(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tdm-ctl-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct pod_err err = POD_ERR_ZERO;
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dirfd >= 0);
    struct loop *loop = loop_new(&err);
    assert_non_null(loop);
    char name[32];
    snprintf(name, sizeof name, "%s", SOCK);
    struct ctl_server_cfg c = {.loop = loop,
                               .clk = &clk_real,
                               .dirfd = dirfd,
                               .file = name,
                               .fn = handler,
                               .uid = geteuid()};
    struct ctl_server *srv;
    assert_int_equal(ctl_server_new(&c, &srv, &err), 0);
    memset(name, 'x', sizeof name - 1);
    struct stat st;
    assert_int_equal(fstatat(dirfd, SOCK, &st, 0), 0);
    ctl_server_free(srv, true);
    assert_int_equal(fstatat(dirfd, SOCK, &st, 0), -1);
    assert_int_equal(errno, ENOENT);
    loop_free(loop);
    close(dirfd);
    assert_int_equal(rmdir(dir), 0);
}

static void test_ctl__foreign_uid_refused(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    struct fx *f = fx_new(0);
    char *argv[] = {"echo", "x"};
    /* mode 0600: nobody cannot even connect */
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(92);
        child_call(f->dir, argv, 2, 2000);
        _exit(0);
    }
    assert_int_equal(pump_until_exit(f, pid, 5000), 0);
    assert_int_equal(sh->rc, -1);
    assert_int_equal(f->requests, 0);
    /* with the mode opened up, SO_PEERCRED still refuses the peer */
    assert_int_equal(fchmodat(f->dirfd, SOCK, 0666, 0), 0);
    memset(sh, 0, sizeof *sh);
    pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(92);
        child_call(f->dir, argv, 2, 2000);
        _exit(0);
    }
    assert_int_equal(pump_until_exit(f, pid, 5000), 0);
    assert_int_equal(sh->rc, -1);
    assert_int_equal(sh->errcode, POD_E_INVALID); /* hung up on */
    assert_int_equal(f->requests, 0);
    /* root is served */
    assert_int_equal(call_in_child(f, argv, 2, 5000), 0);
    assert_int_equal(sh->rc, 0);
    assert_int_equal(f->requests, 1);
    fx_free(f, NULL);
}

int main(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    pod_log_set_level(0);
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_ctl_payload_split__strict),
        cmocka_unit_test(test_ctl__request_reply_roundtrip),
        cmocka_unit_test(test_ctl__many_args_no_limit),
        cmocka_unit_test(test_ctl__byte_by_byte_frames),
        cmocka_unit_test(test_ctl__garbage_and_oversize_hang_up),
        cmocka_unit_test(test_ctl__client_that_never_reads_is_dropped),
        cmocka_unit_test(test_ctl__incomplete_frame_is_dropped),
        cmocka_unit_test(test_ctl__reply_after_client_left),
        cmocka_unit_test(test_ctl__client_deadline),
        cmocka_unit_test(test_ctl__long_pod_directory),
        cmocka_unit_test(test_ctl__stale_socket_file),
        cmocka_unit_test(test_ctl__socket_name_is_copied),
        cmocka_unit_test(test_ctl__foreign_uid_refused),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
