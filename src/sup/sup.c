/* SPDX-License-Identifier: MIT */
/* sup.c - the supervisor state machine (skeleton; semantics land in the next commits).
 * Pure: no I/O, no clock, no OS headers. */
#include "pod/sup.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

struct sup {
    const struct pod_spec *spec;
    uint64_t rng;
    struct sup_status st;
};

void sup_actions_clear(struct sup_actions *a)
{
    a->n = 0;
}

void sup_actions_free(struct sup_actions *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

struct sup *sup_new(const struct pod_spec *spec, uint64_t seed)
{
    struct sup *s = xcalloc(1, sizeof *s);
    s->spec = spec;
    s->rng = seed;
    s->st.n = spec->n_containers;
    s->st.ctr = xcalloc(s->st.n ? s->st.n : 1, sizeof *s->st.ctr);
    for (size_t i = 0; i < s->st.n; i++)
        s->st.ctr[i].phase = "waiting";
    return s;
}

void sup_free(struct sup *s)
{
    if (!s)
        return;
    free(s->st.ctr);
    free(s);
}

void sup_step(struct sup *s, const struct sup_event *ev, int64_t now_ms, struct sup_actions *out)
{
    (void)s;
    (void)ev;
    (void)now_ms;
    (void)out;
}

int64_t sup_next_deadline(const struct sup *s)
{
    (void)s;
    return INT64_MAX;
}

const struct sup_status *sup_status(const struct sup *s)
{
    return &s->st;
}

const char *sup_pod_phase_name(enum sup_pod_phase p)
{
    static const char *const names[] = {"created", "starting", "running", "stopping", "exited"};
    return (unsigned)p < 5 ? names[p] : "?";
}

const char *sup_action_type_name(enum sup_action_type t)
{
    (void)t;
    return "?";
}

const char *sup_probe_role_name(enum sup_probe_role r)
{
    (void)r;
    return "?";
}

const char *sup_event_type_name(enum sup_event_type t)
{
    (void)t;
    return "?";
}

int sup_signal_number(const char *name)
{
    (void)name;
    return -1;
}

char *sup_save(const struct sup *s)
{
    (void)s;
    return xstrdup("{}");
}

int sup_restore(struct sup *s, const char *json, struct pod_err *err)
{
    (void)s;
    (void)json;
    (void)err;
    return 0;
}
