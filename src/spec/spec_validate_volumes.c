/* SPDX-License-Identifier: MIT */
/* spec_validate_volumes.c - the validator's `volumes[]` (SPEC.md 4.2): name, type and the keys
 * of each type (ramdisk size, volume shared, config encrypted, host bind).  Every volume is
 * kept in the model, valid or not, so that mounts can refer to it without follow-up errors.
 * PURE: no I/O headers (a host bind is made absolute later, by spec_fscheck.c).
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

/* "<n>M" / "<n>G" -> "<n>M" (ramdisk sizes).  NULL if invalid. */
static char *norm_ramdisk_size(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || (s[n - 1] != 'M' && s[n - 1] != 'G'))
        return NULL;
    char *num = xstrndup(s, n - 1);
    long long x;
    bool ok = num[0] != '0' && pod_parse_int(num, 1, 1048576, &x);
    free(num);
    if (!ok)
        return NULL;
    if (s[n - 1] == 'G')
        x *= 1024;
    if (x > 1048576)
        return NULL;
    return xasprintf("%lldM", x);
}

/* type: sets vol->type; false when missing or unknown. */
static bool v_type(struct vctx *v, const struct snode *it, const char *ip, struct spec_volume *vol)
{
    static const struct val_choice types[] = {{"ramdisk", SPEC_VOL_RAMDISK},
                                              {"config", SPEC_VOL_CONFIG},
                                              {"volume", SPEC_VOL_VOLUME},
                                              {"host", SPEC_VOL_HOST}};
    int type;
    if (!val_choice(v, it, ip, "type", true, types, 4, &type))
        return false;
    vol->type = (enum spec_vol_type)type;
    return true;
}

/* name: the name rule (configs may also start with _, for cluster templates), unique. */
static void v_name(struct vctx *v, const struct snode *it, const char *ip, struct spec_volume *vol,
                   bool type_ok)
{
    const struct snode *nn = val_str(v, it, ip, "name", true, &vol->name);
    if (!nn)
        return;
    bool ok;
    if (vol->type == SPEC_VOL_CONFIG && type_ok && vol->name[0] == '_') {
        char *t = xstrdup(vol->name);
        t[0] = 'a';
        ok = spec_valid_name(t);
        free(t);
    } else {
        ok = spec_valid_name(vol->name);
    }
    if (!ok)
        ERR_KEY(v, nn, ip, "name",
                "invalid volume name `%s` (lowercase letters, digits and _, starting with a "
                "letter%s, not ending with _)",
                vol->name, vol->type == SPEC_VOL_CONFIG ? " or, for configs, _" : "");
    else if (spec_find_volume(v->s, vol->name))
        ERR_KEY(v, nn, ip, "name", "duplicate volume name `%s`", vol->name);
}

/* Keys that belong to another type are ignored, with a warning. */
static void warn_foreign_keys(struct vctx *v, const struct snode *it, const char *ip,
                              enum spec_vol_type type)
{
    static const struct {
        const char *key;
        enum spec_vol_type owner;
    } keys[] = {{"size", SPEC_VOL_RAMDISK},
                {"shared", SPEC_VOL_VOLUME},
                {"encrypted", SPEC_VOL_CONFIG},
                {"bind", SPEC_VOL_HOST}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!snode_get(it, keys[i].key) || type == keys[i].owner)
            continue;
        bool on = false;
        if (keys[i].owner == SPEC_VOL_CONFIG && val_bool(v, it, ip, keys[i].key, &on) && on)
            /* a user who asked for encryption must not get a plain volume (SPEC 4.2) */
            ERR_KEY(v, val_get(it, keys[i].key), ip, keys[i].key,
                    "`encrypted: true` on a volume of type %s: only a config can be encrypted; "
                    "this volume would not be",
                    spec_vol_type_name(type));
        else
            WARN(v, val_key_node(it, keys[i].key), ip, "`%s` has no effect on type %s", keys[i].key,
                 spec_vol_type_name(type));
    }
}

static void v_ramdisk_size(struct vctx *v, const struct snode *it, const char *ip,
                           struct spec_volume *vol)
{
    char *size = NULL;
    const struct snode *szn = val_str(v, it, ip, "size", true, &size);
    if (szn) {
        vol->size = norm_ramdisk_size(size);
        if (!vol->size)
            ERR_KEY(v, szn, ip, "size", "expected a size like 10M or 1G (1M to 1048576M), got `%s`",
                    size);
    }
    free(size);
}

static void v_shared(struct vctx *v, const struct snode *it, const char *ip,
                     struct spec_volume *vol)
{
    static const struct val_choice shared[] = {
        {"no", SPEC_SHARED_NO}, {"pod", SPEC_SHARED_POD}, {"host", SPEC_SHARED_HOST}};
    int value;
    if (val_choice(v, it, ip, "shared", false, shared, 3, &value))
        vol->shared = (enum spec_shared)value;
}

static void v_encrypted(struct vctx *v, const struct snode *it, const char *ip,
                        struct spec_volume *vol)
{
    if (val_bool(v, it, ip, "encrypted", &vol->encrypted) && vol->encrypted)
        ERR_KEY(v, val_get(it, "encrypted"), ip, "encrypted",
                "encrypted configs are not implemented (PODSPEC: \"NOT YET "
                "IMPLEMENTED\"); remove `encrypted: true`");
}

static void v_bind(struct vctx *v, const struct snode *it, const char *ip, struct spec_volume *vol)
{
    const struct snode *bn = val_str(v, it, ip, "bind", true, &vol->bind);
    if (!bn)
        return;
    const char *why = val_bad_mount_path(vol->bind, false);
    if (!why && !vol->bind[0])
        why = "must not be empty";
    if (why)
        ERR_KEY(v, bn, ip, "bind", "%s", why);
}

static void v_volume(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    (void)self;
    static const char *const known[] = {"name",      "type", "size", "shared",
                                        "encrypted", "bind", NULL};
    val_check_keys(v, it, ip, known);
    struct spec_volume vol = {.line = it->line, .col = it->col};
    bool type_ok = v_type(v, it, ip, &vol);
    v_name(v, it, ip, &vol, type_ok);
    if (type_ok) {
        warn_foreign_keys(v, it, ip, vol.type);
        switch (vol.type) {
        case SPEC_VOL_RAMDISK:
            v_ramdisk_size(v, it, ip, &vol);
            break;
        case SPEC_VOL_VOLUME:
            v_shared(v, it, ip, &vol);
            break;
        case SPEC_VOL_CONFIG:
            v_encrypted(v, it, ip, &vol);
            break;
        case SPEC_VOL_HOST:
            v_bind(v, it, ip, &vol);
            break;
        }
    }
    v->s->volumes[v->s->n_volumes++] = vol;
}

void val_volumes(struct vctx *v, const struct snode *root)
{
    const struct snode *l = val_seq(v, root, "", "volumes", "volume mappings");
    if (!l)
        return;
    v->s->volumes = xcalloc(l->n, sizeof *v->s->volumes);
    val_each_mapping(v, l, "", "volumes", "a volume mapping", v_volume, NULL);
}
