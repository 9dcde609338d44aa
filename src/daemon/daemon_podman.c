/* SPDX-License-Identifier: MIT */
/* daemon_podman.c - the production backend factory of the daemon: the podman backend
 * (src/backend, written in parallel).
 *
 * Guarded by __has_include: until include/pod/backend_podman.h exists this file builds a
 * factory that refuses to create a backend (the daemon then reports "no podman backend in this
 * build" through the readiness pipe), so the daemon, its tests and the rest of the tree build
 * without it.  Once the header lands, the block below is compiled; it follows the announced
 * API (backend_podman_new(const struct podman_cfg *, struct backend *out, struct pod_err *),
 * backend_podman_adopt_pipe(), a free function) and the names of struct podman_cfg's fields
 * are the integration point: a mismatch is a compile error here, nowhere else.
 */
#include "pod/daemon.h"

#include <string.h>

#if __has_include("pod/backend_podman_wired.h") /* the integration work replaces this block */
#include "pod/podman.h"

static int pm_create(void *arg, const struct daemon_env *env, struct backend *out,
                     struct pod_err *err)
{
    (void)arg;
    struct podman_cfg c;
    memset(&c, 0, sizeof c);
    c.spec = env->spec;
    c.loop = env->loop;
    c.clk = env->clk;
    c.dir = env->dir;
    /* log pipes: read ends to the holder, reading gated by the log pump's room */
    c.hold_pipe = env->hold;
    c.unhold_pipe = env->unhold;
    c.output_room = env->output_room;
    c.on_output_room = env->on_room;
    c.hooks_self = env->self;
    return backend_podman_new(&c, out, err);
}

static int pm_adopt(void *arg, struct backend *b, const char *key, int fd)
{
    (void)arg;
    return backend_podman_adopt_pipe(b, key, fd);
}

static void pm_destroy(void *arg, struct backend *b)
{
    (void)arg;
    backend_podman_free(b);
}

#else

static int pm_create(void *arg, const struct daemon_env *env, struct backend *out,
                     struct pod_err *err)
{
    (void)arg;
    (void)env;
    memset(out, 0, sizeof *out);
    return pod_err_set(err, POD_E_BACKEND, 0, "no podman backend in this build");
}

static int pm_adopt(void *arg, struct backend *b, const char *key, int fd)
{
    (void)arg;
    (void)b;
    (void)key;
    (void)fd;
    return -1;
}

static void pm_destroy(void *arg, struct backend *b)
{
    (void)arg;
    (void)b;
}

#endif

const struct daemon_backend_factory daemon_podman_factory = {pm_create, pm_adopt, pm_destroy, NULL};
