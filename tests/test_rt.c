/* SPDX-License-Identifier: MIT */
/* test_rt.c - the command lines of the rt actions (option scanner, logs, shell, download,
 * create-volumes, create-ramdisks, purge) and the podman-driving operations against a fake
 * podman (a shell script that records its argv and answers from a script of exit codes):
 * dedup of images, retries, every failure counting, exact-name volume checks, purge never
 * touching shared volumes, podman missing = 111.  Real podman: tests/e2e/t_*.sh. */
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

#include "pod/rt.h"
#include "pod/util.h"
#include "spec_fixture.h"

static const char *const YAML = "api: 1.0.0-beta2\n"
                                "podVersion: 1.0.0\n"
                                "volumes:\n"
                                "  - name: own\n"
                                "    type: volume\n"
                                "  - name: bypod\n"
                                "    type: volume\n"
                                "    shared: pod\n"
                                "  - name: byhost\n"
                                "    type: volume\n"
                                "    shared: host\n"
                                "  - name: tmp\n"
                                "    type: ramdisk\n"
                                "    size: 3M\n"
                                "containers:\n"
                                "  - name: web\n"
                                "    image: img/a:1\n"
                                "  - name: db\n"
                                "    image: img/b:1\n"
                                "  - name: side\n"
                                "    image: img/a:1\n";

static struct pod_spec *load(void)
{
    return spec_fixture_load(YAML);
}

/* ------------------------------------------------------------------ rt_getopt */

static void test_rt_getopt__forms(void **state)
{
    (void)state;
    static const struct rt_optdef defs[] = {{'l', "limit", true}, {'p', "daemon", false}, {0}};
    char *argv[] = {"-l", "-4", "--limit=5", "--limit", "6", "-l7", "-p", "web", "--", "-p"};
    struct rt_getopt g = {.argc = 10, .argv = argv, .defs = defs};
    struct pod_err e = POD_ERR_ZERO;
    const char *want[] = {"-4", "5", "6", "7"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rt_getopt_next(&g, &e), 0);
        assert_string_equal(g.arg, want[i]);
    }
    assert_int_equal(rt_getopt_next(&g, &e), 1);
    assert_int_equal(rt_getopt_next(&g, &e), RT_OPT_WORD);
    assert_string_equal(g.arg, "web");
    assert_int_equal(rt_getopt_next(&g, &e), RT_OPT_DASHDASH);
    assert_int_equal(rt_getopt_next(&g, &e), RT_OPT_WORD);
    assert_string_equal(g.arg, "-p");
    assert_int_equal(rt_getopt_next(&g, &e), RT_OPT_END);
}

static void test_rt_getopt__errors(void **state)
{
    (void)state;
    static const struct rt_optdef defs[] = {{'l', "limit", true}, {'p', "daemon", false}, {0}};
    const char *bad[][2] = {{"-x", "unknown option '-x'"},
                            {"--nope", "unknown option '--nope'"},
                            {"--daemon=1", "option --daemon takes no value"},
                            {"-l", "option -l needs a value"}};
    for (size_t i = 0; i < 4; i++) {
        char *argv[] = {(char *)bad[i][0]};
        struct rt_getopt g = {.argc = 1, .argv = argv, .defs = defs};
        struct pod_err e = POD_ERR_ZERO;
        assert_int_equal(rt_getopt_next(&g, &e), RT_OPT_ERROR);
        assert_int_equal(e.code, POD_E_USAGE);
        assert_string_equal(e.msg, bad[i][1]);
    }
}

/* ------------------------------------------------------------------ logs options */

static int logs_parse(int argc, char **argv, struct rt_logs_opts *o)
{
    struct pod_err e = POD_ERR_ZERO;
    int rc = rt_logs_parse(argc, argv, o, &e);
    if (rc < 0)
        assert_int_equal(e.code, POD_E_USAGE);
    return rc;
}

static void test_rt_logs_parse__defaults_and_sns_form(void **state)
{
    (void)state;
    struct rt_logs_opts o;
    assert_int_equal(logs_parse(0, NULL, &o), 0);
    assert_false(o.has_ts);
    assert_int_equal(o.limit, 0);
    assert_true(o.streams[0] && o.streams[1]);
    assert_int_equal(o.n_cols, 2);
    assert_int_equal(o.cols[0], RT_COL_TS);
    assert_int_equal(o.cols[1], RT_COL_NAME);
    assert_null(o.containers);
    rt_logs_opts_free(&o);

    /* what sns sends */
    char *sns[] = {"-l", "0",   "-t", "0", "-s", "stdout,stderr", "-d", "ts,age,name,stream",
                   "-p", "web", "db"};
    assert_int_equal(logs_parse(11, sns, &o), 0);
    assert_true(o.has_ts);
    assert_int_equal(o.ts_ns, 0);
    assert_true(o.daemon);
    assert_int_equal(o.n_cols, 4);
    assert_int_equal(o.cols[1], RT_COL_AGE);
    assert_int_equal(o.cols[3], RT_COL_STREAM);
    assert_int_equal(pod_strv_len(o.containers), 2);
    assert_string_equal(o.containers[1], "db");
    rt_logs_opts_free(&o);
}

static void test_rt_logs_parse__values(void **state)
{
    (void)state;
    struct rt_logs_opts o;
    char *a[] = {"-t", "1795386838.5", "-l", "-4", "--streams=stderr", "-d", "none"};
    assert_int_equal(logs_parse(7, a, &o), 0);
    assert_int_equal(o.ts_ns, 1795386838500000000LL);
    assert_int_equal(o.limit, -4);
    assert_false(o.streams[0]);
    assert_true(o.streams[1]);
    assert_int_equal(o.n_cols, 0);
    rt_logs_opts_free(&o);

    char *b[] = {"--timestamp=-10.25", "--limit", "7", "--stream", "stdout", "--details=stream,ts"};
    assert_int_equal(logs_parse(6, b, &o), 0);
    assert_int_equal(o.ts_ns, -10250000000LL);
    assert_int_equal(o.limit, 7);
    assert_true(o.streams[0]);
    assert_false(o.streams[1]);
    assert_int_equal(o.n_cols, 2);
    assert_int_equal(o.cols[0], RT_COL_STREAM);
    rt_logs_opts_free(&o);

    char *c[] = {"-t", "1.1234567891"}; /* beyond ns: dropped */
    assert_int_equal(logs_parse(2, c, &o), 0);
    assert_int_equal(o.ts_ns, 1123456789);
    rt_logs_opts_free(&o);
}

static void test_rt_logs_parse__usage_errors(void **state)
{
    (void)state;
    const char *bad[][2] = {{"-t", "abc"}, {"-t", "1."},     {"-t", "1.x"}, {"-t", ""},
                            {"-l", "x"},   {"-l", "1.5"},    {"-l", "--1"}, {"-s", "stdin"},
                            {"-s", ""},    {"-d", "ts,foo"}, {"-q", "x"},   {"-t", "--"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {(char *)bad[i][0], (char *)bad[i][1]};
        struct rt_logs_opts o;
        assert_int_equal(logs_parse(2, argv, &o), -1);
    }
}

/* ------------------------------------------------------------------ shell */

static void shell_ok(const struct pod_spec *s, int argc, char **argv, const char *ctr, bool bash,
                     const char *cmd_joined)
{
    struct rt_shell_opts o;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_shell_parse(s, argc, argv, &o, &e), 0);
    if (ctr)
        assert_string_equal(o.container, ctr);
    else
        assert_null(o.container);
    assert_int_equal(o.bash, bash);
    if (!cmd_joined) {
        assert_null(o.cmd);
    } else {
        struct pod_buf b = {0};
        for (char **w = o.cmd; *w; w++)
            pod_buf_printf(&b, "%s[%s]", b.len ? " " : "", *w);
        assert_string_equal(b.data, cmd_joined);
        pod_buf_free(&b);
    }
    rt_shell_opts_free(&o);
}

static void test_rt_shell_parse__forms(void **state)
{
    (void)state;
    struct pod_spec *s = load();
    char *a[] = {"web", "-b", "ls", "-la"}; /* sns: container first, no -- */
    shell_ok(s, 4, a, "web", true, "[ls] [-la]");
    char *b[] = {"-c", "db", "--", "sh", "-c", "echo a \"b c\""};
    shell_ok(s, 6, b, "db", false, "[sh] [-c] [echo a \"b c\"]");
    char *c[] = {"", "-b"}; /* sns with no container */
    shell_ok(s, 2, c, NULL, true, NULL);
    char *d[] = {"ls", "web"}; /* not a container: the command (in the default container) */
    shell_ok(s, 2, d, NULL, false, "[ls] [web]");
    char *e[] = {"--container=side", "-b"};
    shell_ok(s, 2, e, "side", true, NULL);
    char *f[] = {"-c", "web", "db"}; /* -c given: a later word is the command */
    shell_ok(s, 3, f, "web", false, "[db]");
    shell_ok(s, 0, NULL, NULL, false, NULL);
    char *g[] = {"--", "a b", ""}; /* boundaries and empty words kept */
    shell_ok(s, 3, g, NULL, false, "[a b] []");
    spec_free(s);
}

static void test_rt_shell_parse__errors(void **state)
{
    (void)state;
    struct pod_spec *s = load();
    struct rt_shell_opts o;
    struct pod_err e = POD_ERR_ZERO;
    char *a[] = {"-c", "nope"};
    assert_int_equal(rt_shell_parse(s, 2, a, &o, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    assert_string_equal(e.msg, "Container nope does not exist in this pod");
    assert_int_equal(pod_err_exit_code(&e), 1);
    char *b[] = {"-x"};
    assert_int_equal(rt_shell_parse(s, 1, b, &o, &e), -1);
    assert_int_equal(e.code, POD_E_USAGE);
    char *c[] = {"-c"};
    assert_int_equal(rt_shell_parse(s, 1, c, &o, &e), -1);
    assert_int_equal(e.code, POD_E_USAGE);
    /* an empty command word: a usage error, wherever the command starts */
    char *d[] = {"--", ""}, *d2[] = {"web", "", "x"}, *d3[] = {"", ""}, *d4[] = {"-c", "web", ""};
    char **ds[] = {d, d2, d3, d4};
    int dn[] = {2, 3, 2, 3};
    for (int i = 0; i < 4; i++) {
        e = (struct pod_err)POD_ERR_ZERO;
        assert_int_equal(rt_shell_parse(s, dn[i], ds[i], &o, &e), -1);
        assert_int_equal(e.code, POD_E_USAGE);
        assert_int_equal(pod_err_exit_code(&e), 100);
        assert_non_null(strstr(e.msg, "empty command word"));
    }
    spec_free(s);
}

static char *joined(char **v)
{
    struct pod_buf b = {0};
    for (; *v; v++)
        pod_buf_printf(&b, "%s%s", b.len ? " " : "", *v);
    return pod_buf_take(&b);
}

static void test_rt_shell_argv__exec_lines(void **state)
{
    (void)state;
    struct pod_spec *s = load();
    struct rt_ctx c = {.spec = s, .pod_dir = "/pods/x", .podman = "podman"};
    struct pod_err e = POD_ERR_ZERO;
    struct rt_shell_opts o = {0};
    char **v = rt_shell_argv(&c, &o, true, &e); /* default: the last container */
    char *j = joined(v);
    assert_string_equal(j, "podman exec -i -t side-mypod-1.0.0 sh");
    free(j);
    pod_strv_free(v);
    o.bash = true;
    o.container = "web";
    v = rt_shell_argv(&c, &o, false, &e);
    j = joined(v);
    assert_string_equal(j, "podman exec -i web-mypod-1.0.0 bash");
    free(j);
    pod_strv_free(v);
    char *cmd[] = {"sh", "-c", "echo a \"b c\"", NULL};
    o.cmd = cmd;
    v = rt_shell_argv(&c, &o, false, &e);
    assert_int_equal(pod_strv_len(v), 7);
    assert_string_equal(v[6], "echo a \"b c\"");
    pod_strv_free(v);
    spec_free(s);
}

/* ------------------------------------------------------------------ fake podman */

struct fx {
    char dir[64];
    char *podman, *calls, *script;
    struct pod_spec *spec;
    struct rt_ctx c;
};

/* The fake: appends its argv to calls (one line), then exits with the next code of the
 * script file for its verb line ("<code>" per line, consumed from the top; default 0). */
static const char *const FAKE = "#!/bin/sh\n"
                                "d=$(dirname \"$0\")\n"
                                "echo \"$*\" >>\"$d/calls\"\n"
                                "case \"$2\" in -*) key=$1 ;; *) key=$1_$2 ;; esac\n"
                                "f=\"$d/rc_$key\"\n"
                                "[ -s \"$f\" ] || exit 0\n"
                                "rc=$(head -n1 \"$f\"); sed -i 1d \"$f\"\n"
                                "[ \"$rc\" = 0 ] || echo \"Error: fake $key failed\" >&2\n"
                                "exit \"$rc\"\n";

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_rt.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->podman = xasprintf("%s/podman", f->dir);
    f->calls = xasprintf("%s/calls", f->dir);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(f->podman, FAKE, strlen(FAKE), 0755, &e), 0);
    f->spec = load();
    f->c = (struct rt_ctx){.spec = f->spec, .pod_dir = f->dir, .podman = f->podman};
    pod_log_set_level(0); /* quiet */
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
    spec_free(f->spec);
    free(f);
    pod_log_set_level(POD_LOG_INFO);
    return 0;
}

/* Sets the exit codes of the fake's next calls of a verb ("image_exists", "pull", ...). */
static void codes(struct fx *f, const char *key, const char *lines)
{
    char *p = xasprintf("%s/rc_%s", f->dir, key);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(p, lines, strlen(lines), 0644, &e), 0);
    free(p);
}

static char *calls(struct fx *f)
{
    char *d = NULL;
    size_t n;
    struct pod_err e = POD_ERR_ZERO;
    if (pod_read_file(f->calls, 1 << 20, &d, &n, &e) < 0)
        return xstrdup("");
    return d;
}

static void test_rt_images_pull__dedup_and_exists(void **state)
{
    struct fx *f = *state;
    codes(f, "image_exists", "1\n0\n"); /* a missing, b present */
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_images_pull(&f->c, NULL, &e), 0);
    char *c = calls(f);
    assert_string_equal(c, "image exists -- img/a:1\n"
                           "pull -- img/a:1\n"
                           "image exists -- img/b:1\n");
    free(c);
}

static void test_rt_images_pull__retries_then_succeeds(void **state)
{
    struct fx *f = *state;
    codes(f, "pull", "125\n125\n0\n125\n");
    struct rt_pull_opts o = {.force = true, .backoff_ms = -1};
    struct pod_err e = POD_ERR_ZERO;
    /* a: fails twice, pulled at the 3rd try; b: fails once, then the default 0 */
    assert_int_equal(rt_images_pull(&f->c, &o, &e), 0);
    char *c = calls(f);
    assert_string_equal(c, "pull -- img/a:1\npull -- img/a:1\npull -- img/a:1\n"
                           "pull -- img/b:1\npull -- img/b:1\n");
    free(c);
}

/* B14: an early failure is not hidden by a later success. */
static void test_rt_images_pull__any_failure_fails(void **state)
{
    struct fx *f = *state;
    codes(f, "pull", "1\n1\n1\n0\n");
    struct rt_pull_opts o = {.force = true, .backoff_ms = -1};
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_images_pull(&f->c, &o, &e), -1);
    assert_int_equal(e.code, POD_E_FAILED);
    assert_string_equal(e.msg, "could not pull image img/a:1");
    assert_int_equal(pod_err_exit_code(&e), 1);
    char *c = calls(f);
    assert_string_equal(c, "pull -- img/a:1\npull -- img/a:1\npull -- img/a:1\n"
                           "pull -- img/b:1\n");
    free(c);
}

static void test_rt_images_pull__deadline_per_try(void **state)
{
    struct fx *f = *state;
    /* a podman that hangs: each try is killed at its deadline */
    const char *hang = "#!/bin/sh\necho \"$*\" >>\"$(dirname \"$0\")/calls\"\nexec sleep 30\n";
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(f->podman, hang, strlen(hang), 0755, &e), 0);
    struct rt_pull_opts o = {.force = true, .timeout_ms = 200, .tries = 2, .backoff_ms = -1};
    assert_int_equal(rt_images_pull(&f->c, &o, &e), -1);
    assert_int_equal(e.code, POD_E_FAILED);
    char *c = calls(f);
    assert_string_equal(c, "pull -- img/a:1\npull -- img/a:1\npull -- img/b:1\npull -- img/b:1\n");
    free(c);
}

static void test_rt_podman_missing__is_111(void **state)
{
    struct fx *f = *state;
    f->c.podman = "/nonexistent/podman";
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_images_pull(&f->c, NULL, &e), -1);
    assert_int_equal(pod_err_exit_code(&e), 111);
    assert_int_equal(rt_volumes_create(&f->c, &e), -1);
    assert_int_equal(pod_err_exit_code(&e), 111);
    assert_int_equal(rt_action_download(&f->c, "download", 0, NULL, stdout), 111);
    assert_int_equal(rt_action_purge(&f->c, "purge", 0, NULL, stdout), 111);
}

static void test_rt_volumes_create__idempotent_names(void **state)
{
    struct fx *f = *state;
    codes(f, "volume_exists", "1\n0\n1\n");
    codes(f, "volume_create", "0\n125\n");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_volumes_create(&f->c, &e), -1); /* byhost's create failed */
    assert_int_equal(e.code, POD_E_FAILED);
    assert_string_equal(e.msg, "could not create volume byhost");
    char *c = calls(f);
    assert_string_equal(c, "volume exists own-mypod-1.0.0\n"
                           "volume create --label podc.pod=mypod-1.0.0 own-mypod-1.0.0\n"
                           "volume exists bypod-mypod\n"
                           "volume exists byhost\n"
                           "volume create --label podc.pod=mypod-1.0.0 byhost\n");
    free(c);
}

/* B17: purge removes only shared: no volumes, and only an exact name that exists. */
static void test_rt_action_purge__own_volumes_only(void **state)
{
    struct fx *f = *state;
    codes(f, "pod_exists", "1\n");
    codes(f, "volume_exists", "0\n");
    assert_int_equal(rt_action_purge(&f->c, "purge", 0, NULL, stdout), 0);
    char *c = calls(f);
    assert_string_equal(c, "pod exists mypod-1.0.0\n"
                           "volume exists own-mypod-1.0.0\n"
                           "volume rm own-mypod-1.0.0\n");
    free(c);
}

static void test_rt_action_purge__refused_while_pod_exists(void **state)
{
    struct fx *f = *state;
    codes(f, "pod_exists", "0\n");
    assert_int_equal(rt_action_purge(&f->c, "purge", 0, NULL, stdout), 1);
    char *c = calls(f);
    assert_string_equal(c, "pod exists mypod-1.0.0\n");
    free(c);
    codes(f, "pod_exists", "1\n");
    codes(f, "volume_exists", "0\n");
    codes(f, "volume_rm", "2\n");
    assert_int_equal(rt_action_purge(&f->c, "purge", 0, NULL, stdout), 1); /* rm failed */
}

static void test_rt_actions__usage(void **state)
{
    struct fx *f = *state;
    char *x[] = {"-x"}, *word[] = {"extra"}, *ld[] = {"-l", "-d"}, *ff[] = {"--force"};
    assert_int_equal(rt_action_download(&f->c, "download", 1, x, stdout), 100);
    assert_int_equal(rt_action_download(&f->c, "download", 1, word, stdout), 100);
    assert_int_equal(rt_action_create_volumes(&f->c, "create-volumes", 1, word, stdout), 100);
    assert_int_equal(rt_action_purge(&f->c, "purge", 1, x, stdout), 100);
    assert_int_equal(rt_action_create_ramdisks(&f->c, "create-ramdisks", 2, ld, stdout), 100);
    assert_int_equal(rt_action_logs(&f->c, "logs", 1, x, stdout), 100);
    assert_int_equal(rt_action_shell(&f->c, "shell", 1, x, stdout), 100);
    char *empty[] = {"--", ""};
    assert_int_equal(rt_action_shell(&f->c, "shell", 2, empty, stdout), 100);
    char *c = calls(f);
    assert_string_equal(c, ""); /* podman never ran */
    free(c);
    assert_int_equal(rt_action_download(&f->c, "download", 1, ff, stdout), 0);
    c = calls(f);
    assert_string_equal(c, "pull -- img/a:1\npull -- img/b:1\n");
    free(c);
}

static void test_rt_action_create_ramdisks__list(void **state)
{
    struct fx *f = *state;
    char *l[] = {"--list"};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(rt_action_create_ramdisks(&f->c, "create-ramdisks", 1, l, out), 0);
    fclose(out);
    assert_string_equal(buf, "tmp:3M\n");
    free(buf);
}

/* Fake ramdisks: made by create, reused with a warning, removed by rm; never a symlink's
 * target. */
static void test_rt_ramdisks__fake_prepare_and_remove(void **state)
{
    struct fx *f = *state;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_ramdisks_prepare(&f->c, &e), 0);
    char *dir = xasprintf("%s/ramdisk/tmp", f->dir);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(rt_is_mountpoint(dir, &e), 0);
    char *file = xasprintf("%s/x", dir);
    assert_int_equal(pod_write_file_atomic(file, "x", 1, 0644, &e), 0);
    assert_int_equal(rt_ramdisks_prepare(&f->c, &e), 0); /* again: reused */
    assert_int_equal(stat(file, &st), 0);
    /* a symlink inside must not be followed */
    char *outside = xasprintf("%s/keep", f->dir);
    assert_int_equal(pod_write_file_atomic(outside, "k", 1, 0644, &e), 0);
    char *link = xasprintf("%s/link", dir);
    assert_int_equal(symlink(f->dir, link), 0);
    assert_int_equal(rt_ramdisks_remove_fake(&f->c, &e), 0);
    assert_int_equal(stat(dir, &st), -1);
    assert_int_equal(stat(outside, &st), 0);
    assert_int_equal(rt_ramdisks_remove_fake(&f->c, &e), 0); /* nothing there: fine */
    assert_int_equal(rt_is_mountpoint("/proc", &e), 1);
    assert_int_equal(rt_is_mountpoint("/nonexistent/x", &e), -1);
    free(dir);
    free(file);
    free(outside);
    free(link);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_rt_getopt__forms),
        cmocka_unit_test(test_rt_getopt__errors),
        cmocka_unit_test(test_rt_logs_parse__defaults_and_sns_form),
        cmocka_unit_test(test_rt_logs_parse__values),
        cmocka_unit_test(test_rt_logs_parse__usage_errors),
        cmocka_unit_test(test_rt_shell_parse__forms),
        cmocka_unit_test(test_rt_shell_parse__errors),
        cmocka_unit_test(test_rt_shell_argv__exec_lines),
        cmocka_unit_test_setup_teardown(test_rt_images_pull__dedup_and_exists, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_images_pull__retries_then_succeeds, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_images_pull__any_failure_fails, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_images_pull__deadline_per_try, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_podman_missing__is_111, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_volumes_create__idempotent_names, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_action_purge__own_volumes_only, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_action_purge__refused_while_pod_exists, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_actions__usage, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_action_create_ramdisks__list, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rt_ramdisks__fake_prepare_and_remove, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
