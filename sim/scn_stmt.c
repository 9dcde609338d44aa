/* SPDX-License-Identifier: MIT */
/* scn_stmt.c - the scenario statements (see sim/README.md): container rules, faults, user
 * actions and expectations, each parsed from one tokenized line.  Pure; every count is bounded
 * (SCN_MAX_*), every number range-checked: the parser is fuzzed. */
#include "scn_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ container rules */

int scnp_rule(struct parser *p, struct scn_ctr *c)
{
    if (c->n_rules >= SCN_MAX_RULES)
        return scnp_err(p, p->t[0].col, "too many rules for one container (max %d)", SCN_MAX_RULES);
    struct scn_rule r;
    memset(&r, 0, sizeof r);
    r.line = p->line;
    const char *w = p->t[0].s;
    size_t i = 1;
    long long v;
    if (strcmp(w, "start-latency") == 0) {
        r.kind = SCN_R_LATENCY;
        if (scnp_want_dur(p, 1, &r.dur_ms))
            return -1;
        i = 2;
    } else if (strcmp(w, "exit") == 0) {
        r.kind = SCN_R_EXIT;
        if (scnp_want_int(p, 1, 0, 255, &v))
            return -1;
        r.code = (int)v;
        if (p->n < 3 || strcmp(p->t[2].s, "after") != 0)
            return scnp_err(p, p->n > 2 ? p->t[2].col : p->t[1].col,
                            "expected `exit CODE after D`");
        if (scnp_want_dur(p, 3, &r.dur_ms))
            return -1;
        i = 4;
    } else if (strcmp(w, "run") == 0) {
        if (p->n < 2 || strcmp(p->t[1].s, "forever") != 0)
            return scnp_err(p, p->t[0].col, "expected `run forever`");
        r.kind = SCN_R_FOREVER;
        i = 2;
    } else if (strcmp(w, "start-fail") == 0) {
        r.kind = SCN_R_START_FAIL;
    } else if (strcmp(w, "stdout") == 0 || strcmp(w, "stderr") == 0) {
        r.kind = SCN_R_OUTPUT;
        r.stream = w[3] == 'e' ? 1 : 0;
        r.bytes = 32;
        if (p->n < 2)
            return scnp_err(p, p->t[0].col, "expected `%s N/s`", w);
        size_t l = strlen(p->t[1].s);
        if (l < 3 || strcmp(p->t[1].s + l - 2, "/s") != 0)
            return scnp_err(p, p->t[1].col, "expected a rate like `10/s`");
        char num[16];
        if (l - 2 >= sizeof num)
            return scnp_err(p, p->t[1].col, "rate too large");
        memcpy(num, p->t[1].s, l - 2);
        num[l - 2] = 0;
        if (!pod_parse_int(num, 0, 1000, &v))
            return scnp_err(p, p->t[1].col, "rate must be 0..1000 lines per second");
        r.per_s = (unsigned)v;
        i = 2;
        if (i < p->n && strcmp(p->t[i].s, "bytes") == 0) {
            if (scnp_want_int(p, i + 1, 24, 65536, &v))
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
            if (scnp_want_int(p, 2, 0, 255, &v))
                return -1;
            r.code = (int)v;
            i = 3;
            if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
                if (scnp_want_dur(p, i + 1, &r.dur_ms))
                    return -1;
                i += 2;
            }
        } else {
            return scnp_err(p, p->t[0].col,
                            "expected `on-term exit CODE [after D]` or `on-term ignore`");
        }
    } else if (strcmp(w, "probe") == 0) {
        static const char *const roles[] = {"startup", "readiness", "liveness", "exec", "any"};
        r.kind = SCN_R_PROBE;
        if (p->n < 3)
            return scnp_err(p, p->t[0].col, "expected `probe ROLE pass|fail|hang`");
        size_t k;
        for (k = 0; k < 5; k++)
            if (strcmp(p->t[1].s, roles[k]) == 0)
                break;
        if (k == 5)
            return scnp_err(p, p->t[1].col,
                            "unknown probe role `%s` (startup|readiness|liveness|exec|any)",
                            p->t[1].s);
        r.role = (enum scn_role)k;
        if (strcmp(p->t[2].s, "pass") == 0)
            r.result = SCN_PASS;
        else if (strcmp(p->t[2].s, "fail") == 0) {
            r.result = SCN_FAIL;
            r.code = 1;
        } else if (strcmp(p->t[2].s, "hang") == 0)
            r.result = SCN_HANG;
        else
            return scnp_err(p, p->t[2].col, "expected pass|fail|hang, got `%s`", p->t[2].s);
        r.dur_ms = 10;
        i = 3;
        for (;;) {
            if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
                if (scnp_want_dur(p, i + 1, &r.dur_ms))
                    return -1;
                i += 2;
            } else if (i < p->n && strcmp(p->t[i].s, "code") == 0) {
                if (scnp_want_int(p, i + 1, 0, 255, &v))
                    return -1;
                r.code = (int)v;
                i += 2;
            } else {
                break;
            }
        }
    } else {
        return scnp_err(p, p->t[0].col,
                        "unknown container rule `%s` (start-latency|exit|run|start-fail|stdout|"
                        "stderr|partial-line|on-term|probe)",
                        w);
    }
    if (scnp_filter(p, i, &r.f, NULL))
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

int scnp_fault(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_faults >= SCN_MAX_FAULTS)
        return scnp_err(p, p->t[0].col, "too many faults (max %d)", SCN_MAX_FAULTS);
    if (p->n < 3)
        return scnp_err(p, p->t[0].col, "expected `fault OP KIND ...`");
    struct scn_fault f;
    memset(&f, 0, sizeof f);
    f.line = p->line;
    size_t k;
    for (k = 0; k < SCN_OP_COUNT_; k++)
        if (strcmp(p->t[1].s, scn_op_name((enum scn_op)k)) == 0)
            break;
    if (k == SCN_OP_COUNT_)
        return scnp_err(p, p->t[1].col,
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
            return scnp_err(p, p->t[2].col, "event faults are `lose` or `dup`");
    } else if (f.op == SCN_OP_DISK) {
        if (strcmp(kind, "full") == 0) {
            f.kind = SCN_F_FULL;
        } else if (strcmp(kind, "crash-rotation") == 0) {
            f.kind = SCN_F_CRASH_ROTATE;
            f.step = 1;
            if (i < p->n && strcmp(p->t[i].s, "step") == 0) {
                long long v;
                if (scnp_want_int(p, i + 1, 1, 64, &v))
                    return -1;
                f.step = (unsigned)v;
                i += 2;
            }
        } else {
            return scnp_err(p, p->t[2].col, "disk faults are `full` or `crash-rotation [step N]`");
        }
    } else if (strcmp(kind, "fail") == 0) {
        f.kind = SCN_F_FAIL;
    } else if (strcmp(kind, "fail-async") == 0) {
        if (f.op == SCN_OP_START || f.op == SCN_OP_PROBE || f.op == SCN_OP_INSPECT)
            return scnp_err(
                p, p->t[2].col,
                "`fail-async` applies to pod-create|stop|kill|remove|cancel (a start or a "
                "probe fails asynchronously by its own event; inspect is synchronous)");
        f.kind = SCN_F_FAIL_ASYNC;
        f.dur_ms = 100;
        if (i < p->n && strcmp(p->t[i].s, "after") == 0) {
            if (scnp_want_dur(p, i + 1, &f.dur_ms))
                return -1;
            i += 2;
        }
    } else if (strcmp(kind, "hang") == 0) {
        f.kind = SCN_F_HANG;
    } else if (strcmp(kind, "slow") == 0) {
        f.kind = SCN_F_SLOW;
        if (scnp_want_dur(p, 3, &f.dur_ms))
            return -1;
        i = 4;
    } else {
        return scnp_err(p, p->t[2].col,
                        "call faults are `fail`, `fail-async [after D]`, `hang` or `slow D`");
    }
    if (scnp_filter(p, i, &f.f, &f)) {
        free(f.ctr);
        return -1;
    }
    s->faults = xrealloc(s->faults, (s->n_faults + 1) * sizeof *s->faults);
    s->faults[s->n_faults++] = f;
    return 0;
}

/* ------------------------------------------------------------------ actions */

int scnp_action(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_actions >= SCN_MAX_ACTIONS)
        return scnp_err(p, p->t[0].col, "too many actions (max %d)", SCN_MAX_ACTIONS);
    struct scn_action a;
    memset(&a, 0, sizeof a);
    a.line = p->line;
    if (scnp_want_dur(p, 1, &a.at_ms))
        return -1;
    if (p->n < 3)
        return scnp_err(p, p->t[1].col, "expected an action after the time");
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
            return scnp_err(p, p->t[2].col, "`rerun` needs a container name");
        a.ctr = xstrdup(p->t[i++].s);
    } else if (strcmp(w, "reload-configs") == 0 || strcmp(w, "config-change") == 0) {
        a.kind = w[0] == 'r' ? SCN_A_RELOAD : SCN_A_CONFIG_CHANGE;
        for (; i < p->n; i++) {
            const char *v = p->t[i].s;
            if (a.kind == SCN_A_CONFIG_CHANGE && strcmp(v, "checksum-file") == 0)
                a.checksum_file = a.managed = true;
            else if (a.kind == SCN_A_CONFIG_CHANGE && strcmp(v, "managed") == 0)
                a.managed = true;
            else if (scnp_is_name(v))
                pod_strv_push(&a.vols, v);
            else {
                pod_strv_free(a.vols);
                return scnp_err(p, p->t[i].col, "bad config volume name `%s`", v);
            }
        }
        if (!a.vols)
            return scnp_err(p, p->t[2].col, "`%s` needs at least one config volume name", w);
    } else if (strcmp(w, "daemon-crash") == 0) {
        a.kind = SCN_A_CRASH;
        a.down_ms = 1000;
        if (i < p->n && strcmp(p->t[i].s, "down") == 0) {
            if (scnp_want_dur(p, i + 1, &a.down_ms))
                return -1;
            i += 2;
        }
    } else if (strcmp(w, "infra-down") == 0) {
        a.kind = SCN_A_INFRA_DOWN;
    } else {
        return scnp_err(p, p->t[2].col,
                        "unknown action `%s` (start|stop|kill|signal|rerun|reload-configs|"
                        "config-change|daemon-crash|infra-down)",
                        w);
    }
    if (i < p->n) {
        free(a.ctr);
        pod_strv_free(a.vols);
        return scnp_err(p, p->t[i].col, "unexpected `%s`", p->t[i].s);
    }
    if (a.ctr && !scnp_is_name(a.ctr)) {
        free(a.ctr);
        return scnp_err(p, p->t[3].col, "bad container name");
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

char *scnp_join(struct parser *p, size_t from, size_t to)
{
    struct pod_buf b = {0};
    for (size_t i = from; i < to; i++) {
        if (i > from)
            pod_buf_addc(&b, ' ');
        pod_buf_adds(&b, p->t[i].s);
    }
    return pod_buf_take(&b);
}

int scnp_expect(struct parser *p)
{
    struct scn *s = p->scn;
    if (s->n_expects >= SCN_MAX_EXPECTS)
        return scnp_err(p, p->t[0].col, "too many expectations (max %d)", SCN_MAX_EXPECTS);
    if (p->n < 2)
        return scnp_err(p, p->t[0].col, "expected `expect at|no|METRIC ...`");
    struct scn_expect x;
    memset(&x, 0, sizeof x);
    x.line = p->line;
    x.after_ms = -1;
    x.before_ms = INT64_MAX;
    if (strcmp(p->t[1].s, "at") == 0) {
        x.kind = SCN_X_AT;
        if (scnp_want_dur(p, 2, &x.at_ms))
            return -1;
        if (p->n < 5)
            return scnp_err(p, p->t[2].col, "expected `expect at T CTR EVENT [text]`");
        x.ctr = xstrdup(p->t[3].s);
        x.event = xstrdup(p->t[4].s);
        if (p->n > 5)
            x.text = scnp_join(p, 5, p->n);
    } else if (strcmp(p->t[1].s, "no") == 0) {
        x.kind = SCN_X_NO;
        if (p->n < 4)
            return scnp_err(p, p->t[1].col,
                            "expected `expect no CTR EVENT [text] [after T] [before T]`");
        size_t end = p->n;
        for (size_t i = 4; i + 1 < p->n; i++) {
            if (!p->t[i].quoted &&
                (strcmp(p->t[i].s, "after") == 0 || strcmp(p->t[i].s, "before") == 0)) {
                end = end < i ? end : i;
                if (scnp_want_dur(p, i + 1, p->t[i].s[0] == 'a' ? &x.after_ms : &x.before_ms))
                    return -1;
                i++;
            } else if (end != p->n) {
                return scnp_err(p, p->t[i].col, "unexpected `%s`", p->t[i].s);
            }
        }
        if (end == p->n && p->n > 4 && !p->t[p->n - 1].quoted &&
            (strcmp(p->t[p->n - 1].s, "after") == 0 || strcmp(p->t[p->n - 1].s, "before") == 0))
            return scnp_err(p, p->t[p->n - 1].col, "`%s` needs a time", p->t[p->n - 1].s);
        x.ctr = xstrdup(p->t[2].s);
        x.event = xstrdup(p->t[3].s);
        if (end > 4)
            x.text = scnp_join(p, 4, end);
    } else {
        x.kind = SCN_X_CMP;
        size_t opi;
        for (opi = 1; opi < p->n; opi++)
            if (parse_cmp_op(p->t[opi].s, &x.op) == 0)
                break;
        if (opi == p->n || opi == 1 || opi + 2 != p->n)
            return scnp_err(p, p->t[1].col,
                            "expected `expect METRIC... OP VALUE` (OP: == != < <= > >=)");
        if (opi - 1 > 4)
            return scnp_err(p, p->t[5].col, "metric too long (at most 4 words)");
        for (size_t i = 1; i < opi; i++)
            x.words[x.n_words++] = xstrdup(p->t[i].s);
        x.value = xstrdup(p->t[opi + 1].s);
    }
    s->expects = xrealloc(s->expects, (s->n_expects + 1) * sizeof *s->expects);
    s->expects[s->n_expects++] = x;
    return 0;
}
