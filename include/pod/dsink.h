/* SPDX-License-Identifier: MIT */
/* dsink.h - the daemon's log path: container output and the daemon's own log lines into the
 * log pump (pod/logpump.h, SPEC.md 9.9), never blocking the loop and never dropping container
 * output.
 *
 * One pump stream per container stream (log/<ctr>-<pod>-<ver>-stdout|stderr) plus the daemon's
 * log (log/<pod>-<ver>-stderr, lines "[LEVEL] message").  A write is copied into the stream's
 * pump buffer (one buffer per stream collects its writes over loop rounds: dsink_round_end
 * submits it once half full or a couple of ms old, dsink_next_deadline says when; dsink_flush
 * submits every open buffer now); when the pump has no free buffer, writes queue in memory in order
 * and dsink_output_room() says false, so the backend stops reading its pipes (the containers then
 * block in write: lossless).  When the pump's eventfd fires, dsink_pump_ready() moves the queue
 * into buffers and, once it is empty, calls the room callbacks.  Daemon lines queue at most
 * DSINK_MAX_DAEMON_BACKLOG bytes while the disk hangs (then they are counted and dropped, and
 * the count is logged once room returns).
 *
 * The driver reaches it as its log sink (struct drv_log_sink, dsink_drv_sink): container
 * output comes from the driver, which gets it from the backend's OUTPUT events.
 * Ownership: the pump is borrowed (the caller closes it after dsink_free); the daemon owns the
 * dsink (its own log outlives the driver), so the sink's close does nothing.
 */
#ifndef POD_DSINK_H
#define POD_DSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/drv.h"
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
/* The same, with the stream's last write error into errbuf ("" if none). */
struct logw_stats dsink_stats_err(struct dsink *s, size_t ctr, int stream, char *errbuf,
                                  size_t errlen);
/* The gate: true when output can be taken now. */
bool dsink_output_room(struct dsink *s);
/* fn(arg) is called each time room returns after dsink_output_room() said false. */
void dsink_on_room(struct dsink *s, void (*fn)(void *arg), void *arg);
/* Submits every open buffer now. */
void dsink_flush(struct dsink *s);
/* At the end of a loop round: submits the open buffers that are half full or old enough
 * (a batch of pipe reads costs the pump's writer thread one wake-up). */
void dsink_round_end(struct dsink *s, int64_t now_mono_ms);
/* When dsink_round_end must run next to submit an open buffer (monotonic ms; INT64_MAX when
 * none is open). */
int64_t dsink_next_deadline(const struct dsink *s);
/* The pump's eventfd is readable. */
void dsink_pump_ready(struct dsink *s);
/* A pod_log_sink_fn for the daemon's own log (self = struct dsink *). */
void dsink_log(void *self, int level, const char *msg);
/* Bytes queued in memory (no pump buffer free). */
size_t dsink_backlog(const struct dsink *s);
/* Flushes, detaches and releases every stream (the pump writes what was queued when closed). */
void dsink_free(struct dsink *s);

/* ---- the driver's log sink ---- */

/* s as the driver's log sink: write/eof as above, stats the pump's (they lag behind the
 * writes; the stream's last error is copied when asked), retry a no-op (the pump's writer
 * thread retries a failing disk on its own), close a no-op (dsink_free after drv_free). */
struct drv_log_sink dsink_drv_sink(struct dsink *s);

#endif
