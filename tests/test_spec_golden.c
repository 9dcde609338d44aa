/* SPDX-License-Identifier: MIT */
/* test_spec_golden.c - golden tests of the podc front end (spec_compile).
 *
 * Each tests/data/spec/<case>.yaml is compiled (with <case>.env when present);
 * the result is compared with <case>.expected:
 *   - every diagnostic, one per line, "file:line:col: error|warning: path: message", with the
 *     file shown as the case's base name (<case>.yaml / <case>.env), in spec_compile's order;
 *   - then, when the spec was accepted, a line "OK" and the canonical dump (spec_dump).
 * Optional <case>.opts, one setting per line:
 *   name=<pod name> (default demo)   pp=false (no preprocessing, like podc -p false)
 *   check_files=true (default false)  srcdir=<dir> (default /src)
 *   builddir=<dir> (default tests/data/spec)   env.NAME=value (the -e fallback environment)
 * The working directory is the repository root (make test).  The current directory's path in
 * the output is replaced by <cwd>.  On a mismatch the actual output is written to
 * <dir of this binary>/golden-actual/actual.<case> and the test fails with both texts.
 * GOLDEN_UPDATE=1 rewrites the .expected files instead (review the diff before committing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/spec.h"
#include "pod/util.h"

#define DATA_DIR "tests/data/spec"

static char g_actual_dir[PATH_MAX];

static char *read_opt_file(const char *path)
{
    char *text = NULL;
    size_t len;
    struct pod_err e = POD_ERR_ZERO;
    if (access(path, F_OK) != 0)
        return NULL;
    if (pod_read_file(path, 64u << 20, &text, &len, &e) != 0)
        fail_msg("cannot read %s: %s", path, e.msg);
    return text;
}

struct case_opts {
    char *name, *srcdir, *builddir;
    bool pp, check_files;
    char **env; /* "NAME=value" */
};

static const char *fallback(void *self, const char *name)
{
    char **env = self;
    size_t n = strlen(name);
    for (; env && *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

static void parse_opts(const char *text, struct case_opts *o)
{
    o->name = xstrdup("demo");
    o->srcdir = xstrdup("/src");
    o->builddir = xstrdup(DATA_DIR);
    o->pp = true;
    o->check_files = false;
    if (!text)
        return;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, n);
        char *eq = strchr(line, '=');
        if (line[0] && line[0] != '#' && eq) {
            *eq = '\0';
            const char *val = eq + 1;
            if (!strcmp(line, "name")) {
                free(o->name);
                o->name = *val ? xstrdup(val) : NULL;
            } else if (!strcmp(line, "srcdir")) {
                free(o->srcdir);
                o->srcdir = *val ? xstrdup(val) : NULL;
            } else if (!strcmp(line, "builddir")) {
                free(o->builddir);
                o->builddir = xstrdup(val);
            } else if (!strcmp(line, "pp")) {
                o->pp = strcmp(val, "false") != 0;
            } else if (!strcmp(line, "check_files")) {
                o->check_files = strcmp(val, "true") == 0;
            } else if (!strncmp(line, "env.", 4)) {
                char *kv = xasprintf("%s=%s", line + 4, val);
                pod_strv_push(&o->env, kv);
                free(kv);
            } else {
                fail_msg("unknown option `%s`", line);
            }
        }
        free(line);
        p = nl ? nl + 1 : p + n;
    }
}

static void free_opts(struct case_opts *o)
{
    free(o->name);
    free(o->srcdir);
    free(o->builddir);
    pod_strv_free(o->env);
}

/* Replaces every occurrence of from with to (new string). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    struct pod_buf b = {0};
    pod_buf_add(&b, "", 0);
    size_t fl = strlen(from);
    while (*s) {
        const char *hit = fl ? strstr(s, from) : NULL;
        if (!hit) {
            pod_buf_adds(&b, s);
            break;
        }
        pod_buf_add(&b, s, (size_t)(hit - s));
        pod_buf_adds(&b, to);
        s = hit + fl;
    }
    return pod_buf_take(&b);
}

/* Runs one case; returns the actual output (new string). */
static char *run_case(const char *name)
{
    char *yaml_path = xasprintf("%s/%s.yaml", DATA_DIR, name);
    char *env_path = xasprintf("%s/%s.env", DATA_DIR, name);
    char *opts_path = xasprintf("%s/%s.opts", DATA_DIR, name);
    char *yaml_name = xasprintf("%s.yaml", name);
    char *env_name = xasprintf("%s.env", name);
    char *text = read_opt_file(yaml_path);
    if (!text)
        fail_msg("missing %s", yaml_path);
    char *env_text = read_opt_file(env_path);
    char *opts_text = read_opt_file(opts_path);
    struct case_opts o = {0};
    parse_opts(opts_text, &o);

    struct spec_source src = {.file = yaml_name,
                              .text = text,
                              .len = strlen(text),
                              .env_file = env_text ? env_name : NULL,
                              .env_text = env_text,
                              .env_len = env_text ? strlen(env_text) : 0};
    struct spec_compile_opts so = {.pod_name = o.name,
                                   .srcdir = o.srcdir,
                                   .builddir = o.builddir,
                                   .preprocess = o.pp,
                                   .env_lookup = o.env ? fallback : NULL,
                                   .env_lookup_self = o.env,
                                   .check_files = o.check_files};
    struct spec_diags diags = {0};
    struct pod_spec *spec = NULL;
    spec_compile(&src, &so, &diags, &spec);
    struct pod_buf out = {0};
    pod_buf_add(&out, "", 0);
    for (size_t i = 0; i < diags.n; i++) {
        char *line = spec_diag_format(yaml_name, &diags.v[i]);
        pod_buf_printf(&out, "%s\n", line);
        free(line);
    }
    if (spec) {
        char *dump = spec_dump(spec);
        pod_buf_printf(&out, "OK\n%s", dump);
        free(dump);
    }
    char cwd[PATH_MAX];
    char *res = pod_buf_take(&out);
    if (getcwd(cwd, sizeof cwd)) {
        char *r2 = replace_all(res, cwd, "<cwd>");
        free(res);
        res = r2;
    }
    spec_free(spec);
    spec_diags_free(&diags);
    free_opts(&o);
    free(text);
    free(env_text);
    free(opts_text);
    free(yaml_path);
    free(env_path);
    free(opts_path);
    free(yaml_name);
    free(env_name);
    return res;
}

static void test_golden(void **state)
{
    const char *name = *state;
    char *actual = run_case(name);
    char *exp_path = xasprintf("%s/%s.expected", DATA_DIR, name);
    if (getenv("GOLDEN_UPDATE")) {
        struct pod_err e = POD_ERR_ZERO;
        if (pod_write_file_atomic(exp_path, actual, strlen(actual), 0644, &e) != 0)
            fail_msg("%s", e.msg);
    }
    char *expected = read_opt_file(exp_path);
    if (!expected)
        expected = xstrdup("(missing .expected file)\n");
    if (strcmp(expected, actual) != 0) {
        mkdir(g_actual_dir, 0755);
        char *ap = xasprintf("%s/actual.%s", g_actual_dir, name);
        struct pod_err e = POD_ERR_ZERO;
        if (pod_write_file_atomic(ap, actual, strlen(actual), 0644, &e) != 0)
            print_error("cannot write %s: %s\n", ap, e.msg);
        print_error("golden mismatch for %s\n--- expected (%s)\n%s--- actual (%s)\n%s---\n"
                    "diff -u %s %s\n",
                    name, exp_path, expected, ap, actual, exp_path, ap);
        free(ap);
        free(expected);
        free(actual);
        free(exp_path);
        fail();
    }
    free(expected);
    free(actual);
    free(exp_path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    (void)argc;
    char *dir = pod_dirname(argv[0]);
    snprintf(g_actual_dir, sizeof g_actual_dir, "%s/golden-actual", dir);
    free(dir);

    char **names = NULL;
    DIR *d = opendir(DATA_DIR);
    if (!d) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", DATA_DIR);
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0) {
            char *nm = xstrndup(de->d_name, n - 5);
            pod_strv_push(&names, nm);
            free(nm);
        }
    }
    closedir(d);
    size_t n = pod_strv_len(names);
    qsort(names, n, sizeof *names, cmp_str);
    struct CMUnitTest *tests = xcalloc(n ? n : 1, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = names[i];
        tests[i].test_func = test_golden;
        tests[i].initial_state = names[i];
    }
    int rc = _cmocka_run_group_tests("spec_golden", tests, n, NULL, NULL);
    free(tests);
    pod_strv_free(names);
    if (n < 70) {
        fprintf(stderr, "golden: only %zu cases (expected at least 70)\n", n);
        return 1;
    }
    return rc;
}
