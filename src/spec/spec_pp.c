/* SPDX-License-Identifier: MIT */
/* spec_pp.c - the front end's first stage, the podc preprocessor: .env parsing, #if-blocks
 * and ${VAR} substitution (interface: spec_pp.h).
 *
 * Pure: works on memory only (no files, no environment; the CLI passes a fallback lookup).
 * Three passes over the lines of the input:
 *   1. directives: decide which lines are kept (#ifdef/#ifndef/#iftrue/#ifntrue ... #endif,
 *      nesting allowed, directives only at column 0, arguments substituted leniently);
 *   2. podVersion: the first kept top-level `podVersion:` line gives ${podVersion};
 *   3. substitution of the kept lines, skipping YAML comments, building the line map.
 * Every problem becomes a diagnostic; nothing stops at the first one.  SPEC.md section 3.
 */
#include "pod/util.h"
#include "spec_internal.h"
#include "spec_pp.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ variables */

void pp_vars_set(struct pp_vars *vars, const char *name, const char *value)
{
    if (pp_vars_get(vars, name))
        return;
    if (vars->n == vars->cap) {
        vars->cap = vars->cap ? vars->cap * 2 : 16;
        vars->v = xrealloc(vars->v, vars->cap * sizeof *vars->v);
    }
    vars->v[vars->n].name = xstrdup(name);
    vars->v[vars->n].value = xstrdup(value ? value : "");
    vars->n++;
}

const char *pp_vars_get(const struct pp_vars *vars, const char *name)
{
    if (!vars)
        return NULL;
    for (size_t i = 0; i < vars->n; i++)
        if (strcmp(vars->v[i].name, name) == 0)
            return vars->v[i].value;
    return NULL;
}

void pp_vars_free(struct pp_vars *vars)
{
    if (!vars)
        return;
    for (size_t i = 0; i < vars->n; i++) {
        free(vars->v[i].name);
        free(vars->v[i].value);
    }
    free(vars->v);
    memset(vars, 0, sizeof *vars);
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of a variable name at s (at most n bytes), 0 if none. */
static size_t name_len(const char *s, size_t n)
{
    if (n == 0 || !name_start(s[0]))
        return 0;
    size_t i = 1;
    while (i < n && name_char(s[i]))
        i++;
    return i;
}

/* ------------------------------------------------------------------ .env */

#define PP_MAX_VARS 1000 /* variables are looked up linearly */

void pp_parse_env(const char *text, size_t len, const char *env_file, struct pp_vars *vars,
                  struct spec_diags *diags)
{
    const char *p = text, *end = text + len;
    int lineno = 0;
    struct pp_vars seen_at = {0}; /* name -> line of first definition, for the duplicate note */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        size_t n = (size_t)(le - p);
        if (n > 0 && p[n - 1] == '\r')
            n--; /* CRLF files: the CR is not part of the value */
        size_t i = 0;
        while (i < n && is_blank(p[i]))
            i++;
        if (i == n || p[i] == '#')
            goto next;
        size_t nm = name_len(p, n);
        if (nm == 0 || nm >= n || p[nm] != '=') {
            spec_diag_add_file(diags, env_file, SPEC_SEV_WARNING, lineno, 1, "",
                               "malformed line ignored (expected NAME=value, NAME matching "
                               "[A-Za-z_][A-Za-z0-9_]*)");
            goto next;
        }
        char *name = xstrndup(p, nm);
        char *value = xstrndup(p + nm + 1, n - nm - 1);
        if (strcmp(name, "podVersion") == 0) {
            spec_diag_add_file(diags, env_file, SPEC_SEV_WARNING, lineno, 1, "",
                               "podVersion cannot be defined in the .env file; ignored (it is "
                               "taken from the podVersion: field)");
        } else if (vars->n >= PP_MAX_VARS) {
            spec_diag_add_file(diags, env_file, SPEC_SEV_ERROR, lineno, 1, "",
                               "more than %d variables", PP_MAX_VARS);
            free(name);
            free(value);
            break;
        } else if (pp_vars_get(vars, name)) {
            const char *first = pp_vars_get(&seen_at, name);
            if (first)
                spec_diag_add_file(diags, env_file, SPEC_SEV_WARNING, lineno, 1, "",
                                   "duplicate definition of `%s`; the first one (line %s) is "
                                   "used",
                                   name, first);
        } else {
            pp_vars_set(vars, name, value);
            char ln[16];
            snprintf(ln, sizeof ln, "%d", lineno);
            pp_vars_set(&seen_at, name, ln);
        }
        free(name);
        free(value);
    next:
        p = nl ? nl + 1 : end;
    }
    pp_vars_free(&seen_at);
}

/* ------------------------------------------------------------------ shared state */

struct line {
    const char *s;
    size_t len; /* without the '\n' */
    bool keep;
    bool directive;
};

struct pp {
    const struct pp_vars *vars;
    const struct pp_opts *opts;
    struct spec_diags *diags;
    const char *pod_version; /* NULL = no podVersion: line */
};

/* Looks a variable up: podVersion from the document, then .env, then the fallback. */
static const char *lookup(const struct pp *pp, const char *name)
{
    if (strcmp(name, "podVersion") == 0)
        return pp->pod_version;
    const char *v = pp_vars_get(pp->vars, name);
    if (v)
        return v;
    if (pp->opts && pp->opts->fallback)
        return pp->opts->fallback(pp->opts->fallback_self, name);
    return NULL;
}

/* A reference at s[0..n): `${NAME}` or `${NAME:-default}`.  Fills the parts and returns the
 * length of the whole reference, or 0 when s does not start with one. */
struct ref {
    size_t len;
    const char *name;
    size_t name_len;
    const char *def; /* NULL = no default */
    size_t def_len;
};

static size_t parse_ref(const char *s, size_t n, struct ref *r)
{
    memset(r, 0, sizeof *r);
    if (n < 4 || s[0] != '$' || s[1] != '{')
        return 0;
    size_t nm = name_len(s + 2, n - 2);
    if (nm == 0)
        return 0;
    size_t i = 2 + nm;
    r->name = s + 2;
    r->name_len = nm;
    if (i < n && s[i] == '}') {
        r->len = i + 1;
        return r->len;
    }
    if (i + 1 < n && s[i] == ':' && s[i + 1] == '-') {
        const char *close = memchr(s + i + 2, '}', n - i - 2);
        if (!close)
            return 0;
        r->def = s + i + 2;
        r->def_len = (size_t)(close - r->def);
        r->len = (size_t)(close - s) + 1;
        return r->len;
    }
    return 0;
}

/* Value of a reference: the variable (empty counts as unset when a default is given, as in
 * the shell), else the default, else NULL (undefined). */
static const char *ref_value(const struct pp *pp, const struct ref *r, char **tmp)
{
    char *name = xstrndup(r->name, r->name_len);
    const char *v = lookup(pp, name);
    free(name);
    *tmp = NULL;
    if (v && (*v || !r->def))
        return v;
    if (r->def) {
        *tmp = xstrndup(r->def, r->def_len);
        return *tmp;
    }
    return NULL;
}

/* Substitutes a directive argument: undefined variables are empty, no errors. */
static char *subst_lenient(const struct pp *pp, const char *s, size_t n)
{
    struct pod_buf b = {0};
    pod_buf_add(&b, "", 0);
    for (size_t i = 0; i < n;) {
        struct ref r;
        if (s[i] == '$' && i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            pod_buf_add(&b, "${", 2);
            i += 3;
        } else if (parse_ref(s + i, n - i, &r)) {
            char *tmp;
            const char *v = ref_value(pp, &r, &tmp);
            if (v)
                pod_buf_adds(&b, v);
            free(tmp);
            i += r.len;
        } else {
            pod_buf_addc(&b, s[i++]);
        }
    }
    return pod_buf_take(&b);
}

/* ------------------------------------------------------------------ pass 1: directives */

enum dir_kind { DIR_NONE, DIR_IFDEF, DIR_IFNDEF, DIR_IFTRUE, DIR_IFNTRUE, DIR_ENDIF, DIR_UNKNOWN };

static enum dir_kind dir_classify(const char *s, size_t n, size_t *word_len)
{
    *word_len = 0;
    if (n < 2 || s[0] != '#')
        return DIR_NONE;
    size_t w = 1;
    while (w < n && s[w] >= 'a' && s[w] <= 'z')
        w++;
    *word_len = w;
    if (w < n && !is_blank(s[w]) && s[w] != '\r')
        return DIR_NONE; /* "#ifdef-x", "#endif:" ... are plain comments */
    static const struct {
        const char *w;
        enum dir_kind k;
    } tab[] = {{"ifdef", DIR_IFDEF},
               {"ifndef", DIR_IFNDEF},
               {"iftrue", DIR_IFTRUE},
               {"ifntrue", DIR_IFNTRUE},
               {"endif", DIR_ENDIF}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (w - 1 == strlen(tab[i].w) && memcmp(s + 1, tab[i].w, w - 1) == 0)
            return tab[i].k;
    if ((w - 1 >= 2 && memcmp(s + 1, "if", 2) == 0) ||
        (w - 1 == 4 && memcmp(s + 1, "else", 4) == 0) ||
        (w - 1 == 4 && memcmp(s + 1, "elif", 4) == 0))
        return DIR_UNKNOWN;
    return DIR_NONE;
}

struct cond {
    int line;
    bool active; /* this block and all enclosing ones are kept */
};

static void pass_directives(struct pp *pp, struct line *lines, size_t n)
{
    struct cond *stack = NULL;
    size_t depth = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct line *l = &lines[i];
        int lineno = (int)i + 1;
        bool active = depth == 0 || stack[depth - 1].active;
        size_t wl;
        enum dir_kind k = dir_classify(l->s, l->len, &wl);
        if (k == DIR_NONE) {
            l->keep = active;
            continue;
        }
        if (k == DIR_UNKNOWN) {
            l->keep = active;
            if (active) {
                char *w = xstrndup(l->s, wl);
                spec_diag_add(pp->diags, SPEC_SEV_WARNING, lineno, 1, "",
                              "unknown preprocessor directive `%s`; the line is kept as a "
                              "comment (supported: #ifdef #ifndef #iftrue #ifntrue #endif)",
                              w);
                free(w);
            }
            continue;
        }
        l->directive = true;
        l->keep = false;
        if (k == DIR_ENDIF) {
            if (depth == 0)
                spec_diag_add(pp->diags, SPEC_SEV_ERROR, lineno, 1, "",
                              "#endif without a matching #if");
            else
                depth--;
            continue;
        }
        /* the argument: rest of the line, trailing comment and blanks removed */
        const char *a = l->s + wl, *ae = l->s + l->len;
        while (a < ae && is_blank(*a))
            a++;
        for (const char *q = a; q < ae; q++)
            if (*q == '#' && q > a && is_blank(q[-1])) {
                ae = q;
                break;
            }
        while (ae > a && (is_blank(ae[-1]) || ae[-1] == '\r'))
            ae--;
        bool keep = false;
        if (active) {
            if (a == ae) {
                char *w = xstrndup(l->s, wl);
                spec_diag_add(pp->diags, SPEC_SEV_ERROR, lineno, 1, "", "%s needs an argument", w);
                free(w);
            } else {
                size_t an = (size_t)(ae - a);
                if ((k == DIR_IFDEF || k == DIR_IFNDEF) && !memchr(a, '$', an) &&
                    name_len(a, an) == an) {
                    char *arg = xstrndup(a, an);
                    char *w = xstrndup(l->s, wl);
                    spec_diag_add(pp->diags, SPEC_SEV_WARNING, lineno, (int)(a - l->s) + 1, "",
                                  "`%s %s` tests the literal text `%s`, which is never empty; "
                                  "did you mean `%s ${%s}`?",
                                  w, arg, arg, w, arg);
                    free(w);
                    free(arg);
                }
                char *v = subst_lenient(pp, a, an);
                switch (k) {
                case DIR_IFDEF:
                    keep = *v != '\0';
                    break;
                case DIR_IFNDEF:
                    keep = *v == '\0';
                    break;
                case DIR_IFTRUE:
                    keep = strcmp(v, "true") == 0;
                    break;
                default:
                    keep = strcmp(v, "true") != 0;
                    break;
                }
                free(v);
            }
        }
        if (depth == cap) {
            cap = cap ? cap * 2 : 8;
            stack = xrealloc(stack, cap * sizeof *stack);
        }
        stack[depth++] = (struct cond){lineno, active && keep};
    }
    for (size_t d = 0; d < depth; d++)
        spec_diag_add(pp->diags, SPEC_SEV_ERROR, stack[d].line, 1, "",
                      "missing #endif for this #if block");
    free(stack);
}

/* ------------------------------------------------------------------ pass 2: podVersion */

/* Value of a top-level `podVersion:` line: trimmed, quotes removed, inline comment dropped.
 * Returns a new string or NULL when the line is not a podVersion line. */
static char *pod_version_of(const char *s, size_t n)
{
    static const char key[] = "podVersion:";
    size_t kl = sizeof key - 1;
    if (n < kl || memcmp(s, key, kl) != 0)
        return NULL;
    const char *p = s + kl, *e = s + n;
    while (p < e && is_blank(*p))
        p++;
    if (p < e && (*p == '"' || *p == '\'')) {
        const char *q = memchr(p + 1, *p, (size_t)(e - p - 1));
        return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : xstrndup(p + 1, (size_t)(e - p - 1));
    }
    const char *v = p;
    for (const char *q = p; q < e; q++)
        if (*q == '#' && (q == v || is_blank(q[-1]))) {
            e = q;
            break;
        }
    while (e > v && (is_blank(e[-1]) || e[-1] == '\r'))
        e--;
    return xstrndup(v, (size_t)(e - v));
}

/* ------------------------------------------------------------------ pass 3: substitution */

struct scan {
    bool in_dquote, in_squote; /* inside a double/single-quoted scalar (may span lines) */
    bool block;                /* inside a block scalar (| or >) */
    size_t block_indent;       /* indentation of the line that opened it */
};

static size_t indent_of(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

/* Could a quote at s[i] start a quoted scalar?  Only at the start of a scalar: after the
 * indentation, `: `, `- `, `[`, `{`, `,` or `? `. */
static bool quote_opens(const char *s, size_t i)
{
    size_t j = i;
    while (j > 0 && is_blank(s[j - 1]))
        j--;
    if (j == 0)
        return true;
    char c = s[j - 1];
    if (c == '[' || c == '{' || c == ',')
        return true;
    if ((c == ':' || c == '-' || c == '?') && j < i)
        return true;
    return false;
}

/* Does the (non-comment) content of the line end with a block scalar indicator, e.g.
 * `key: |`, `- >-`, `key: |2+`? */
static bool opens_block(const char *s, size_t n)
{
    while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
        n--;
    size_t i = n, k = 0;
    while (i > 0 && k < 2 &&
           (s[i - 1] == '-' || s[i - 1] == '+' || (s[i - 1] >= '1' && s[i - 1] <= '9'))) {
        i--;
        k++;
    }
    if (i == 0 || (s[i - 1] != '|' && s[i - 1] != '>'))
        return false;
    i--; /* the indicator */
    size_t j = i;
    while (j > 0 && is_blank(s[j - 1]))
        j--;
    if (j == 0 || j == i)
        return false;
    return s[j - 1] == ':' || s[j - 1] == '-';
}

static void subst_line(struct pp *pp, struct scan *scan, const struct line *l, int lineno,
                       struct pod_buf *out, struct spec_line_map *map)
{
    const char *s = l->s;
    size_t n = l->len;
    size_t base = out->len; /* output offset of column 1 */
    bool spans = false;
    spec_line_map_add_line(map, lineno);

    /* block scalar content: everything is content, comments included */
    bool in_block = false;
    if (scan->block) {
        size_t ind = indent_of(s, n);
        bool blank = ind == n || (ind + 1 == n && s[ind] == '\r');
        if (blank || ind > scan->block_indent)
            in_block = true;
        else
            scan->block = false;
    }
    size_t content_end = n; /* where a comment starts (outside block scalars) */
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (!in_block) {
            if (scan->in_dquote) {
                if (c == '\\' && i + 1 < n) {
                    pod_buf_add(out, s + i, 2);
                    i += 2;
                    continue;
                }
                if (c == '"')
                    scan->in_dquote = false;
            } else if (scan->in_squote) {
                if (c == '\'' && i + 1 < n && s[i + 1] == '\'') {
                    pod_buf_add(out, s + i, 2);
                    i += 2;
                    continue;
                }
                if (c == '\'')
                    scan->in_squote = false;
            } else if (c == '#' && (i == 0 || is_blank(s[i - 1]))) {
                content_end = i;
                pod_buf_add(out, s + i, n - i); /* comment: verbatim */
                break;
            } else if ((c == '"' || c == '\'') && quote_opens(s, i)) {
                if (c == '"')
                    scan->in_dquote = true;
                else
                    scan->in_squote = true;
            }
        }
        if (c == '$' && i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            /* escape: $${ is a literal ${ */
            if (!spans) {
                spec_line_map_add_span(map, 1, 1, true);
                spans = true;
            }
            spec_line_map_add_span(map, (int)(out->len - base) + 1, (int)i + 1, false);
            pod_buf_add(out, "${", 2);
            i += 3;
            spec_line_map_add_span(map, (int)(out->len - base) + 1, (int)i + 1, true);
            continue;
        }
        struct ref r;
        if (c == '$' && parse_ref(s + i, n - i, &r)) {
            char *tmp;
            const char *v = ref_value(pp, &r, &tmp);
            char *name = xstrndup(r.name, r.name_len);
            if (!v) {
                if (strcmp(name, "podVersion") == 0)
                    spec_diag_add(pp->diags, SPEC_SEV_ERROR, lineno, (int)i + 1, "",
                                  "`${podVersion}` is used but the file has no top-level "
                                  "podVersion: line%s%s",
                                  "", "");
                else
                    spec_diag_add(pp->diags, SPEC_SEV_ERROR, lineno, (int)i + 1, "",
                                  "undefined variable `%s` (define it in the .env file, give a "
                                  "default with `${%s:-value}`, or write `$${...}` for a literal)",
                                  name, name);
                v = "";
            } else if (strchr(v, '\n') || strchr(v, '\r')) {
                spec_diag_add(pp->diags, SPEC_SEV_ERROR, lineno, (int)i + 1, "",
                              "the value of variable `%s` contains a line break, which cannot be "
                              "substituted",
                              name);
                v = "";
            }
            free(name);
            if (!spans) {
                spec_line_map_add_span(map, 1, 1, true);
                spans = true;
            }
            spec_line_map_add_span(map, (int)(out->len - base) + 1, (int)i + 1, false);
            pod_buf_adds(out, v);
            free(tmp);
            i += r.len;
            spec_line_map_add_span(map, (int)(out->len - base) + 1, (int)i + 1, true);
            continue;
        }
        pod_buf_addc(out, c);
        i++;
    }
    if (!in_block && !scan->in_dquote && !scan->in_squote && opens_block(s, content_end)) {
        scan->block = true;
        scan->block_indent = indent_of(s, n);
    }
    pod_buf_addc(out, '\n');
}

/* ------------------------------------------------------------------ pp_run */

int pp_run(const char *text, size_t len, const struct pp_vars *vars, const struct pp_opts *opts,
           struct spec_diags *diags, struct pp_result *out)
{
    memset(out, 0, sizeof *out);
    out->map = spec_line_map_new();
    struct pp pp = {.vars = vars, .opts = opts, .diags = diags};
    size_t errors_before = diags->n_errors;
    if (len > SPEC_MAX_INPUT_BYTES) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "", "input is larger than %u bytes",
                      SPEC_MAX_INPUT_BYTES);
        out->text = xstrdup("");
        out->refused = true;
        return -1;
    }
    if (memchr(text, '\0', len)) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "", "input contains a NUL byte");
        out->text = xstrdup("");
        out->refused = true;
        return -1;
    }

    /* split into lines */
    size_t n = 0, cap = 0;
    struct line *lines = NULL;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            lines = xrealloc(lines, cap * sizeof *lines);
        }
        lines[n++] = (struct line){p, (size_t)(le - p), false, false};
        p = nl ? nl + 1 : end;
    }

    /* directive arguments see the first podVersion: line of the raw file */
    char *raw_version = NULL;
    for (size_t i = 0; i < n && !raw_version; i++)
        raw_version = pod_version_of(lines[i].s, lines[i].len);
    pp.pod_version = raw_version;
    pass_directives(&pp, lines, n);

    /* ${podVersion} is the first kept top-level podVersion: line, itself substituted */
    char *version = NULL;
    for (size_t i = 0; i < n && !version; i++)
        if (lines[i].keep) {
            char *v = pod_version_of(lines[i].s, lines[i].len);
            if (v) {
                pp.pod_version = NULL;
                version = subst_lenient(&pp, v, strlen(v));
                free(v);
            }
        }
    pp.pod_version = version;

    struct pod_buf b = {0};
    pod_buf_add(&b, "", 0);
    struct scan scan = {0};
    bool too_big = false;
    for (size_t i = 0; i < n && !too_big; i++) {
        if (!lines[i].keep)
            continue;
        subst_line(&pp, &scan, &lines[i], (int)i + 1, &b, out->map);
        if (b.len > SPEC_MAX_INPUT_BYTES) {
            too_big = true;
            spec_diag_add(pp.diags, SPEC_SEV_ERROR, (int)i + 1, 1, "",
                          "the preprocessed text is larger than the limit");
        }
    }
    /* keep a missing final newline missing, so end positions stay honest */
    if (b.len > 0 && len > 0 && text[len - 1] != '\n' && n > 0 && lines[n - 1].keep)
        b.data[--b.len] = '\0';
    out->len = b.len;
    out->text = pod_buf_take(&b);
    free(lines);
    free(raw_version);
    free(version);
    return diags->n_errors > errors_before ? -1 : 0;
}

void pp_result_free(struct pp_result *r)
{
    if (!r)
        return;
    free(r->text);
    spec_line_map_free(r->map);
    memset(r, 0, sizeof *r);
}
