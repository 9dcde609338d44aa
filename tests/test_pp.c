/* SPDX-License-Identifier: MIT */
/* test_pp.c - unit tests of the preprocessor (src/spec/spec_pp.c): .env parsing, substitution,
 * comments, directives, podVersion, errors and the line map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

#include "../src/spec/spec_internal.h" /* spec_map_pos */
#include "../src/spec/spec_pp.h"

/* Runs pp on text with NAME=value pairs (NULL-terminated list of "NAME=value").  Returns the
 * output; *diags_out gets every diagnostic formatted, one per line. */
struct run {
    int rc;
    char *out;
    char *diags;
    struct pp_result res;
};

static const char *env_fallback(void *self, const char *name)
{
    const char *const *kv = self;
    for (; kv && *kv; kv++) {
        size_t n = strlen(name);
        if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
            return *kv + n + 1;
    }
    return NULL;
}

static void run_pp(struct run *r, const char *text, const char *const *vars,
                   const char *const *fallback)
{
    struct pp_vars v = {0};
    for (const char *const *p = vars; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        char *name = xstrndup(*p, (size_t)(eq - *p));
        pp_vars_set(&v, name, eq + 1);
        free(name);
    }
    struct pp_opts o = {.file = "pod.yaml",
                        .fallback = fallback ? env_fallback : NULL,
                        .fallback_self = (void *)fallback};
    struct spec_diags d = {0};
    r->rc = pp_run(text, strlen(text), &v, &o, &d, &r->res);
    r->out = r->res.text;
    struct pod_buf b = {0};
    pod_buf_add(&b, "", 0);
    for (size_t i = 0; i < d.n; i++) {
        char *s = spec_diag_format("pod.yaml", &d.v[i]);
        pod_buf_printf(&b, "%s\n", s);
        free(s);
    }
    r->diags = pod_buf_take(&b);
    spec_diags_free(&d);
    pp_vars_free(&v);
}

static void run_free(struct run *r)
{
    free(r->diags);
    pp_result_free(&r->res);
}

/* ------------------------------------------------------------------ pp_vars / .env */

static void test_pp_vars_set__first_definition_wins(void **state)
{
    (void)state;
    struct pp_vars v = {0};
    pp_vars_set(&v, "A", "1");
    pp_vars_set(&v, "A", "2");
    assert_string_equal(pp_vars_get(&v, "A"), "1");
    assert_null(pp_vars_get(&v, "B"));
    assert_int_equal(v.n, 1);
    pp_vars_free(&v);
    pp_vars_free(NULL);
}

static void test_pp_parse_env__lines(void **state)
{
    (void)state;
    const char *env = "# comment\n"
                      "\n"
                      "A=hello & \"world\" \\ /x\n"
                      "B=\r\n"
                      "  # indented comment\n"
                      "C= spaced value \n"
                      "D='quoted'\n"
                      "bad line\n"
                      "1X=3\n"
                      "podVersion=9.9.9\n"
                      "A=second\n"
                      "E=a=b";
    struct pp_vars v = {0};
    struct spec_diags d = {0};
    pp_parse_env(env, strlen(env), "pod.env", &v, &d);
    assert_string_equal(pp_vars_get(&v, "A"), "hello & \"world\" \\ /x");
    assert_string_equal(pp_vars_get(&v, "B"), "");
    assert_string_equal(pp_vars_get(&v, "C"), " spaced value ");
    assert_string_equal(pp_vars_get(&v, "D"), "'quoted'");
    assert_string_equal(pp_vars_get(&v, "E"), "a=b");
    assert_null(pp_vars_get(&v, "podVersion"));
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(d.n_warnings, 4);
    char *s = spec_diag_format("pod.yaml", &d.v[0]);
    assert_string_equal(s, "pod.env:8:1: warning: malformed line ignored (expected NAME=value, "
                           "NAME matching [A-Za-z_][A-Za-z0-9_]*)");
    free(s);
    s = spec_diag_format("pod.yaml", &d.v[3]);
    assert_string_equal(s, "pod.env:11:1: warning: duplicate definition of `A`; the first one "
                           "(line 3) is used");
    free(s);
    spec_diags_free(&d);
    pp_vars_free(&v);
}

static void test_pp_parse_env__variable_limit(void **state)
{
    (void)state;
    struct pod_buf b = {0};
    for (int i = 0; i < 1005; i++)
        pod_buf_printf(&b, "V%d=x\n", i);
    struct pp_vars v = {0};
    struct spec_diags d = {0};
    pp_parse_env(b.data, b.len, "pod.env", &v, &d);
    assert_int_equal(v.n, 1000);
    assert_int_equal(d.n_errors, 1);
    assert_int_equal(d.v[0].line, 1001);
    assert_string_equal(d.v[0].msg, "more than 1000 variables");
    spec_diags_free(&d);
    pp_vars_free(&v);
    pod_buf_free(&b);
}

/* ------------------------------------------------------------------ substitution */

static void test_pp_run__substitutes_braced_vars_verbatim(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"IMG=reg/x:1 & \\1 \"q\"", "EMPTY=", NULL};
    run_pp(&r, "image: ${IMG}\nx: a${EMPTY}b $IMG ${IMG\n", vars, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "image: reg/x:1 & \\1 \"q\"\nx: ab $IMG ${IMG\n");
    assert_string_equal(r.diags, "");
    run_free(&r);
}

static void test_pp_run__undefined_var_is_error_with_position(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "a: 1\nimage: x:${TAG} ${OTHER}\n", NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(
        r.diags, "pod.yaml:2:10: error: undefined variable `TAG` (define it in the .env file, "
                 "give a default with `${TAG:-value}`, or write `$${...}` for a literal)\n"
                 "pod.yaml:2:17: error: undefined variable `OTHER` (define it in the .env "
                 "file, give a default with `${OTHER:-value}`, or write `$${...}` for a "
                 "literal)\n");
    run_free(&r);
}

static void test_pp_run__fallback_lookup_after_vars(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"A=env-file", NULL};
    const char *fb[] = {"A=environment", "B=from-env", NULL};
    run_pp(&r, "x: ${A} ${B}\n", vars, fb);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "x: env-file from-env\n");
    run_free(&r);
}

static void test_pp_run__default_syntax(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"SET=v", "EMPTY=", NULL};
    run_pp(&r, "x: ${SET:-d} ${UNSET:-dflt x} ${EMPTY:-e} ${UNSET:-}.\n", vars, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "x: v dflt x e .\n");
    run_free(&r);
}

static void test_pp_run__escape_dollar_dollar(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "cmd: 'echo $${code} $$ $x'\n", NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "cmd: 'echo ${code} $$ $x'\n");
    run_free(&r);
}

static void test_pp_run__comments_not_substituted(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"A=a", NULL};
    run_pp(&r,
           "# ${UNDEF} at line start\n"
           "x: ${A} # and ${UNDEF} inline\n"
           "y: a#${A}\n"
           "z: \"quoted # ${A}\" # ${UNDEF}\n"
           "w: 'it''s # ${A}' # ${UNDEF}\n"
           "v: it's ${A} # ${UNDEF}\n"
           "u: [a, '# ${A}'] #${UNDEF}\n",
           vars, NULL);
    assert_string_equal(r.diags, "");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "# ${UNDEF} at line start\n"
                               "x: a # and ${UNDEF} inline\n"
                               "y: a#a\n"
                               "z: \"quoted # a\" # ${UNDEF}\n"
                               "w: 'it''s # a' # ${UNDEF}\n"
                               "v: it's a # ${UNDEF}\n"
                               "u: [a, '# a'] #${UNDEF}\n");
    run_free(&r);
}

static void test_pp_run__block_scalar_hash_is_content(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"A=a", "B=b", NULL};
    run_pp(&r,
           "cmd: |\n"
           "  echo ${A} # ${B}\n"
           "\n"
           "  # ${B}\n"
           "next: x # ${UNDEF}\n",
           vars, NULL);
    assert_string_equal(r.diags, "");
    assert_string_equal(r.out, "cmd: |\n  echo a # b\n\n  # b\nnext: x # ${UNDEF}\n");
    run_free(&r);
}

static void test_pp_run__multiline_double_quoted(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"A=a", NULL};
    run_pp(&r, "x: \"first\n  # ${A}\"\ny: 1 # ${UNDEF}\n", vars, NULL);
    assert_string_equal(r.diags, "");
    assert_string_equal(r.out, "x: \"first\n  # a\"\ny: 1 # ${UNDEF}\n");
    run_free(&r);
}

static void test_pp_run__value_with_newline_is_error(void **state)
{
    (void)state;
    struct run r;
    const char *fb[] = {"ML=a\nb", NULL};
    run_pp(&r, "x: ${ML}\n", NULL, fb);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.diags, "pod.yaml:1:4: error: the value of variable `ML` contains a "
                                 "line break, which cannot be substituted\n");
    run_free(&r);
}

/* ------------------------------------------------------------------ podVersion */

static void test_pp_run__pod_version_from_document(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"podVersion=9.9.9", NULL};
    run_pp(&r, "image: a:${podVersion}\npodVersion: \"1.2.3\" # comment\n", vars, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "image: a:1.2.3\npodVersion: \"1.2.3\" # comment\n");
    run_free(&r);

    run_pp(&r, "podVersion: 0.0.1-rc1 # x\nimage: a:${podVersion}\n", NULL, NULL);
    assert_string_equal(r.out, "podVersion: 0.0.1-rc1 # x\nimage: a:0.0.1-rc1\n");
    run_free(&r);

    /* indented podVersion: keys are not the top-level one */
    run_pp(&r, "x:\n  podVersion: 2\nimage: ${podVersion}\n", NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.diags, "pod.yaml:3:8: error: `${podVersion}` is used but the file has "
                                 "no top-level podVersion: line\n");
    run_free(&r);
}

static void test_pp_run__pod_version_from_kept_block_and_vars(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"DEV=1", "V=3.0.0", NULL};
    run_pp(&r,
           "#ifndef ${DEV}\n"
           "podVersion: 1.0.0\n"
           "#endif\n"
           "#ifdef ${DEV}\n"
           "podVersion: ${V}-dev\n"
           "#endif\n"
           "i: ${podVersion}\n",
           vars, NULL);
    assert_string_equal(r.diags, "");
    assert_string_equal(r.out, "podVersion: 3.0.0-dev\ni: 3.0.0-dev\n");
    run_free(&r);
}

/* ------------------------------------------------------------------ directives */

static void test_pp_run__directives_keep_and_drop(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"DEV=yes", "T=true", "F=false", "E=", NULL};
    run_pp(&r,
           "#ifdef ${DEV}\na: 1\n#endif\n"
           "#ifdef ${NOPE}\nb: 1\n#endif\n"
           "#ifndef ${NOPE}\nc: 1\n#endif\n"
           "#ifndef ${E}\nd: 1\n#endif   \n"
           "#iftrue ${T}\ne: 1\n#endif\n"
           "#iftrue ${F}\nf: 1\n#endif\n"
           "#ifntrue ${F}\ng: 1\n#endif\n"
           "#ifntrue ${T}\nh: 1\n#endif\n"
           "#ifdef ${NOPE:-x} # trailing comment\ni: 1\n#endif\n",
           vars, NULL);
    assert_string_equal(r.diags, "");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "a: 1\nc: 1\nd: 1\ne: 1\ng: 1\ni: 1\n");
    run_free(&r);
}

static void test_pp_run__nested_directives(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"A=1", NULL};
    run_pp(&r,
           "#ifdef ${A}\n"
           "a: 1\n"
           "#ifdef ${B}\n"
           "b: ${UNDEF}\n"
           "#ifdef ${A}\n"
           "c: 1\n"
           "#endif\n"
           "#endif\n"
           "d: 1\n"
           "#endif\n"
           "#ifdef ${B}\n"
           "#ifndef ${B}\n"
           "e: 1\n"
           "#endif\n"
           "#endif\n",
           vars, NULL);
    assert_string_equal(r.diags, "");
    assert_string_equal(r.out, "a: 1\nd: 1\n");
    run_free(&r);
}

static void test_pp_run__directive_errors(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "a: 1\n#endif\n#ifdef ${X}\n#ifdef\nb: 1\n#endif\n#ifelse x\n#endifx\n", NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.diags, "pod.yaml:2:1: error: #endif without a matching #if\n"
                                 "pod.yaml:3:1: error: missing #endif for this #if block\n");
    run_free(&r);

    run_pp(&r, "#ifdef\n#endif\n#ifelse x\n#else\n#endifx\n", NULL, NULL);
    assert_string_equal(r.diags,
                        "pod.yaml:1:1: error: #ifdef needs an argument\n"
                        "pod.yaml:3:1: warning: unknown preprocessor directive `#ifelse`; the "
                        "line is kept as a comment (supported: #ifdef #ifndef #iftrue #ifntrue "
                        "#endif)\n"
                        "pod.yaml:4:1: warning: unknown preprocessor directive `#else`; the line "
                        "is kept as a comment (supported: #ifdef #ifndef #iftrue #ifntrue "
                        "#endif)\n");
    assert_string_equal(r.out, "#ifelse x\n#else\n#endifx\n");
    run_free(&r);
}

static void test_pp_run__literal_ifdef_warns(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "#ifdef DEV\na: 1\n#endif\n#iftrue true\nb: 1\n#endif\n", NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "a: 1\nb: 1\n");
    assert_string_equal(r.diags, "pod.yaml:1:8: warning: `#ifdef DEV` tests the literal text "
                                 "`DEV`, which is never empty; did you mean `#ifdef ${DEV}`?\n");
    run_free(&r);
}

static void test_pp_run__directive_value_with_space(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"S=a b", NULL};
    run_pp(&r, "#ifdef ${S}\na: 1\n#endif\nb: 2\n", vars, NULL);
    assert_string_equal(r.out, "a: 1\nb: 2\n");
    assert_string_equal(r.diags, "");
    run_free(&r);
}

static void test_pp_run__indented_hash_if_is_not_directive(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "a:\n  #ifdef ${X}\n  b: 1\n", NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "a:\n  #ifdef ${X}\n  b: 1\n");
    run_free(&r);
}

/* ------------------------------------------------------------------ limits */

static void test_pp_run__input_limits(void **state)
{
    (void)state;
    size_t n = SPEC_MAX_INPUT_BYTES + 1;
    char *big = xmalloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    struct run r;
    run_pp(&r, big, NULL, NULL);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.diags, "pod.yaml: error: input is larger than 4194304 bytes\n");
    run_free(&r);
    free(big);

    /* expansion beyond the limit: 64 KiB value used 100 times on separate lines */
    char *val = xmalloc(65536 + 3);
    memcpy(val, "V=", 2);
    memset(val + 2, 'x', 65536);
    val[65538] = '\0';
    struct pod_buf b = {0};
    for (int i = 0; i < 100; i++)
        pod_buf_adds(&b, "a: ${V}\n");
    const char *vars[] = {val, NULL};
    run_pp(&r, b.data, vars, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.diags, "error: the preprocessed text is larger than the limit"));
    run_free(&r);
    pod_buf_free(&b);
    free(val);
}

static void test_pp_run__no_final_newline_kept(void **state)
{
    (void)state;
    struct run r;
    run_pp(&r, "a: 1", NULL, NULL);
    assert_string_equal(r.out, "a: 1");
    assert_int_equal(r.res.len, 4);
    run_free(&r);
    run_pp(&r, "", NULL, NULL);
    assert_string_equal(r.out, "");
    run_free(&r);
}

/* ------------------------------------------------------------------ line map */

static void map(const struct run *r, int line, int col, int *sl, int *sc)
{
    spec_map_pos(r->res.map, line, col, sl, sc);
}

static void test_pp_run__line_map_lines_and_columns(void **state)
{
    (void)state;
    struct run r;
    const char *vars[] = {"LONG=0123456789", "E=", NULL};
    run_pp(&r,
           "a: 1\n"                 /* 1 -> 1 */
           "#ifdef ${E}\n"          /* dropped */
           "b: 2\n"                 /* dropped */
           "#endif\n"               /* dropped */
           "c: ${LONG}x ${E}y z\n", /* 2 -> 5 */
           vars, NULL);
    assert_string_equal(r.out, "a: 1\nc: 0123456789x y z\n");
    int sl, sc;
    map(&r, 1, 3, &sl, &sc);
    assert_int_equal(sl, 1);
    assert_int_equal(sc, 3);
    map(&r, 2, 1, &sl, &sc); /* "c" */
    assert_int_equal(sl, 5);
    assert_int_equal(sc, 1);
    map(&r, 2, 4, &sl, &sc); /* start of the value */
    assert_int_equal(sc, 4);
    map(&r, 2, 10, &sl, &sc); /* inside the value -> the ${ */
    assert_int_equal(sc, 4);
    map(&r, 2, 14, &sl, &sc); /* "x" after the value: source col 11 */
    assert_int_equal(sc, 11);
    map(&r, 2, 16, &sl, &sc); /* "y" after the empty ${E}: source col 17 */
    assert_int_equal(sc, 17);
    map(&r, 2, 18, &sl, &sc); /* "z" */
    assert_int_equal(sc, 19);
    map(&r, 3, 1, &sl, &sc); /* end of input */
    assert_int_equal(sl, 6);
    spec_map_pos(NULL, 7, 8, &sl, &sc);
    assert_int_equal(sl, 7);
    assert_int_equal(sc, 8);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pp_vars_set__first_definition_wins),
        cmocka_unit_test(test_pp_parse_env__lines),
        cmocka_unit_test(test_pp_parse_env__variable_limit),
        cmocka_unit_test(test_pp_run__substitutes_braced_vars_verbatim),
        cmocka_unit_test(test_pp_run__undefined_var_is_error_with_position),
        cmocka_unit_test(test_pp_run__fallback_lookup_after_vars),
        cmocka_unit_test(test_pp_run__default_syntax),
        cmocka_unit_test(test_pp_run__escape_dollar_dollar),
        cmocka_unit_test(test_pp_run__comments_not_substituted),
        cmocka_unit_test(test_pp_run__block_scalar_hash_is_content),
        cmocka_unit_test(test_pp_run__multiline_double_quoted),
        cmocka_unit_test(test_pp_run__value_with_newline_is_error),
        cmocka_unit_test(test_pp_run__pod_version_from_document),
        cmocka_unit_test(test_pp_run__pod_version_from_kept_block_and_vars),
        cmocka_unit_test(test_pp_run__directives_keep_and_drop),
        cmocka_unit_test(test_pp_run__nested_directives),
        cmocka_unit_test(test_pp_run__directive_errors),
        cmocka_unit_test(test_pp_run__literal_ifdef_warns),
        cmocka_unit_test(test_pp_run__directive_value_with_space),
        cmocka_unit_test(test_pp_run__indented_hash_if_is_not_directive),
        cmocka_unit_test(test_pp_run__input_limits),
        cmocka_unit_test(test_pp_run__no_final_newline_kept),
        cmocka_unit_test(test_pp_run__line_map_lines_and_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
