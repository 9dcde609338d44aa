/* SPDX-License-Identifier: MIT */
/* drv.h - the driver between the supervisor and the world, shared by the real daemon loop and
 * the simulator.
 *
 * It translates; the supervisor decides.  It owns a struct sup and turns its actions into
 * backend calls (CTR_START -> ctr_start, PROBE -> probe, CANCEL -> cancel, ...), backend events
 * into sup events, a backend call that fails at once into SUP_EV_CALL_FAILED (the supervisor
 * retries, escalates or notes it), container output into its log sink (stamped with the
 * clock's wall time), STATUS actions into an atomic `.pod.status` (and `.pod.state`, the
 * persisted supervisor state) written through the fs seam (src/drv/status.c), NOTE actions
 * into the daemon log (pod_log) and the trace.  Its own timers are about I/O, never about a
 * container: the status refresh, the retry of a failed status/state write (bounded backoff),
 * the adoption retry, the log sink's retry and a periodic inspect reconcile that repairs lost
 * events (events are wake-ups; inspect is the truth).  It must not decide what happens to a
 * container (retry, kill, give up): that is the supervisor's.
 *
 * It never polls, sleeps or reads the real clock: its owner calls drv_run() whenever
 * drv_next_deadline() has come or the backend has something to say, and advances time itself
 * (the daemon's poll loop, or the simulator's discrete-event loop).
 * Ownership: the spec, backend, clock and fs are borrowed for the driver's life; the log sink
 * is taken (drv_free closes it, also when drv_new fails); drv_free releases the rest (NULL is
 * fine).
 */
#ifndef POD_DRV_H
#define POD_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/err.h"
#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/spec.h"
#include "pod/sup.h"

/* One trace record: time, subject ("pod" or a container name), event, details. */
typedef void drv_trace_fn(void *self, int64_t mono_ms, const char *subject, const char *event,
                          const char *details);

/* ------------------------------------------------------------------ the log sink */

/* Where container output goes (SPEC.md 9): a const ops table + self.  The simulator and the
 * tests use the logw-inline sink below (the log writers run in the driver's thread,
 * deterministically); the daemon uses one backed by the log pump (pod/logpump.h: the writers
 * run on a thread, so its stats lag behind the writes).  The driver calls a sink from its one
 * thread; a sink never blocks on the disk and never loses output silently (its stats count
 * what it dropped).  Streams are (container index, BACKEND_STDOUT/BACKEND_STDERR). */
struct drv_log_sink_ops {
    /* len bytes the container wrote on stream, read at wall time wall_ns (borrowed). */
    void (*write)(void *self, size_t ctr, enum backend_stream stream, const char *data, size_t len,
                  int64_t wall_ns);
    /* The stream ended: a partial last line is flushed. */
    void (*eof)(void *self, size_t ctr, enum backend_stream stream, int64_t wall_ns);
    /* Retries what waits for a failing disk; the driver calls it every LOGW_DEFAULT_RETRY_MS
     * while a stream's stats show a backlog or a failure (a sink that retries on its own
     * ignores it). */
    void (*retry)(void *self, int64_t wall_ns);
    /* The stream's stats as far as the sink knows them now (an asynchronous sink may lag);
     * its last error ("" = none) is copied into errbuf when errbuf is not NULL. */
    struct logw_stats (*stats)(void *self, size_t ctr, enum backend_stream stream, char *errbuf,
                               size_t errlen);
    /* Flushes what it can and frees the sink. */
    void (*close)(void *self);
};

struct drv_log_sink {
    const struct drv_log_sink_ops *ops;
    void *self;
};

/* The logw-inline sink: one logw per container stream in <dir>/log/, named by
 * drv_log_base_name(). */
struct drv_logw_sink_cfg {
    const struct pod_spec *spec; /* borrowed for the sink's life */
    struct fs fs;
    const char *dir;   /* the pod directory (the files go to <dir>/log/) */
    int64_t max_bytes; /* 0 = spec->logs.max_bytes */
    int max_files;     /* 0 = spec->logs.max_files */
};
/* Creates <dir>/log and opens the writers (an I/O failure is not fatal: logw keeps a backlog
 * and retries, SPEC.md 9.5).  Returns -1 only for an invalid cfg. */
int drv_logw_sink_new(const struct drv_logw_sink_cfg *cfg, struct drv_log_sink *out,
                      struct pod_err *err) POD_WUR;
/* The base name of ctr's stream log files ("<ctr>-<pod>-<version>-stdout"); a new string. */
char *drv_log_base_name(const struct pod_spec *spec, size_t ctr, enum backend_stream stream);

struct drv_cfg {
    const struct pod_spec *spec;
    struct backend backend;
    struct clk clk;
    struct fs fs;
    const char *dir; /* pod directory: the status and state files */
    /* The file names in dir (borrowed for the driver's life; plain names, no `/`).  NULL =
     * DRV_STATUS_FILE / DRV_STATE_FILE.  The original names them after the executable,
     * `.<basename>.status`: a pod executable named `web` passes ".web.status"/".web.state". */
    const char *status_file, *state_file;
    struct drv_log_sink log;   /* container output (taken: drv_free closes it) */
    uint64_t seed;             /* supervisor RNG (backoff jitter) */
    long pid;                  /* daemon pid for the status file, 0 = empty */
    int64_t reconcile_ms;      /* inspect cadence, default 10000 */
    int64_t status_refresh_ms; /* rewrite .pod.status at least this often, default 5000 */
    /* The reconcile and the status refresh share wake-ups: whichever is due first also runs
     * the other when that one is due within status_refresh_ms / 2 (the reconcile early, the
     * refresh's rewrite early), so an idle daemon wakes for the refresh only (SPEC.md 10.1).
     * The daemon sets it; the simulator leaves it off (its traces keep their exact times). */
    bool coalesce_timers;
    drv_trace_fn *trace; /* may be NULL */
    void *trace_self;
};

#define DRV_STATUS_FILE ".pod.status" /* the default of drv_cfg.status_file */
#define DRV_STATE_FILE ".pod.state"   /* the default of drv_cfg.state_file */
/* What the readers of the two files read at most (SPEC 10.2, 7.5.1: the pod directory is not
 * trusted; a larger file is refused before it is read and counts as absent).  The files are
 * far smaller: about 0.5 KiB per container. */
#define DRV_STATUS_MAX_BYTES (1u << 20)
#define DRV_STATE_MAX_BYTES (1u << 20)
#define DRV_DEFAULT_RECONCILE_MS 10000
#define DRV_DEFAULT_STATUS_REFRESH_MS 5000
#define DRV_ADOPT_RETRY_MS 1000 /* the adoption asks inspect again this often (SPEC.md 10.1) */
/* A failed write of .pod.state or .pod.status is retried on its own (without waiting for the
 * next change) after DRV_WRITE_RETRY_MS, the delay doubling after every failed retry up to
 * DRV_WRITE_RETRY_MAX_MS, until a write succeeds; when .pod.status is written again after
 * failing, a failing .pod.state is written at once too (SPEC.md 10.2). */
#define DRV_WRITE_RETRY_MS 1000
#define DRV_WRITE_RETRY_MAX_MS 30000

struct drv;

/* Creates the driver (a fresh supervisor).  Nothing is started or written yet. */
int drv_new(const struct drv_cfg *cfg, struct drv **out, struct pod_err *err) POD_WUR;
/* After a daemon restart: restores the persisted state (text of the state file; NULL or "" =
 * none) and re-adopts the containers (inspect + SUP_EV_ADOPT; asked again every
 * DRV_ADOPT_RETRY_MS while inspect fails or the supervisor keeps a container adopting: a start
 * of the dead daemon may be in flight, SPEC.md 8.9; the supervisor decides). */
int drv_recover(struct drv *d, const char *state_text, struct pod_err *err) POD_WUR;
/* A request from outside (start/stop/kill/signal/rerun/reload-configs/config change). */
void drv_input(struct drv *d, const struct sup_event *ev);
/* Does everything that is due at the clock's now: backend events, timers, reconcile, status.
 * Never blocks. */
void drv_run(struct drv *d);
/* Earliest time (mono ms) at which drv_run has work, INT64_MAX when none (the backend's own
 * next_deadline included). */
int64_t drv_next_deadline(const struct drv *d);

const struct sup_status *drv_sup_status(const struct drv *d);
/* The last WARN or ERROR the driver logged about container ctr (ctr >= the number of
 * containers: about the pod) in this daemon's life: a supervisor NOTE of that level or a
 * failed backend call; NULL when none; *wall_s = when (Unix seconds). */
const char *drv_last_warning(const struct drv *d, size_t ctr, int64_t *wall_s);
/* True once the supervisor reported POD_STOPPED (and no start came after). */
bool drv_pod_stopped(const struct drv *d);
/* The log sink's stats of container ctr, stream 0 (stdout) / 1 (stderr). */
struct logw_stats drv_log_stats(const struct drv *d, size_t ctr, int stream);
/* Writes .pod.status and .pod.state now (also done automatically). */
void drv_flush_status(struct drv *d);
void drv_free(struct drv *d);

/* ------------------------------------------------------------------ the .pod.status file */

/* SPEC.md 10.2; implemented in src/drv/status.c with the writing of both files. */

/* Checks that text is a well-formed status file: `key: value` lines, a `containers:` list of
 * `    - name: X` entries with `      key: value` lines, the required keys present and
 * `readiness`/`updated` numeric.  Returns 0 or -1 with err saying which line is wrong. */
int drv_status_check(const char *text, size_t len, struct pod_err *err) POD_WUR;
/* Value of key for the pod (ctr NULL) or for container ctr; a new string, NULL when absent. */
char *drv_status_get(const char *text, size_t len, const char *ctr, const char *key);

#endif
