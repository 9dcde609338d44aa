/* SPDX-License-Identifier: MIT */
/* test_podman_cancel.c - the cancel scan of the podman backend (src/backend/podman_probe.c,
 * SPEC 7.8 'Cancel') on a fake /proc tree: a process with the marker is killed; one whose
 * environment or namespace cannot be read is counted as unknown (the cancel fails and is
 * retried) unless it started before the request or lives in another cgroup; a process gone
 * meanwhile is no problem.  The kill is a recording fake: no real process is touched.  The
 * start-time reader and the boot clock are checked against the real /proc, and (as root) the
 * real kernel's EACCES: a process of root started after the request, scanned by a child that
 * became `nobody`, is unknown, not "not the probe's". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/backend/podman_int.h"

#define MARK "PODC_PROBE_TAG=42"

struct fx {
    char root[64];
    char proc[96];
    long long killed[16];
    int n_killed;
    int kill_errno; /* 0: kills succeed */
};

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    assert_int_equal(fclose(f), 0);
}

/* One fake process: ns "A"/"B" (a hard link to that ns file), "loop" (unreadable), "gone" (a
 * dangling link); env NULL: an unreadable environ (a directory); start ticks; cgroup. */
static void proc_add(struct fx *f, int pid, const char *ns, const char *env, size_t env_len,
                     unsigned long long start, const char *cgroup)
{
    char d[192], p[256], t[256];
    snprintf(d, sizeof d, "%s/%d", f->proc, pid);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(p, sizeof p, "%s/ns", d);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/ns/pid", d);
    if (strcmp(ns, "loop") == 0) {
        assert_int_equal(symlink("pid", p), 0);
    } else if (strcmp(ns, "gone") == 0) {
        assert_int_equal(symlink("/nonexistent/ns", p), 0);
    } else {
        snprintf(t, sizeof t, "%s/ns-%s", f->root, ns);
        assert_int_equal(link(t, p), 0);
    }
    snprintf(p, sizeof p, "%s/environ", d);
    if (env) {
        FILE *e = fopen(p, "w");
        assert_non_null(e);
        fwrite(env, 1, env_len, e);
        assert_int_equal(fclose(e), 0);
    } else {
        assert_int_equal(mkdir(p, 0755), 0); /* open works, read: EISDIR */
    }
    snprintf(p, sizeof p, "%s/stat", d);
    snprintf(t, sizeof t,
             "%d (a b) c)) S 1 5 5 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %llu 1000 10 18446744\n",
             pid, start);
    put(p, t);
    snprintf(p, sizeof p, "%s/cgroup", d);
    put(p, cgroup);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/cancel-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->proc, sizeof f->proc, "%s/proc", f->root);
    assert_int_equal(mkdir(f->proc, 0755), 0);
    char p[128];
    snprintf(p, sizeof p, "%s/ns-A", f->root);
    put(p, "A");
    snprintf(p, sizeof p, "%s/ns-B", f->root);
    put(p, "B");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root); /* our own mkdtemp name, no user input */
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int op_open(void *self, long long pid)
{
    (void)self;
    return (int)pid;
}

static int op_kill(void *self, int h)
{
    struct fx *f = self;
    if (f->kill_errno) {
        errno = f->kill_errno;
        return -1;
    }
    f->killed[f->n_killed++] = h;
    return 0;
}

static void op_close(void *self, int h)
{
    (void)self;
    (void)h;
}

static int scan(struct fx *f, unsigned long long since, struct probe_scan_res *r)
{
    const struct probe_scan_ops ops = {op_open, op_kill, op_close, f};
    struct pod_err err = POD_ERR_ZERO;
    f->n_killed = 0;
    return probe_scan_marked(f->proc, 100, MARK, since, &ops, r, &err);
}

static const char ENV_MARK[] = "A=1\0" MARK "\0B=2";
static const char ENV_OTHER[] = "A=1\0PODC_PROBE_TAG=420\0" MARK "x";
static const char CG[] = "0::/machine.slice/libpod-abc.scope/container\n";

static void test_probe_mark_of_errno__gone_or_unknown(void **state)
{
    (void)state;
    assert_int_equal(probe_mark_of_errno(ENOENT), PROBE_MARK_GONE);
    assert_int_equal(probe_mark_of_errno(ESRCH), PROBE_MARK_GONE);
    assert_int_equal(probe_mark_of_errno(EACCES), PROBE_MARK_UNKNOWN);
    assert_int_equal(probe_mark_of_errno(EPERM), PROBE_MARK_UNKNOWN);
    assert_int_equal(probe_mark_of_errno(EIO), PROBE_MARK_UNKNOWN);
}

static void test_probe_environ_mark__cases(void **state)
{
    struct fx *f = *state;
    proc_add(f, 100, "A", "", 0, 10, CG);
    proc_add(f, 101, "A", ENV_MARK, sizeof ENV_MARK, 10, CG);
    proc_add(f, 102, "A", ENV_OTHER, sizeof ENV_OTHER - 1, 10, CG);
    proc_add(f, 103, "A", NULL, 0, 10, CG);
    int e;
    assert_int_equal(probe_environ_mark(f->proc, 101, MARK, &e), PROBE_MARK_YES);
    assert_int_equal(probe_environ_mark(f->proc, 102, MARK, &e), PROBE_MARK_NO);
    assert_int_equal(probe_environ_mark(f->proc, 103, MARK, &e), PROBE_MARK_UNKNOWN);
    assert_int_equal(e, EISDIR);
    assert_int_equal(probe_environ_mark(f->proc, 999, MARK, &e), PROBE_MARK_GONE);
    assert_int_equal(e, ENOENT);
    unsigned long long t = 0;
    proc_add(f, 104, "A", "", 0, 123456789ull, CG);
    assert_int_equal(probe_start_ticks(f->proc, 104, &t), 0); /* a comm with ") " in it */
    assert_int_equal(t, 123456789ull);
    assert_int_equal(probe_start_ticks(f->proc, 999, &t), -1);
    assert_int_equal(errno, ENOENT);
}

/* The old scan took every process it could not read for "not the probe's": the cancel
 * succeeded while the probe's process might live on. */
static void test_probe_scan_marked__unreadable_is_unknown(void **state)
{
    struct fx *f = *state;
    proc_add(f, 100, "A", "", 0, 10, CG);                              /* the container's PID 1 */
    proc_add(f, 101, "A", ENV_MARK, sizeof ENV_MARK, 600, CG);         /* the probe: killed */
    proc_add(f, 102, "A", ENV_OTHER, sizeof ENV_OTHER - 1, 600, CG);   /* another command */
    proc_add(f, 103, "A", NULL, 0, 600, CG);                           /* environ unreadable */
    proc_add(f, 104, "loop", ENV_MARK, sizeof ENV_MARK, 700, CG);      /* ns unreadable */
    proc_add(f, 105, "loop", ENV_MARK, sizeof ENV_MARK, 700, "0::/x"); /* ... other cgroup */
    proc_add(f, 106, "B", ENV_MARK, sizeof ENV_MARK, 700, CG);         /* another pid ns */
    proc_add(f, 107, "gone", ENV_MARK, sizeof ENV_MARK, 700, CG);      /* ended meanwhile */
    struct probe_scan_res r;
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.unknown, 2); /* 103 and 104: the cancel must fail */
    /* a rootless container: its user namespace maps 0 -> 1000 and 1.. -> 100000..; a process
     * whose ns cannot be read and whose uid is not mapped is another user's, not the probe's */
    char p[160];
    snprintf(p, sizeof p, "%s/100/uid_map", f->proc);
    put(p, "         0       1000          1\n         1     100000      65536\n");
    snprintf(p, sizeof p, "%s/104/status", f->proc);
    put(p, "Name:\tsleep\nUid:\t0\t0\t0\t0\n");
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.unknown, 1);                                 /* 103 only */
    put(p, "Name:\tsleep\nUid:\t100005\t100005\t100005\t100005\n"); /* the container's */
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.killed, 1);
    assert_int_equal(f->n_killed, 1);
    assert_int_equal(f->killed[0], 101);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.unknown, 2); /* 103 and 104: the cancel must fail */
    assert_int_equal(r.older, 0);
    /* without a start time to compare with, the same */
    assert_int_equal(scan(f, 0, &r), 0);
    assert_int_equal(r.unknown, 2);
}

/* An unreadable process that started before the request cannot be one of its processes: a
 * long-lived process of another user in the container does not block every cancel. */
static void test_probe_scan_marked__older_unreadable_is_not_the_probe(void **state)
{
    struct fx *f = *state;
    proc_add(f, 100, "A", "", 0, 10, CG);
    proc_add(f, 103, "A", NULL, 0, 499, CG);
    proc_add(f, 104, "loop", "", 0, 20, CG);
    proc_add(f, 105, "A", NULL, 0, 500, CG); /* the same tick as the request: maybe its */
    struct probe_scan_res r;
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.older, 2);
    assert_int_equal(r.unknown, 1);
    assert_int_equal(r.killed, 0);
}

static void test_probe_scan_marked__kill_refused_and_no_container(void **state)
{
    struct fx *f = *state;
    proc_add(f, 100, "A", "", 0, 10, CG);
    proc_add(f, 101, "A", ENV_MARK, sizeof ENV_MARK, 600, CG);
    struct probe_scan_res r;
    f->kill_errno = EPERM;
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.failed, 1);
    assert_int_equal(r.fail_errno, EPERM);
    f->kill_errno = ESRCH; /* gone between the check and the kill: fine */
    assert_int_equal(scan(f, 500, &r), 0);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.killed, 0);
    /* the container's PID 1 is gone: nothing to scan, nothing of it runs */
    const struct probe_scan_ops ops = {op_open, op_kill, op_close, f};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(probe_scan_marked(f->proc, 555, MARK, 500, &ops, &r, &err), 0);
    assert_int_equal(r.unknown + r.killed + r.failed, 0);
}

/* The real /proc: this process's start time is in the past of the boot clock's ticks. */
static void test_probe_start_ticks__real_proc(void **state)
{
    (void)state;
    unsigned long long t = 0, now = probe_boot_ticks();
    assert_int_equal(probe_start_ticks("/proc", getpid(), &t), 0);
    assert_true(now > 0);
    assert_true(t <= now);
    int e;
    assert_int_equal(probe_environ_mark("/proc", getpid(), "PODC_NO_SUCH_MARK=1", &e),
                     PROBE_MARK_NO);
}

/* The real kernel: root's `sleep` with the marker, started after since_ticks; a child that is
 * nobody cannot read its ns/pid or environ (EACCES) and must count it as unknown. */
static void test_probe_scan_marked__real_eacces(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("(skipped: needs root to make an EACCES)\n");
        skip();
    }
    unsigned long long since = probe_boot_ticks();
    usleep(30000); /* the sleep starts at a later tick than since */
    pid_t h = fork();
    assert_true(h >= 0);
    if (h == 0) {
        char *env[] = {MARK, NULL};
        execle("/bin/sleep", "sleep", "30", (char *)NULL, env);
        _exit(127);
    }
    int e = 0;
    enum probe_mark m = PROBE_MARK_NO;
    for (int i = 0; i < 500 && (m = probe_environ_mark("/proc", h, MARK, &e)) != PROBE_MARK_YES;
         i++)
        usleep(10000);                   /* until it has exec'd */
    assert_int_equal(m, PROBE_MARK_YES); /* root reads it */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t c = fork();
    assert_true(c >= 0);
    if (c == 0) {
        close(fds[0]);
        struct probe_scan_res r;
        memset(&r, 0, sizeof r);
        int rc = -1;
        if (setgid(65534) == 0 && setuid(65534) == 0) {
            struct fx f;
            memset(&f, 0, sizeof f);
            const struct probe_scan_ops ops = {op_open, op_kill, op_close, &f};
            struct pod_err err = POD_ERR_ZERO;
            rc = probe_scan_marked("/proc", getpid(), MARK, since, &ops, &r, &err);
            if (f.n_killed)
                r.killed = 1000; /* it must not have read the marker */
        }
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(rc == 0 && w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    struct probe_scan_res r;
    ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(c, &st, 0), c);
    kill(h, SIGKILL);
    assert_int_equal(waitpid(h, NULL, 0), h);
    assert_int_equal(n, (ssize_t)sizeof r);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(r.killed, 0);
    assert_true(r.unknown >= 1); /* at least the sleep (others of root may have started too) */
    assert_int_equal(r.unknown_errno, EACCES);
}

/* The 60 s rule (SPEC 7.8 'Cancel'): scans that fail only because processes could not be
 * checked accept the cancel once they have gone on for 60 s without a break; any other outcome
 * in between starts the count again, and a refused kill is never accepted. */
static void test_probe_cancel_unknown_rule__sixty_seconds_unbroken(void **state)
{
    (void)state;
    int64_t since = -1, t0 = 5000000;
    assert_false(probe_cancel_unknown_rule(&since, true, t0));
    assert_int_equal(since, t0);
    assert_false(probe_cancel_unknown_rule(&since, true, t0 + 30000));
    assert_false(probe_cancel_unknown_rule(&since, true, t0 + 59999));
    assert_true(probe_cancel_unknown_rule(&since, true, t0 + 60000));
    assert_int_equal(since, t0); /* still counted from the first one */
    /* a scan with another outcome (a refused kill, a scan not done, a clean one) resets */
    since = -1;
    assert_false(probe_cancel_unknown_rule(&since, true, t0));
    assert_false(probe_cancel_unknown_rule(&since, false, t0 + 40000));
    assert_int_equal(since, -1);
    assert_false(probe_cancel_unknown_rule(&since, true, t0 + 50000));
    assert_false(probe_cancel_unknown_rule(&since, true, t0 + 100000)); /* 50 s since the break */
    assert_true(probe_cancel_unknown_rule(&since, true, t0 + 110000));
    /* refused kills alone, however long, never */
    since = -1;
    for (int64_t t = t0; t <= t0 + 600000; t += 30000)
        assert_false(probe_cancel_unknown_rule(&since, false, t));
    /* a start at monotonic 0 is a real start, not "no start yet" */
    since = -1;
    assert_false(probe_cancel_unknown_rule(&since, true, 0));
    assert_false(probe_cancel_unknown_rule(&since, true, 59999));
    assert_true(probe_cancel_unknown_rule(&since, true, 60000));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_probe_mark_of_errno__gone_or_unknown),
        cmocka_unit_test_setup_teardown(test_probe_environ_mark__cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_scan_marked__unreadable_is_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_probe_scan_marked__older_unreadable_is_not_the_probe,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_scan_marked__kill_refused_and_no_container,
                                        setup, teardown),
        cmocka_unit_test(test_probe_start_ticks__real_proc),
        cmocka_unit_test(test_probe_scan_marked__real_eacces),
        cmocka_unit_test(test_probe_cancel_unknown_rule__sixty_seconds_unbroken),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
