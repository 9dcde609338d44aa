/* SPDX-License-Identifier: MIT */
/* drv.h - the driver between the supervisor and the world, shared by the real daemon loop and
 * the simulator.
 *
 * It owns a struct sup and one log writer per container stream and borrows a backend, a clock
 * and a file system.  It translates; the supervisor decides.  It turns sup actions into backend
 * calls (CTR_START -> ctr_start, PROBE -> probe, CANCEL -> cancel, ...), backend events into sup
 * events, a backend call that fails at once into SUP_EV_CALL_FAILED (the supervisor retries,
 * escalates or notes it), container output into logw_write (stamped with the clock's wall
 * time), STATUS actions into an atomic `.pod.status` (and `.pod.state`, the persisted supervisor
 * state) written through the fs seam, NOTE actions into the daemon log (pod_log) and the trace.
 * Its own timers are about I/O, never about a container: the status refresh, the retry of a
 * failed status/state write (bounded backoff), the adoption retry and a periodic inspect
 * reconcile that repairs lost events (events are wake-ups; inspect is the truth).
 *
 * It never polls, sleeps or reads the real clock: its owner calls drv_run() whenever
 * drv_next_deadline() has come or the backend has something to say, and advances time itself
 * (the daemon's poll loop, or the simulator's discrete-event loop).
 * Ownership: the spec, backend, clock and fs are borrowed for the driver's life; drv_free
 * releases the rest (NULL is fine).
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

/* One trace record: time, subject ("pod", a container name, or "drv"), event, details. */
typedef void drv_trace_fn(void *self, int64_t mono_ms, const char *subject, const char *event,
                          const char *details);

struct drv_cfg {
    const struct pod_spec *spec;
    struct backend backend;
    struct clk clk;
    struct fs fs;
    const char *dir;           /* pod directory: .pod.status, .pod.state, log/ */
    uint64_t seed;             /* supervisor RNG (backoff jitter) */
    long pid;                  /* daemon pid for the status file, 0 = empty */
    int64_t reconcile_ms;      /* inspect cadence, default 10000 */
    int64_t status_refresh_ms; /* rewrite .pod.status at least this often, default 5000 */
    int64_t log_max_bytes;     /* 0 = spec->logs.max_bytes */
    int log_max_files;         /* 0 = spec->logs.max_files */
    drv_trace_fn *trace;       /* may be NULL */
    void *trace_self;
};

#define DRV_STATUS_FILE ".pod.status"
#define DRV_STATE_FILE ".pod.state"
#define DRV_DEFAULT_RECONCILE_MS 10000
#define DRV_DEFAULT_STATUS_REFRESH_MS 5000
#define DRV_ADOPT_RETRY_MS 1000 /* a failing inspect during the adoption is retried this often */
/* A failed write of .pod.state or .pod.status is retried on its own (without waiting for the
 * next change) after DRV_WRITE_RETRY_MS, the delay doubling after every failed retry up to
 * DRV_WRITE_RETRY_MAX_MS, until a write succeeds; when .pod.status is written again after
 * failing, a failing .pod.state is written at once too (SPEC.md 10.2). */
#define DRV_WRITE_RETRY_MS 1000
#define DRV_WRITE_RETRY_MAX_MS 30000
#define DRV_ADOPT_WAIT_MS                                                                          \
    30000 /* a created-but-not-running container is waited for this long                           \
             before it is adopted as it is */

struct drv;

/* Creates the driver (log dir, log writers, a fresh supervisor).  Nothing is started. */
int drv_new(const struct drv_cfg *cfg, struct drv **out, struct pod_err *err) POD_WUR;
/* After a daemon restart: restores the persisted state (text of DRV_STATE_FILE; NULL or "" =
 * none) and re-adopts the containers (inspect + SUP_EV_ADOPT; retried while inspect fails, and
 * while a container exists but has neither run nor finished: a start still in flight; one still
 * in that state after DRV_ADOPT_WAIT_MS is adopted as missing, so it is started again). */
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
/* True once the supervisor reported POD_STOPPED (and no start came after). */
bool drv_pod_stopped(const struct drv *d);
/* Log writer stats of container ctr, stream 0 (stdout) / 1 (stderr). */
struct logw_stats drv_log_stats(const struct drv *d, size_t ctr, int stream);
/* Log file base name of ctr/stream ("<ctr>-<pod>-<version>-stdout"); valid for d's life. */
const char *drv_log_base(const struct drv *d, size_t ctr, int stream);
/* Writes .pod.status and .pod.state now (also done automatically). */
void drv_flush_status(struct drv *d);
void drv_free(struct drv *d);

/* ---- the .pod.status file (SPEC.md section 10) ---- */

/* Checks that text is a well-formed status file: `key: value` lines, a `containers:` list of
 * `    - name: X` entries with `      key: value` lines, the required keys present and
 * `readiness`/`updated` numeric.  Returns 0 or -1 with err saying which line is wrong. */
int drv_status_check(const char *text, size_t len, struct pod_err *err) POD_WUR;
/* Value of key for the pod (ctr NULL) or for container ctr; a new string, NULL when absent. */
char *drv_status_get(const char *text, size_t len, const char *ctr, const char *key);

#endif
