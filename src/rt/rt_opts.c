/* SPDX-License-Identifier: MIT */
/* rt_opts.c - the option scanner of the actions (pod/rt.h): short and long options, values
 * attached or in the next word (so `-l -4` works), `--` ends the options.  Pure. */
#include "pod/rt.h"

#include <string.h>

static int find_short(const struct rt_optdef *d, char c)
{
    for (int i = 0; d[i].short_name || d[i].long_name; i++)
        if (d[i].short_name && d[i].short_name == c)
            return i;
    return -1;
}

static int find_long(const struct rt_optdef *d, const char *name, size_t len)
{
    for (int i = 0; d[i].short_name || d[i].long_name; i++)
        if (d[i].long_name && strlen(d[i].long_name) == len &&
            strncmp(d[i].long_name, name, len) == 0)
            return i;
    return -1;
}

/* The value of option k: attached (may be NULL) or the next word.  k, or -1 (err). */
static int take_value(struct rt_getopt *g, int k, const char *attached, const char *spelled,
                      struct pod_err *err)
{
    if (!g->defs[k].has_arg) {
        if (attached)
            return pod_err_set(err, POD_E_USAGE, 0, "option %s takes no value", spelled);
        g->arg = NULL;
        return k;
    }
    if (attached) {
        g->arg = attached;
        return k;
    }
    if (g->i >= g->argc)
        return pod_err_set(err, POD_E_USAGE, 0, "option %s needs a value", spelled);
    g->arg = g->argv[g->i++];
    return k;
}

int rt_getopt_next(struct rt_getopt *g, struct pod_err *err)
{
    if (g->i >= g->argc)
        return RT_OPT_END;
    const char *a = g->argv[g->i++];
    if (g->after_dashdash || a[0] != '-' || a[1] == '\0') {
        g->arg = a;
        return RT_OPT_WORD;
    }
    if (strcmp(a, "--") == 0) {
        g->after_dashdash = true;
        return RT_OPT_DASHDASH;
    }
    int k;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        k = find_long(g->defs, a + 2, len);
        if (k < 0) {
            pod_err_set(err, POD_E_USAGE, 0, "unknown option '%.*s'", (int)(len + 2), a);
            return RT_OPT_ERROR;
        }
        char spelled[64];
        snprintf(spelled, sizeof spelled, "--%s", g->defs[k].long_name);
        k = take_value(g, k, eq ? eq + 1 : NULL, spelled, err);
    } else {
        k = find_short(g->defs, a[1]);
        if (k < 0) {
            pod_err_set(err, POD_E_USAGE, 0, "unknown option '-%c'", a[1]);
            return RT_OPT_ERROR;
        }
        char spelled[3] = {'-', a[1], '\0'};
        k = take_value(g, k, a[2] ? a + 2 : NULL, spelled, err);
    }
    return k < 0 ? RT_OPT_ERROR : k;
}
