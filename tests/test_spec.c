/* SPDX-License-Identifier: MIT */
/* test_spec.c - unit tests of the spec module: model helpers, diagnostics, the line map,
 * parser limits (depth, size, node count, alias expansion), spec_load's contract and the
 * file-system checks.  Field-by-field validation is covered by the golden cases
 * (tests/test_spec_golden.c, tests/data/spec). */
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

#include "pod/spec.h"
#include "pod/util.h"

#include "../src/spec/spec_internal.h" /* the line map */
#include "../src/spec/spec_pp.h"

static const char *const MINIMAL = "api: 1.0.0-beta2\n"
                                   "podVersion: 1.2.3\n"
                                   "containers:\n"
                                   "  - name: web\n"
                                   "    image: nginx\n";

/* Loads text; returns spec_load's rc and the formatted diagnostics (new string). */
static int load(const char *text, size_t len, const struct spec_opts *o, struct pod_spec **out,
                char **diags_out)
{
    struct spec_opts def = {.file = "pod.yaml", .pod_name = "demo", .srcdir = "/src"};
    struct spec_diags d = {0};
    int rc = spec_load(text, len, o ? o : &def, &d, out);
    struct pod_buf b = {0};
    pod_buf_add(&b, "", 0);
    for (size_t i = 0; i < d.n; i++) {
        char *s = spec_diag_format("pod.yaml", &d.v[i]);
        pod_buf_printf(&b, "%s\n", s);
        free(s);
    }
    *diags_out = pod_buf_take(&b);
    spec_diags_free(&d);
    return rc;
}

/* ------------------------------------------------------------------ names */

static void test_spec_valid_name__table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } t[] = {{"a", true},     {"web", true},   {"web_1", true}, {"a1b2", true}, {"a__b", true},
             {"", false},     {"1a", false},   {"_a", false},   {"a_", false},  {"Web", false},
             {"we-b", false}, {"we.b", false}, {"we b", false}, {NULL, false}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (spec_valid_name(t[i].s) != t[i].ok)
            fail_msg("spec_valid_name(%s) != %d", t[i].s ? t[i].s : "NULL", t[i].ok);
    }
}

static void test_spec_fullnames__derived_names(void **state)
{
    (void)state;
    struct pod_spec *s = NULL;
    char *diags;
    const char *text = "api: 1.0.0-beta2\npodVersion: 1.2.3\n"
                       "volumes:\n"
                       "  - {name: v_no, type: volume}\n"
                       "  - {name: v_pod, type: volume, shared: pod}\n"
                       "  - {name: v_host, type: volume, shared: host}\n"
                       "  - {name: ram, type: ramdisk, size: 5M}\n"
                       "containers:\n  - {name: web, image: nginx}\n  - {name: db, image: pg}\n";
    assert_int_equal(load(text, strlen(text), NULL, &s, &diags), 0);
    assert_string_equal(diags, "");
    char *p = spec_pod_fullname(s);
    assert_string_equal(p, "demo-1.2.3");
    free(p);
    p = spec_container_fullname(s, 1);
    assert_string_equal(p, "db-demo-1.2.3");
    free(p);
    static const char *const want[] = {"v_no-demo-1.2.3", "v_pod-demo", "v_host", "ram"};
    for (size_t i = 0; i < 4; i++) {
        p = spec_volume_fullname(s, &s->volumes[i]);
        assert_string_equal(p, want[i]);
        free(p);
    }
    assert_ptr_equal(spec_find_volume(s, "v_pod"), &s->volumes[1]);
    assert_null(spec_find_volume(s, "nope"));
    assert_int_equal(spec_find_container(s, "db"), 1);
    assert_int_equal(spec_find_container(s, "nope"), -1);
    assert_int_equal(s->containers[0].line, 9);
    assert_int_equal(s->volumes[2].line, 6);
    free(diags);
    spec_free(s);
    spec_free(NULL);
}

static void test_spec_enum_names__all_values(void **state)
{
    (void)state;
    assert_string_equal(spec_restart_name(SPEC_RESTART_NEVER), "never");
    assert_string_equal(spec_restart_name(SPEC_RESTART_ALWAYS), "always");
    assert_string_equal(spec_restart_name(SPEC_RESTART_ON_CONFIG), "on-config");
    assert_string_equal(spec_restart_name(SPEC_RESTART_ON_INTERVAL), "on-interval");
    assert_string_equal(spec_restart_name(SPEC_RESTART_ON_FAILURE), "on-failure");
    assert_string_equal(spec_vol_type_name(SPEC_VOL_VOLUME), "volume");
    assert_string_equal(spec_vol_type_name(SPEC_VOL_RAMDISK), "ramdisk");
    assert_string_equal(spec_vol_type_name(SPEC_VOL_CONFIG), "config");
    assert_string_equal(spec_vol_type_name(SPEC_VOL_HOST), "host");
    assert_string_equal(spec_shared_name(SPEC_SHARED_NO), "no");
    assert_string_equal(spec_shared_name(SPEC_SHARED_POD), "pod");
    assert_string_equal(spec_shared_name(SPEC_SHARED_HOST), "host");
    assert_string_equal(spec_ctr_kind_name(SPEC_CTR_MAIN), "main");
    assert_string_equal(spec_ctr_kind_name(SPEC_CTR_INIT), "init");
    assert_string_equal(spec_ctr_kind_name(SPEC_CTR_SIDECAR), "sidecar");
    assert_string_equal(spec_probe_kind_name(SPEC_PROBE_NONE), "none");
    assert_string_equal(spec_probe_kind_name(SPEC_PROBE_EXEC), "exec");
    assert_string_equal(spec_probe_kind_name(SPEC_PROBE_EXIT), "exit");
    assert_string_equal(spec_probe_kind_name(SPEC_PROBE_TCP), "tcp");
    assert_string_equal(spec_probe_kind_name(SPEC_PROBE_HTTP), "http");
}

/* ------------------------------------------------------------------ diagnostics */

static void test_spec_diag_format__variants(void **state)
{
    (void)state;
    struct spec_diags d = {0};
    spec_diag_add(&d, SPEC_SEV_ERROR, 3, 7, "containers[0].restart", "bad %s", "value");
    spec_diag_add(&d, SPEC_SEV_WARNING, 0, 0, "x", "no position");
    spec_diag_add(&d, SPEC_SEV_ERROR, 1, 2, "", "no path");
    spec_diag_add_file(&d, "pod.env", SPEC_SEV_WARNING, 4, 1, "", "env file");
    assert_int_equal(d.n_errors, 2);
    assert_int_equal(d.n_warnings, 2);
    static const char *const want[] = {
        "f.yaml:3:7: error: containers[0].restart: bad value", "f.yaml: warning: x: no position",
        "f.yaml:1:2: error: no path", "pod.env:4:1: warning: env file"};
    for (size_t i = 0; i < 4; i++) {
        char *s = spec_diag_format("f.yaml", &d.v[i]);
        assert_string_equal(s, want[i]);
        free(s);
    }
    spec_diags_free(&d);
    assert_int_equal(d.n, 0);
}

static void test_spec_diags_sort__stable_by_position_env_first(void **state)
{
    (void)state;
    struct spec_diags d = {0};
    spec_diag_add(&d, SPEC_SEV_ERROR, 5, 1, "", "e5a");
    spec_diag_add(&d, SPEC_SEV_ERROR, 2, 9, "", "e2");
    spec_diag_add(&d, SPEC_SEV_ERROR, 5, 1, "", "e5b");
    spec_diag_add_file(&d, "pod.env", SPEC_SEV_WARNING, 9, 1, "", "env9");
    spec_diag_add(&d, SPEC_SEV_ERROR, 0, 0, "", "nopos");
    spec_diag_add_file(&d, "pod.env", SPEC_SEV_WARNING, 1, 1, "", "env1");
    spec_diags_sort(&d);
    static const char *const want[] = {"env9", "env1", "nopos", "e2", "e5a", "e5b"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(d.v[i].msg, want[i]);
    spec_diags_free(&d);
}

/* ------------------------------------------------------------------ line map */

static void test_spec_map_pos__spans(void **state)
{
    (void)state;
    struct spec_line_map *m = spec_line_map_new();
    spec_line_map_add_line(m, 3);
    spec_line_map_add_line(m, 7);
    spec_line_map_add_span(m, 1, 1, true);
    spec_line_map_add_span(m, 5, 5, false);  /* value at out 5..14 from src ${ at 5 */
    spec_line_map_add_span(m, 15, 11, true); /* after the reference */
    int l, c;
    spec_map_pos(m, 1, 4, &l, &c);
    assert_int_equal(l, 3);
    assert_int_equal(c, 4);
    spec_map_pos(m, 2, 3, &l, &c);
    assert_int_equal(l, 7);
    assert_int_equal(c, 3);
    spec_map_pos(m, 2, 9, &l, &c);
    assert_int_equal(c, 5);
    spec_map_pos(m, 2, 16, &l, &c);
    assert_int_equal(c, 12);
    spec_map_pos(m, 4, 1, &l, &c);
    assert_int_equal(l, 9);
    spec_line_map_free(m);
    spec_line_map_free(NULL);
}

static void test_spec_load__positions_through_pp_map(void **state)
{
    (void)state;
    const char *src = "api: 1.0.0-beta2\n"
                      "#ifdef ${NOPE}\n"
                      "x: 1\n"
                      "#endif\n"
                      "podVersion: 1.0.0\n"
                      "containers:\n"
                      "  - name: web\n"
                      "    image: ${IMG}\n"
                      "    restart: ${P} # comment\n";
    struct pp_vars v = {0};
    pp_vars_set(&v, "IMG", "a-long-image-name");
    pp_vars_set(&v, "P", "bogus");
    struct spec_diags d = {0};
    struct pp_opts po = {.file = "pod.yaml"};
    struct pp_result r;
    assert_int_equal(pp_run(src, strlen(src), &v, &po, &d, &r), 0);
    struct spec_opts o = {.file = "pod.yaml", .pod_name = "demo", .map = r.map};
    struct pod_spec *s = (void *)1;
    assert_int_equal(spec_load(r.text, r.len, &o, &d, &s), -1);
    assert_null(s);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 9);
    assert_int_equal(d.v[0].col, 14);
    assert_string_equal(d.v[0].path, "containers[0].restart");
    spec_diags_free(&d);
    pp_result_free(&r);
    pp_vars_free(&v);
}

static void test_spec_load__utf8_columns_are_bytes(void **state)
{
    (void)state;
    /* libyaml counts characters; diagnostics count bytes */
    const char *text = "api: 1.0.0-beta2\npodVersion: 1.0.0\nx: {\"é\": 1, k: v, k: w}\n"
                       "containers: [{name: a, image: b}]\n";
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(text, strlen(text), NULL, &s, &diags), -1);
    /* `k` is the 19th character but the 20th byte */
    assert_string_equal(diags, "pod.yaml:3:1: warning: x: unknown key `x` is ignored\n"
                               "pod.yaml:3:20: error: duplicate key `k` (first defined at line "
                               "3)\n");
    free(diags);
}

/* ------------------------------------------------------------------ spec_load contract */

static void test_spec_load__ok_and_warnings(void **state)
{
    (void)state;
    struct pod_spec *s = NULL;
    char *diags;
    assert_int_equal(load(MINIMAL, strlen(MINIMAL), NULL, &s, &diags), 0);
    assert_non_null(s);
    assert_string_equal(diags, "");
    assert_string_equal(s->containers[0].image, "nginx");
    assert_int_equal(s->containers[0].stop_timeout_s, 10);
    assert_int_equal(s->containers[0].backoff.initial_ms, 1000);
    assert_int_equal(s->containers[0].backoff.max_ms, 300000);
    assert_int_equal(s->containers[0].readiness.period_s, 6);
    assert_int_equal(s->containers[0].startup.period_s, 1);
    assert_int_equal(s->containers[0].startup.timeout_s, 120);
    assert_int_equal(s->config_debounce_ms, 250);
    assert_int_equal(s->logs.max_bytes, 10 * 1024 * 1024);
    assert_int_equal(s->logs.max_files, 5);
    spec_free(s);
    free(diags);

    char *t = xasprintf("%sunknownKey: 1\n", MINIMAL);
    assert_int_equal(load(t, strlen(t), NULL, &s, &diags), 0);
    assert_non_null(s);
    assert_string_equal(diags, "pod.yaml:6:1: warning: unknownKey: unknown key `unknownKey` is "
                               "ignored\n");
    spec_free(s);
    free(diags);
    free(t);
}

/* configDebounceSeconds (SPEC.md 5): seconds with up to 3 fraction digits, 0..3600, stored in
 * ms; every rejected form says so at the value's position. */
static void test_spec_load__debounce_seconds_forms(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int ms; /* -1: rejected */
    } t[] = {
        {"0", 0},
        {"0.25", 250},
        {"1", 1000},
        {"2.5", 2500},
        {"0.001", 1},
        {"007.5", 7500},
        {"3600", 3600000},
        {"3600.000", 3600000},
        {"\"0.5\"", 500},
        {"'1.75'", 1750},
        {"-1", -1},
        {".5", -1},
        {"1.", -1},
        {"0.2500", -1},
        {"1e3", -1},
        {"3600.001", -1},
        {"3601", -1},
        {"0x10", -1},
        {"1,5", -1},
        {"+1", -1},
        {"1.5s", -1},
        {"\"\"", -1},
        {"99999999999999999999", -1},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        char *text = xasprintf("api: 1.0.0-beta2\npodVersion: 1.2.3\nconfigDebounceSeconds: %s\n"
                               "containers:\n  - name: web\n    image: nginx\n",
                               t[k].value);
        struct pod_spec *s = NULL;
        char *diags;
        print_message("%s\n", t[k].value);
        int rc = load(text, strlen(text), NULL, &s, &diags);
        if (t[k].ms >= 0) {
            assert_int_equal(rc, 0);
            assert_string_equal(diags, "");
            assert_int_equal(s->config_debounce_ms, t[k].ms);
        } else {
            assert_int_equal(rc, -1);
            const char *v = t[k].value;
            size_t vl = strlen(v);
            bool quoted = vl >= 2 && (v[0] == '"' || v[0] == '\'');
            char *want = xasprintf(
                "pod.yaml:3:24: error: configDebounceSeconds: expected seconds from 0 to 3600 "
                "with at most 3 decimals (e.g. 0.25), got `%.*s`\n",
                (int)(quoted ? vl - 2 : vl), quoted ? v + 1 : v);
            assert_string_equal(diags, want);
            free(want);
        }
        spec_free(s);
        free(diags);
        free(text);
    }
    /* not a scalar */
    const char *list = "api: 1.0.0-beta2\npodVersion: 1.2.3\nconfigDebounceSeconds: [1]\n"
                       "containers:\n  - name: web\n    image: nginx\n";
    struct pod_spec *s = NULL;
    char *diags;
    assert_int_equal(load(list, strlen(list), NULL, &s, &diags), -1);
    assert_string_equal(diags, "pod.yaml:3:24: error: configDebounceSeconds: expected a number of "
                               "seconds, got a list\n");
    spec_free(s);
    free(diags);
}

static void test_spec_load__all_errors_reported(void **state)
{
    (void)state;
    const char *text = "api: 2\npodVersion: x\nruntime: y\ncontainers:\n"
                       "  - {name: A, image: 'b c', restart: z}\n";
    struct pod_spec *s = (void *)1;
    char *diags;
    assert_int_equal(load(text, strlen(text), NULL, &s, &diags), -1);
    assert_null(s);
    size_t lines = 0;
    for (const char *p = diags; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 6);
    free(diags);
}

static void test_spec_load__no_pod_name(void **state)
{
    (void)state;
    struct spec_opts o = {.file = "pod.yaml"};
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(MINIMAL, strlen(MINIMAL), &o, &s, &diags), -1);
    assert_string_equal(diags, "pod.yaml: error: no pod name given\n");
    free(diags);
}

/* ------------------------------------------------------------------ parser limits */

static void test_spec_parse__depth_limit(void **state)
{
    (void)state;
    /* the root mapping is level 1, so 63 more levels pass and 64 more do not */
    for (int extra = 63; extra <= 64; extra++) {
        struct pod_buf b = {0};
        pod_buf_adds(&b, "api: 1.0.0-beta2\npodVersion: 1.0.0\nx: ");
        for (int i = 0; i < extra; i++)
            pod_buf_addc(&b, '[');
        for (int i = 0; i < extra; i++)
            pod_buf_addc(&b, ']');
        pod_buf_adds(&b, "\ncontainers: [{name: a, image: b}]\n");
        struct pod_spec *s = NULL;
        char *diags;
        int rc = load(b.data, b.len, NULL, &s, &diags);
        if (extra == 63) {
            assert_int_equal(rc, 0);
            assert_string_equal(diags, "pod.yaml:3:1: warning: x: unknown key `x` is ignored\n");
            spec_free(s);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(diags, "pod.yaml:3:67: error: nesting deeper than 64 levels\n");
        }
        free(diags);
        pod_buf_free(&b);
    }
    struct pod_buf b = {0};
    pod_buf_adds(&b, "x: ");
    for (int i = 0; i < 100000; i++)
        pod_buf_addc(&b, '[');
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(b.data, b.len, NULL, &s, &diags), -1);
    assert_string_equal(diags, "pod.yaml:1:67: error: nesting deeper than 64 levels\n");
    free(diags);
    pod_buf_free(&b);
}

static void test_spec_parse__input_size_limit(void **state)
{
    (void)state;
    size_t n = SPEC_MAX_INPUT_BYTES + 1;
    char *big = xmalloc(n);
    memset(big, '#', n);
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(big, n, NULL, &s, &diags), -1);
    assert_string_equal(diags, "pod.yaml: error: input is larger than 4194304 bytes\n");
    free(diags);
    free(big);
}

static void test_spec_parse__node_count_limit(void **state)
{
    (void)state;
    /* 300k one-character items on one line: below the byte limit, above the node limit (and
     * linear: positions are converted incrementally) */
    struct pod_buf b = {0};
    pod_buf_adds(&b, "x: [");
    for (int i = 0; i < 300000; i++)
        pod_buf_adds(&b, "1,");
    pod_buf_adds(&b, "1]\n");
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(b.data, b.len, NULL, &s, &diags), -1);
    assert_non_null(strstr(diags, "error: the document has more than 20000 nodes"));
    free(diags);
    pod_buf_free(&b);
}

static void test_spec_parse__alias_bomb_bounded(void **state)
{
    (void)state;
    /* 10 levels of 10 aliases each: 10^10 nodes if expanded */
    struct pod_buf b = {0};
    pod_buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        pod_buf_printf(&b, "a%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            pod_buf_printf(&b, "%s*a%d", j ? ", " : "", i - 1);
        pod_buf_adds(&b, "]\n");
    }
    struct pod_spec *s;
    char *diags;
    assert_int_equal(load(b.data, b.len, NULL, &s, &diags), -1);
    assert_non_null(strstr(diags, "expands to more than 20000 nodes"));
    free(diags);
    pod_buf_free(&b);
}

static void test_spec_parse__aliases_share_values(void **state)
{
    (void)state;
    const char *text = "api: 1.0.0-beta2\npodVersion: 1.0.0\n"
                       "x-img: &img nginx:1\n"
                       "containers:\n"
                       "  - &c {name: a, image: *img}\n"
                       "  - {name: b, image: *img}\n";
    struct pod_spec *s = NULL;
    char *diags;
    assert_int_equal(load(text, strlen(text), NULL, &s, &diags), 0);
    assert_string_equal(diags, "");
    assert_string_equal(s->containers[1].image, "nginx:1");
    spec_free(s);
    free(diags);
}

static void test_spec_parse__garbage_inputs_do_not_crash(void **state)
{
    (void)state;
    static const char *const inputs[] = {"",
                                         "\n",
                                         "---\n",
                                         "---\n...\n",
                                         "~",
                                         "[",
                                         "{",
                                         "a: [",
                                         "a: {b",
                                         "\"",
                                         "'",
                                         "- - - -",
                                         "? [a]\n: b\n",
                                         "*x",
                                         "&a a\n",
                                         "a: !!binary AAAA\n",
                                         "\xff\xfe",
                                         "a:\n\t- b\n",
                                         "%YAML 1.1\n---\na: 1\n",
                                         "a: |\n  x\n b: 1\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct pod_spec *s = NULL;
        char *diags;
        int rc = load(inputs[i], strlen(inputs[i]), NULL, &s, &diags);
        assert_int_equal(rc, -1);
        assert_null(s);
        assert_true(strstr(diags, "error:") != NULL);
        free(diags);
    }
}

/* ------------------------------------------------------------------ file checks */

static void test_spec_load__check_files(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/test_spec_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char *cfg = xasprintf("%s/config", dir);
    char *cfg1 = xasprintf("%s/config/present", dir);
    char *exe = xasprintf("%s/run.sh", dir);
    assert_int_equal(mkdir(cfg, 0755), 0);
    assert_int_equal(mkdir(cfg1, 0755), 0);
    FILE *f = fopen(exe, "w");
    assert_non_null(f);
    fclose(f);

    const char *text = "api: 1.0.0-beta2\npodVersion: 1.0.0\n"
                       "volumes:\n"
                       "  - {name: present, type: config}\n"
                       "  - {name: missing, type: config}\n"
                       "  - {name: h, type: host, bind: data/../x}\n"
                       "containers: [{name: a, image: b}]\n";
    struct spec_opts o = {.file = "pod.yaml",
                          .pod_name = "demo",
                          .srcdir = dir,
                          .builddir = dir,
                          .check_files = true};
    struct pod_spec *s = NULL;
    char *diags;
    assert_int_equal(load(text, strlen(text), &o, &s, &diags), -1);
    char *want = xasprintf("pod.yaml:5:5: error: volumes[1]: config directory `%s/config/missing` "
                           "does not exist (No such file or directory)\n",
                           dir);
    assert_string_equal(diags, want);
    free(want);
    free(diags);

    /* without check_files: accepted, bind made absolute against srcdir */
    o.check_files = false;
    assert_int_equal(load(text, strlen(text), &o, &s, &diags), 0);
    char *bind = xasprintf("%s/x", dir);
    assert_string_equal(s->volumes[2].bind, bind);
    free(bind);
    spec_free(s);
    free(diags);

    const char *etext = "api: 1.0.0-beta2\nruntime: executable\npodVersion: 1.0.0\n"
                        "executable:\n  file: ./run.sh\n";
    o.check_files = true;
    assert_int_equal(load(etext, strlen(etext), &o, &s, &diags), 0);
    assert_string_equal(s->exec_file, exe);
    spec_free(s);
    free(diags);

    rmdir(cfg1);
    rmdir(cfg);
    unlink(exe);
    rmdir(dir);
    free(cfg);
    free(cfg1);
    free(exe);
}

static void test_spec_dump__contains_defaults(void **state)
{
    (void)state;
    struct pod_spec *s = NULL;
    char *diags;
    assert_int_equal(load(MINIMAL, strlen(MINIMAL), NULL, &s, &diags), 0);
    char *d = spec_dump(s);
    assert_non_null(strstr(d, "containers[0]: web fullname=web-demo-1.2.3 kind=main\n"));
    assert_non_null(strstr(d, "containers[0].restartBackoff: initialMs=1000 maxMs=300000 "
                              "resetS=600 giveUpCount=0 giveUpWindowS=600\n"));
    free(d);
    spec_free(s);
    free(diags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_valid_name__table),
        cmocka_unit_test(test_spec_fullnames__derived_names),
        cmocka_unit_test(test_spec_enum_names__all_values),
        cmocka_unit_test(test_spec_diag_format__variants),
        cmocka_unit_test(test_spec_diags_sort__stable_by_position_env_first),
        cmocka_unit_test(test_spec_map_pos__spans),
        cmocka_unit_test(test_spec_load__positions_through_pp_map),
        cmocka_unit_test(test_spec_load__utf8_columns_are_bytes),
        cmocka_unit_test(test_spec_load__ok_and_warnings),
        cmocka_unit_test(test_spec_load__debounce_seconds_forms),
        cmocka_unit_test(test_spec_load__all_errors_reported),
        cmocka_unit_test(test_spec_load__no_pod_name),
        cmocka_unit_test(test_spec_parse__depth_limit),
        cmocka_unit_test(test_spec_parse__input_size_limit),
        cmocka_unit_test(test_spec_parse__node_count_limit),
        cmocka_unit_test(test_spec_parse__alias_bomb_bounded),
        cmocka_unit_test(test_spec_parse__aliases_share_values),
        cmocka_unit_test(test_spec_parse__garbage_inputs_do_not_crash),
        cmocka_unit_test(test_spec_load__check_files),
        cmocka_unit_test(test_spec_dump__contains_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
