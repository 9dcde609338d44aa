/* SPDX-License-Identifier: MIT */
/* scn.c - the scenario parser (line based; see sim/README.md for the format): the tokenizer,
 * numbers, durations, ranges and filters, the top-level statements; the other statements are
 * scn_stmt.c's.  Pure: no I/O.  Reports the first problem as "file:line:col: message".  Every
 * count and length is bounded (SCN_MAX_*), every number range-checked: the parser is fuzzed. */
#include "scn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scnp_err(struct parser *p, int col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pod_err_set(p->err, POD_E_INVALID, 0, "%s:%d:%d: %s", p->file, p->line,
                       col > 0 ? col : 1, msg);
}

static void toks_free(struct parser *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i].s);
    p->n = 0;
}

/* Splits one line into tokens; '#' at a token start begins a comment. */
static int tokenize(struct parser *p, const char *line, size_t len)
{
    size_t i = 0;
    toks_free(p);
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= len || line[i] == '#')
            break;
        if (p->n >= MAX_TOKS)
            return scnp_err(p, (int)i + 1, "too many words on one line (max %d)", MAX_TOKS);
        struct tok *t = &p->t[p->n];
        t->col = (int)i + 1;
        t->quoted = false;
        struct pod_buf b = {0};
        if (line[i] == '"') {
            t->quoted = true;
            i++;
            for (;;) {
                if (i >= len) {
                    pod_buf_free(&b);
                    return scnp_err(p, t->col, "unterminated string");
                }
                char c = line[i++];
                if (c == '"')
                    break;
                if (c == '\\' && i < len)
                    c = line[i++];
                pod_buf_addc(&b, c);
            }
            if (i < len && line[i] != ' ' && line[i] != '\t') {
                pod_buf_free(&b);
                return scnp_err(p, (int)i + 1, "expected a space after the closing quote");
            }
        } else {
            while (i < len && line[i] != ' ' && line[i] != '\t')
                pod_buf_addc(&b, line[i++]);
        }
        t->s = pod_buf_take(&b);
        p->n++;
    }
    return 0;
}

/* ------------------------------------------------------------------ small parsers */

bool scn_parse_duration(const char *s, int64_t *ms)
{
    const char *q = s;
    int64_t whole = 0, frac = 0, frac_div = 1;
    int nd = 0;
    while (*q >= '0' && *q <= '9') {
        if (whole > SCN_MAX_TIME_MS)
            return false;
        whole = whole * 10 + (*q - '0');
        q++;
        nd++;
    }
    if (*q == '.') {
        q++;
        int nf = 0;
        while (*q >= '0' && *q <= '9') {
            if (nf < 6) {
                frac = frac * 10 + (*q - '0');
                frac_div *= 10;
            }
            q++;
            nf++;
        }
        if (nf == 0)
            return false;
    }
    if (nd == 0)
        return false;
    int64_t unit;
    if (strcmp(q, "ms") == 0)
        unit = 1;
    else if (strcmp(q, "s") == 0)
        unit = 1000;
    else if (strcmp(q, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp(q, "h") == 0)
        unit = 3600 * 1000;
    else if (strcmp(q, "d") == 0)
        unit = 24 * 3600 * 1000;
    else
        return false;
    if (whole > SCN_MAX_TIME_MS / unit)
        return false;
    int64_t v = whole * unit + frac * unit / frac_div;
    if (v > SCN_MAX_TIME_MS)
        return false;
    *ms = v;
    return true;
}

int scnp_want_dur(struct parser *p, size_t i, int64_t *ms)
{
    if (i >= p->n)
        return scnp_err(p, p->n ? p->t[p->n - 1].col : 1, "expected a duration (e.g. 10s)");
    if (!scn_parse_duration(p->t[i].s, ms))
        return scnp_err(p, p->t[i].col, "bad duration `%s` (e.g. 250ms, 1.5s, 5m, 2h, 1d; max 31d)",
                        p->t[i].s);
    return 0;
}

int scnp_want_int(struct parser *p, size_t i, long long min, long long max, long long *v)
{
    if (i >= p->n)
        return scnp_err(p, p->n ? p->t[p->n - 1].col : 1, "expected a number");
    const char *s = p->t[i].s;
    bool neg = s[0] == '-' && min < 0;
    long long x;
    if (!pod_parse_int(neg ? s + 1 : s, 0, max > -min ? max : -min, &x) || (neg ? -x : x) < min ||
        (neg ? -x : x) > max)
        return scnp_err(p, p->t[i].col, "expected a number in %lld..%lld, got `%s`", min, max, s);
    *v = neg ? -x : x;
    return 0;
}

/* "A..B", "A..", "A" */
int scnp_want_range(struct parser *p, size_t i, uint64_t *lo, uint64_t *hi)
{
    if (i >= p->n)
        return scnp_err(p, p->t[p->n - 1].col, "expected a range (e.g. 2..5, 3.., 4)");
    const char *s = p->t[i].s;
    const char *dots = strstr(s, "..");
    long long a, b = 0;
    char first[32];
    size_t fl = dots ? (size_t)(dots - s) : strlen(s);
    if (fl == 0 || fl >= sizeof first)
        return scnp_err(p, p->t[i].col, "bad range `%s`", s);
    memcpy(first, s, fl);
    first[fl] = 0;
    if (!pod_parse_int(first, 1, 1000000000, &a))
        return scnp_err(p, p->t[i].col, "bad range `%s`", s);
    if (!dots) {
        *lo = *hi = (uint64_t)a;
        return 0;
    }
    if (dots[2] == 0) {
        *lo = (uint64_t)a;
        *hi = UINT64_MAX;
        return 0;
    }
    if (!pod_parse_int(dots + 2, 1, 1000000000, &b) || b < a)
        return scnp_err(p, p->t[i].col, "bad range `%s`", s);
    *lo = (uint64_t)a;
    *hi = (uint64_t)b;
    return 0;
}

void scn_filter_any(struct scn_filter *f)
{
    f->from_ms = 0;
    f->to_ms = INT64_MAX;
    f->inst_lo = f->att_lo = f->nth_lo = 1;
    f->inst_hi = f->att_hi = f->nth_hi = UINT64_MAX;
    f->p_milli = 1000;
}

bool scn_filter_match(const struct scn_filter *f, int64_t now_ms, uint64_t instance,
                      uint64_t attempt)
{
    if (now_ms < f->from_ms || now_ms >= f->to_ms)
        return false;
    if (instance && (instance < f->inst_lo || instance > f->inst_hi))
        return false;
    if (attempt && (attempt < f->att_lo || attempt > f->att_hi))
        return false;
    return true;
}

/* Parses trailing filter words from token i on.  allow_fault: nth/times/p/ctr/type. */
int scnp_filter(struct parser *p, size_t i, struct scn_filter *f, struct scn_fault *fault)
{
    scn_filter_any(f);
    while (i < p->n) {
        const char *w = p->t[i].s;
        if (strcmp(w, "from") == 0) {
            if (scnp_want_dur(p, i + 1, &f->from_ms))
                return -1;
            i += 2;
        } else if (strcmp(w, "to") == 0) {
            if (scnp_want_dur(p, i + 1, &f->to_ms))
                return -1;
            i += 2;
        } else if (strcmp(w, "instance") == 0 || strcmp(w, "instances") == 0) {
            if (scnp_want_range(p, i + 1, &f->inst_lo, &f->inst_hi))
                return -1;
            i += 2;
        } else if (strcmp(w, "attempt") == 0 || strcmp(w, "attempts") == 0) {
            if (scnp_want_range(p, i + 1, &f->att_lo, &f->att_hi))
                return -1;
            i += 2;
        } else if (fault && strcmp(w, "nth") == 0) {
            if (scnp_want_range(p, i + 1, &f->nth_lo, &f->nth_hi))
                return -1;
            i += 2;
        } else if (fault && strcmp(w, "times") == 0) {
            long long n;
            if (scnp_want_int(p, i + 1, 1, 1000000, &n))
                return -1;
            f->nth_lo = 1;
            f->nth_hi = (uint64_t)n;
            i += 2;
        } else if (fault && strcmp(w, "p") == 0) {
            long long n;
            if (scnp_want_int(p, i + 1, 0, 1000, &n))
                return scnp_err(p, p->t[i].col, "`p` takes a probability in 1/1000 (0..1000)");
            f->p_milli = (unsigned)n;
            i += 2;
        } else if (fault && strcmp(w, "ctr") == 0) {
            if (i + 1 >= p->n)
                return scnp_err(p, p->t[i].col, "`ctr` needs a container name");
            free(fault->ctr);
            fault->ctr = xstrdup(p->t[i + 1].s);
            i += 2;
        } else if (fault && fault->op == SCN_OP_EVENT && strcmp(w, "type") == 0) {
            if (i + 1 >= p->n)
                return scnp_err(p, p->t[i].col, "`type` needs an event type");
            size_t k;
            for (k = 0; k <= SCN_EV_CALL_FAILED; k++)
                if (strcmp(p->t[i + 1].s, scn_ev_name((enum scn_ev)k)) == 0)
                    break;
            if (k > SCN_EV_CALL_FAILED)
                return scnp_err(
                    p, p->t[i + 1].col,
                    "unknown event type `%s` (any|started|start-failed|exited|exec-done|"
                    "output|call-failed)",
                    p->t[i + 1].s);
            fault->ev = (enum scn_ev)k;
            i += 2;
        } else {
            return scnp_err(p, p->t[i].col, "unexpected `%s`", w);
        }
    }
    if (f->to_ms <= f->from_ms)
        return scnp_err(p, p->t[0].col, "empty time window (to <= from)");
    return 0;
}

bool scnp_is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ top level */

struct scn_ctr *scn_find_ctr(const struct scn *s, const char *name)
{
    for (size_t i = 0; i < s->n_ctrs; i++)
        if (strcmp(s->ctrs[i].name, name) == 0)
            return &s->ctrs[i];
    return NULL;
}

static int parse_top(struct parser *p, struct scn_ctr **cur)
{
    struct scn *s = p->scn;
    const char *w = p->t[0].s;
    long long v;
    *cur = NULL;
    if (strcmp(w, "name") == 0) {
        if (p->n < 2)
            return scnp_err(p, p->t[0].col, "`name` needs a text");
        free(s->name);
        s->name = scnp_join(p, 1, p->n);
        return 0;
    }
    if (strcmp(w, "seed") == 0) {
        if (p->n != 2 || !pod_parse_int(p->t[1].s, 0, INT64_MAX, &v))
            return scnp_err(p, p->n > 1 ? p->t[1].col : p->t[0].col, "`seed` needs a number");
        s->seed = (uint64_t)v;
        return 0;
    }
    if (strcmp(w, "run-for") == 0) {
        if (scnp_want_dur(p, 1, &s->run_for_ms))
            return -1;
        if (s->run_for_ms <= 0)
            return scnp_err(p, p->t[1].col, "`run-for` must be positive");
        return p->n == 2 ? 0 : scnp_err(p, p->t[2].col, "unexpected `%s`", p->t[2].s);
    }
    if (strcmp(w, "output-path") == 0) {
        if (p->n != 2 || (strcmp(p->t[1].s, "holder") && strcmp(p->t[1].s, "direct")))
            return scnp_err(p, p->t[0].col, "expected `output-path holder|direct`");
        s->output_direct = p->t[1].s[0] == 'd';
        return 0;
    }
    if (strcmp(w, "autostart") == 0) {
        if (p->n != 2 || (strcmp(p->t[1].s, "yes") && strcmp(p->t[1].s, "no")))
            return scnp_err(p, p->t[0].col, "expected `autostart yes|no`");
        s->autostart = p->t[1].s[0] == 'y';
        return 0;
    }
    if (strcmp(w, "wall-start") == 0) {
        if (scnp_want_int(p, 1, 0, 4000000000LL, &v))
            return -1;
        s->wall0_s = v;
        return 0;
    }
    if (strcmp(w, "output-flush") == 0 || strcmp(w, "reconcile") == 0) {
        int64_t d;
        if (scnp_want_dur(p, 1, &d))
            return -1;
        if (d < 1)
            return scnp_err(p, p->t[1].col, "must be at least 1ms");
        if (w[0] == 'o')
            s->output_flush_ms = d;
        else
            s->reconcile_ms = d;
        return 0;
    }
    if (strcmp(w, "log-max-bytes") == 0) {
        if (scnp_want_int(p, 1, 64, 1LL << 40, &v))
            return -1;
        s->log_max_bytes = v;
        return 0;
    }
    if (strcmp(w, "log-max-files") == 0) {
        if (scnp_want_int(p, 1, 1, 1000, &v))
            return -1;
        s->log_max_files = (int)v;
        return 0;
    }
    if (strcmp(w, "pod-file") == 0) {
        if (p->n != 2)
            return scnp_err(p, p->t[0].col, "expected `pod-file PATH`");
        if (s->pod_text || s->pod_file || s->pod_line)
            return scnp_err(p, p->t[0].col, "the pod spec is given twice");
        s->pod_file = xstrdup(p->t[1].s);
        s->pod_file_line = p->line;
        s->pod_file_col = p->t[1].col;
        return 0;
    }
    if (strcmp(w, "pod-var") == 0) {
        const char *eq = p->n == 2 ? strchr(p->t[1].s, '=') : NULL;
        if (!eq || eq == p->t[1].s)
            return scnp_err(p, p->t[0].col, "expected `pod-var NAME=VALUE`");
        if (s->n_vars >= SCN_MAX_VARS)
            return scnp_err(p, p->t[0].col, "too many variables (max %d)", SCN_MAX_VARS);
        s->var_names = xrealloc(s->var_names, (s->n_vars + 1) * sizeof(char *));
        s->var_values = xrealloc(s->var_values, (s->n_vars + 1) * sizeof(char *));
        s->var_names[s->n_vars] = xstrndup(p->t[1].s, (size_t)(eq - p->t[1].s));
        s->var_values[s->n_vars] = xstrdup(eq + 1);
        s->n_vars++;
        return 0;
    }
    if (strcmp(w, "container") == 0) {
        if (p->n != 2 || !scnp_is_name(p->t[1].s))
            return scnp_err(p, p->n > 1 ? p->t[1].col : p->t[0].col,
                            "expected `container NAME` followed by indented rules");
        struct scn_ctr *c = scn_find_ctr(s, p->t[1].s);
        if (!c) {
            if (s->n_ctrs >= SCN_MAX_CTRS)
                return scnp_err(p, p->t[0].col, "too many containers (max %d)", SCN_MAX_CTRS);
            s->ctrs = xrealloc(s->ctrs, (s->n_ctrs + 1) * sizeof *s->ctrs);
            c = &s->ctrs[s->n_ctrs++];
            memset(c, 0, sizeof *c);
            c->name = xstrdup(p->t[1].s);
            c->line = p->line;
            c->col = p->t[1].col;
        }
        *cur = c;
        return 0;
    }
    if (strcmp(w, "fault") == 0)
        return scnp_fault(p);
    if (strcmp(w, "at") == 0)
        return scnp_action(p);
    if (strcmp(w, "expect") == 0)
        return scnp_expect(p);
    return scnp_err(p, p->t[0].col, "unknown statement `%s`", w);
}

int scn_parse(const char *text, size_t len, const char *file, struct scn **out, struct pod_err *err)
{
    struct parser p;
    memset(&p, 0, sizeof p);
    p.file = file ? file : "<scenario>";
    p.err = err;
    if (len > SCN_MAX_BYTES) {
        p.line = 1;
        return scnp_err(&p, 1, "scenario too large (max %u bytes)", SCN_MAX_BYTES);
    }
    if (memchr(text, '\0', len)) {
        p.line = 1;
        const char *z = memchr(text, '\0', len);
        for (const char *q = text; q < z; q++)
            if (*q == '\n')
                p.line++;
        return scnp_err(&p, 1, "NUL byte in scenario");
    }
    struct scn *s = xcalloc(1, sizeof *s);
    s->file = xstrdup(p.file);
    s->run_for_ms = 60 * 1000;
    s->autostart = true;
    s->wall0_s = 1700000000;
    s->output_flush_ms = 1000;
    p.scn = s;
    struct scn_ctr *cur = NULL;
    bool in_pod = false;
    struct pod_buf pod = {0};
    size_t pos = 0;
    int rc = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += ll + (nl ? 1 : 0);
        p.line++;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        if (ll > SCN_MAX_LINE) {
            rc = scnp_err(&p, SCN_MAX_LINE + 1, "line too long (max %d bytes)", SCN_MAX_LINE);
            break;
        }
        bool indented = ll > 0 && (line[0] == ' ' || line[0] == '\t');
        size_t k = 0;
        while (k < ll && (line[k] == ' ' || line[k] == '\t'))
            k++;
        bool blank = k == ll;
        if (in_pod) {
            if (blank) {
                pod_buf_addc(&pod, '\n');
                continue;
            }
            if (ll >= 2 && line[0] == ' ' && line[1] == ' ') {
                pod_buf_add(&pod, line + 2, ll - 2);
                pod_buf_addc(&pod, '\n');
                continue;
            }
            if (indented) {
                rc = scnp_err(&p, 1, "the inline pod spec must be indented by at least two spaces");
                break;
            }
            in_pod = false;
        }
        if (blank || line[k] == '#')
            continue;
        if ((rc = tokenize(&p, line, ll)) != 0)
            break;
        if (p.n == 0)
            continue;
        if (indented) {
            if (!cur) {
                rc = scnp_err(&p, p.t[0].col, "indented line outside a `container` block");
                break;
            }
            if ((rc = scnp_rule(&p, cur)) != 0)
                break;
            continue;
        }
        if (p.n == 1 && strcmp(p.t[0].s, "pod:") == 0) {
            if (s->pod_text || s->pod_file || pod.len) {
                rc = scnp_err(&p, 1, "the pod spec is given twice");
                break;
            }
            in_pod = true;
            cur = NULL;
            s->pod_line = p.line + 1;
            continue;
        }
        if ((rc = parse_top(&p, &cur)) != 0)
            break;
    }
    toks_free(&p);
    if (rc == 0 && !pod.len && !s->pod_file) {
        p.line = 1;
        rc = scnp_err(&p, 1, "no pod spec (`pod:` block or `pod-file PATH`)");
    }
    if (rc != 0) {
        pod_buf_free(&pod);
        scn_free(s);
        return -1;
    }
    if (pod.len) {
        s->pod_len = pod.len;
        s->pod_text = pod_buf_take(&pod);
    }
    *out = s;
    return 0;
}

void scn_free(struct scn *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->name);
    free(s->pod_text);
    free(s->pod_file);
    for (size_t i = 0; i < s->n_vars; i++) {
        free(s->var_names[i]);
        free(s->var_values[i]);
    }
    free(s->var_names);
    free(s->var_values);
    for (size_t i = 0; i < s->n_ctrs; i++) {
        free(s->ctrs[i].name);
        free(s->ctrs[i].rules);
    }
    free(s->ctrs);
    for (size_t i = 0; i < s->n_faults; i++)
        free(s->faults[i].ctr);
    free(s->faults);
    for (size_t i = 0; i < s->n_actions; i++) {
        free(s->actions[i].ctr);
        pod_strv_free(s->actions[i].vols);
    }
    free(s->actions);
    for (size_t i = 0; i < s->n_expects; i++) {
        struct scn_expect *x = &s->expects[i];
        free(x->ctr);
        free(x->event);
        free(x->text);
        for (size_t k = 0; k < x->n_words; k++)
            free(x->words[k]);
        free(x->value);
    }
    free(s->expects);
    free(s);
}
