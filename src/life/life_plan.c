/* SPDX-License-Identifier: MIT */
/* life_plan.c - what create/run and stop/kill/rm do, decided from facts (pod/life.h, SPEC.md
 * 7).  Pure: the facts are gathered by the actions, cheapest first (the lock and the files of
 * the pod directory before any podman call), so that the replays of simplenetesd (run, stop
 * and rm on every restart) cost no podman call when nothing is to be done. */
#include "pod/life.h"

#include <string.h>

static bool same_interface(const struct life_facts *f)
{
    if (!f->want_if)
        return true; /* not given: the stored one is kept */
    return strcmp(f->want_if, f->stored_if ? f->stored_if : "") == 0;
}

enum life_up_plan life_plan_up(const struct life_facts *f, bool adopt)
{
    if (f->supervisor)
        return LIFE_UP_KEEP;
    if (f->pod_exists < 0 || f->running < 0 || f->containers < 0)
        return LIFE_UP_ASK;
    if (f->pod_exists == 0 && f->containers == 0)
        return LIFE_UP_CREATE;
    /* run re-adopts what still runs, as the daemon that died left it, when the pod is the one
     * asked for; everything else without a supervisor is a bad state */
    if (adopt && f->pod_exists > 0 && f->running > 0 && f->state_live && same_interface(f))
        return LIFE_UP_ADOPT;
    return LIFE_UP_RECREATE;
}

static bool word_is(const char *w, const char *want)
{
    return w && strcmp(w, want) == 0;
}

enum life_down_plan life_plan_down(const struct life_facts *f, bool rm)
{
    if (f->supervisor)
        return LIFE_DOWN_SUPERVISOR;
    if (!f->traces)
        return LIFE_DOWN_NOTHING; /* never created here */
    if (word_is(f->status_word, "removed"))
        return LIFE_DOWN_NOTHING;
    if (!rm && word_is(f->status_word, "exited"))
        return LIFE_DOWN_NOTHING; /* stopped by its supervisor, which confirmed every exit */
    return LIFE_DOWN_DIRECT;
}

int64_t life_stop_budget_ms(const struct pod_spec *s, bool kill)
{
    /* SPEC 8.8: CTR_STOP, SIGKILL stopTimeout + 2 s later, considered gone 5 s after that;
     * tier 1 (init and main containers) in parallel, then the sidecars one by one */
    int64_t tier1 = 0, tier2 = 0;
    for (size_t i = 0; i < s->n_containers; i++) {
        const struct spec_container *c = &s->containers[i];
        int64_t t = kill ? 5000 : (int64_t)c->stop_timeout_s * 1000 + 2000 + 5000;
        if (c->kind == SPEC_CTR_SIDECAR && !kill)
            tier2 += t;
        else if (t > tier1)
            tier1 = t;
    }
    return tier1 + tier2 + LIFE_STOP_MARGIN_MS;
}
