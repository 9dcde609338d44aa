/* SPDX-License-Identifier: MIT */
/* actions.c - the command lines of `download`, `create-volumes`, `create-ramdisks` and
 * `purge` (pod/rt.h, SPEC.md 7): parse, check preconditions, call the operations of
 * images.c, volumes.c and ramdisks.c, turn the result into the exit code. */
#include "pod/rt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/util.h"

/* A usage error: "[ERROR] action: msg", exit 100. */
static int usage(const char *action, const struct pod_err *err)
{
    pod_log(POD_LOG_ERROR, "%s: %s (see `pod help`)", action, err->msg);
    return POD_EXIT_USAGE;
}

/* The exit code of an operation's result; a failure podman could not even be run for is
 * reported here (the operations already logged every other failure). */
static int result(int rc, const struct pod_err *err)
{
    if (rc == 0)
        return POD_EXIT_OK;
    if (err->code != POD_E_FAILED)
        pod_log(POD_LOG_ERROR, "%s", err->msg);
    return pod_err_exit_code(err);
}

int rt_flags_parse(const char *action, int argc, char **argv, bool flags[2], struct pod_err *err)
{
    static const struct {
        const char *action;
        struct rt_optdef defs[3];
    } tab[] = {
        {"download", {{'f', "force", false}, {0}}},
        {"create-volumes", {{0}}},
        {"create-ramdisks", {{'l', "list", false}, {'d', "delete", false}, {0}}},
        {"purge", {{0}}},
    };
    const struct rt_optdef *defs = NULL;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i].action, action) == 0)
            defs = tab[i].defs;
    if (!defs)
        return pod_err_set(err, POD_E_USAGE, 0, "unknown action `%s`", action);
    flags[0] = flags[1] = false;
    struct rt_getopt g = {.argc = argc, .argv = argv, .defs = defs};
    for (;;) {
        int k = rt_getopt_next(&g, err);
        if (k == RT_OPT_END)
            break;
        if (k == RT_OPT_WORD || k == RT_OPT_DASHDASH)
            return pod_err_set(err, POD_E_USAGE, 0, "unexpected argument '%s'",
                               k == RT_OPT_WORD ? g.arg : "--");
        if (k == RT_OPT_ERROR)
            return -1;
        flags[k] = true;
    }
    return 0;
}

/* The flags of action (rt_flags_parse) as invoked (for messages): 0, or the usage exit code. */
static int flags_only(const char *canonical, bool flags[2], const char *action, int argc,
                      char **argv)
{
    struct pod_err err = POD_ERR_ZERO;
    return rt_flags_parse(canonical, argc, argv, flags, &err) < 0 ? usage(action, &err) : 0;
}

/* ------------------------------------------------------------------ download */

int rt_action_download(const struct rt_ctx *c, const char *action, int argc, char **argv, FILE *out)
{
    (void)out;
    bool f[2];
    int rc = flags_only("download", f, action, argc, argv);
    if (rc)
        return rc;
    struct rt_pull_opts o = {.force = f[0]};
    struct pod_err err = POD_ERR_ZERO;
    return result(rt_images_pull(c, &o, &err), &err);
}

/* ------------------------------------------------------------------ create-volumes */

int rt_action_create_volumes(const struct rt_ctx *c, const char *action, int argc, char **argv,
                             FILE *out)
{
    (void)out;
    bool none[2];
    int rc = flags_only("create-volumes", none, action, argc, argv);
    if (rc)
        return rc;
    pod_log(POD_LOG_INFO, "Create volumes");
    struct pod_err err = POD_ERR_ZERO;
    return result(rt_volumes_create(c, &err), &err);
}

/* ------------------------------------------------------------------ create-ramdisks */

int rt_action_create_ramdisks(const struct rt_ctx *c, const char *action, int argc, char **argv,
                              FILE *out)
{
    bool f[2];
    int rc = flags_only("create-ramdisks", f, action, argc, argv);
    if (rc)
        return rc;
    if (f[0] && f[1]) {
        pod_log(POD_LOG_ERROR, "%s: -l|--list and -d|--delete exclude each other", action);
        return POD_EXIT_USAGE;
    }
    const struct pod_spec *s = c->spec;
    if (f[0]) { /* simplenetesd parses this: name:size tokens, nothing else */
        for (size_t i = 0; i < s->n_volumes; i++)
            if (s->volumes[i].type == SPEC_VOL_RAMDISK)
                fprintf(out, "%s:%s\n", s->volumes[i].name,
                        s->volumes[i].size ? s->volumes[i].size : "");
        return POD_EXIT_OK;
    }
    if (geteuid() != 0) {
        pod_log(POD_LOG_ERROR, "Must be root to create/delete ramdisks");
        return POD_EXIT_REJECTED;
    }
    struct pod_err err = POD_ERR_ZERO;
    return result(f[1] ? rt_ramdisks_umount(c, &err) : rt_ramdisks_mount(c, &err), &err);
}

/* ------------------------------------------------------------------ purge */

/* 1 the pod exists, 0 it does not, -1 podman not run, -2 the check failed (logged). */
static int pod_exists(const struct rt_ctx *c, const char *pod, struct pod_err *err)
{
    struct podman_argv_ctx a;
    rt_argv_ctx(c, &a);
    char **argv = podman_argv_pod_exists(&a, err);
    if (!argv)
        return -1;
    struct proc_result r;
    int rc = rt_podman_run(c, argv, RT_PODMAN_SHORT_MS, &r, err);
    pod_strv_free(argv);
    if (rc < 0)
        return -1;
    rc = r.exited && r.code == 0 ? 1 : r.exited && r.code == 1 ? 0 : -2;
    if (rc == -2) {
        char why[200];
        rt_podman_why(&r, why, sizeof why);
        pod_log(POD_LOG_ERROR, "Could not check whether pod %s exists: %s", pod, why);
    }
    proc_result_free(&r);
    return rc;
}

int rt_action_purge(const struct rt_ctx *c, const char *action, int argc, char **argv, FILE *out)
{
    (void)out;
    bool none[2];
    int rc = flags_only("purge", none, action, argc, argv);
    if (rc)
        return rc;
    struct pod_err err = POD_ERR_ZERO;
    char *pod = spec_pod_fullname(c->spec);
    int ex = pod_exists(c, pod, &err);
    if (ex == 1)
        pod_log(POD_LOG_ERROR, "Pod %s exists. Remove it before purging", pod);
    if (ex == 1 || ex == -2)
        rc = POD_EXIT_REJECTED;
    else if (ex < 0)
        rc = result(-1, &err);
    else if ((rc = result(rt_volumes_purge(c, &err), &err)) == 0)
        pod_log(POD_LOG_OK, "Pod %s purged: its own volumes removed (shared ones are kept)", pod);
    free(pod);
    return rc;
}
