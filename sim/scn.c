/* SPDX-License-Identifier: MIT */
/* scn.c - the scenario parser (line based; see sim/README.md for the format).
 * Pure: no I/O.  Reports the first problem as "file:line:col: message".  Every count and
 * length is bounded (SCN_MAX_*), every number range-checked: the parser is fuzzed. */
#include "scn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

#define MAX_TOKS 64

struct tok {
    char *s; /* NUL-terminated copy (quotes removed) */
    int col; /* 1-based */
    bool quoted;
};

struct parser {
    const char *file;
    int line;
    struct tok t[MAX_TOKS];
    size_t n;
    struct scn *scn;
    struct pod_err *err;
};

static int perr(struct parser *p, int col, const char *fmt, ...) POD_PRINTF(3, 4);

static int perr(struct parser *p, int col, const char *fmt, ...)
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
            return perr(p, (int)i + 1, "too many words on one line (max %d)", MAX_TOKS);
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
                    return perr(p, t->col, "unterminated string");
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
                return perr(p, (int)i + 1, "expected a space after the closing quote");
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

static int want_dur(struct parser *p, size_t i, int64_t *ms)
{
    if (i >= p->n)
        return perr(p, p->n ? p->t[p->n - 1].col : 1, "expected a duration (e.g. 10s)");
    if (!scn_parse_duration(p->t[i].s, ms))
        return perr(p, p->t[i].col, "bad duration `%s` (e.g. 250ms, 1.5s, 5m, 2h, 1d; max 31d)",
                    p->t[i].s);
    return 0;
}

static int want_int(struct parser *p, size_t i, long long min, long long max, long long *v)
{
    if (i >= p->n)
        return perr(p, p->n ? p->t[p->n - 1].col : 1, "expected a number");
    const char *s = p->t[i].s;
    bool neg = s[0] == '-' && min < 0;
    long long x;
    if (!pod_parse_int(neg ? s + 1 : s, 0, max > -min ? max : -min, &x) || (neg ? -x : x) < min ||
        (neg ? -x : x) > max)
        return perr(p, p->t[i].col, "expected a number in %lld..%lld, got `%s`", min, max, s);
    *v = neg ? -x : x;
    return 0;
}

/* "A..B", "A..", "A" */
static int want_range(struct parser *p, size_t i, uint64_t *lo, uint64_t *hi)
{
    if (i >= p->n)
        return perr(p, p->t[p->n - 1].col, "expected a range (e.g. 2..5, 3.., 4)");
    const char *s = p->t[i].s;
    const char *dots = strstr(s, "..");
    long long a, b = 0;
    char first[32];
    size_t fl = dots ? (size_t)(dots - s) : strlen(s);
    if (fl == 0 || fl >= sizeof first)
        return perr(p, p->t[i].col, "bad range `%s`", s);
    memcpy(first, s, fl);
    first[fl] = 0;
    if (!pod_parse_int(first, 1, 1000000000, &a))
        return perr(p, p->t[i].col, "bad range `%s`", s);
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
        return perr(p, p->t[i].col, "bad range `%s`", s);
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
static int parse_filter(struct parser *p, size_t i, struct scn_filter *f, struct scn_fault *fault)
{
    scn_filter_any(f);
    while (i < p->n) {
        const char *w = p->t[i].s;
        if (strcmp(w, "from") == 0) {
            if (want_dur(p, i + 1, &f->from_ms))
                return -1;
            i += 2;
        } else if (strcmp(w, "to") == 0) {
            if (want_dur(p, i + 1, &f->to_ms))
                return -1;
            i += 2;
        } else if (strcmp(w, "instance") == 0 || strcmp(w, "instances") == 0) {
            if (want_range(p, i + 1, &f->inst_lo, &f->inst_hi))
                return -1;
            i += 2;
        } else if (strcmp(w, "attempt") == 0 || strcmp(w, "attempts") == 0) {
            if (want_range(p, i + 1, &f->att_lo, &f->att_hi))
                return -1;
            i += 2;
        } else if (fault && strcmp(w, "nth") == 0) {
            if (want_range(p, i + 1, &f->nth_lo, &f->nth_hi))
                return -1;
            i += 2;
        } else if (fault && strcmp(w, "times") == 0) {
            long long n;
            if (want_int(p, i + 1, 1, 1000000, &n))
                return -1;
            f->nth_lo = 1;
            f->nth_hi = (uint64_t)n;
            i += 2;
        } else if (fault && strcmp(w, "p") == 0) {
            long long n;
            if (want_int(p, i + 1, 0, 1000, &n))
                return perr(p, p->t[i].col, "`p` takes a probability in 1/1000 (0..1000)");
            f->p_milli = (unsigned)n;
            i += 2;
        } else if (fault && strcmp(w, "ctr") == 0) {
            if (i + 1 >= p->n)
                return perr(p, p->t[i].col, "`ctr` needs a container name");
            free(fault->ctr);
            fault->ctr = xstrdup(p->t[i + 1].s);
            i += 2;
        } else if (fault && fault->op == SCN_OP_EVENT && strcmp(w, "type") == 0) {
            if (i + 1 >= p->n)
                return perr(p, p->t[i].col, "`type` needs an event type");
            size_t k;
            for (k = 0; k <= SCN_EV_CALL_FAILED; k++)
                if (strcmp(p->t[i + 1].s, scn_ev_name((enum scn_ev)k)) == 0)
                    break;
            if (k > SCN_EV_CALL_FAILED)
                return perr(p, p->t[i + 1].col,
                            "unknown event type `%s` (any|started|start-failed|exited|exec-done|"
                            "output|call-failed)",
                            p->t[i + 1].s);
            fault->ev = (enum scn_ev)k;
            i += 2;
        } else {
            return perr(p, p->t[i].col, "unexpected `%s`", w);
        }
    }
    if (f->to_ms <= f->from_ms)
        return perr(p, p->t[0].col, "empty time window (to <= from)");
    return 0;
}

static bool is_name(const char *s)
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

/* ------------------------------------------------------------------ container rules */

static int parse_rule(struct parser *p, struct scn_ctr *c)
{
    if (c->n_rules >= SCN_MAX_RULES)
        return perr(p, p->t[0].col, "too many rules for one container (max %d)", SCN_MAX_RULES);
    struct scn_rule r;
    memset(&r, 0, sizeof r);
    r.line = p->line;
    const char *w = p->t[0].s;
    size_t i = 1;
    long long v;
    if (strcmp(w, "start-latency") == 0) {
        r.kind = SCN_R_LATENCY;
        if (want_dur(p, 1, &r.dur_ms))
            return -1;
        i = 2;
    } else if (strcmp(w, "exit") == 0) {
        r.kind = SCN_R_EXIT;
        if (want_int(p, 1, 0, 255, &v))
            return -1;
        r.code = (int)v;
        if (p->n < 3 || strcmp(p->t[2].s, "after") != 0)
            return perr(p, p->n > 2 ? p->t[2].col : p->t[1].col, "expected `exit CODE after D`");
        if (want_dur(p, 3, &r.dur_ms))
            return -1;
        i = 4;
    } else if (strcmp(w, "run") == 0) {
        if (p->n < 2 || strcmp(p->t[1].s, "forever") != 0)
            return perr(p, p->t[0].col, "expected `run forever`");
        r.kind = SCN_R_FOREVER;
        i = 2;
    } else if (strcmp(w, "start-fail") == 0) {
        r.kind = SCN_R_START_FAIL;
    } else if (strcmp(w, "stdout") == 0 || strcmp(w, "stderr") == 0) {
        r.kind = SCN_R_OUTPUT;
        r.stream = w[3] == 'e' ? 1 : 0;
        r.bytes = 32;
        if (p->n < 2)
            return perr(p, p->t[0].col, "expected `%s N/s`", w);
        size_t l = strlen(p->t[1].s);
        if (l < 3 || strcmp(p->t[1].s + l - 2, "/s") != 0)
            return perr(p, p->t[1].col, "expected a rate like `10/s`");
        char num[16];
        if (l - 2 >= sizeof num)
            return perr(p, p->t[1].col, "rate too large");
        memcpy(num, p->t[1].s, l - 2);
        num[l - 2] = 0;
        if (!pod_parse_int(num, 0, 1000, &v))
            return perr(p, p->t[1].col, "rate must be 0..1000 lines per second");
        r.per_s = (unsigned)v;
        i = 2;
        if (i < p->n && strcmp(p->t[i].s, "bytes") == 0) {
            if (want_int(p, i + 1, 24, 65536, &v))
                return -1;
            r.bytes = (unsigned)v;
            i += 2;
        }
    } else if (strcmp(w, "partial-line") == 0) {
        r.kind = SCN_R_PARTIAL;
    } else if (strcmp(w, "on-term") == 0) {
        r.kind = SCN_R_ON_TERM;
        if (p->n >= 2 && strcmp(p->t[1].s, "ignore") == 0) {
            r.ignore = true;
            i = 2;
        } else if (p->n >= 3 && strcmp(p->t[1].s, "exit") == 0) {
            if (want_int(p, 2, 0, 255, &v))
                return -1;
            r.code = (int)v;
            i = 3;
            if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
                if (want_dur(p, i + 1, &r.dur_ms))
                    return -1;
                i += 2;
            }
        } else {
            return perr(p, p->t[0].col,
                        "expected `on-term exit CODE [after D]` or `on-term ignore`");
        }
    } else if (strcmp(w, "probe") == 0) {
        static const char *const roles[] = {"startup", "readiness", "liveness", "exec", "any"};
        r.kind = SCN_R_PROBE;
        if (p->n < 3)
            return perr(p, p->t[0].col, "expected `probe ROLE pass|fail|hang`");
        size_t k;
        for (k = 0; k < 5; k++)
            if (strcmp(p->t[1].s, roles[k]) == 0)
                break;
        if (k == 5)
            return perr(p, p->t[1].col,
                        "unknown probe role `%s` (startup|readiness|liveness|exec|any)", p->t[1].s);
        r.role = (enum scn_role)k;
        if (strcmp(p->t[2].s, "pass") == 0)
            r.result = SCN_PASS;
        else if (strcmp(p->t[2].s, "fail") == 0) {
            r.result = SCN_FAIL;
            r.code = 1;
        } else if (strcmp(p->t[2].s, "hang") == 0)
            r.result = SCN_HANG;
        else
            return perr(p, p->t[2].col, "expected pass|fail|hang, got `%s`", p->t[2].s);
        r.dur_ms = 10;
        i = 3;
        for (;;) {
            if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
                if (want_dur(p, i + 1, &r.dur_ms))
                    return -1;
                i += 2;
            } else if (i < p->n && strcmp(p->t[i].s, "code") == 0) {
                if (want_int(p, i + 1, 0, 255, &v))
                    return -1;
                r.code = (int)v;
                i += 2;
            } else {
                break;
            }
        }
    } else {
        return perr(p, p->t[0].col,
                    "unknown container rule `%s` (start-latency|exit|run|start-fail|stdout|"
                    "stderr|partial-line|on-term|probe)",
                    w);
    }
    if (parse_filter(p, i, &r.f, NULL))
        return -1;
    c->rules = xrealloc(c->rules, (c->n_rules + 1) * sizeof *c->rules);
    c->rules[c->n_rules++] = r;
    return 0;
}

/* ------------------------------------------------------------------ faults */

const char *scn_op_name(enum scn_op op)
{
    static const char *const n[] = {"pod-create", "start",  "stop",    "kill",  "remove",
                                    "probe",      "cancel", "inspect", "event", "disk"};
    return (unsigned)op < SCN_OP_COUNT_ ? n[op] : "?";
}

const char *scn_role_name(enum scn_role r)
{
    static const char *const n[] = {"startup", "readiness", "liveness", "exec", "any"};
    return (unsigned)r <= SCN_ROLE_ANY ? n[r] : "?";
}

const char *scn_ev_name(enum scn_ev e)
{
    static const char *const n[] = {"any",       "started", "start-failed", "exited",
                                    "exec-done", "output",  "call-failed"};
    return (unsigned)e <= SCN_EV_CALL_FAILED ? n[e] : "?";
}

static int parse_fault(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_faults >= SCN_MAX_FAULTS)
        return perr(p, p->t[0].col, "too many faults (max %d)", SCN_MAX_FAULTS);
    if (p->n < 3)
        return perr(p, p->t[0].col, "expected `fault OP KIND ...`");
    struct scn_fault f;
    memset(&f, 0, sizeof f);
    f.line = p->line;
    size_t k;
    for (k = 0; k < SCN_OP_COUNT_; k++)
        if (strcmp(p->t[1].s, scn_op_name((enum scn_op)k)) == 0)
            break;
    if (k == SCN_OP_COUNT_)
        return perr(p, p->t[1].col,
                    "unknown fault target `%s` (pod-create|start|stop|kill|remove|probe|cancel|"
                    "inspect|event|disk)",
                    p->t[1].s);
    f.op = (enum scn_op)k;
    const char *kind = p->t[2].s;
    size_t i = 3;
    if (f.op == SCN_OP_EVENT) {
        if (strcmp(kind, "lose") == 0)
            f.kind = SCN_F_LOSE;
        else if (strcmp(kind, "dup") == 0)
            f.kind = SCN_F_DUP;
        else
            return perr(p, p->t[2].col, "event faults are `lose` or `dup`");
    } else if (f.op == SCN_OP_DISK) {
        if (strcmp(kind, "full") == 0) {
            f.kind = SCN_F_FULL;
        } else if (strcmp(kind, "crash-rotation") == 0) {
            f.kind = SCN_F_CRASH_ROTATE;
            f.step = 1;
            if (i < p->n && strcmp(p->t[i].s, "step") == 0) {
                long long v;
                if (want_int(p, i + 1, 1, 64, &v))
                    return -1;
                f.step = (unsigned)v;
                i += 2;
            }
        } else {
            return perr(p, p->t[2].col, "disk faults are `full` or `crash-rotation [step N]`");
        }
    } else if (strcmp(kind, "fail") == 0) {
        f.kind = SCN_F_FAIL;
    } else if (strcmp(kind, "fail-async") == 0) {
        if (f.op == SCN_OP_START || f.op == SCN_OP_PROBE || f.op == SCN_OP_INSPECT)
            return perr(p, p->t[2].col,
                        "`fail-async` applies to pod-create|stop|kill|remove|cancel (a start or a "
                        "probe fails asynchronously by its own event; inspect is synchronous)");
        f.kind = SCN_F_FAIL_ASYNC;
        f.dur_ms = 100;
        if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
            if (want_dur(p, i + 1, &f.dur_ms))
                return -1;
            i += 2;
        }
    } else if (strcmp(kind, "hang") == 0) {
        f.kind = SCN_F_HANG;
    } else if (strcmp(kind, "slow") == 0) {
        f.kind = SCN_F_SLOW;
        if (want_dur(p, 3, &f.dur_ms))
            return -1;
        i = 4;
    } else {
        return perr(p, p->t[2].col,
                    "call faults are `fail`, `fail-async [after D]`, `hang` or `slow D`");
    }
    if (parse_filter(p, i, &f.f, &f)) {
        free(f.ctr);
        return -1;
    }
    s->faults = xrealloc(s->faults, (s->n_faults + 1) * sizeof *s->faults);
    s->faults[s->n_faults++] = f;
    return 0;
}

/* ------------------------------------------------------------------ actions */

static int parse_action(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_actions >= SCN_MAX_ACTIONS)
        return perr(p, p->t[0].col, "too many actions (max %d)", SCN_MAX_ACTIONS);
    struct scn_action a;
    memset(&a, 0, sizeof a);
    a.line = p->line;
    if (want_dur(p, 1, &a.at_ms))
        return -1;
    if (p->n < 3)
        return perr(p, p->t[1].col, "expected an action after the time");
    const char *w = p->t[2].s;
    size_t i = 3;
    if (strcmp(w, "start") == 0) {
        a.kind = SCN_A_START;
    } else if (strcmp(w, "stop") == 0) {
        a.kind = SCN_A_STOP;
    } else if (strcmp(w, "kill") == 0) {
        a.kind = SCN_A_KILL;
    } else if (strcmp(w, "signal") == 0) {
        a.kind = SCN_A_SIGNAL;
        if (i < p->n)
            a.ctr = xstrdup(p->t[i++].s);
    } else if (strcmp(w, "rerun") == 0) {
        a.kind = SCN_A_RERUN;
        if (i >= p->n)
            return perr(p, p->t[2].col, "`rerun` needs a container name");
        a.ctr = xstrdup(p->t[i++].s);
    } else if (strcmp(w, "reload-configs") == 0 || strcmp(w, "config-change") == 0) {
        a.kind = w[0] == 'r' ? SCN_A_RELOAD : SCN_A_CONFIG_CHANGE;
        for (; i < p->n; i++) {
            const char *v = p->t[i].s;
            if (a.kind == SCN_A_CONFIG_CHANGE && strcmp(v, "checksum-file") == 0)
                a.checksum_file = a.managed = true;
            else if (a.kind == SCN_A_CONFIG_CHANGE && strcmp(v, "managed") == 0)
                a.managed = true;
            else if (is_name(v))
                pod_strv_push(&a.vols, v);
            else {
                pod_strv_free(a.vols);
                return perr(p, p->t[i].col, "bad config volume name `%s`", v);
            }
        }
        if (!a.vols)
            return perr(p, p->t[2].col, "`%s` needs at least one config volume name", w);
    } else if (strcmp(w, "daemon-crash") == 0) {
        a.kind = SCN_A_CRASH;
        a.down_ms = 1000;
        if (i < p->n && strcmp(p->t[i].s, "down") == 0) {
            if (want_dur(p, i + 1, &a.down_ms))
                return -1;
            i += 2;
        }
    } else {
        return perr(p, p->t[2].col,
                    "unknown action `%s` (start|stop|kill|signal|rerun|reload-configs|"
                    "config-change|daemon-crash)",
                    w);
    }
    if (i < p->n) {
        free(a.ctr);
        pod_strv_free(a.vols);
        return perr(p, p->t[i].col, "unexpected `%s`", p->t[i].s);
    }
    if (a.ctr && !is_name(a.ctr)) {
        free(a.ctr);
        return perr(p, p->t[3].col, "bad container name");
    }
    /* Insert keeping the list sorted by time, stable. */
    s->actions = xrealloc(s->actions, (s->n_actions + 1) * sizeof *s->actions);
    size_t pos = s->n_actions;
    while (pos > 0 && s->actions[pos - 1].at_ms > a.at_ms)
        pos--;
    memmove(&s->actions[pos + 1], &s->actions[pos], (s->n_actions - pos) * sizeof a);
    s->actions[pos] = a;
    s->n_actions++;
    return 0;
}

/* ------------------------------------------------------------------ expectations */

static int parse_cmp_op(const char *s, enum scn_cmp *op)
{
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (size_t k = 0; k < 6; k++)
        if (strcmp(s, ops[k]) == 0) {
            *op = (enum scn_cmp)k;
            return 0;
        }
    return -1;
}

static char *join_toks(struct parser *p, size_t from, size_t to)
{
    struct pod_buf b = {0};
    for (size_t i = from; i < to; i++) {
        if (i > from)
            pod_buf_addc(&b, ' ');
        pod_buf_adds(&b, p->t[i].s);
    }
    return pod_buf_take(&b);
}

static int parse_expect(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_expects >= SCN_MAX_EXPECTS)
        return perr(p, p->t[0].col, "too many expectations (max %d)", SCN_MAX_EXPECTS);
    if (p->n < 2)
        return perr(p, p->t[0].col, "expected `expect at|no|METRIC ...`");
    struct scn_expect x;
    memset(&x, 0, sizeof x);
    x.line = p->line;
    x.after_ms = -1;
    x.before_ms = INT64_MAX;
    if (strcmp(p->t[1].s, "at") == 0) {
        x.kind = SCN_X_AT;
        if (want_dur(p, 2, &x.at_ms))
            return -1;
        if (p->n < 5)
            return perr(p, p->t[2].col, "expected `expect at T CTR EVENT [text]`");
        x.ctr = xstrdup(p->t[3].s);
        x.event = xstrdup(p->t[4].s);
        if (p->n > 5)
            x.text = join_toks(p, 5, p->n);
    } else if (strcmp(p->t[1].s, "no") == 0) {
        x.kind = SCN_X_NO;
        if (p->n < 4)
            return perr(p, p->t[1].col,
                        "expected `expect no CTR EVENT [text] [after T] [before T]`");
        size_t end = p->n;
        for (size_t i = 4; i + 1 < p->n; i++) {
            if (!p->t[i].quoted &&
                (strcmp(p->t[i].s, "after") == 0 || strcmp(p->t[i].s, "before") == 0)) {
                end = end < i ? end : i;
                if (want_dur(p, i + 1, p->t[i].s[0] == 'a' ? &x.after_ms : &x.before_ms))
                    return -1;
                i++;
            } else if (end != p->n) {
                return perr(p, p->t[i].col, "unexpected `%s`", p->t[i].s);
            }
        }
        if (end == p->n && p->n > 4 && !p->t[p->n - 1].quoted &&
            (strcmp(p->t[p->n - 1].s, "after") == 0 || strcmp(p->t[p->n - 1].s, "before") == 0))
            return perr(p, p->t[p->n - 1].col, "`%s` needs a time", p->t[p->n - 1].s);
        x.ctr = xstrdup(p->t[2].s);
        x.event = xstrdup(p->t[3].s);
        if (end > 4)
            x.text = join_toks(p, 4, end);
    } else {
        x.kind = SCN_X_CMP;
        size_t opi;
        for (opi = 1; opi < p->n; opi++)
            if (parse_cmp_op(p->t[opi].s, &x.op) == 0)
                break;
        if (opi == p->n || opi == 1 || opi + 2 != p->n)
            return perr(p, p->t[1].col,
                        "expected `expect METRIC... OP VALUE` (OP: == != < <= > >=)");
        if (opi - 1 > 4)
            return perr(p, p->t[5].col, "metric too long (at most 4 words)");
        for (size_t i = 1; i < opi; i++)
            x.words[x.n_words++] = xstrdup(p->t[i].s);
        x.value = xstrdup(p->t[opi + 1].s);
    }
    s->expects = xrealloc(s->expects, (s->n_expects + 1) * sizeof *s->expects);
    s->expects[s->n_expects++] = x;
    return 0;
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
            return perr(p, p->t[0].col, "`name` needs a text");
        free(s->name);
        s->name = join_toks(p, 1, p->n);
        return 0;
    }
    if (strcmp(w, "seed") == 0) {
        if (p->n != 2 || !pod_parse_int(p->t[1].s, 0, INT64_MAX, &v))
            return perr(p, p->n > 1 ? p->t[1].col : p->t[0].col, "`seed` needs a number");
        s->seed = (uint64_t)v;
        return 0;
    }
    if (strcmp(w, "run-for") == 0) {
        if (want_dur(p, 1, &s->run_for_ms))
            return -1;
        if (s->run_for_ms <= 0)
            return perr(p, p->t[1].col, "`run-for` must be positive");
        return p->n == 2 ? 0 : perr(p, p->t[2].col, "unexpected `%s`", p->t[2].s);
    }
    if (strcmp(w, "output-path") == 0) {
        if (p->n != 2 || (strcmp(p->t[1].s, "holder") && strcmp(p->t[1].s, "direct")))
            return perr(p, p->t[0].col, "expected `output-path holder|direct`");
        s->output_direct = p->t[1].s[0] == 'd';
        return 0;
    }
    if (strcmp(w, "autostart") == 0) {
        if (p->n != 2 || (strcmp(p->t[1].s, "yes") && strcmp(p->t[1].s, "no")))
            return perr(p, p->t[0].col, "expected `autostart yes|no`");
        s->autostart = p->t[1].s[0] == 'y';
        return 0;
    }
    if (strcmp(w, "wall-start") == 0) {
        if (want_int(p, 1, 0, 4000000000LL, &v))
            return -1;
        s->wall0_s = v;
        return 0;
    }
    if (strcmp(w, "output-flush") == 0 || strcmp(w, "reconcile") == 0) {
        int64_t d;
        if (want_dur(p, 1, &d))
            return -1;
        if (d < 1)
            return perr(p, p->t[1].col, "must be at least 1ms");
        if (w[0] == 'o')
            s->output_flush_ms = d;
        else
            s->reconcile_ms = d;
        return 0;
    }
    if (strcmp(w, "log-max-bytes") == 0) {
        if (want_int(p, 1, 64, 1LL << 40, &v))
            return -1;
        s->log_max_bytes = v;
        return 0;
    }
    if (strcmp(w, "log-max-files") == 0) {
        if (want_int(p, 1, 1, 1000, &v))
            return -1;
        s->log_max_files = (int)v;
        return 0;
    }
    if (strcmp(w, "pod-file") == 0) {
        if (p->n != 2)
            return perr(p, p->t[0].col, "expected `pod-file PATH`");
        if (s->pod_text || s->pod_file || s->pod_line)
            return perr(p, p->t[0].col, "the pod spec is given twice");
        s->pod_file = xstrdup(p->t[1].s);
        s->pod_file_line = p->line;
        s->pod_file_col = p->t[1].col;
        return 0;
    }
    if (strcmp(w, "pod-var") == 0) {
        const char *eq = p->n == 2 ? strchr(p->t[1].s, '=') : NULL;
        if (!eq || eq == p->t[1].s)
            return perr(p, p->t[0].col, "expected `pod-var NAME=VALUE`");
        if (s->n_vars >= SCN_MAX_VARS)
            return perr(p, p->t[0].col, "too many variables (max %d)", SCN_MAX_VARS);
        s->var_names = xrealloc(s->var_names, (s->n_vars + 1) * sizeof(char *));
        s->var_values = xrealloc(s->var_values, (s->n_vars + 1) * sizeof(char *));
        s->var_names[s->n_vars] = xstrndup(p->t[1].s, (size_t)(eq - p->t[1].s));
        s->var_values[s->n_vars] = xstrdup(eq + 1);
        s->n_vars++;
        return 0;
    }
    if (strcmp(w, "container") == 0) {
        if (p->n != 2 || !is_name(p->t[1].s))
            return perr(p, p->n > 1 ? p->t[1].col : p->t[0].col,
                        "expected `container NAME` followed by indented rules");
        struct scn_ctr *c = scn_find_ctr(s, p->t[1].s);
        if (!c) {
            if (s->n_ctrs >= SCN_MAX_CTRS)
                return perr(p, p->t[0].col, "too many containers (max %d)", SCN_MAX_CTRS);
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
        return parse_fault(p);
    if (strcmp(w, "at") == 0)
        return parse_action(p);
    if (strcmp(w, "expect") == 0)
        return parse_expect(p);
    return perr(p, p->t[0].col, "unknown statement `%s`", w);
}

int scn_parse(const char *text, size_t len, const char *file, struct scn **out, struct pod_err *err)
{
    struct parser p;
    memset(&p, 0, sizeof p);
    p.file = file ? file : "<scenario>";
    p.err = err;
    if (len > SCN_MAX_BYTES) {
        p.line = 1;
        return perr(&p, 1, "scenario too large (max %u bytes)", SCN_MAX_BYTES);
    }
    if (memchr(text, '\0', len)) {
        p.line = 1;
        const char *z = memchr(text, '\0', len);
        for (const char *q = text; q < z; q++)
            if (*q == '\n')
                p.line++;
        return perr(&p, 1, "NUL byte in scenario");
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
            rc = perr(&p, SCN_MAX_LINE + 1, "line too long (max %d bytes)", SCN_MAX_LINE);
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
                rc = perr(&p, 1, "the inline pod spec must be indented by at least two spaces");
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
                rc = perr(&p, p.t[0].col, "indented line outside a `container` block");
                break;
            }
            if ((rc = parse_rule(&p, cur)) != 0)
                break;
            continue;
        }
        if (p.n == 1 && strcmp(p.t[0].s, "pod:") == 0) {
            if (s->pod_text || s->pod_file || pod.len) {
                rc = perr(&p, 1, "the pod spec is given twice");
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
        rc = perr(&p, 1, "no pod spec (`pod:` block or `pod-file PATH`)");
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
