/* SPDX-License-Identifier: MIT */
/* case_parse.c - reads the conformance corpus (conformance/cases/ *.case).
 *
 * The format is line based, in the spirit of jq's tests/jq.test: `key: value` lines, `#`
 * comments, blank lines ignored.  Unindented keys describe a case or start a step; indented
 * keys are expectations of the step above them.  The grammar is in conformance/README.md.
 * Errors are reported once, as "file:line: message".  No process or file is touched here.
 */
#include "conformance.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 10.0
#define DEFAULT_EOF_S 2.0

struct parser {
    const char *file;
    int line;
    struct cf_corpus *corpus;
    struct cf_case *cur; /* case being filled, or NULL */
    char *diag;
    size_t diag_len;
};

static int fail(struct parser *p, const char *fmt, ...) POD_PRINTF(2, 3);
static int fail(struct parser *p, const char *fmt, ...)
{
    int n = snprintf(p->diag, p->diag_len, "%s:%d: ", p->file, p->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->diag_len)
        vsnprintf(p->diag + n, p->diag_len - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cf_tier_name(enum cf_tier t)
{
    switch (t) {
    case CF_TIER_MUST:
        return "MUST";
    case CF_TIER_SHOULD:
        return "SHOULD";
    case CF_TIER_MAY:
        return "MAY";
    }
    return "?";
}

static int parse_tier(const char *v, enum cf_tier *t)
{
    if (strcmp(v, "MUST") == 0)
        *t = CF_TIER_MUST;
    else if (strcmp(v, "SHOULD") == 0)
        *t = CF_TIER_SHOULD;
    else if (strcmp(v, "MAY") == 0)
        *t = CF_TIER_MAY;
    else
        return -1;
    return 0;
}

/* A positive number of seconds, e.g. "10" or "0.5". */
static int parse_seconds(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d > 0) || d > 86400)
        return -1;
    *out = d;
    return 0;
}

/* Arguments are fixed strings pasted after the executable in `sh -c`, so they may only hold
 * characters the shell does not interpret, plus the placeholder ${CONTAINER}. */
static bool args_ok(const char *s)
{
    for (const char *c = s; *c; c++) {
        if (strncmp(c, "${CONTAINER}", 12) == 0) {
            c += 11;
            continue;
        }
        if (!isalnum((unsigned char)*c) && !strchr(" _=.,:/+-", *c))
            return false;
    }
    return true;
}

static bool name_ok(const char *s)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-')
            return false;
    return true;
}

static struct cf_step *new_step(struct parser *p, enum cf_step_kind kind)
{
    struct cf_case *c = p->cur;
    c->steps = xrealloc(c->steps, (c->nsteps + 1) * sizeof(*c->steps));
    struct cf_step *s = &c->steps[c->nsteps++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->line = p->line;
    s->timeout_s = kind == CF_STEP_INVOKE ? DEFAULT_TIMEOUT_S : -1;
    s->eof_s = DEFAULT_EOF_S;
    return s;
}

static int finish_case(struct parser *p)
{
    struct cf_case *c = p->cur;
    if (!c)
        return 0;
    int save = p->line;
    p->line = c->line;
    int rc = 0;
    if (!c->evidence)
        rc = fail(p, "case `%s` has no `evidence:`", c->name);
    else if (c->nsteps == 0)
        rc = fail(p, "case `%s` has no step", c->name);
    p->line = save;
    p->cur = NULL;
    return rc;
}

static int case_key(struct parser *p, const char *key, const char *val)
{
    struct cf_case *c = p->cur;
    if (strcmp(key, "case") == 0) {
        if (finish_case(p) < 0)
            return -1;
        if (!name_ok(val))
            return fail(p, "case name `%s`: use lower case letters, digits and '-'", val);
        for (size_t i = 0; i < p->corpus->ncases; i++)
            if (strcmp(p->corpus->cases[i].name, val) == 0)
                return fail(p, "duplicate case name `%s` (first in %s:%d)", val,
                            p->corpus->cases[i].file, p->corpus->cases[i].line);
        struct cf_corpus *k = p->corpus;
        k->cases = xrealloc(k->cases, (k->ncases + 1) * sizeof(*k->cases));
        c = p->cur = &k->cases[k->ncases++];
        memset(c, 0, sizeof(*c));
        c->name = xstrdup(val);
        c->file = xstrdup(p->file);
        c->line = p->line;
        c->tier = c->tier_nopm = CF_TIER_MUST;
        c->cwd = CF_CWD_ROOT;
        return 0;
    }
    if (!c)
        return fail(p, "`%s:` before the first `case:`", key);
    if (strcmp(key, "tier") == 0) {
        if (parse_tier(val, &c->tier) < 0)
            return fail(p, "tier `%s`: expected MUST, SHOULD or MAY", val);
        c->tier_nopm = c->tier;
    } else if (strcmp(key, "tier-without-portmappings") == 0) {
        if (parse_tier(val, &c->tier_nopm) < 0)
            return fail(p, "tier `%s`: expected MUST, SHOULD or MAY", val);
    } else if (strcmp(key, "evidence") == 0) {
        free(c->evidence);
        c->evidence = xstrdup(val);
    } else if (strcmp(key, "about") == 0) {
        free(c->about);
        c->about = xstrdup(val);
    } else if (strcmp(key, "cwd") == 0) {
        if (strcmp(val, "/") == 0)
            c->cwd = CF_CWD_ROOT;
        else if (strcmp(val, "unreadable") == 0)
            c->cwd = CF_CWD_UNREADABLE;
        else if (strcmp(val, "scratch") == 0)
            c->cwd = CF_CWD_SCRATCH;
        else
            return fail(p, "cwd `%s`: expected /, unreadable or scratch", val);
    } else if (strcmp(key, "user") == 0) {
        if (strcmp(val, "any") == 0)
            c->unprivileged = false;
        else if (strcmp(val, "unprivileged") == 0)
            c->unprivileged = true;
        else
            return fail(p, "user `%s`: expected any or unprivileged", val);
    } else if (strcmp(key, "step") == 0) {
        if (!*val)
            return fail(p, "`step:` needs the action and its arguments");
        if (!args_ok(val))
            return fail(p,
                        "step `%s`: only letters, digits, spaces, `_=.,:/+-` and "
                        "${CONTAINER} are allowed",
                        val);
        new_step(p, CF_STEP_INVOKE)->args = xstrdup(val);
    } else if (strcmp(key, "wait") == 0) {
        char what[32] = "";
        char secs[32] = "";
        if (sscanf(val, "%31s %31s", what, secs) < 1)
            return fail(p, "`wait:` expects status or status-advance");
        enum cf_step_kind k;
        if (strcmp(what, "status") == 0)
            k = CF_STEP_WAIT_STATUS;
        else if (strcmp(what, "status-advance") == 0)
            k = CF_STEP_WAIT_ADVANCE;
        else
            return fail(p, "wait `%s`: expected status or status-advance", what);
        struct cf_step *s = new_step(p, k);
        if (*secs && parse_seconds(secs, &s->timeout_s) < 0)
            return fail(p, "wait: `%s` is not a number of seconds", secs);
    } else if (strcmp(key, "check") == 0) {
        if (strcmp(val, "executable") != 0)
            return fail(p, "check `%s`: expected executable", val);
        new_step(p, CF_STEP_CHECK_EXEC);
    } else {
        return fail(p,
                    "unknown key `%s` (case keys: case tier tier-without-portmappings "
                    "evidence about cwd user; steps: step wait check)",
                    key);
    }
    return 0;
}

static int step_key(struct parser *p, const char *key, const char *val)
{
    if (!p->cur || p->cur->nsteps == 0)
        return fail(p, "indented `%s:` must follow a step", key);
    struct cf_step *s = &p->cur->steps[p->cur->nsteps - 1];
    if (strcmp(key, "timeout") == 0) {
        if (parse_seconds(val, &s->timeout_s) < 0)
            return fail(p, "timeout `%s`: expected a number of seconds", val);
    } else if (s->kind != CF_STEP_INVOKE) {
        return fail(p, "`%s:` applies only to `step:` (invocations)", key);
    } else if (strcmp(key, "eof") == 0) {
        if (parse_seconds(val, &s->eof_s) < 0)
            return fail(p, "eof `%s`: expected a number of seconds", val);
    } else if (strcmp(key, "exit") == 0) {
        if (strcmp(val, "0") == 0)
            s->exit = CF_EXIT_ZERO;
        else if (strcmp(val, "nonzero") == 0)
            s->exit = CF_EXIT_NONZERO;
        else if (strcmp(val, "any") == 0)
            s->exit = CF_EXIT_ANY;
        else
            return fail(p, "exit `%s`: expected 0, nonzero or any", val);
    } else if (strcmp(key, "stdout") == 0) {
        if (strcmp(val, "any") == 0) {
            s->out = CF_OUT_ANY;
        } else if (strcmp(val, "empty") == 0) {
            s->out = CF_OUT_EMPTY;
        } else if (strncmp(val, "tokens ", 7) == 0 || strncmp(val, "lines ", 6) == 0) {
            s->out = val[0] == 't' ? CF_OUT_TOKENS : CF_OUT_LINES;
            const char *re = strchr(val, ' ') + 1;
            if (s->out_re) {
                regfree(&s->out_rx);
                free(s->out_re);
                s->out_re = NULL;
            }
            int rc = regcomp(&s->out_rx, re, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char m[128];
                regerror(rc, &s->out_rx, m, sizeof(m));
                return fail(p, "stdout regex `%s`: %s", re, m);
            }
            s->out_re = xstrdup(re);
        } else {
            return fail(p, "stdout `%s`: expected any, empty, tokens REGEX or lines REGEX", val);
        }
    } else if (strcmp(key, "processes") == 0) {
        double within;
        if (strcmp(val, "any") == 0) {
            s->procs = CF_PROCS_ANY;
        } else if (strcmp(val, "same") == 0) {
            s->procs = CF_PROCS_SAME;
        } else if (strcmp(val, "none") == 0) {
            s->procs = CF_PROCS_NONE;
            s->procs_within_s = 0;
        } else if (strncmp(val, "none within ", 12) == 0 && parse_seconds(val + 12, &within) == 0) {
            s->procs = CF_PROCS_NONE;
            s->procs_within_s = within;
        } else {
            return fail(p, "processes `%s`: expected any, same, none or none within SECONDS", val);
        }
    } else if (strcmp(key, "unchanged") == 0) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", val);
        for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            if (strcmp(w, "pod") == 0)
                s->unchanged_pod = true;
            else if (strcmp(w, "cwd") == 0)
                s->unchanged_cwd = true;
            else
                return fail(p, "unchanged `%s`: expected pod and/or cwd", w);
        }
    } else {
        return fail(p, "unknown step key `%s` (timeout eof exit stdout processes unchanged)", key);
    }
    return 0;
}

/* Expectations of a step; they are indented below it. */
static bool is_step_key(const char *key)
{
    static const char *const keys[] = {"timeout", "eof",       "exit",
                                       "stdout",  "processes", "unchanged"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static int parse_line(struct parser *p, char *line)
{
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    bool indented = isspace((unsigned char)line[0]);
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || *s == '#')
        return 0;
    char *colon = strchr(s, ':');
    if (!colon)
        return fail(p, "expected `key: value`, got `%s`", s);
    *colon = '\0';
    char *val = colon + 1;
    while (isspace((unsigned char)*val))
        val++;
    if (is_step_key(s) != indented)
        return fail(p, "`%s:` must %sbe indented", s, indented ? "not " : "");
    return indented ? step_key(p, s, val) : case_key(p, s, val);
}

int cf_corpus_load_file(const char *path, struct cf_corpus *corpus, char *diag, size_t diag_len)
{
    struct parser p = {.file = path, .corpus = corpus, .diag = diag, .diag_len = diag_len};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(diag, diag_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        p.line++;
        rc = parse_line(&p, line);
    }
    free(line);
    fclose(f);
    if (rc == 0)
        rc = finish_case(&p);
    return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_case_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".case") == 0;
}

int cf_corpus_load(const char *dir, struct cf_corpus *corpus, char *diag, size_t diag_len)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, is_case_file, by_name);
    if (n < 0) {
        snprintf(diag, diag_len, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            char *path = xasprintf("%s/%s", dir, ents[i]->d_name);
            rc = cf_corpus_load_file(path, corpus, diag, diag_len);
            free(path);
        }
        free(ents[i]);
    }
    free(ents);
    if (rc == 0 && corpus->ncases == 0) {
        snprintf(diag, diag_len, "%s: no *.case files", dir);
        rc = -1;
    }
    return rc;
}

void cf_corpus_free(struct cf_corpus *corpus)
{
    if (!corpus)
        return;
    for (size_t i = 0; i < corpus->ncases; i++) {
        struct cf_case *c = &corpus->cases[i];
        for (size_t j = 0; j < c->nsteps; j++) {
            free(c->steps[j].args);
            if (c->steps[j].out_re) {
                regfree(&c->steps[j].out_rx);
                free(c->steps[j].out_re);
            }
        }
        free(c->steps);
        free(c->name);
        free(c->file);
        free(c->evidence);
        free(c->about);
    }
    free(corpus->cases);
    memset(corpus, 0, sizeof(*corpus));
}
