/* SPDX-License-Identifier: MIT */
/* sup_pod.c - the pod level on top of the container table: the startup order, the stop tiers,
 * pod start/stop/kill, `rerun` and `signal` (SPEC.md 8.1, 8.3, 8.7, 8.8).  Pure. */

#include "sup_internal.h"

#include <string.h>

void sup_advance_sequence(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_STARTING)
        return;
    for (size_t p = 0; p < s->n; p++) {
        size_t i = s->order[p];
        struct ctr *c = &s->c[i];
        if (c->seq_done)
            continue;
        if (c->ph == SUP_CTR_WAITING)
            sup_dispatch(x, i, CE_GO, NULL);
        if (!c->seq_done)
            return;
    }
    s->phase = SUP_POD_RUNNING;
    sup_note(x, POD_LOG_OK, SIZE_MAX, "pod running: all containers started");
}

static void pod_finish_stop(struct step *x)
{
    struct sup *s = x->s;
    s->phase = SUP_POD_EXITED;
    s->killing = false;
    sup_act(x, SUP_ACT_POD_STOPPED, SIZE_MAX);
    sup_note(x, POD_LOG_INFO, SIZE_MAX, "pod stopped");
}

/* Stop tiers: init and main containers in parallel (issued in reverse spec order), then the
 * sidecars one by one in reverse spec order. */
void sup_pod_stop_advance(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_STOPPING)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].ph == SUP_CTR_ADOPTING && !s->killing)
            return; /* restored mid-stop: wait until every container is adopted */
    bool busy = false;
    for (size_t r = s->n; r-- > 0;) {
        if (ctr_spec(s, r)->kind == SPEC_CTR_SIDECAR && !s->killing)
            continue;
        if (phase_may_run(s->c[r].ph)) {
            if (s->c[r].ph != SUP_CTR_STOPPING)
                sup_dispatch(x, r, s->killing ? CE_KILL : CE_STOP, NULL);
            busy = true;
        }
    }
    if (busy)
        return;
    for (size_t r = s->n; r-- > 0;) {
        if (ctr_spec(s, r)->kind != SPEC_CTR_SIDECAR || !phase_may_run(s->c[r].ph))
            continue;
        if (s->c[r].ph != SUP_CTR_STOPPING)
            sup_dispatch(x, r, CE_STOP, NULL);
        return;
    }
    pod_finish_stop(x);
}

void sup_ev_pod_start(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_CREATED) {
        sup_note(x, POD_LOG_DEBUG, SIZE_MAX, "start ignored in phase %s",
                 sup_pod_phase_name(s->phase));
        return;
    }
    s->phase = SUP_POD_STARTING;
    sup_note(x, POD_LOG_INFO, SIZE_MAX, "pod starting");
    sup_advance_sequence(x);
}

static void pod_enter_stopping(struct step *x, bool kill)
{
    struct sup *s = x->s;
    s->phase = SUP_POD_STOPPING;
    s->killing = kill;
    for (size_t v = 0; v < s->spec->n_volumes; v++) {
        memset(&s->cfg[v], 0, sizeof s->cfg[v]);
        s->cfg[v].quiet_at_mono_ms = NEVER;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct ctr *c = &s->c[i];
        if (!phase_may_run(c->ph) || c->ph == SUP_CTR_ADOPTING)
            sup_dispatch(x, i, CE_STOP, NULL); /* restart timers; a start in flight removed */
    }
}

void sup_ev_pod_stop(struct step *x, bool kill)
{
    struct sup *s = x->s;
    switch (s->phase) {
    case SUP_POD_CREATED:
        sup_note(x, POD_LOG_INFO, SIZE_MAX, "pod %s before start", kill ? "killed" : "stopped");
        s->phase = SUP_POD_STOPPING;
        pod_finish_stop(x);
        return;
    case SUP_POD_EXITED:
        return;
    case SUP_POD_STOPPING:
        if (!kill || s->killing)
            return;
        sup_note(x, POD_LOG_INFO, SIZE_MAX, "pod kill during stop");
        s->killing = true;
        for (size_t i = s->n; i-- > 0;)
            if (phase_may_run(s->c[i].ph))
                sup_dispatch(x, i, CE_KILL, NULL);
        sup_pod_stop_advance(x);
        return;
    default:
        break;
    }
    sup_note(x, POD_LOG_INFO, SIZE_MAX, "pod %s", kill ? "kill" : "stop");
    pod_enter_stopping(x, kill);
    if (kill)
        for (size_t i = s->n; i-- > 0;)
            if (phase_may_run(s->c[i].ph))
                sup_dispatch(x, i, CE_KILL, NULL);
    sup_pod_stop_advance(x);
}

void sup_ev_rerun(struct step *x, size_t i)
{
    struct sup *s = x->s;
    if (i >= s->n)
        return;
    if (!pod_active(s)) {
        sup_note(x, POD_LOG_INFO, i, "rerun ignored: pod is %s", sup_pod_phase_name(s->phase));
        return;
    }
    struct ctr *c = &s->c[i];
    sup_note(x, POD_LOG_INFO, i, "rerun requested");
    c->rerun_ready = false; /* an operator's cycle, not a scheduled re-run */
    c->gave_up = false;
    c->n_fail = 0;
    c->streak = 0;
    c->backoff_ms = 0;
    sup_dispatch(x, i, CE_RERUN, NULL);
}

void sup_ev_signal(struct step *x, size_t which)
{
    struct sup *s = x->s;
    if (!pod_active(s))
        return;
    for (size_t i = 0; i < s->n; i++)
        if (which == SIZE_MAX || which == i)
            sup_dispatch(x, i, CE_RELOAD_SIGNAL, NULL);
}

/* A container whose instance may run in the pod's network namespace (not `network: host`). */
static bool in_pod_netns(const struct sup *s, size_t i)
{
    enum sup_ctr_phase ph = s->c[i].ph;
    return !ctr_spec(s, i)->network_host &&
           (ph == SUP_CTR_CREATING || ph == SUP_CTR_STARTING || ph == SUP_CTR_RUNNING);
}

/* How many containers of the pod's namespace are still being re-adopted. */
static size_t adopting_in_netns(const struct sup *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->c[i].ph == SUP_CTR_ADOPTING && !ctr_spec(s, i)->network_host;
    return n;
}

/* The pod restarts as one: a planned restart of every container in the old namespace, then
 * POD_CREATE (see sup_ev_infra_down). */
static void infra_restart(struct step *x, const char *why)
{
    struct sup *s = x->s;
    s->infra_restarts++;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += in_pod_netns(s, i);
    sup_note(x, POD_LOG_ERROR, SIZE_MAX,
             "pod: infra container down (%s): making the pod anew, restarting %zu container(s) "
             "(infra restart #%u)",
             why, n, s->infra_restarts);
    for (size_t i = 0; i < s->n; i++)
        if (in_pod_netns(s, i))
            sup_dispatch(x, i, CE_RERUN, NULL);
    sup_act(x, SUP_ACT_POD_CREATE, SIZE_MAX);
}

/* The pod's infra container is not running (BACKEND_EV_INFRA_DOWN, SPEC.md 8.11): the containers
 * that run in its network namespace lost the pod's published ports and their siblings, and
 * podman either starts a new infra (a new namespace) at the next `run --pod` or cannot start
 * anything in the pod until the pod is made anew.  The pod restarts as one: POD_CREATE (the
 * backend makes the podman pod anew: a new infra), after a planned restart (stop, then start at
 * once, not a failure; counted in restartCount) of every container of the pod that may run in
 * the old namespace.  The backend runs the pod call after the stops and every later start
 * after it.  A container that is down (backoff, exited, ...) starts into the new pod when it is
 * due; one already stopping restarts, or not, as it was going to.  Heard while containers of
 * the pod are still being re-adopted (a new daemon learns of the dead infra as it inspects
 * them), the answer waits for the last adoption: the pod's removal would end a container
 * adopted afterwards as if it had failed, and one adopted running would stay in the dead
 * namespace (sup_infra_down_resume). */
void sup_ev_infra_down(struct step *x, const char *why)
{
    struct sup *s = x->s;
    if (!pod_active(s)) {
        sup_note(x, POD_LOG_DEBUG, SIZE_MAX, "infra container down (%s): ignored, pod is %s", why,
                 sup_pod_phase_name(s->phase));
        return;
    }
    size_t adopting = adopting_in_netns(s);
    if (adopting) {
        if (!s->infra_down_pending)
            sup_note(x, POD_LOG_WARN, SIZE_MAX,
                     "pod: infra container down (%s): the pod is made anew once %zu container(s) "
                     "are re-adopted",
                     why, adopting);
        s->infra_down_pending = true;
        snprintf(s->infra_down_why, sizeof s->infra_down_why, "%s", why);
        return;
    }
    infra_restart(x, why);
}

/* After an adoption: a deferred INFRA_DOWN is answered once no container of the pod's
 * namespace is adopting any more (or dropped when the pod stopped meanwhile). */
void sup_infra_down_resume(struct step *x)
{
    struct sup *s = x->s;
    if (!s->infra_down_pending || adopting_in_netns(s))
        return;
    s->infra_down_pending = false;
    sup_ev_infra_down(x, s->infra_down_why);
}
