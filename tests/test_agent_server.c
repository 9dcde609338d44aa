/* SPDX-License-Identifier: MIT */
/* test_agent_server.c - the agent itself (src/agent/agent.c, agent_main) run on the host in a
 * forked child with a socket in a temporary directory, driven by the real client: exit codes,
 * what a command inherits (stdio /dev/null, no stray fds, own session, empty signal mask, the
 * agent's environment), timeout and cancel kill the whole process group before the answer,
 * a dropped or replaced connection kills its commands, garbage drops only that client, the
 * running limit, and when the agent leaves (SIGTERM, its socket removed or taken over).
 * The podman side (confinement) is tests/agent/podman.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_sync.h"
#include "pod/util.h"

struct srv {
    char dir[64];
    char sock[96];
    pid_t pid;
    struct sync *s;
};

static pid_t spawn_agent(const char *sock)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"pod", AGENT_ACTION, (char *)sock, NULL};
        _exit(agent_main(3, argv));
    }
    return pid;
}

static int setup(void **state)
{
    struct srv *v = xcalloc(1, sizeof *v);
    snprintf(v->dir, sizeof v->dir, "/tmp/podc-test-agent.XXXXXX");
    assert_non_null(mkdtemp(v->dir));
    snprintf(v->sock, sizeof v->sock, "%s/agent.sock", v->dir);
    setenv("PODC_AGENT_TEST_MARK", "inherited", 1);
    v->pid = spawn_agent(v->sock);
    v->s = xcalloc(1, sizeof *v->s);
    sync_init(v->s, v->sock);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_connect(v->s->c, clk_mono_ms(&clk_real) + 5000, &err), 0);
    assert_true(sync_wait(v->s, 0, 6000));
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    struct srv *v = *state;
    sync_fini(v->s);
    free(v->s);
    if (v->pid > 0) {
        kill(v->pid, SIGTERM);
        waitpid(v->pid, NULL, 0);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/agent.sock", v->dir);
    unlink(p);
    rmdir(v->dir);
    free(v);
    return 0;
}

/* Runs argv through the agent; returns the index of its result in s. */
static size_t run_wait(struct srv *v, uint64_t tag, int64_t timeout, char **argv)
{
    struct pod_err err = POD_ERR_ZERO;
    size_t n = v->s->ended;
    assert_int_equal(agent_run(v->s->c, tag, timeout, argv, &err), 0);
    assert_true(sync_wait(v->s, n + 1, timeout + 10000));
    return n;
}

static void expect_exit(struct srv *v, uint64_t tag, int code, char **argv)
{
    size_t i = run_wait(v, tag, 5000, argv);
    if (v->s->st[i] != AGENT_OK || v->s->code[i] != code)
        fail_msg("%s: got %s %d, want exit %d", argv[argv[1] ? 2 : 0],
                 agent_state_name(v->s->st[i]), v->s->code[i], code);
}

#define SH(script) ((char *[]){"/bin/sh", "-c", script, NULL})

/* Live (non-zombie) processes whose command line contains marker. */
static int count_procs(const char *marker)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char p[300], buf[512];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        int fd = open(p, O_RDONLY);
        ssize_t r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0)
            close(fd);
        if (r <= 0)
            continue;
        buf[r] = '\0';
        char *rp = strrchr(buf, ')');
        if (!rp || rp[2] == 'Z')
            continue;
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        fd = open(p, O_RDONLY);
        r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0)
            close(fd);
        if (r <= 0)
            continue;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[r] = '\0';
        n += strstr(buf, marker) != NULL;
    }
    closedir(d);
    return n;
}

/* Waits up to ms for exactly n live processes with marker (the machine may be busy). */
static bool wait_count(const char *marker, int n, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (count_procs(marker) == n)
            return true;
        usleep(10000);
    }
    return count_procs(marker) == n;
}

static bool wait_gone(const char *marker, int ms)
{
    return wait_count(marker, 0, ms);
}

/* ------------------------------------------------------------------ commands */

static void test_agent_server__exit_codes(void **state)
{
    struct srv *v = *state;
    expect_exit(v, 1, 0, (char *[]){"true", NULL});
    expect_exit(v, 2, 3, SH("exit 3"));
    expect_exit(v, 3, 127, (char *[]){"/nonexistent/prog", NULL});
    expect_exit(v, 4, 127, (char *[]){"podc-no-such-program", NULL}); /* PATH lookup */
    expect_exit(v, 5, 126, (char *[]){"/etc/passwd", NULL});          /* not executable */
    expect_exit(v, 6, 137, SH("kill -9 $$"));
    expect_exit(v, 7, 143, SH("kill -15 $$"));
}

/* The pid of the live process whose command line is exactly `cmd` (spaces for NULs), or 0. */
static pid_t find_proc(const char *cmd)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while ((e = readdir(d))) {
        char p[300], buf[256];
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        int fd = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? open(p, O_RDONLY) : -1;
        ssize_t r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0)
            close(fd);
        for (ssize_t i = 0; i < r; i++)
            buf[i] = buf[i] ? buf[i] : ' ';
        if (r > 0 && (size_t)r == strlen(cmd) + 1 && memcmp(buf, cmd, (size_t)r - 1) == 0)
            found = atoi(e->d_name);
    }
    closedir(d);
    return found;
}

static char *proc_file(pid_t pid, const char *name)
{
    char p[64], *s = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, name);
    assert_int_equal(pod_read_file(p, 1 << 16, &s, &len, &err), 0);
    return s;
}

static void test_agent_server__what_a_command_inherits(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_run(v->s->c, 1, 0, (char *[]){"sleep", "31371", NULL}, &err), 0);
    pid_t pid = 0;
    for (int i = 0; i < 500 && !pid; i++) { /* until it has exec'ed */
        (void)sync_wait(v->s, 1, 10);
        pid = find_proc("sleep 31371");
    }
    assert_true(pid > 0);
    /* stdio on /dev/null and nothing else open */
    char p[300], l[64];
    int nfd = 0;
    snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(p);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "/proc/%d/fd/%s", (int)pid, e->d_name);
        ssize_t n = readlink(p, l, sizeof l - 1);
        assert_true(n > 0);
        l[n] = '\0';
        assert_string_equal(l, "/dev/null");
        assert_true(atoi(e->d_name) <= 2);
        nfd++;
    }
    closedir(d);
    assert_int_equal(nfd, 3);
    /* its own session and process group; its parent is the agent */
    char *st = proc_file(pid, "stat");
    int ppid = 0, pgrp = 0, sid = 0;
    assert_int_equal(sscanf(strrchr(st, ')') + 2, "%*c %d %d %d", &ppid, &pgrp, &sid), 3);
    assert_int_equal(pgrp, pid);
    assert_int_equal(sid, pid);
    assert_int_equal(ppid, v->pid);
    free(st);
    /* an empty signal mask (the agent blocks SIGCHLD/TERM/INT itself), the agent's ignored
     * signals (as podman exec gave them: here the test's SIGPIPE and what make ignores) */
    char *status = proc_file(pid, "status"), *astatus = proc_file(v->pid, "status");
    assert_non_null(strstr(status, "SigBlk:\t0000000000000000\n"));
    assert_string_not_equal(strstr(astatus, "SigBlk:"), strstr(status, "SigBlk:"));
    char *ign = strstr(status, "SigIgn:"), *aign = strstr(astatus, "SigIgn:");
    assert_non_null(ign);
    assert_non_null(aign);
    assert_memory_equal(ign, aign, 24);
    assert_true(strtoull(ign + 8, NULL, 16) & (1ull << (SIGPIPE - 1)));
    free(status);
    free(astatus);
    /* the agent's environment, unchanged */
    char *env = proc_file(pid, "environ");
    bool mark = false;
    for (char *q = env; *q; q += strlen(q) + 1)
        mark |= strcmp(q, "PODC_AGENT_TEST_MARK=inherited") == 0;
    assert_true(mark);
    free(env);
    assert_int_equal(agent_cancel(v->s->c, 1, &err), 0);
    assert_true(sync_wait(v->s, 1, 5000));
    assert_int_equal(v->s->st[0], AGENT_CANCELLED);
}

/* ------------------------------------------------------------------ killing */

static void test_agent_server__timeout_kills_the_group(void **state)
{
    struct srv *v = *state;
    int64_t t0 = clk_mono_ms(&clk_real);
    size_t i = run_wait(v, 1, 300, SH("s=3130; sleep ${s}1 & sleep ${s}2 & exec sleep ${s}3"));
    assert_int_equal(v->s->st[i], AGENT_TIMEOUT);
    int64_t took = clk_mono_ms(&clk_real) - t0;
    assert_true(took >= 300 && took < 2000);
    assert_int_equal(count_procs("sleep 3130"), 0); /* reaped before the answer */
}

static void test_agent_server__cancel_kills_the_group(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    /* a shell that ignores TERM and a background child that ignores it too */
    char **argv = SH("trap '' TERM; s=3131; sleep ${s}1 & sleep ${s}2; wait");
    assert_int_equal(agent_run(v->s->c, 1, 0, argv, &err), 0);
    (void)sync_wait(v->s, 1, 100);
    assert_int_equal(v->s->ended, 0);
    assert_true(wait_count("sleep 3131", 2, 5000));
    assert_int_equal(agent_cancel(v->s->c, 1, &err), 0);
    assert_true(sync_wait(v->s, 1, 5000));
    assert_int_equal(v->s->st[0], AGENT_CANCELLED);
    assert_int_equal(count_procs("sleep 3131"), 0);
    /* the cancel of a request that has just ended: cancelled, never ok */
    assert_int_equal(agent_run(v->s->c, 2, 0, (char *[]){"true", NULL}, &err), 0);
    assert_int_equal(agent_cancel(v->s->c, 2, &err), 0);
    assert_true(sync_wait(v->s, 2, 5000));
    assert_int_equal(v->s->st[1], AGENT_CANCELLED);
}

static void test_agent_server__disconnect_kills_and_agent_stays(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_run(v->s->c, 1, 0, SH("s=3132; sleep ${s}1 & exec sleep ${s}2"), &err),
                     0);
    (void)sync_wait(v->s, 1, 100);
    assert_true(wait_count("sleep 3132", 2, 5000));
    agent_client_free(v->s->c); /* the daemon goes away */
    assert_true(wait_gone("sleep 3132", 3000));
    assert_int_equal(waitpid(v->pid, NULL, WNOHANG), 0); /* the agent is still there */
    struct agent_client_cbs cbs = {sync_done, sync_ready, sync_lost, v->s};
    v->s->c = agent_client_new(v->s->loop, &clk_real, v->sock, &cbs);
    assert_int_equal(agent_connect(v->s->c, clk_mono_ms(&clk_real) + 5000, &err), 0);
    assert_true(sync_wait(v->s, 0, 6000));
    expect_exit(v, 2, 0, (char *[]){"true", NULL});
}

static void test_agent_server__new_connection_replaces_the_old(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(agent_run(v->s->c, 1, 0, SH("exec sleep 31331"), &err), 0);
    (void)sync_wait(v->s, 1, 300);
    struct sync *b = xcalloc(1, sizeof *b);
    sync_init(b, v->sock);
    assert_int_equal(agent_connect(b->c, clk_mono_ms(&clk_real) + 5000, &err), 0);
    assert_true(sync_wait(b, 0, 6000));
    /* the old client sees its connection end, its command was killed */
    assert_true(sync_wait(v->s, 1, 5000));
    assert_int_equal(v->s->st[0], AGENT_LOST);
    assert_int_equal(v->s->lost_calls, 1);
    assert_true(wait_gone("sleep 31331", 3000));
    /* the same tag on the new connection is a new request */
    assert_int_equal(agent_run(b->c, 1, 5000, (char *[]){"true", NULL}, &err), 0);
    assert_true(sync_wait(b, 1, 6000));
    assert_true(b->st[0] == AGENT_OK && b->code[0] == 0);
    sync_fini(b);
    free(b);
}

/* ------------------------------------------------------------------ a hostile client */

static int raw_connect(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char buf[64];
    assert_true(read(fd, buf, sizeof buf) > 0); /* HELLO */
    return fd;
}

/* true when the agent closed fd within 3 s */
static bool closed_by_agent(int fd)
{
    char buf[256];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (poll(&pf, 1, 3000) == 1) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            return true;
    }
    return false;
}

static void test_agent_server__garbage_drops_only_that_client(void **state)
{
    struct srv *v = *state;
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"\xff\xff\xff\x7f", 4}, /* > AGENT_REQ_MAX */
        {"\0\0\0\0", 4},         /* empty */
        {"\x04\0\0\0RUN!", 8},   /* unterminated */
        {"\x05\0\0\0HELO\0", 9}, /* unknown verb */
        {"\x0b\0\0\0RUN\0"
         "1\0"
         "-5\0"
         "x\0",
         15}, /* negative timeout */
        {"\x09\0\0\0RUN\0"
         "1\0"
         "0\0"
         "\0",
         13}, /* empty argv0 */
        {"\x08\0\0\0RUN\0"
         "1\0"
         "0\0",
         12}, /* no argv */
        {"\x0a\0\0\0CANCEL\0"
         "x\0"
         "\0",
         14}, /* CANCEL with junk */
        /* the same tag twice */
        {"\x14\0\0\0RUN\0"
         "1\0"
         "0\0"
         "sleep\0"
         "31341\0"
         "\x14\0\0\0RUN\0"
         "1\0"
         "0\0"
         "sleep\0"
         "31341\0",
         48},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = raw_connect(v->sock);
        assert_int_equal(write(fd, cases[i].bytes, cases[i].len), (ssize_t)cases[i].len);
        if (!closed_by_agent(fd))
            fail_msg("case %zu: the agent kept a client that sent garbage", i);
        close(fd);
    }
    assert_true(wait_gone("sleep 31341", 3000)); /* started before the duplicate: killed */
    assert_int_equal(waitpid(v->pid, NULL, WNOHANG), 0);
    struct pod_err err = POD_ERR_ZERO;
    struct agent_client_cbs cbs = {sync_done, sync_ready, sync_lost, v->s};
    agent_client_free(v->s->c);
    v->s->c = agent_client_new(v->s->loop, &clk_real, v->sock, &cbs);
    assert_int_equal(agent_connect(v->s->c, clk_mono_ms(&clk_real) + 5000, &err), 0);
    assert_true(sync_wait(v->s, 0, 6000));
    expect_exit(v, 1, 0, (char *[]){"true", NULL});
}

static void test_agent_server__concurrency_and_limit(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    for (uint64_t t = 1; t <= 50; t++)
        assert_int_equal(agent_run(v->s->c, t, 10000, SH("sleep 0.2; exit 7"), &err), 0);
    assert_true(sync_wait(v->s, 50, 15000));
    for (int i = 0; i < 50; i++)
        assert_true(v->s->st[i] == AGENT_OK && v->s->code[i] == 7);
    /* beyond AGENT_RUNNING_MAX: refused by the agent (EAGAIN), the rest keeps running */
    size_t n0 = v->s->ended, extra = 3;
    for (uint64_t t = 100; t < 100 + AGENT_RUNNING_MAX + extra; t++)
        assert_int_equal(agent_run(v->s->c, t, 0, (char *[]){"sleep", "31351", NULL}, &err), 0);
    assert_true(sync_wait(v->s, n0 + extra, 10000));
    for (size_t i = n0; i < n0 + extra; i++)
        assert_true(v->s->st[i] == AGENT_ERROR && v->s->code[i] == EAGAIN);
    size_t gone = 0;
    for (uint64_t t = 100; t < 100 + AGENT_RUNNING_MAX + extra; t++)
        gone += agent_cancel(v->s->c, t, &err) < 0; /* the refused ones have ended */
    assert_int_equal(gone, extra);
    assert_true(sync_wait(v->s, n0 + extra + AGENT_RUNNING_MAX, 20000));
    for (size_t i = n0 + extra; i < v->s->ended; i++)
        assert_int_equal(v->s->st[i], AGENT_CANCELLED);
    assert_int_equal(count_procs("sleep 31351"), 0);
}

/* ------------------------------------------------------------------ the agent's own life */

static void test_agent_server__idle_blocks_in_poll(void **state)
{
    struct srv *v = *state;
    expect_exit(v, 1, 0, (char *[]){"true", NULL}); /* after some work, connected */
    usleep(50000);
    char *a = proc_file(v->pid, "schedstat");
    usleep(500000);
    char *b = proc_file(v->pid, "schedstat");
    unsigned long long ran = strtoull(b, NULL, 10) - strtoull(a, NULL, 10);
    if (ran > 1000000) /* ns on a CPU in 0.5 s */
        fail_msg("the idle agent ran %llu ns in 0.5 s", ran);
    free(a);
    free(b);
    char *w = proc_file(v->pid, "wchan");
    if (strcmp(w, "0") != 0 && !strstr(w, "poll"))
        fail_msg("the idle agent waits in %s, not in poll", w);
    free(w);
}

static bool exits_within(pid_t pid, int ms, int *status)
{
    for (int i = 0; i < ms / 10; i++) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_agent_server__leaves_when_replaced_or_told(void **state)
{
    struct srv *v = *state;
    struct pod_err err = POD_ERR_ZERO;
    int st;
    /* a second agent on the same path takes over; the first one leaves */
    pid_t second = spawn_agent(v->sock);
    assert_true(exits_within(v->pid, 3000, &st));
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    v->pid = second;
    assert_true(sync_wait(v->s, 0, 100) || v->s->lost_calls == 1);
    /* the socket removed: it leaves as well */
    assert_int_equal(unlink(v->sock), 0);
    assert_true(exits_within(v->pid, 3000, &st));
    /* SIGTERM: it kills what runs and removes its socket */
    v->pid = spawn_agent(v->sock);
    agent_client_free(v->s->c);
    struct agent_client_cbs cbs = {sync_done, sync_ready, sync_lost, v->s};
    v->s->c = agent_client_new(v->s->loop, &clk_real, v->sock, &cbs);
    assert_int_equal(agent_connect(v->s->c, clk_mono_ms(&clk_real) + 5000, &err), 0);
    assert_true(sync_wait(v->s, 0, 6000));
    assert_int_equal(agent_run(v->s->c, 1, 0, SH("exec sleep 31361"), &err), 0);
    (void)sync_wait(v->s, 1, 100);
    assert_true(wait_count("sleep 31361", 1, 5000));
    kill(v->pid, SIGTERM);
    assert_true(exits_within(v->pid, 3000, &st));
    v->pid = 0;
    assert_true(wait_gone("sleep 31361", 3000));
    struct stat sb;
    assert_int_equal(lstat(v->sock, &sb), -1);
    /* usage */
    char *bad[] = {"pod", AGENT_ACTION, NULL};
    assert_int_equal(agent_main(2, bad), POD_EXIT_USAGE);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* also shows that commands inherit the agent's ignored signals */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agent_server__exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__what_a_command_inherits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__timeout_kills_the_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__cancel_kills_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__disconnect_kills_and_agent_stays, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__new_connection_replaces_the_old, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__garbage_drops_only_that_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__concurrency_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__idle_blocks_in_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_server__leaves_when_replaced_or_told, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
