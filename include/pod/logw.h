/* SPDX-License-Identifier: MIT */
/* logw.h - the container log writer: one instance per container stream (stdout or stderr).
 *
 * Splits the byte stream into lines, prefixes each with a sub-second timestamp taken from the
 * caller-supplied wall time (never the real clock), appends to <dir>/<base>.log and rotates by
 * size at line boundaries keeping a bounded number of rotated files, crash-safely (s6-log's
 * model: every step is tmp+rename/fsync'd and resumable; logw_open recovers an interrupted
 * rotation).  All I/O goes through the struct fs seam (pod/fs.h), so the same code runs on a
 * real disk and on the simulator's in-memory file system.  A write error (disk full) is counted
 * and reported and the data is kept in a bounded in-memory backlog to retry later; it never
 * aborts and never blocks.  Ownership: struct logw is opaque; logw_close frees it.
 */
#ifndef POD_LOGW_H
#define POD_LOGW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/fs.h"

struct logw_cfg {
    struct fs fs;
    const char *dir;     /* e.g. "<poddir>/log" */
    const char *base;    /* e.g. "web-mypod-1.0.0-stdout" -> <dir>/<base>.log */
    int64_t max_bytes;   /* rotate when the current file would exceed this; default 10 MiB */
    int max_files;       /* rotated files kept; default 5 */
    size_t max_line;     /* longer lines are split (marked partial), default 16 KiB */
    size_t max_backlog;  /* bytes kept in memory while the disk fails, default 1 MiB */
};

struct logw_stats {
    uint64_t lines;          /* complete lines written */
    uint64_t partial_lines;  /* lines written with the partial mark (split or unterminated) */
    uint64_t bytes_in;       /* bytes accepted from the stream */
    uint64_t rotations;
    uint64_t write_errors;   /* failed writes/renames (each retried later) */
    uint64_t dropped_bytes;  /* bytes dropped because the backlog overflowed (reported) */
    uint64_t backlog_bytes;  /* bytes waiting for the disk */
};

struct logw;

/* Opens/creates the current file, recovering any interrupted rotation. */
int logw_open(const struct logw_cfg *cfg, struct logw **out, struct pod_err *err) POD_WUR;
/* Accepts stream bytes read at wall time now_wall_ns.  Returns 0, or -1 when something could
 * not be written (err says what; the data is kept in the backlog and retried). */
int logw_write(struct logw *w, const void *data, size_t len, int64_t now_wall_ns,
               struct pod_err *err);
/* Retries the backlog (call periodically while logw_stats().backlog_bytes > 0). */
int logw_retry(struct logw *w, int64_t now_wall_ns, struct pod_err *err);
/* The stream ended: flushes a partial last line (marked partial). */
int logw_eof(struct logw *w, int64_t now_wall_ns, struct pod_err *err);
struct logw_stats logw_stats(const struct logw *w);
/* Flushes what it can and frees w (NULL is fine). */
void logw_close(struct logw *w);

#endif
