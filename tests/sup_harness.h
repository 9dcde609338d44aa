/* SPDX-License-Identifier: MIT */
/* sup_harness.h - a tiny in-test driver for the supervisor unit tests (tests/test_sup*.c).
 *
 * Builds struct pod_spec values by hand with explicit fields (no validator), feeds events
 * with explicit `now` values and renders the returned actions as one compact line, so a test
 * asserts the exact action sequence with one string compare:
 *   "start c0#1; probe c0#1 readiness exec tag1 dl=5000; stop c0#1 10000; kill c0#1 9;
 *    signal c1#2 1; cancel c0 tag1; pod-stopped"
 * NOTE and STATUS actions are left out of that line (has_note()/has_status() look at them).
 * Everything is static: include it from exactly one .c per test binary.
 */
#ifndef SUP_HARNESS_H
#define SUP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pod/spec.h"
#include "pod/sup.h"
#include "pod/util.h"

#define H_MAXC 8
#define H_MAXV 4

struct h {
    struct pod_spec spec;
    struct spec_container c[H_MAXC];
    struct spec_volume v[H_MAXV];
    struct spec_mount m[H_MAXC][2];
    struct sup *s;
    struct sup_actions a;
    int64_t now;
    char line[4096];
};

__attribute__((unused)) static char *h_cmd_true[] = {"true", NULL};

/* An ADOPT's finish time for a container that exited at some unknown time (inspect reports one
 * for every container that ran; 0 means it never ran: a start in flight, SPEC.md 8.9). */
#define H_FINISHED_SOMETIME_NS 1600000000000000000LL
__attribute__((unused)) static char *h_cmd_reload[] = {"reload", NULL};

/* A probe that is not configured, with the defaults the validator fills in anyway (an init
 * container's startup uses its timeout). */
static inline void h_probe_defaults(struct spec_probe *p, bool startup)
{
    memset(p, 0, sizeof *p);
    p->timeout_s = 120;
    p->attempt_timeout_s = 120;
    p->period_s = startup ? 1 : 6;
    p->success_threshold = 1;
    p->failure_threshold = startup ? 0 : 1;
}

/* A container with explicit defaults (what the validator would fill in). */
static inline void h_ctr(struct h *t, size_t i, const char *name, enum spec_restart r)
{
    struct spec_container *c = &t->c[i];
    memset(c, 0, sizeof *c);
    h_probe_defaults(&c->startup, true);
    h_probe_defaults(&c->readiness, false);
    h_probe_defaults(&c->liveness, false);
    c->name = (char *)name;
    c->image = (char *)"img";
    c->restart = r;
    c->stop_timeout_s = 10;
    c->backoff.initial_ms = 1000;
    c->backoff.max_ms = 300000;
    c->backoff.reset_s = 600;
    c->backoff.give_up_count = 0;
    c->backoff.give_up_window_s = 600;
    if (i + 1 > t->spec.n_containers)
        t->spec.n_containers = i + 1;
}

/* An exec/tcp/http probe with explicit knobs. */
static inline void h_probe(struct spec_probe *p, enum spec_probe_kind kind, int timeout_s,
                           int period_s, int fail_thr)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->cmd = h_cmd_true;
    p->timeout_s = timeout_s;
    p->attempt_timeout_s = timeout_s;
    p->period_s = period_s;
    p->success_threshold = 1;
    p->failure_threshold = fail_thr;
}

static inline void h_volume(struct h *t, size_t v, const char *name)
{
    memset(&t->v[v], 0, sizeof t->v[v]);
    t->v[v].name = (char *)name;
    t->v[v].type = SPEC_VOL_CONFIG;
    if (v + 1 > t->spec.n_volumes)
        t->spec.n_volumes = v + 1;
}

static inline void h_mount(struct h *t, size_t i, const char *vol)
{
    struct spec_container *c = &t->c[i];
    t->m[i][c->n_mounts].dest = (char *)"/etc/cfg";
    t->m[i][c->n_mounts].volume = (char *)vol;
    c->n_mounts++;
    c->mounts = t->m[i];
}

static inline struct h *h_new(void)
{
    struct h *t = xcalloc(1, sizeof *t);
    t->spec.name = (char *)"pod";
    t->spec.version = (char *)"1";
    t->spec.containers = t->c;
    t->spec.volumes = t->v;
    t->spec.config_debounce_ms = 2000;
    return t;
}

/* Creates the supervisor (after the spec is complete). */
static inline void h_go(struct h *t, uint64_t seed)
{
    t->s = sup_new(&t->spec, seed);
}

/* A new daemon: a fresh supervisor (seed) restores `saved` (a sup_save text, freed). */
static inline void h_restore(struct h *t, char *saved, uint64_t seed)
{
    sup_free(t->s);
    t->s = sup_new(&t->spec, seed);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
}

/* The daemon dies at t->now and a new one restores what it saved (adoption is up to the test). */
static inline void h_restart(struct h *t, uint64_t seed)
{
    h_restore(t, sup_save(t->s), seed);
}

static inline void h_free(struct h *t)
{
    sup_free(t->s);
    sup_actions_free(&t->a);
    free(t);
}

static inline const char *h_render(struct h *t)
{
    struct pod_buf b = {0};
    for (size_t k = 0; k < t->a.n; k++) {
        const struct sup_action *x = &t->a.v[k];
        if (x->type == SUP_ACT_NOTE || x->type == SUP_ACT_STATUS)
            continue;
        if (b.len)
            pod_buf_adds(&b, "; ");
        switch (x->type) {
        case SUP_ACT_CTR_START:
            pod_buf_printf(&b, "start c%zu#%llu", x->ctr, (unsigned long long)x->instance);
            break;
        case SUP_ACT_CTR_STOP:
            pod_buf_printf(&b, "stop c%zu#%llu %lld", x->ctr, (unsigned long long)x->instance,
                           (long long)x->timeout_ms);
            break;
        case SUP_ACT_CTR_KILL:
            pod_buf_printf(&b, "kill c%zu#%llu %d", x->ctr, (unsigned long long)x->instance,
                           x->sig);
            break;
        case SUP_ACT_SIGNAL:
            pod_buf_printf(&b, "signal c%zu#%llu %d", x->ctr, (unsigned long long)x->instance,
                           x->sig);
            break;
        case SUP_ACT_PROBE:
            pod_buf_printf(&b, "probe c%zu#%llu %s %s tag%llu dl=%lld", x->ctr,
                           (unsigned long long)x->probe.instance, sup_probe_role_name(x->role),
                           x->probe.kind == BACKEND_PROBE_TCP    ? "tcp"
                           : x->probe.kind == BACKEND_PROBE_HTTP ? "http"
                                                                 : "exec",
                           (unsigned long long)x->probe.tag, (long long)x->probe.deadline_mono_ms);
            break;
        case SUP_ACT_CANCEL:
            pod_buf_printf(&b, "cancel c%zu tag%llu", x->ctr, (unsigned long long)x->tag);
            break;
        default:
            pod_buf_adds(&b, sup_action_type_name(x->type));
            break;
        }
    }
    snprintf(t->line, sizeof t->line, "%s", b.data ? b.data : "");
    pod_buf_free(&b);
    return t->line;
}

static inline void h_dump_notes(const struct h *t)
{
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == SUP_ACT_NOTE)
            fprintf(stderr, "  note: %s\n", t->a.v[k].text);
}

/* Feeds one event at t->now; actions replace the previous ones. */
static inline const char *h_step(struct h *t, const struct sup_event *ev)
{
    sup_actions_clear(&t->a);
    sup_step(t->s, ev, t->now, &t->a);
    return h_render(t);
}

static inline const char *h_ev(struct h *t, enum sup_event_type type)
{
    struct sup_event ev = {.type = type};
    return h_step(t, &ev);
}

static inline const char *h_at(struct h *t, int64_t now)
{
    t->now = now;
    return h_ev(t, SUP_EV_TICK);
}

static inline const char *h_backend(struct h *t, enum backend_event_type type, size_t ctr,
                                    uint64_t inst, int code)
{
    struct sup_event ev = {.type = SUP_EV_BACKEND};
    ev.backend.type = type;
    ev.backend.ctr = ctr;
    ev.backend.instance = inst;
    ev.backend.exit_code = code;
    return h_step(t, &ev);
}

static inline const char *h_started(struct h *t, size_t ctr, uint64_t inst)
{
    return h_backend(t, BACKEND_EV_STARTED, ctr, inst, 0);
}

static inline const char *h_exited(struct h *t, size_t ctr, uint64_t inst, int code)
{
    return h_backend(t, BACKEND_EV_EXITED, ctr, inst, code);
}

static inline const char *h_done(struct h *t, size_t ctr, uint64_t inst, uint64_t tag,
                                 enum backend_result r)
{
    struct sup_event ev = {.type = SUP_EV_BACKEND};
    ev.backend.type = BACKEND_EV_EXEC_DONE;
    ev.backend.ctr = ctr;
    ev.backend.instance = inst;
    ev.backend.tag = tag;
    ev.backend.result = r;
    return h_step(t, &ev);
}

/* The backend call for action `act` (container ctr, instance inst, request tag) failed. */
static inline const char *h_call_failed(struct h *t, enum sup_action_type act, size_t ctr,
                                        uint64_t inst, uint64_t tag, const char *msg)
{
    struct sup_event ev = {.type = SUP_EV_CALL_FAILED};
    ev.call.action = act;
    ev.call.ctr = ctr;
    ev.call.instance = inst;
    ev.call.tag = tag;
    ev.call.sig = act == SUP_ACT_CTR_KILL ? 9 : 0;
    snprintf(ev.call.msg, sizeof ev.call.msg, "%s", msg);
    return h_step(t, &ev);
}

static inline const char *h_ctr_ev(struct h *t, enum sup_event_type type, size_t ctr)
{
    struct sup_event ev = {.type = type, .ctr = ctr};
    return h_step(t, &ev);
}

static inline const char *h_cfg(struct h *t, size_t vol, bool checksum_file, bool has_checksum)
{
    struct sup_event ev = {.type = SUP_EV_CONFIG_CHANGED, .volume = vol};
    ev.cfg_checksum_file = checksum_file;
    ev.cfg_has_checksum_file = has_checksum;
    return h_step(t, &ev);
}

static inline bool has_note(const struct h *t, const char *sub)
{
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == SUP_ACT_NOTE && strstr(t->a.v[k].text, sub))
            return true;
    return false;
}

static inline bool has_status(const struct h *t)
{
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == SUP_ACT_STATUS)
            return true;
    return false;
}

static inline const struct sup_action *h_find(const struct h *t, enum sup_action_type type)
{
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == type)
            return &t->a.v[k];
    return NULL;
}

static inline const struct sup_ctr_status *h_cs(const struct h *t, size_t i)
{
    return &sup_status(t->s)->ctr[i];
}

/* The name of container i's phase ("running"), as the status file prints it. */
static inline const char *h_phase(const struct h *t, size_t i)
{
    return sup_ctr_phase_name(h_cs(t, i)->phase);
}

#define assert_acts(t, expr, expected)                                                             \
    do {                                                                                           \
        const char *got_ = (expr);                                                                 \
        if (strcmp(got_, (expected)) != 0) {                                                       \
            fprintf(stderr, "at now=%lld\n  expected: %s\n  got:      %s\n", (long long)(t)->now,  \
                    (expected), got_);                                                             \
            h_dump_notes(t);                                                                       \
        }                                                                                          \
        assert_string_equal(got_, (expected));                                                     \
    } while (0)

#define assert_phase(t, i, name) assert_string_equal(h_phase((t), (i)), (name))

/* web (always, HUP), job (on-interval 20 s, exit: true, startup fan-out to web): the first
 * run of job completed at 1 s (web got HUP), its interval re-run (instance 2) started at
 * 21.1 s and is `starting`.  Shared by the re-run tests of test_sup_rerun.c and test_sup_adopt.c.
 */
static inline struct h *h_exit_rerun_pod(void)
{
    static char *targets[] = {"web", NULL};
    struct h *t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    t->c[0].signal_sig = "HUP";
    h_ctr(t, 1, "job", SPEC_RESTART_ON_INTERVAL);
    t->c[1].restart_interval_s = 20;
    t->c[1].startup.kind = SPEC_PROBE_EXIT;
    t->c[1].startup.timeout_s = 60;
    t->c[1].startup.signal_targets = targets;
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    h_started(t, 1, 1);
    t->now = 1000;
    assert_acts(t, h_exited(t, 1, 1, 0), "signal c0#1 1");
    assert_acts(t, h_at(t, 21000), "start c1#2");
    t->now = 21100;
    h_started(t, 1, 2);
    assert_phase(t, 1, "starting");
    return t;
}

/* Starts a single-container pod and brings container 0 to "running" at t->now. */
static inline void h_boot1(struct h *t)
{
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    h_started(t, 0, 1);
}

#endif
