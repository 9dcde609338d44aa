/* SPDX-License-Identifier: MIT */
/* logs.c - the `logs` command line (pod/rt.h, SPEC.md 7): options, which sources (named
 * containers, -p the daemon, neither: all of them), then logs_merge.c streams the records. */
#include "pod/rt.h"

#include <stdlib.h>
#include <string.h>

#include "pod/clk.h"
#include "pod/util.h"

/* The daemon's name column: the original's, which also sorts first. */
#define DAEMON_NAME "<pod>"

/* "[-]digits[.digits]" seconds -> ns (fraction digits beyond 9 are dropped); false beyond
 * what int64 nanoseconds hold (RT_LOGS_MAX_TS_S). */
static bool parse_ts(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    const char *p = s + neg;
    const char *dot = strchr(p, '.');
    size_t ilen = dot ? (size_t)(dot - p) : strlen(p);
    if (ilen == 0 || ilen > 11)
        return false;
    int64_t sec = 0, ns = 0;
    for (size_t i = 0; i < ilen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        sec = sec * 10 + (p[i] - '0');
    }
    if (sec > RT_LOGS_MAX_TS_S)
        return false;
    if (dot) {
        const char *f = dot + 1;
        if (!*f)
            return false;
        for (int i = 0; f[i]; i++) {
            if (f[i] < '0' || f[i] > '9')
                return false;
            if (i < 9)
                ns += (f[i] - '0') *
                      (int64_t[]){100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1}[i];
        }
    }
    int64_t v = sec * 1000000000 + ns;
    *out = neg ? -v : v;
    return true;
}

/* Splits a comma list and calls fn(self, word, len) for each word; false when fn refuses. */
static bool each_word(const char *list, bool (*fn)(void *, const char *, size_t), void *self)
{
    for (const char *p = list;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (!fn(self, p, n))
            return false;
        if (!c)
            return true;
        p = c + 1;
    }
}

static bool is_word(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncmp(w, lit, n) == 0;
}

static bool stream_word(void *self, const char *w, size_t n)
{
    struct rt_logs_opts *o = self;
    int s = is_word(w, n, "stdout") ? 0 : is_word(w, n, "stderr") ? 1 : -1;
    if (s >= 0)
        o->streams[s] = true;
    return s >= 0;
}

static bool col_word(void *self, const char *w, size_t n)
{
    struct rt_logs_opts *o = self;
    static const char *const names[] = {"ts", "age", "name", "stream"};
    if (is_word(w, n, "none"))
        return true;
    for (int i = 0; i < 4; i++)
        if (is_word(w, n, names[i])) {
            if (o->n_cols == RT_LOGS_MAX_COLS)
                return false;
            o->cols[o->n_cols++] = RT_COL_TS + i;
            return true;
        }
    return false;
}

static int bad(struct pod_err *err, const char *what, const char *value)
{
    return pod_err_set(err, POD_E_USAGE, 0, "%s: '%s'", what, value);
}

/* One option (index k of the table in rt_logs_parse) with its value. */
static int take_opt(struct rt_logs_opts *o, int k, const char *v, bool *cols_set,
                    struct pod_err *err)
{
    switch (k) {
    case 0:
        o->daemon = true;
        return 0;
    case 1:
        o->has_ts = true;
        return parse_ts(v, &o->ts_ns) ? 0
                                      : bad(err,
                                            "timestamp must be a number of seconds "
                                            "(at most 9223372035)",
                                            v);
    case 2:
        if (!pod_parse_int(v[0] == '-' ? v + 1 : v, 0, INT64_MAX, &o->limit))
            return bad(err, "limit must be a number", v);
        if (v[0] == '-')
            o->limit = -o->limit;
        return 0;
    case 3:
        o->streams[0] = o->streams[1] = false;
        return each_word(v, stream_word, o) ? 0 : bad(err, "streams must be stdout,stderr", v);
    default:
        *cols_set = true;
        o->n_cols = 0;
        return !*v || each_word(v, col_word, o)
                   ? 0
                   : bad(err, "details must be a list of ts,age,name,stream,none", v);
    }
}

int rt_logs_parse(int argc, char **argv, struct rt_logs_opts *o, struct pod_err *err)
{
    static const struct rt_optdef defs[] = {{'p', "daemon-process", false},
                                            {'t', "timestamp", true},
                                            {'l', "limit", true},
                                            {'s', "stream", true},
                                            {'d', "details", true},
                                            {0, "streams", true},
                                            {0}};
    memset(o, 0, sizeof *o);
    o->streams[0] = o->streams[1] = true;
    bool cols_set = false;
    struct rt_getopt g = {.argc = argc, .argv = argv, .defs = defs};
    for (;;) {
        int k = rt_getopt_next(&g, err);
        if (k == RT_OPT_END)
            break;
        if (k == RT_OPT_ERROR)
            goto fail;
        if (k == RT_OPT_WORD) {
            pod_strv_push(&o->containers, g.arg);
        } else if (k >= 0 && take_opt(o, k == 5 ? 3 : k, g.arg, &cols_set, err) < 0) {
            goto fail;
        }
    }
    if (!cols_set) {
        o->cols[o->n_cols++] = RT_COL_TS;
        o->cols[o->n_cols++] = RT_COL_NAME;
    }
    return 0;
fail:
    rt_logs_opts_free(o);
    return -1;
}

void rt_logs_opts_free(struct rt_logs_opts *o)
{
    pod_strv_free(o->containers);
    o->containers = NULL;
}

/* ------------------------------------------------------------------ the action */

/* The sources: -p the daemon, named containers (spec order), neither: all.  -1: unknown name
 * (logged).  Strings in *prefixes are the caller's (strv). */
static int pick_sources(const struct pod_spec *s, const struct rt_logs_opts *o,
                        struct rt_logs_src *srcs, size_t *n, char ***prefixes)
{
    for (char **c = o->containers; c && *c; c++)
        if (spec_find_container(s, *c) < 0) {
            pod_log(POD_LOG_ERROR, "Container %s does not exist in this pod", *c);
            return -1;
        }
    bool all = !o->daemon && !o->containers;
    *n = 0;
    if (all || o->daemon) {
        char *pod = spec_pod_fullname(s);
        pod_strv_push(prefixes, pod);
        free(pod);
        srcs[(*n)++] = (struct rt_logs_src){.name = DAEMON_NAME};
    }
    for (size_t i = 0; i < s->n_containers; i++) {
        if (!all && !pod_strv_contains(o->containers, s->containers[i].name))
            continue;
        char *full = spec_container_fullname(s, i);
        pod_strv_push(prefixes, full);
        free(full);
        srcs[(*n)++] = (struct rt_logs_src){.name = s->containers[i].name};
    }
    for (size_t i = 0; i < *n; i++)
        srcs[i].prefix = (*prefixes)[i];
    return 0;
}

int rt_action_logs(const struct rt_ctx *c, const char *action, int argc, char **argv, FILE *out)
{
    struct rt_logs_opts o;
    struct pod_err err = POD_ERR_ZERO;
    if (rt_logs_parse(argc, argv, &o, &err) < 0) {
        pod_log(POD_LOG_ERROR, "%s: %s (see `pod help`)", action, err.msg);
        return POD_EXIT_USAGE;
    }
    struct rt_logs_src *srcs = xcalloc(c->spec->n_containers + 1, sizeof *srcs);
    char **prefixes = NULL;
    size_t n = 0;
    int rc = POD_EXIT_REJECTED;
    if (pick_sources(c->spec, &o, srcs, &n, &prefixes) == 0) {
        int64_t now = clk_wall_ns(&clk_real);
        char *dir = xasprintf("%s/log", c->pod_dir);
        struct rt_logs_req r = {
            .log_dir = dir,
            .srcs = srcs,
            .n_srcs = n,
            .streams = {o.streams[0], o.streams[1]},
            .since_ns = !o.has_ts     ? INT64_MIN
                        : o.ts_ns < 0 ? now + o.ts_ns
                                      : o.ts_ns,
            .limit = o.limit,
            .cols = o.cols,
            .n_cols = o.n_cols,
            .now_wall_ns = now,
        };
        rc = rt_logs_write(&r, out, &err) == 0 ? POD_EXIT_OK : pod_err_exit_code(&err);
        if (rc)
            pod_log(POD_LOG_ERROR, "%s", err.msg);
        free(dir);
    }
    pod_strv_free(prefixes);
    free(srcs);
    rt_logs_opts_free(&o);
    return rc;
}
