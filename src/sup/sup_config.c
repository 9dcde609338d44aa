/* SPDX-License-Identifier: MIT */
/* sup_config.c - config-change bursts per config volume: debounce, the cluster-managed checksum
 * file, and firing a burst into the containers that mount the volume (SPEC.md 8.7).  Pure. */

#include "sup_internal.h"

#include <string.h>

void sup_cfg_fire(struct step *x, size_t v, const char *why)
{
    struct sup *s = x->s;
    const char *vname = s->spec->volumes[v].name;
    memset(&s->cfg[v], 0, sizeof s->cfg[v]);
    s->cfg[v].quiet_at_mono_ms = NEVER;
    sup_note(x, POD_LOG_INFO, SIZE_MAX, "config %s %s", vname, why);
    for (size_t i = 0; i < s->n; i++) {
        const struct spec_container *k = ctr_spec(s, i);
        for (size_t m = 0; m < k->n_mounts; m++) {
            if (k->mounts[m].volume && strcmp(k->mounts[m].volume, vname) == 0) {
                sup_dispatch(x, i, CE_RELOAD_CONFIG, NULL);
                break;
            }
        }
    }
}

bool sup_cfg_fireable(const struct cfg_burst *b)
{
    return b->open && (!b->checksum_mode || b->checksum_seen);
}

void sup_ev_config_changed(struct step *x, const struct sup_event *ev)
{
    struct sup *s = x->s;
    if (ev->volume >= s->spec->n_volumes)
        return;
    if (!pod_active(s))
        return;
    struct cfg_burst *b = &s->cfg[ev->volume];
    b->open = true;
    if (ev->cfg_has_checksum_file || ev->cfg_checksum_file)
        b->checksum_mode = true;
    if (ev->cfg_checksum_file)
        b->checksum_seen = true;
    int debounce = s->spec->config_debounce_ms;
    b->quiet_at_mono_ms = x->now_mono_ms + debounce;
    if (sup_cfg_fireable(b) && debounce == 0)
        sup_cfg_fire(x, ev->volume, "changed");
}
