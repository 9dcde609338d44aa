/* SPDX-License-Identifier: MIT */
/* volumes.c - `create-volumes` (also part of `create`) and the volume half of `purge`
 * (pod/rt.h, SPEC.md 7).  Names are checked with `podman volume exists`, which matches the
 * exact name: `podman volume inspect` and `podman volume rm` also accept a unique prefix, so
 * `rm data-p-1.0` would remove `data-p-1.0.1` when only that one exists (measured, podman
 * 4.3.1).  `purge` never touches `shared: pod|host` volumes (B17). */
#include "pod/rt.h"

#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

/* Runs the argv built by mk for vol; 0 when podman exited 0, 1 when it exited 1, 2 other
 * failure (why filled), -1 podman not run. */
static int vol_call(const struct rt_ctx *c, const struct spec_volume *vol,
                    char **(*mk)(const struct podman_argv_ctx *, const struct spec_volume *,
                                 struct pod_err *),
                    char *why, size_t cap, struct pod_err *err)
{
    struct podman_argv_ctx a;
    rt_argv_ctx(c, &a);
    char **argv = mk(&a, vol, err);
    if (!argv) {
        size_t n = strnlen(err->msg, cap - 1);
        memcpy(why, err->msg, n);
        why[n] = '\0';
        return 2;
    }
    struct proc_result r;
    int rc = rt_podman_run(c, argv, RT_PODMAN_SHORT_MS, &r, err);
    pod_strv_free(argv);
    if (rc < 0)
        return -1;
    rc = r.exited && r.code == 0 ? 0 : r.exited && r.code == 1 ? 1 : 2;
    if (rc)
        rt_podman_why(&r, why, cap);
    proc_result_free(&r);
    return rc;
}

/* 1 exists, 0 does not, -1 podman not run, -2 the check failed (logged). */
static int vol_exists(const struct rt_ctx *c, const struct spec_volume *vol, const char *name,
                      struct pod_err *err)
{
    char why[200] = "";
    int rc = vol_call(c, vol, podman_argv_volume_exists, why, sizeof why, err);
    if (rc < 0)
        return -1;
    if (rc == 2) {
        pod_log(POD_LOG_ERROR, "Could not check volume %s: %s", name, why);
        return -2;
    }
    return rc == 0;
}

/* Brings one volume to `want` (true: it exists; false: it does not).  0 done or already so,
 * 1 failed (logged), -1 podman not run. */
static int volume_to(const struct rt_ctx *c, const struct spec_volume *vol, const char *name,
                     bool want, struct pod_err *err)
{
    int ex = vol_exists(c, vol, name, err);
    if (ex == -1)
        return -1;
    if (ex == -2)
        return 1;
    if (ex == (int)want) {
        pod_log(want ? POD_LOG_INFO : POD_LOG_DEBUG,
                want ? "Volume %s already exists" : "Volume %s does not exist", name);
        return 0;
    }
    char why[200] = "";
    int rc = vol_call(c, vol, want ? podman_argv_volume_create : podman_argv_volume_rm, why,
                      sizeof why, err);
    if (rc < 0)
        return -1;
    if (rc) {
        pod_log(POD_LOG_ERROR, "Could not %s volume %s: %s", want ? "create" : "remove", name, why);
        return 1;
    }
    pod_log(POD_LOG_INFO, "Volume %s %s", name, want ? "created" : "removed");
    return 0;
}

/* Brings every volume of type `volume` to `want` (all, or with !want only the `shared: no`
 * ones: purge never touches shared volumes); stops at -1. */
static int each_volume(const struct rt_ctx *c, bool want, struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    char *first_failed = NULL;
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct spec_volume *v = &s->volumes[i];
        if (v->type != SPEC_VOL_VOLUME || (!want && v->shared != SPEC_SHARED_NO))
            continue;
        char *name = spec_volume_fullname(s, v);
        int rc = volume_to(c, v, name, want, err);
        if (rc > 0 && !first_failed)
            first_failed = pod_steal_ptr(&name);
        free(name);
        if (rc < 0) {
            free(first_failed);
            return -1;
        }
    }
    if (!first_failed)
        return 0;
    pod_err_set(err, POD_E_FAILED, 0, "could not %s volume %s", want ? "create" : "remove",
                first_failed);
    free(first_failed);
    return -1;
}

int rt_volumes_create(const struct rt_ctx *c, struct pod_err *err)
{
    return each_volume(c, true, err);
}

int rt_volumes_purge(const struct rt_ctx *c, struct pod_err *err)
{
    return each_volume(c, false, err);
}
