/* SPDX-License-Identifier: MIT */
/* logpump.h - the real daemon's log path: log writers (pod/logw.h) run on one writer thread.
 *
 * The daemon's event loop reads container output into pump buffers and submits them, stamped
 * with the wall time of the read; the pump's writer thread formats and writes them with logw.
 * So disk work - formatting, writes, rotation, retention deletes, fsyncs, a slow or hanging
 * disk - never stalls the supervisor, and reading and writing run in parallel (SPEC.md 9.9).
 *
 * Bounded and lossless: there are nbufs buffers of buf_size bytes.  While all of them are
 * queued, logpump_reserve returns NULL and the loop stops reading that output: the pipe fills
 * and the container blocks on its writes (backpressure, as with `cat`), nothing is dropped.
 * logw's own bounded backlog still applies while the disk fails (logw.h).  A daemon killed
 * with SIGKILL loses what was queued and not yet written: at most nbufs * buf_size bytes.
 *
 * Order: items are processed in submission order (per stream and across streams).  While a
 * stream's logw has a backlog (the disk fails), the writer calls logw_retry on it every
 * retry_ms on its own, whatever the other streams do.  The simulator does not use the pump: it
 * calls logw inline, deterministically; the files are the same either way (tests/test_logpump.c).
 *
 * Threads: every function is called from one thread (the daemon's loop, "the caller"); the pump
 * owns one writer thread, which blocks all signals.  A logw handed to logpump_attach belongs to
 * the writer from then on.  What still runs on the caller: logw_open (the recovery, before
 * attach), and logpump_flush/logpump_close, which wait for the writer (so for a hanging disk):
 * the daemon calls them at stop, not from its loop.
 *
 * Misuse that would corrupt memory aborts (like an allocation failure): submitting a buffer
 * that is not one reserved from this pump, or giving one back twice, or more than buf_size
 * bytes.  Items for an id that is unknown, detached or released are ignored (a data item's
 * buffer goes back to the pool).
 */
#ifndef POD_LOGPUMP_H
#define POD_LOGPUMP_H

#include <stddef.h>
#include <stdint.h>

#include "pod/clk.h"
#include "pod/err.h"
#include "pod/logw.h"

struct logpump_cfg {
    size_t nbufs;          /* buffers in the pool, default 8 */
    size_t buf_size;       /* bytes per buffer, default 64 KiB (a pipe's default capacity) */
    int64_t retry_ms;      /* logw_retry cadence while a stream has a backlog, default 1000 */
    const struct clk *clk; /* wall time for logw_retry/eof/close, default &clk_real */
};

#define LOGPUMP_DEFAULT_NBUFS 8
#define LOGPUMP_DEFAULT_BUF_SIZE ((size_t)64 * 1024)
#define LOGPUMP_MAX_NBUFS 4096
#define LOGPUMP_MAX_POOL ((size_t)256 << 20) /* nbufs * buf_size */

struct logpump;

/* Starts the writer thread.  -1 (err set) when the thread or the notification fd cannot be
 * created, or cfg is invalid; zero fields of cfg (or cfg NULL) take the defaults. */
int logpump_new(const struct logpump_cfg *cfg, struct logpump **out, struct pod_err *err) POD_WUR;
/* Hands w (not NULL) over to the writer thread; returns the stream id (>= 0).  Ids of released
 * streams are reused. */
int logpump_attach(struct logpump *p, struct logw *w);
/* A free buffer of logpump_buf_size() bytes, or NULL when all are queued (wait for
 * logpump_fd() to become readable, then call logpump_ack_fd and try again). */
void *logpump_reserve(struct logpump *p);
/* As logpump_reserve, but waits for a free buffer; NULL only when the caller itself holds every
 * buffer (no buffer is queued that could come back). */
void *logpump_reserve_wait(struct logpump *p);
size_t logpump_buf_size(const struct logpump *p);
/* Queues n bytes in buf (from logpump_reserve) for stream id, read at wall time now_wall_ns.
 * The buffer goes back to the pool once written; n == 0 just gives it back. */
void logpump_submit(struct logpump *p, int id, void *buf, size_t n, int64_t now_wall_ns);
/* Queues the end of stream id's output (logw_eof: a partial last line is flushed). */
void logpump_eof(struct logpump *p, int id, int64_t now_wall_ns);
/* Queues logw_sync for stream id (a flush point: durable once logpump_flush returns). */
void logpump_sync(struct logpump *p, int id);
/* Queues closing stream id (logw_close, as inline: a held partial line is written with the
 * writer's last time - the stream's last read or a later retry); its final stats stay readable
 * until logpump_release. */
void logpump_detach(struct logpump *p, int id);
/* After logpump_detach: the caller is done with id; the slot may be reused by a later attach
 * (so a crash-looping container does not grow the pump). */
void logpump_release(struct logpump *p, int id);
/* Waits until every item queued so far has been processed (stats are then current). */
void logpump_flush(struct logpump *p);
/* Stream id's logw_stats as of the last item processed, and its last error ("" if none; the
 * text is copied into errbuf when errbuf is not NULL). */
struct logw_stats logpump_stats(struct logpump *p, int id, char *errbuf, size_t errlen);
/* Items queued so far (data, eof, sync, detach): each one is at most one wake-up of the
 * writer thread, so a caller's batching shows here. */
uint64_t logpump_queued(struct logpump *p);
/* Readable (eventfd) after a buffer was freed while the caller was out of buffers. */
int logpump_fd(const struct logpump *p);
void logpump_ack_fd(struct logpump *p);
/* Processes everything queued, closes the log writers still attached, stops the thread and
 * frees p (NULL is fine). */
void logpump_close(struct logpump *p);

#endif
