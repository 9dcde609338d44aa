/* SPDX-License-Identifier: MIT */
/* sup_inflight.c - adopting a container that is created but never ran: the dead daemon's
 * `podman run` of it may still be in flight (SPEC.md 8.9).  While the pod runs, the supervisor
 * waits up to SUP_ADOPT_WAIT_MS for that start (the driver inspects again every second and sends
 * another ADOPT); when it has not run by then, or at once when the pod is stopping, it removes
 * the container (CTR_REMOVE: `podman rm -f`, which also makes a `podman run` still in flight
 * fail) and stays adopting until inspect shows it gone, so that nothing can start later: a pod
 * stop never reports POD_STOPPED before.  The removal is sent again when it fails (1 s) or is
 * not confirmed (10 s); under a kill it is considered gone after 5 s.  Pure. */

#include "sup_internal.h"

/* exists, not running, never finished: created, its start not (yet) done */
static bool created_never_ran(const struct backend_ctr_state *st)
{
    return st->exists && !st->running && st->finished_wall_ns == 0;
}

static void remove_send(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    sup_act(x, SUP_ACT_CTR_REMOVE, i);
    c->removing = true;
    c->remove_failed = false;
    c->remove_again_at_mono_ms = x->now_mono_ms + REMOVE_ANSWER_MS;
}

static void remove_begin(struct step *x, size_t i, const char *why)
{
    struct ctr *c = &x->s->c[i];
    if (c->removing)
        return;
    sup_note(x, POD_LOG_WARN, i,
             "instance %llu is created but has not run (%s): removing it so that its start "
             "cannot complete later",
             (unsigned long long)c->instance, why);
    remove_send(x, i);
}

void sup_adopt_flight_clear(struct ctr *c)
{
    c->inflight_since_mono_ms = c->remove_again_at_mono_ms = NEVER;
    c->removing = c->remove_failed = false;
    c->gone_at_mono_ms = NEVER;
}

/* An ADOPT: what inspect says about a container that may have a start in flight. */
enum adopt_flight sup_adopt_in_flight(struct step *x, size_t i, const struct backend_ctr_state *st)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    bool created = created_never_ran(st);
    if (c->removing) {
        if (st->exists && (st->running || created))
            return AF_WAIT; /* rm -f not done yet: it kills a running one too */
        sup_note(x, POD_LOG_INFO, i, "its removal is confirmed: adopted as missing");
        return AF_REMOVED;
    }
    if (!created)
        return AF_NONE;
    if (c->inflight_since_mono_ms == NEVER) {
        c->inflight_since_mono_ms = x->now_mono_ms;
        if (pod_active(s))
            sup_note(x, POD_LOG_INFO, i,
                     "instance %llu is created but has not run: its start may still be in "
                     "flight; waiting up to %d s",
                     (unsigned long long)st->instance, SUP_ADOPT_WAIT_MS / 1000);
    }
    if (!pod_active(s))
        remove_begin(x, i, "the pod is stopping");
    else if (x->now_mono_ms - c->inflight_since_mono_ms >= SUP_ADOPT_WAIT_MS)
        remove_begin(x, i, "not within 30 s");
    return AF_WAIT;
}

/* CALL_FAILED of the CTR_REMOVE (at once or later): sent again after 1 s. */
void sup_adopt_remove_failed(struct step *x, size_t i, const char *msg)
{
    struct ctr *c = &x->s->c[i];
    if (c->ph != SUP_CTR_ADOPTING || !c->removing) {
        sup_note(x, POD_LOG_ERROR, i, "ctr-remove failed: %s", msg);
        return;
    }
    c->remove_again_at_mono_ms = x->now_mono_ms + CALL_RETRY_MS;
    c->remove_failed = true;
    sup_note(x, POD_LOG_WARN, i, "removal of instance %llu failed: %s; retry in %d ms",
             (unsigned long long)c->instance, msg, CALL_RETRY_MS);
}

/* pod stop while adopting: a container known to be created but not run is removed now (its
 * start is not waited for); one not inspected yet keeps the stop waiting for its ADOPT. */
void sup_h_adopt_stop(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    if (x->s->c[i].inflight_since_mono_ms != NEVER)
        remove_begin(x, i, "the pod is stopping");
}

/* pod kill while adopting: removed as above, considered gone if inspect does not confirm it
 * within KILL_GRACE_MS (a kill always terminates).  One not inspected yet gets SIGKILL (it may
 * run) but stays adopting under the same bound: its ADOPT may still show a start in flight,
 * which must be removed before the pod is reported stopped. */
void sup_h_adopt_kill(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    if (c->inflight_since_mono_ms == NEVER) {
        if (c->gone_at_mono_ms != NEVER)
            return; /* killed already, waiting for its ADOPT */
        struct sup_action *k = sup_act(x, SUP_ACT_CTR_KILL, i);
        k->sig = SIG_KILL;
        c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
        return;
    }
    remove_begin(x, i, "the pod is killed");
    if (c->gone_at_mono_ms == NEVER)
        c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
}

void sup_h_adopt_remove_again(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    sup_note(x, POD_LOG_WARN, i, "remove instance %llu again (%s)", (unsigned long long)c->instance,
             c->remove_failed ? "the removal failed" : "not confirmed gone");
    remove_send(x, i);
}

void sup_h_adopt_gone(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    if (x->s->c[i].removing)
        sup_note(x, POD_LOG_ERROR, i,
                 "its removal was not confirmed %d ms after the kill; considered gone",
                 KILL_GRACE_MS);
    else
        sup_note(x, POD_LOG_ERROR, i, "not inspected %d ms after the kill; considered gone",
                 KILL_GRACE_MS);
    x->s->c[i].removing = false;
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = i}; /* no container */
    sup_ev_adopt(x, &ev);
}
