/* SPDX-License-Identifier: MIT */
/* sup_adopt.c - a daemon restart: sup_save/sup_restore (the persisted state, SPEC.md 8.9) and
 * the adoption of each container from what inspect says (SUP_EV_ADOPT), judged as the daemon
 * that saved the state would have.  JSON through jansson; no file I/O (the driver writes it). */

#include "sup_internal.h"

#include <jansson.h>
#include <string.h>

/* A wall time of inspect (an adopted instance's start or finish) on the monotonic axis: now
 * minus how long ago it was by the wall clock (ev->wall_ns is the wall clock at now).  Never
 * later than now; now when either wall time is unknown or lies in the future (clock step). */
static int64_t adopt_mono_ms(const struct step *x, const struct sup_event *ev, int64_t at_wall_ns)
{
    int64_t wall = ev->wall_ns;
    if (wall <= 0 || at_wall_ns <= 0 || at_wall_ns >= wall)
        return x->now_mono_ms;
    return x->now_mono_ms - (wall - at_wall_ns) / 1000000;
}

/* The saved monotonic evidence of the adopted instance's start (restored only for a pending
 * startup of the same instance): `*exact` when it is the STARTED time, else the time the start
 * was issued (a lower bound).  NEVER when there is none, x->now_mono_ms when it is from another
 * boot (later than now: nothing is trustworthy, count from the adoption). */
static int64_t adopt_saved_start(const struct step *x, const struct ctr *c, bool *exact)
{
    int64_t m =
        c->saved_started_mono_ms != NEVER ? c->saved_started_mono_ms : c->saved_created_mono_ms;
    *exact = c->saved_started_mono_ms != NEVER;
    if (m != NEVER && m > x->now_mono_ms) {
        *exact = true;
        return x->now_mono_ms;
    }
    return m;
}

/* The adopted instance's start on the monotonic axis: the saved STARTED time, else inspect's
 * start by the wall clock, but never before the saved time its start was issued (a forward
 * clock step makes the wall estimate too old). */
static int64_t adopt_start_mono_ms(const struct step *x, const struct ctr *c,
                                   const struct sup_event *ev)
{
    bool exact;
    int64_t m = adopt_saved_start(x, c, &exact);
    int64_t w = adopt_mono_ms(x, ev, ev->adopt.started_wall_ns);
    if (m == NEVER)
        return w;
    return exact ? m : imax(w, m);
}

/* The adopted exit on the monotonic axis, not before the saved evidence of its start. */
static int64_t adopt_exit_mono_ms(const struct step *x, const struct ctr *c,
                                  const struct sup_event *ev)
{
    bool exact;
    int64_t m = adopt_saved_start(x, c, &exact);
    int64_t w = adopt_mono_ms(x, ev, ev->adopt.finished_wall_ns);
    return m == NEVER ? w : imax(w, m);
}

/* When the adopted instance was started, for the 1 s between two starts (SPEC.md 8.5): its
 * CTR_START as saved, else its STARTED as saved, else the start inspect reports; NEVER when
 * nothing says it (no floor: the daemon restart took time too). */
static int64_t adopt_last_start(const struct step *x, const struct ctr *c,
                                const struct sup_event *ev)
{
    if (c->saved_created_mono_ms != NEVER && c->saved_created_mono_ms <= x->now_mono_ms)
        return c->saved_created_mono_ms;
    if (c->saved_started_mono_ms != NEVER && c->saved_started_mono_ms <= x->now_mono_ms)
        return c->saved_started_mono_ms;
    if (ev->wall_ns > 0 && ev->adopt.started_wall_ns > 0)
        return adopt_mono_ms(x, ev, ev->adopt.started_wall_ns);
    return NEVER;
}

/* The container has a startup that STARTED alone does not complete: `exit: true` / init (its
 * exit 0) or a cmd/tcp/http startup probe (its first success). */
static bool startup_gated(const struct spec_container *k)
{
    return startup_kind(k) == SPEC_PROBE_EXIT || probe_active(&k->startup);
}

/* Adopted running while the saved state says its startup had not completed: it is still
 * starting up, as for the daemon that saved the state (SPEC.md 8.9).  `exit: true` / init:
 * its exit decides (0 = completed startup, with its fan-out; else a failed start); a probe:
 * attempts again from now (its initial delay counted from the start inspect reports).  The
 * overall startup deadline counts from that start too (from now when it is unknown), so it
 * falls where it would have without the restart.  Consecutive probe results begin afresh. */
static void adopt_starting(struct step *x, size_t i, const struct sup_event *ev)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    enum spec_probe_kind sk = startup_kind(k);
    sup_leave_up(c);
    c->ph = SUP_CTR_STARTING;
    c->live = true;
    c->has_exit = false; /* an earlier instance's (a stale state), as do_start clears it */
    c->running_since_mono_ms = adopt_start_mono_ms(x, c, ev);
    c->startup_deadline_mono_ms = c->running_since_mono_ms + startup_timeout_ms(&k->startup);
    for (int r = 0; r < PR__N; r++)
        sup_probe_reset(&c->pr[r]);
    if (sk != SPEC_PROBE_EXIT)
        c->pr[PR_STARTUP].next_at_mono_ms = imax(
            x->now_mono_ms, c->running_since_mono_ms + (int64_t)k->startup.initial_delay_s * 1000);
    sup_note(x, POD_LOG_INFO, i,
             "adopted running instance %llu; its startup was pending in the saved state: waiting "
             "to start up (%s, %lld s left)",
             (unsigned long long)c->instance,
             sk == SPEC_PROBE_EXIT ? "exit" : spec_probe_kind_name(sk),
             (long long)(imax(0, c->startup_deadline_mono_ms - x->now_mono_ms) / 1000));
}

/* An adopted instance exited while the saved state says its startup had not completed (the
 * state file may be stale: disk full, crash right after a start).  It ran: without a startup
 * probe running is being started, so it counts as started (then exited with its code, as if
 * the daemon had seen it); with a cmd/tcp/http startup probe the daemon cannot know whether
 * the probe passed, so only a clean exit (0) counts as a completed run, not as a crash; any
 * other code stays a failed start.  `exit: true` and init containers: the table
 * (STARTING x EXITED) decides (0 = completed). */
static bool adopt_exit_was_started(const struct spec_container *k,
                                   const struct backend_ctr_state *st)
{
    if (startup_kind(k) == SPEC_PROBE_EXIT)
        return false;
    if (st->exit_code == 0)
        return true;
    return !probe_active(&k->startup) && st->started_wall_ns > 0;
}

/* The pending restart of an instance whose exit (or failed start) the saved state had already
 * judged, at exit_mono_ms (mono, <= now): the saved deadline when it is from this boot (scheduled
 * at or before now), else the saved delay counted from the exit, never later than a full
 * delay from now.  No failure is counted again (SPEC.md 8.9). */
static void adopt_rearm_backoff(struct step *x, size_t i, int64_t exit_mono_ms)
{
    struct ctr *c = &x->s->c[i];
    int64_t at = c->saved_restart_at_mono_ms;
    if (at == NEVER || at - c->backoff_ms > x->now_mono_ms)
        at = imax(x->now_mono_ms, imin(exit_mono_ms, x->now_mono_ms) + c->backoff_ms);
    c->ph = SUP_CTR_BACKOFF;
    c->restart_at_mono_ms = at;
    sup_note(x, POD_LOG_INFO, i,
             "its exit was already judged in the saved state: restart in %lld ms (backoff #%u)",
             (long long)imax(0, at - x->now_mono_ms), c->streak);
}

/* An adopted exit the saved state had already judged: its phase again, nothing counted. */
static void adopt_judged_exit(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    sup_set_exit(c, a);
    c->completed = c->seq_done && a->exit_code == 0;
    if (c->saved_restart_at_mono_ms != NEVER || !c->seq_done ||
        sup_policy_restarts(k, a->exit_code))
        adopt_rearm_backoff(x, i, a->exit_mono_ms);
    else
        sup_policy_exit(x, i, a->exit_code, a->exit_mono_ms); /* not restarted: counts nothing */
}

/* Adopted running (and its startup not pending, or not gated): running, probes re-checked. */
static void adopt_running(struct step *x, size_t i, bool pending)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    c->ph = SUP_CTR_RUNNING;
    c->started = true;
    c->seq_done = true;
    c->live = true;
    c->has_exit = false; /* an earlier instance's (a stale state) */
    c->running_since_mono_ms = x->now_mono_ms;
    c->ready = !probe_active(&ctr_spec(s, i)->readiness);
    c->stable_since_mono_ms = -1;
    if (pod_active(s)) /* a pod restored in `stopping` only stops it */
        sup_probes_schedule_running(x, i, false);
    sup_update_stable(x, i);
    sup_note(x, POD_LOG_INFO, i, "adopted running instance %llu", (unsigned long long)c->instance);
    /* STARTED was its whole startup: the fan-out the daemon that saved the state had not
     * sent yet (a stale state may make this a second one) */
    if (pending && pod_active(s))
        sup_fan_out(x, i);
    if (c->pending_reload && c->ph == SUP_CTR_RUNNING) {
        enum ctr_event e = (enum ctr_event)c->pending_reload;
        c->pending_reload = 0;
        sup_dispatch(x, i, e, NULL);
    }
}

/* Adopted exited: judged as the daemon that saved the state would have. */
static void adopt_exited(struct step *x, size_t i, const struct sup_event *ev, bool pending,
                         bool judged)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct backend_ctr_state *st = &ev->adopt;
    struct ctr_event_arg a = {.exit_code = st->exit_code,
                              .has_code = true,
                              .has_exit_time = true,
                              .exit_mono_ms = adopt_exit_mono_ms(x, c, ev)};
    c->rerun_ready = false; /* it exited: completed (0) or failed, as without a restart */
    sup_note(x, POD_LOG_INFO, i, "adopted exited instance %llu (exit code %d)",
             (unsigned long long)c->instance, st->exit_code);
    c->pending_reload = 0;
    if (s->phase == SUP_POD_STOPPING) {
        sup_set_exit(c, &a);
        c->ph = SUP_CTR_EXITED;
    } else if (judged) {
        adopt_judged_exit(x, i, &a);
    } else if (!pending || adopt_exit_was_started(ctr_spec(s, i), st)) {
        if (pending)
            sup_note(x, POD_LOG_INFO, i,
                     "its startup was pending in the saved state, but it ran: counted as started");
        c->seq_done = true;
        sup_set_exit(c, &a);
        c->ph = SUP_CTR_EXITED;
        c->completed = st->exit_code == 0;
        if (pending)
            sup_fan_out(x, i); /* its startup completed: the fan-out not sent yet */
        sup_policy_exit(x, i, st->exit_code, a.exit_mono_ms);
    } else {
        c->ph = SUP_CTR_STARTING;
        sup_dispatch(x, i, CE_EXITED, &a); /* judged as an exit before its startup */
    }
}

/* Adopted without a container: started again when it had passed its place in the order. */
static void adopt_missing(struct step *x, size_t i, bool judged)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    sup_note(x, POD_LOG_INFO, i, "adopted: no container");
    c->pending_reload = 0;
    c->ph = SUP_CTR_WAITING;
    if (judged && c->saved_restart_at_mono_ms != NEVER && pod_active(s))
        adopt_rearm_backoff(x, i, x->now_mono_ms); /* e.g. a start that failed in podman */
    else if (c->seq_done && pod_active(s))
        sup_do_start(x, i); /* a restored re-run marker stays: the same scheduled re-run */
    if (c->ph != SUP_CTR_CREATING)
        c->rerun_ready = false;
}

void sup_ev_adopt(struct step *x, const struct sup_event *ev)
{
    struct sup *s = x->s;
    size_t i = ev->ctr;
    struct ctr *c = &s->c[i];
    if (c->ph != SUP_CTR_ADOPTING) {
        sup_note(x, POD_LOG_DEBUG, i, "adopt ignored in phase %s", sup_ctr_phase_name(c->ph));
        return;
    }
    /* created, never run: a start of the dead daemon may still be in flight (sup_inflight.c) */
    if (ev->adopt.exists && ev->adopt.instance)
        c->instance = ev->adopt.instance;
    struct sup_event removed = {.type = SUP_EV_ADOPT, .ctr = i};
    switch (sup_adopt_in_flight(x, i, &ev->adopt)) {
    case AF_WAIT:
        return;
    case AF_REMOVED:
        ev = &removed; /* adopted as missing */
        break;
    default:
        break;
    }
    sup_adopt_flight_clear(c);
    const struct backend_ctr_state *st = &ev->adopt;
    /* the saved state already judged this instance's exit: it saved a pending restart of it,
     * or its exit code (the same: an exit code is cleared when an instance is started) */
    bool same = !st->exists || !st->instance || st->instance == c->instance;
    bool judged =
        same && (c->saved_restart_at_mono_ms != NEVER ||
                 (c->has_exit && st->exists && !st->running && c->exit_code == st->exit_code));
    if (!same || !st->exists)
        c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER; /* not this instance's */
    if (st->exists && st->instance)
        c->instance = st->instance;
    if (st->exists)
        c->last_start_mono_ms = adopt_last_start(x, c, ev);
    /* the saved state says its startup had not completed: the first run (the order) or a
     * later instance that was creating or starting */
    bool pending = !c->seq_done || c->startup_pending;
    c->startup_pending = false;
    if (st->exists && st->running && pending && pod_active(s) && startup_gated(ctr_spec(s, i)))
        adopt_starting(x, i, ev);
    else if (st->exists && st->running)
        adopt_running(x, i, pending);
    else if (st->exists)
        adopt_exited(x, i, ev, pending, judged);
    else
        adopt_missing(x, i, judged);
    c->saved_restart_at_mono_ms = c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER;
    sup_advance_sequence(x);
    sup_pod_stop_advance(x);
    sup_infra_down_resume(x);
}

/* Appends a JSON string literal (the names are validated, but escape anyway). */
static void save_str(struct pod_buf *b, const char *v)
{
    pod_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            pod_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            pod_buf_printf(b, "\\u%04x", *p);
        else
            pod_buf_addc(b, (char)*p);
    }
    pod_buf_addc(b, '"');
}

/* The keys written only when set, so older readers and files stay as they were: the re-run
 * marker, a pending restart (backoff) of a judged exit or failed start, and while its startup is
 * pending when it started / its start was issued (for the first run !seq_done says it, and is
 * all older versions know). */
static void save_optional(struct pod_buf *b, const struct ctr *c)
{
    if (c->rerun_ready)
        pod_buf_adds(b, ",\"rerun_ready\":true");
    int64_t rat = c->ph == SUP_CTR_BACKOFF    ? c->restart_at_mono_ms
                  : c->ph == SUP_CTR_ADOPTING ? c->saved_restart_at_mono_ms
                                              : NEVER;
    if (rat != NEVER)
        pod_buf_printf(b, ",\"restart_at_mono_ms\":%lld", (long long)rat);
    int64_t sm = c->ph == SUP_CTR_STARTING   ? c->running_since_mono_ms
                 : c->ph == SUP_CTR_ADOPTING ? c->saved_started_mono_ms
                                             : NEVER;
    int64_t cm = c->ph == SUP_CTR_CREATING && c->create_deadline_mono_ms != NEVER
                     ? c->create_deadline_mono_ms - CREATE_TIMEOUT_MS
                 : c->ph == SUP_CTR_ADOPTING ? c->saved_created_mono_ms
                                             : NEVER;
    if (sm != NEVER)
        pod_buf_printf(b, ",\"started_mono_ms\":%lld", (long long)sm);
    else if (cm != NEVER)
        pod_buf_printf(b, ",\"created_mono_ms\":%lld", (long long)cm);
    if (c->seq_done && (c->ph == SUP_CTR_CREATING || c->ph == SUP_CTR_STARTING ||
                        (c->ph == SUP_CTR_ADOPTING && c->startup_pending)))
        pod_buf_adds(b, ",\"startup_pending\":true");
}

static void save_ctr(struct pod_buf *b, const struct sup *s, size_t i)
{
    const struct ctr *c = &s->c[i];
    pod_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
    save_str(b, ctr_spec(s, i)->name ? ctr_spec(s, i)->name : "");
    pod_buf_printf(
        b,
        ",\"instance\":%llu,\"start_count\":%lld,\"restart_count\":%lld,"
        "\"seq_done\":%s,\"streak\":%lld,\"backoff_ms\":%lld,\"gave_up\":%s,"
        "\"failed\":%s",
        (unsigned long long)c->instance, (long long)c->start_count, (long long)c->restart_count,
        c->seq_done ? "true" : "false", (long long)c->streak, (long long)c->backoff_ms,
        c->ph == SUP_CTR_GAVE_UP ? "true" : "false", c->ph == SUP_CTR_FAILED ? "true" : "false");
    if (c->has_exit)
        pod_buf_printf(b, ",\"exit_code\":%lld", (long long)c->exit_code);
    save_optional(b, c);
    pod_buf_adds(b, ",\"failures_mono_ms\":[");
    for (size_t k = 0; k < c->n_fail; k++)
        pod_buf_printf(b, k ? ",%lld" : "%lld", (long long)c->fail_mono_ms[k]);
    pod_buf_adds(b, "]}");
}

/* The same compact JSON jansson would write (sup_restore reads it with jansson), built
 * directly: the driver persists it after every visible change, so it is on the hot path. */
char *sup_save(const struct sup *s)
{
    struct pod_buf b = {0};
    pod_buf_printf(&b, "{\"version\":1,\"phase\":");
    save_str(&b, sup_pod_phase_name(s->phase));
    pod_buf_printf(&b, ",\"next_tag\":%llu,", (unsigned long long)s->next_tag);
    if (s->infra_restarts) /* (only when there were any: older files stay byte-identical) */
        pod_buf_printf(&b, "\"infra_restarts\":%u,", s->infra_restarts);
    pod_buf_adds(&b, "\"containers\":[");
    for (size_t i = 0; i < s->n; i++)
        save_ctr(&b, s, i);
    pod_buf_adds(&b, "]}");
    return pod_buf_take(&b);
}

static int get_int(json_t *o, const char *key, long long min, long long max, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

/* The largest monotonic time or delay a saved state may hold (SPEC 10.2): 2^40 ms, 35 years,
 * beyond any uptime or backoff; below it the arithmetic on restored values cannot overflow. */
#define RESTORE_MAX_MS (INT64_C(1) << 40)

/* An optional monotonic time: *out keeps its value when the key is absent or bad. */
static void get_mono_ms(json_t *o, const char *key, int64_t *out)
{
    long long v = 0;
    if (json_object_get(o, key) && get_int(o, key, 0, RESTORE_MAX_MS, &v) == 0)
        *out = v;
}

/* The pod phase, the next tag and the container list, checked against the spec. */
static int restore_pod(struct sup *s, json_t *root, enum sup_pod_phase *phase, json_t **arr,
                       struct pod_err *err)
{
    json_t *ph = json_object_get(root, "phase");
    long long v = 0;
    bool found = false;
    *arr = json_object_get(root, "containers");
    if (!json_is_string(ph) || !json_is_array(*arr))
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: missing phase or containers");
    for (int p = 0; p <= SUP_POD_EXITED; p++)
        if (strcmp(json_string_value(ph), sup_pod_phase_name((enum sup_pod_phase)p)) == 0) {
            *phase = (enum sup_pod_phase)p;
            found = true;
        }
    if (!found || json_array_size(*arr) != s->n)
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad phase or container count");
    if (get_int(root, "next_tag", 1, INT64_MAX, &v) < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad next_tag");
    s->next_tag = v > 0 ? (uint64_t)v : 1;
    if (json_object_get(root, "infra_restarts")) {
        if (get_int(root, "infra_restarts", 0, UINT32_MAX, &v) < 0)
            return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad infra_restarts");
        s->infra_restarts = (unsigned)v;
    }
    for (size_t i = 0; i < s->n; i++) {
        json_t *o = json_array_get(*arr, i);
        json_t *nm = json_object_get(o, "name");
        if (!json_is_object(o) || !json_is_string(nm) ||
            strcmp(json_string_value(nm), ctr_spec(s, i)->name ? ctr_spec(s, i)->name : "") != 0)
            return pod_err_set(err, POD_E_INVALID, 0,
                               "supervisor state: container %zu does not match", i);
    }
    return 0;
}

/* A container of a pod that was starting, running or stopping: adopting, with what the saved
 * state knew of its instance.  Keys absent in files of older versions keep their old meaning:
 * no re-run marker (it counts by its own readiness), no pending startup (an exit counts as after
 * its startup), a saved exit code says "judged" for an exited instance. */
static void restore_adopting(struct ctr *c, json_t *o, enum sup_pod_phase phase)
{
    c->ph = SUP_CTR_ADOPTING;
    c->rerun_ready = phase != SUP_POD_STOPPING && json_is_true(json_object_get(o, "rerun_ready"));
    c->startup_pending = c->seq_done && json_is_true(json_object_get(o, "startup_pending"));
    get_mono_ms(o, "restart_at_mono_ms", &c->saved_restart_at_mono_ms);
    get_mono_ms(o, "started_mono_ms", &c->saved_started_mono_ms);
    get_mono_ms(o, "created_mono_ms", &c->saved_created_mono_ms);
}

static int restore_ctr(struct ctr *c, json_t *o, enum sup_pod_phase phase, size_t i,
                       struct pod_err *err)
{
    sup_ctr_init(c);
    long long inst = 0, starts = 0, restarts = 0, streak = 0, backoff = 0, code = 0;
    if (get_int(o, "instance", 0, INT64_MAX, &inst) < 0 ||
        get_int(o, "start_count", 0, UINT32_MAX, &starts) < 0 ||
        get_int(o, "restart_count", 0, UINT32_MAX, &restarts) < 0 ||
        get_int(o, "streak", 0, UINT32_MAX, &streak) < 0 ||
        get_int(o, "backoff_ms", 0, RESTORE_MAX_MS, &backoff) < 0 ||
        get_int(o, "exit_code", -1000, 1000, &code) < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad field in container %zu",
                           i);
    c->instance = (uint64_t)inst;
    c->start_count = (unsigned)starts;
    c->restart_count = (unsigned)restarts;
    c->streak = (unsigned)streak;
    c->backoff_ms = backoff;
    c->seq_done = json_is_true(json_object_get(o, "seq_done"));
    if (json_object_get(o, "exit_code")) {
        c->has_exit = true;
        c->exit_code = (int)code;
    }
    json_t *f = json_object_get(o, "failures_mono_ms");
    for (size_t k = 0; json_is_array(f) && k < json_array_size(f) && k < GIVEUP_RING; k++) {
        json_t *t = json_array_get(f, k);
        if (json_is_integer(t) && json_integer_value(t) >= 0 &&
            json_integer_value(t) <= RESTORE_MAX_MS)
            c->fail_mono_ms[c->n_fail++] = json_integer_value(t);
    }
    if (json_is_true(json_object_get(o, "gave_up"))) {
        c->ph = SUP_CTR_GAVE_UP;
        c->gave_up = true;
    } else if (json_is_true(json_object_get(o, "failed"))) {
        c->ph = SUP_CTR_FAILED;
    } else if (phase == SUP_POD_STARTING || phase == SUP_POD_RUNNING || phase == SUP_POD_STOPPING) {
        restore_adopting(c, o, phase);
    } else {
        c->ph = c->start_count ? SUP_CTR_EXITED : SUP_CTR_WAITING;
    }
    return 0;
}

int sup_restore(struct sup *s, const char *json, struct pod_err *err)
{
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: not a JSON object");
    }
    enum sup_pod_phase phase = SUP_POD_CREATED;
    json_t *arr = NULL;
    int rc = restore_pod(s, root, &phase, &arr, err);
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        rc = restore_ctr(&s->c[i], json_array_get(arr, i), phase, i, err);
    if (rc == 0) {
        s->phase = phase;
        sup_status_compute(s, &s->st);
    }
    json_decref(root);
    return rc;
}
