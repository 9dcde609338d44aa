/* SPDX-License-Identifier: MIT */
/* life_args.c - the command lines of the lifecycle actions (pod/life.h, SPEC.md 7): options
 * through the shared scanner (rt_getopt: `--host-interface=IP` and `--host-interface IP`, `-k`,
 * `--kill`), names checked against the spec.  Pure: no I/O. */
#include "pod/life.h"

#include <stdlib.h>
#include <string.h>

#include "pod/daemon.h"
#include "pod/rt.h"
#include "pod/util.h"

enum { O_KILL, O_HOSTIF, O_JSON };

/* Which options and words an action takes. */
struct shape {
    const char *action;
    bool kill, host_if, json;
    int words; /* 0 none, 1 any number, 2 at least one */
};

static const struct shape shapes[] = {
    {"create", false, true, false, 0},
    {"start", false, false, false, 0},
    {"run", false, true, false, 0},
    {"rerun", true, true, false, 1},
    {"stop", false, false, false, 0},
    {"kill", false, false, false, 0},
    {"rm", true, false, false, 0},
    {"signal", false, false, false, 1},
    {"reload-configs", false, false, false, 2},
    {"ps", false, false, true, 0},
    {"readiness", false, false, false, 0},
};

static const struct shape *shape_of(const char *action)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(shapes[i].action, action) == 0)
            return &shapes[i];
    return NULL;
}

static int option(const struct shape *sh, struct life_args *a, int k, const char *val,
                  struct pod_err *err)
{
    if (k == O_KILL && sh->kill) {
        a->kill = true;
    } else if (k == O_HOSTIF && sh->host_if) {
        if (!daemon_hostif_valid(val))
            return pod_err_set(err, POD_E_USAGE, 0, "--host-interface: `%s` is not an IPv4 address",
                               val);
        a->host_if = val;
    } else if (k == O_JSON && sh->json) {
        a->json = true;
    } else {
        static const char *const spelled[] = {"-k|--kill", "--host-interface", "--json"};
        return pod_err_set(err, POD_E_USAGE, 0, "option %s is not taken by `%s`", spelled[k],
                           sh->action);
    }
    return 0;
}

int life_parse(const char *action, int argc, char **argv, struct life_args *a, struct pod_err *err)
{
    memset(a, 0, sizeof *a);
    const struct shape *sh = shape_of(action);
    if (!sh)
        return pod_err_set(err, POD_E_USAGE, 0, "unknown action `%s`", action);
    static const struct rt_optdef defs[] = {
        {'k', "kill", false}, {0, "host-interface", true}, {0, "json", false}, {0}};
    struct rt_getopt g = {.argc = argc, .argv = argv, .defs = defs};
    for (;;) {
        int k = rt_getopt_next(&g, err);
        if (k == RT_OPT_END)
            break;
        if (k == RT_OPT_ERROR)
            goto fail;
        if (k == RT_OPT_DASHDASH)
            continue;
        if (k == RT_OPT_WORD) {
            if (sh->words == 0) {
                pod_err_set(err, POD_E_USAGE, 0, "unexpected argument '%s'", g.arg);
                goto fail;
            }
            pod_strv_push(&a->names, g.arg);
            continue;
        }
        if (option(sh, a, k, g.arg, err) < 0)
            goto fail;
    }
    if (sh->words == 2 && !a->names) {
        pod_err_set(err, POD_E_USAGE, 0, "at least one %s is required",
                    strcmp(action, "reload-configs") == 0 ? "config" : "name");
        goto fail;
    }
    if (a->names && strcmp(action, "rerun") == 0 && (a->kill || a->host_if)) {
        pod_err_set(err, POD_E_USAGE, 0,
                    "%s cannot be given with container names: only the whole pod is %s",
                    a->kill ? "-k|--kill" : "--host-interface",
                    a->kill ? "killed" : "created anew");
        goto fail;
    }
    return 0;
fail:
    life_args_free(a);
    return -1;
}

void life_args_free(struct life_args *a)
{
    pod_strv_free(a->names);
    memset(a, 0, sizeof *a);
}

static bool is_config(const struct pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        if (s->volumes[i].type == SPEC_VOL_CONFIG && strcmp(s->volumes[i].name, name) == 0)
            return true;
    return false;
}

int life_check_names(const struct pod_spec *s, char *const *names, bool configs,
                     struct pod_err *err)
{
    for (size_t i = 0; names && names[i]; i++) {
        bool ok = configs ? is_config(s, names[i]) : spec_find_container(s, names[i]) >= 0;
        if (ok)
            continue;
        struct pod_buf b = {0};
        if (configs) {
            for (size_t k = 0; k < s->n_volumes; k++)
                if (s->volumes[k].type == SPEC_VOL_CONFIG)
                    pod_buf_printf(&b, "%s%s", b.len ? " " : "", s->volumes[k].name);
        } else {
            for (size_t k = 0; k < s->n_containers; k++)
                pod_buf_printf(&b, "%s%s", b.len ? " " : "", s->containers[k].name);
        }
        pod_err_set(err, POD_E_NOTFOUND, 0, "unknown %s `%s` (nothing done); known: %s",
                    configs ? "config" : "container", names[i], b.len ? b.data : "(none)");
        pod_buf_free(&b);
        return -1;
    }
    return 0;
}
