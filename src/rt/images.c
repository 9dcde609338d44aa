/* SPDX-License-Identifier: MIT */
/* images.c - `download` and the pulls of `create` (pod/rt.h, SPEC.md 7): every distinct image
 * of the spec once, `podman image exists` then `podman pull` with a deadline per attempt and a
 * bounded number of attempts.  Every failure counts (the original kept only the last). */
#include "pod/rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pod/util.h"

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* 1 exists, 0 missing (or the check itself failed: a pull settles it), -1 podman not run. */
static int image_exists(const struct rt_ctx *c, const struct podman_argv_ctx *a, const char *image,
                        struct pod_err *err)
{
    char **argv = podman_argv_image_exists(a, image, err);
    if (!argv)
        return 0; /* an invalid name: the pull reports it */
    struct proc_result r;
    int rc = rt_podman_run(c, argv, RT_PODMAN_SHORT_MS, &r, err);
    pod_strv_free(argv);
    if (rc < 0)
        return -1;
    bool yes = r.exited && r.code == 0;
    if (!yes && !(r.exited && r.code == 1)) {
        char why[200];
        rt_podman_why(&r, why, sizeof why);
        pod_log(POD_LOG_DEBUG, "podman image exists %s: %s", image, why);
    }
    proc_result_free(&r);
    return yes;
}

/* 0 pulled, 1 failed (why filled), -1 podman not run. */
static int pull_once(const struct rt_ctx *c, char *const *argv, int64_t timeout_ms, char *why,
                     size_t cap, struct pod_err *err)
{
    struct proc_result r;
    if (rt_podman_run(c, argv, timeout_ms, &r, err) < 0)
        return -1;
    int rc = 0;
    if (!(r.exited && r.code == 0)) {
        rt_podman_why(&r, why, cap);
        rc = 1;
    }
    proc_result_free(&r);
    return rc;
}

/* Pulls image with retries: 0 pulled, 1 failed (logged), -1 podman not run. */
static int pull(const struct rt_ctx *c, const struct podman_argv_ctx *a, const char *image,
                const struct rt_pull_opts *o, struct pod_err *err)
{
    char why[200] = "";
    char **argv = podman_argv_pull(a, image, err);
    if (!argv) {
        pod_log(POD_LOG_ERROR, "Could not pull image %s: %s", image, err->msg);
        return 1;
    }
    int tries = o->tries > 0 ? o->tries : RT_PULL_TRIES;
    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : RT_PULL_TIMEOUT_MS;
    int64_t wait = o->backoff_ms == 0 ? RT_PULL_BACKOFF_MS : o->backoff_ms;
    int rc = 1;
    pod_log(POD_LOG_INFO, "Pull image %s", image);
    for (int i = 1; i <= tries; i++) {
        rc = pull_once(c, argv, timeout, why, sizeof why, err);
        if (rc <= 0)
            break;
        if (i < tries) {
            pod_log(POD_LOG_WARN, "Pull of image %s failed (%s), try %d of %d in %lld ms", image,
                    why, i + 1, tries, (long long)(wait > 0 ? wait : 0));
            if (wait > 0)
                sleep_ms(wait);
            wait *= 2;
        }
    }
    pod_strv_free(argv);
    if (rc == 1)
        pod_log(POD_LOG_ERROR, "Could not pull image %s: %s", image, why);
    return rc;
}

static bool seen_before(const struct pod_spec *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (s->containers[j].image && strcmp(s->containers[j].image, s->containers[i].image) == 0)
            return true;
    return false;
}

int rt_images_pull(const struct rt_ctx *c, const struct rt_pull_opts *o, struct pod_err *err)
{
    static const struct rt_pull_opts defaults = {0};
    if (!o)
        o = &defaults;
    struct podman_argv_ctx a;
    rt_argv_ctx(c, &a);
    const struct pod_spec *s = c->spec;
    const char *first_failed = NULL;
    for (size_t i = 0; i < s->n_containers; i++) {
        const char *image = s->containers[i].image;
        if (!image || seen_before(s, i))
            continue;
        if (!o->force) {
            int ex = image_exists(c, &a, image, err);
            if (ex < 0)
                return -1;
            if (ex == 1) {
                pod_log(POD_LOG_DEBUG, "Image %s exists", image);
                continue;
            }
        }
        int rc = pull(c, &a, image, o, err);
        if (rc < 0)
            return -1;
        if (rc > 0 && !first_failed)
            first_failed = image;
    }
    if (first_failed)
        return pod_err_set(err, POD_E_FAILED, 0, "could not pull image %s", first_failed);
    return 0;
}
