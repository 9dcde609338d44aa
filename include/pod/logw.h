/* SPDX-License-Identifier: MIT */
/* logw.h - the container log writer: one instance per container stream (stdout or stderr).
 *
 * Splits the byte stream into lines, prefixes each with a sub-second timestamp taken from the
 * caller-supplied wall time (never the real clock), appends to <dir>/<base>.log and rotates by
 * size at line boundaries keeping a bounded number of rotated files, crash-safely (s6-log's
 * model: a resumable state machine - fsync, close, atomic rename to a never-reused name, sync
 * the directory, open a new file, trim - where a crash between any two steps loses nothing;
 * logw_open recovers; the fsync policy is cfg.sync).  All I/O
 * goes through the struct fs seam (pod/fs.h), so the same code runs on a real disk and on the
 * simulator's in-memory file system.  A write error (disk full) is counted and reported and the
 * data is kept in a bounded in-memory backlog to retry later; it never aborts and never blocks.
 * Ownership: struct logw is opaque; logw_close frees it.
 *
 * File format (SPEC.md section 9): one record per line,
 *     <sec>.<nsec9> <seq><mark> <message>\n        e.g. "1795386838.123456789 42 hello"
 * seq counts the records of one stream (monotonic across rotations and restarts); mark is
 * empty (the message ended with a newline), '+' (no newline here: the line continues in the
 * next record, or the stream ended without one) or '!' (a notice written by the log writer).
 * Files: <base>.log (current), <base>.log.<N> (rotated; N = 8+ digits, increasing, never
 * reused; a higher N is newer).
 */
#ifndef POD_LOGW_H
#define POD_LOGW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/fs.h"

/* When the writer fsyncs on its own (SPEC.md section 9.5). */
enum logw_sync {
    /* The default: at each rotation the finished file is fsynced and then its directory (once,
     * covering the rename, the previous new file and deletions); logw_eof and logw_close fsync
     * the current file (and the directory if it changed).  Writeback of the current file is
     * started every writeback_bytes so that these fsyncs find little left to write. */
    LOGW_SYNC_ROTATE = 0,
    /* Never fsync on its own (only an explicit logw_sync does): the durability of `cat` - a
     * daemon crash loses nothing written (the kernel has it), a power loss may lose what the
     * kernel had not written back yet. */
    LOGW_SYNC_NONE,
};

struct logw_cfg {
    struct fs fs;
    const char *dir;     /* e.g. "<poddir>/log" */
    const char *base;    /* e.g. "web-mypod-1.0.0-stdout" -> <dir>/<base>.log */
    int64_t max_bytes;   /* rotate when the current file would exceed this; default 10 MiB */
    int max_files;       /* rotated files kept; default 5 */
    size_t max_line;     /* longer lines are split (marked partial), default 16 KiB */
    size_t max_backlog;  /* bytes kept in memory while the disk fails, default 1 MiB */
    int64_t retry_ms;    /* logw_write retries a failing disk at most this often, default 1000 */
    enum logw_sync sync; /* fsync policy, default LOGW_SYNC_ROTATE */
    /* LOGW_SYNC_ROTATE: start writeback of the current file after this many bytes (fs_writeback;
     * 0 = max_bytes / 8, < 0 = never). */
    int64_t writeback_bytes;
};

#define LOGW_DEFAULT_MAX_BYTES ((int64_t)10 * 1024 * 1024)
#define LOGW_DEFAULT_MAX_FILES 5
#define LOGW_DEFAULT_MAX_LINE ((size_t)16 * 1024)
#define LOGW_DEFAULT_MAX_BACKLOG ((size_t)1024 * 1024)
#define LOGW_DEFAULT_RETRY_MS 1000

struct logw_stats {
    uint64_t lines;         /* complete lines written */
    uint64_t partial_lines; /* lines written with the partial mark (split or unterminated) */
    uint64_t bytes_in;      /* bytes accepted from the stream */
    uint64_t rotations;
    uint64_t write_errors;  /* failed writes/renames (each retried later) */
    uint64_t dropped_bytes; /* bytes dropped because the backlog overflowed (reported) */
    uint64_t backlog_bytes; /* bytes waiting for the disk */
    uint64_t dropped_lines; /* records dropped (their seq numbers are skipped) */
    uint64_t notices;       /* '!' records written (drop reports, recovery reports) */
    uint64_t syncs;         /* fsyncs done (files) */
    uint64_t dir_syncs;     /* directory syncs done (fs_sync_dir) */
    uint64_t writebacks;    /* writeback starts (fs_writeback) */
    bool failing;           /* the last attempt to reach the disk failed */
};

struct logw;

/* Opens/creates the current file, recovering any interrupted rotation.  Returns -1 only for an
 * invalid cfg (*out untouched).  An I/O failure while opening is not fatal: *out is set, the
 * writer keeps lines in its backlog and retries; logw_stats().failing and logw_last_error()
 * tell.  Zero fields of cfg take the defaults above; cfg's strings are copied. */
int logw_open(const struct logw_cfg *cfg, struct logw **out, struct pod_err *err) POD_WUR;
/* Accepts stream bytes read at wall time now_wall_ns.  Returns 0, or -1 when something could
 * not be written (err says what; the data is kept in the backlog and retried). */
int logw_write(struct logw *w, const void *data, size_t len, int64_t now_wall_ns,
               struct pod_err *err);
/* Retries the backlog (call periodically while logw_stats().backlog_bytes > 0). */
int logw_retry(struct logw *w, int64_t now_wall_ns, struct pod_err *err);
/* The stream ended: flushes a partial last line (marked partial). */
int logw_eof(struct logw *w, int64_t now_wall_ns, struct pod_err *err);
/* A flush point: fsyncs the current file if anything was written since the last fsync, and its
 * directory if a file was created, renamed or deleted since the last directory sync.  After it
 * returns 0 every record written before is durable (with LOGW_SYNC_ROTATE also guaranteed after
 * a rotation, logw_eof and logw_close; LOGW_SYNC_NONE leaves fsyncs to this call alone). */
int logw_sync(struct logw *w, struct pod_err *err);
struct logw_stats logw_stats(const struct logw *w);
/* The last I/O error ("" when none yet); valid until the next call on w. */
const char *logw_last_error(const struct logw *w);
/* Flushes what it can and frees w (NULL is fine). */
void logw_close(struct logw *w);
/* logw_close (w not NULL) that returns the final stats and copies the last error ("" if none)
 * into errbuf (may be NULL). */
struct logw_stats logw_finish(struct logw *w, char *errbuf, size_t errlen);

/* ---- reading the files (pod logs, the simulator's checks) ---- */

struct logw_rec {
    int64_t ts_wall_ns;
    uint64_t seq;
    char mark;       /* 0, '+' or '!' */
    const char *msg; /* points into the parsed line; not NUL-terminated */
    size_t msg_len;
};

/* Parses one record (line without its newline).  Also accepts the original podc's
 * "<sec> <index> <message>".  Returns false when line is not a record. */
bool logw_parse_line(const char *line, size_t len, struct logw_rec *out);
/* Paths of base's files in dir, oldest first: rotated files by N, then <base>.log if it exists.
 * *paths is a strv (pod_strv_free). */
int logw_files(const struct fs *fs, const char *dir, const char *base, char ***paths,
               struct pod_err *err) POD_WUR;

#endif
