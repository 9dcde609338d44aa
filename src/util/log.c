/* SPDX-License-Identifier: MIT */
/* log.c - program diagnostics with a pluggable sink (the only mutable module state outside
 * main.c: the sink and the level, set once at start-up or by tests). */
#include "pod/util.h"

#include <stdlib.h>

static void default_sink(void *self, int level, const char *msg)
{
    (void)self;
    static const char *const hdr[] = {"",         "[ERROR] ", "[WARN]  ",
                                      "[OK]    ", "[INFO]  ", "[DEBUG] "};
    fprintf(stderr, "%s%s\n", hdr[level >= 1 && level <= 5 ? level : 0], msg);
}

static pod_log_sink_fn *g_sink = default_sink;
static void *g_sink_self;
static int g_level = POD_LOG_INFO;

void pod_log_set_sink(pod_log_sink_fn *fn, void *self)
{
    g_sink = fn ? fn : default_sink;
    g_sink_self = self;
}

void pod_log_set_level(int level)
{
    g_level = level;
}

int pod_log_level(void)
{
    return g_level;
}

void pod_log_init_from_env(int def)
{
    long long v;
    const char *s = getenv("SPACE_LOG_LEVEL");
    g_level = (s && pod_parse_int(s, 0, 5, &v)) ? (int)v : def;
}

void pod_log(int level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    struct pod_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    g_sink(g_sink_self, level, b.data ? b.data : "");
    pod_buf_free(&b);
}
