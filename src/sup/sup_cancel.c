/* SPDX-License-Identifier: MIT */
/* sup_cancel.c - cancelling a probe attempt or a signal command until the backend confirms that
 * its process is gone (SPEC.md 8.6, backend.h cancel()): after CANCEL(tag) the request's one
 * EXEC_DONE(tag) ends the cancel; until then no new attempt of that probe (or signal command)
 * starts, so two runs of one never coexist.  A failed cancel (at once or BACKEND_EV_CALL_FAILED)
 * is sent again after 1 s, the wait doubling up to 30 s; one without an answer within 10 s is
 * sent again; the instance's end ends it (nothing of a gone instance runs).  A result of a
 * cancelled request is never credited.  Pure: state and actions only. */

#include "sup_internal.h"

#include <string.h>

static const char *what(int role)
{
    return role == PR_SIGCMD ? "command" : "probe";
}

static void cancel_send(struct step *x, size_t i, int role)
{
    struct cancelling *k = &x->s->c[i].cl[role];
    struct sup_action *a = sup_act(x, SUP_ACT_CANCEL, i);
    a->tag = k->tag;
    a->role = (enum sup_probe_role)role;
    k->failed = false;
    k->again_at_mono_ms = x->now_mono_ms + CANCEL_ANSWER_MS;
}

void sup_cancel_begin(struct step *x, size_t i, int role, uint64_t tag)
{
    struct cancelling *k = &x->s->c[i].cl[role];
    k->tag = tag;
    k->delay_ms = CANCEL_RETRY_MS;
    cancel_send(x, i, role);
}

/* The role cancelling tag in container i, -1 when none. */
static int find(const struct ctr *c, uint64_t tag)
{
    for (int r = 0; tag && r < PR__N; r++)
        if (c->cl[r].tag == tag)
            return r;
    return -1;
}

/* EXEC_DONE of a tag being cancelled: its process is gone (whatever the result says, it is not
 * credited); the probe may run again. */
bool sup_cancel_confirmed(struct step *x, size_t i, uint64_t tag)
{
    struct ctr *c = &x->s->c[i];
    int r = find(c, tag);
    if (r < 0)
        return false;
    memset(&c->cl[r], 0, sizeof c->cl[r]);
    sup_note(x, POD_LOG_DEBUG, i, "cancelled %s %s (tag %llu) has ended",
             sup_probe_role_name((enum sup_probe_role)r), what(r), (unsigned long long)tag);
    return true;
}

void sup_cancel_failed(struct step *x, size_t i, uint64_t tag, const char *msg)
{
    struct ctr *c = &x->s->c[i];
    int r = find(c, tag);
    if (r < 0) {
        sup_note(x, POD_LOG_DEBUG, i, "cancel of request %llu failed (%s): nothing to cancel",
                 (unsigned long long)tag, msg);
        return;
    }
    struct cancelling *k = &c->cl[r];
    k->failed = true;
    k->again_at_mono_ms = x->now_mono_ms + k->delay_ms;
    sup_note(x, POD_LOG_WARN, i, "cancel of %s %s (tag %llu) failed: %s; retry in %lld ms",
             sup_probe_role_name((enum sup_probe_role)r), what(r), (unsigned long long)tag, msg,
             (long long)k->delay_ms);
    k->delay_ms = imin(k->delay_ms * 2, CANCEL_RETRY_MAX_MS);
}

/* A cancel to send again now (its retry after a failure, or no answer); the instance's end ends
 * every cancel.  True when something happened. */
bool sup_cancel_due(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    if (!phase_may_run(c->ph)) {
        sup_cancels_end(c);
        return false;
    }
    for (int r = 0; r < PR__N; r++) {
        struct cancelling *k = &c->cl[r];
        if (!k->tag || k->again_at_mono_ms > x->now_mono_ms)
            continue;
        sup_note(x, POD_LOG_WARN, i, "cancel %s %s (tag %llu) again (%s)",
                 sup_probe_role_name((enum sup_probe_role)r), what(r), (unsigned long long)k->tag,
                 k->failed ? "the cancel failed" : "no answer");
        cancel_send(x, i, r);
        return true;
    }
    return false;
}

int64_t sup_cancel_deadline(const struct ctr *c)
{
    int64_t d = NEVER;
    for (int r = 0; phase_may_run(c->ph) && r < PR__N; r++)
        if (c->cl[r].tag)
            d = imin(d, c->cl[r].again_at_mono_ms);
    return d;
}

void sup_cancels_end(struct ctr *c)
{
    memset(c->cl, 0, sizeof c->cl);
}
