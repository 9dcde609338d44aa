/* SPDX-License-Identifier: MIT */
/* dsink.h - the daemon's log path: container output and the daemon's own log lines into the
 * log pump (pod/logpump.h, SPEC.md 9.9), never blocking the loop and never dropping container
 * output.
 *
 * One pump stream per container stream (log/<ctr>-<pod>-<ver>-stdout|stderr) plus the daemon's
 * log (log/<pod>-<ver>-stderr, lines "[LEVEL] message").  A write is copied into the stream's
 * pump buffer (one buffer per stream collects the writes of a loop round; dsink_flush submits
 * them); when the pump has no free buffer, writes queue in memory in order and
 * dsink_output_room() says false, so the backend stops reading its pipes (the containers then
 * block in write: lossless).  When the pump's eventfd fires, dsink_pump_ready() moves the queue
 * into buffers and, once it is empty, calls the room callbacks.  Daemon lines queue at most
 * DSINK_MAX_DAEMON_BACKLOG bytes while the disk hangs (then they are counted and dropped, and
 * the count is logged once room returns).
 *
 * Interim wiring (until the driver gets its log sink interface): dsink_backend() wraps a
 * backend so that its OUTPUT / OUTPUT_EOF events come here instead of reaching the driver, and
 * dsink_drv_fs() gives the driver a file system on which its own (then idle) log writers
 * cannot touch log/: every call below <dir>/log/ is a no-op there.  With the sink interface,
 * the driver calls dsink_write/dsink_eof/dsink_stats itself and both go away.
 * Ownership: the pump is borrowed (the caller closes it after dsink_free).
 */
#ifndef POD_DSINK_H
#define POD_DSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/err.h"
#include "pod/fs.h"
#include "pod/logpump.h"
#include "pod/logw.h"
#include "pod/spec.h"

#define DSINK_MAX_DAEMON_BACKLOG ((size_t)1 << 20)

struct dsink_cfg {
    struct logpump *pump;
    const struct pod_spec *spec;
    const char *dir; /* the pod directory: logs in <dir>/log */
    struct fs fs;
    const struct clk *clk;
};

struct dsink;

/* Opens (logw_open, with recovery) and attaches every stream. */
int dsink_new(const struct dsink_cfg *cfg, struct dsink **out, struct pod_err *err) POD_WUR;
void dsink_write(struct dsink *s, size_t ctr, int stream, const void *data, size_t len,
                 int64_t wall_ns);
void dsink_eof(struct dsink *s, size_t ctr, int stream, int64_t wall_ns);
/* Stats as of the pump's last processed item (they may lag behind the writes). */
struct logw_stats dsink_stats(struct dsink *s, size_t ctr, int stream);
/* The gate: true when output can be taken now. */
bool dsink_output_room(struct dsink *s);
/* fn(arg) is called each time room returns after dsink_output_room() said false. */
void dsink_on_room(struct dsink *s, void (*fn)(void *arg), void *arg);
/* Submits the buffers filled during this loop round. */
void dsink_flush(struct dsink *s);
/* The pump's eventfd is readable. */
void dsink_pump_ready(struct dsink *s);
/* A pod_log_sink_fn for the daemon's own log (self = struct dsink *). */
void dsink_log(void *self, int level, const char *msg);
/* Bytes queued in memory (no pump buffer free). */
size_t dsink_backlog(const struct dsink *s);
/* Flushes, detaches and releases every stream (the pump writes what was queued when closed). */
void dsink_free(struct dsink *s);

/* ---- interim wiring ---- */

/* A backend that forwards everything to inner except OUTPUT / OUTPUT_EOF events, which go to
 * s.  *out borrows *wrap (which must outlive it). */
struct dsink_backend {
    struct backend inner;
    struct dsink *sink;
};
struct backend dsink_backend(struct dsink_backend *wrap);
/* fs_real for everything but <dir>/log/..., where every call is a no-op (lists are empty, files
 * are empty).  *wrap must outlive the returned fs. */
struct dsink_fs {
    char *logdir; /* "<dir>/log" */
};
struct fs dsink_drv_fs(struct dsink_fs *wrap, const char *dir);
void dsink_fs_free(struct dsink_fs *wrap);

#endif
