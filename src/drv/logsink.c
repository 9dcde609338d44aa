/* SPDX-License-Identifier: MIT */
/* logsink.c - the logw-inline log sink (pod/drv.h, struct drv_log_sink): one log writer
 * (pod/logw.h) per container stream, called in the caller's thread, so a run is deterministic
 * (the simulator, the tests).  The daemon plugs in a sink backed by the log pump instead.
 *
 * Must not: block, print (pod_log only), touch files other than through cfg.fs.  A writer that
 * could not be opened (an invalid cfg only: I/O failures are logw's to retry) is left out and
 * its stream's output is ignored, with a warning at creation.
 */
#include "pod/drv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

struct logw_sink {
    size_t n;           /* containers */
    struct logw **logs; /* 2 per container: [2 * ctr + stream], NULL = could not be opened */
};

static struct logw *stream_log(const struct logw_sink *s, size_t ctr, enum backend_stream stream)
{
    if (ctr >= s->n)
        return NULL;
    return s->logs[2 * ctr + (stream == BACKEND_STDERR ? 1 : 0)];
}

static void sink_write(void *self, size_t ctr, enum backend_stream stream, const char *data,
                       size_t len, int64_t wall_ns)
{
    struct logw *w = stream_log(self, ctr, stream);
    struct pod_err err = POD_ERR_ZERO;
    if (w)
        (void)logw_write(w, data, len, wall_ns, &err); /* kept and retried: its stats tell */
}

static void sink_eof(void *self, size_t ctr, enum backend_stream stream, int64_t wall_ns)
{
    struct logw *w = stream_log(self, ctr, stream);
    struct pod_err err = POD_ERR_ZERO;
    if (w)
        (void)logw_eof(w, wall_ns, &err);
}

static void sink_retry(void *self, int64_t wall_ns)
{
    struct logw_sink *s = self;
    for (size_t i = 0; i < 2 * s->n; i++) {
        struct pod_err err = POD_ERR_ZERO;
        if (!s->logs[i])
            continue;
        struct logw_stats ls = logw_stats(s->logs[i]);
        if (ls.backlog_bytes > 0 || ls.failing)
            (void)logw_retry(s->logs[i], wall_ns, &err);
    }
}

static struct logw_stats sink_stats(void *self, size_t ctr, enum backend_stream stream,
                                    char *errbuf, size_t errlen)
{
    struct logw *w = stream_log(self, ctr, stream);
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", w ? logw_last_error(w) : "");
    return w ? logw_stats(w) : z;
}

static void sink_close(void *self)
{
    struct logw_sink *s = self;
    if (!s)
        return;
    for (size_t i = 0; i < 2 * s->n; i++)
        logw_close(s->logs[i]);
    free(s->logs);
    free(s);
}

static const struct drv_log_sink_ops logw_sink_ops = {
    .write = sink_write,
    .eof = sink_eof,
    .retry = sink_retry,
    .stats = sink_stats,
    .close = sink_close,
};

char *drv_log_base_name(const struct pod_spec *spec, size_t ctr, enum backend_stream stream)
{
    char *full = spec_container_fullname(spec, ctr);
    char *base = xasprintf("%s-%s", full, stream == BACKEND_STDERR ? "stderr" : "stdout");
    free(full);
    return base;
}

/* The writer of one stream; NULL (warned) when logw rejects the configuration. */
static struct logw *open_stream(const struct drv_logw_sink_cfg *cfg, const char *logdir, size_t ctr,
                                enum backend_stream stream)
{
    struct logw_cfg lc;
    memset(&lc, 0, sizeof lc);
    char *base = drv_log_base_name(cfg->spec, ctr, stream);
    lc.fs = cfg->fs;
    lc.dir = logdir;
    lc.base = base;
    lc.max_bytes = cfg->max_bytes ? cfg->max_bytes : cfg->spec->logs.max_bytes;
    lc.max_files = cfg->max_files ? cfg->max_files : cfg->spec->logs.max_files;
    /* small rotation sizes (tests, the simulator) need shorter line splits */
    if (lc.max_bytes > 0 && lc.max_bytes < 4 * (int64_t)LOGW_DEFAULT_MAX_LINE)
        lc.max_line = (size_t)(lc.max_bytes / 4 > 64 ? lc.max_bytes / 4 : 64);
    struct logw *w = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (logw_open(&lc, &w, &err) < 0) {
        pod_log(POD_LOG_WARN, "log %s: %s", base, err.msg);
        w = NULL;
    }
    free(base);
    return w;
}

int drv_logw_sink_new(const struct drv_logw_sink_cfg *cfg, struct drv_log_sink *out,
                      struct pod_err *err)
{
    if (!cfg->spec || !cfg->fs.ops || !cfg->dir)
        return pod_err_set(err, POD_E_INVALID, 0, "drv_logw_sink_new: incomplete configuration");
    struct logw_sink *s = xcalloc(1, sizeof *s);
    char *logdir = pod_path_join(cfg->dir, "log");
    struct pod_err e2 = POD_ERR_ZERO;
    if (fs_mkdir_p(&cfg->fs, logdir, &e2) < 0)
        pod_log(POD_LOG_WARN, "could not create %s: %s", logdir, e2.msg);
    s->n = cfg->spec->n_containers;
    s->logs = xcalloc(2 * s->n + 1, sizeof *s->logs);
    for (size_t i = 0; i < s->n; i++) {
        s->logs[2 * i] = open_stream(cfg, logdir, i, BACKEND_STDOUT);
        s->logs[2 * i + 1] = open_stream(cfg, logdir, i, BACKEND_STDERR);
    }
    free(logdir);
    out->ops = &logw_sink_ops;
    out->self = s;
    return 0;
}
