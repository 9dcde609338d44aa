/* SPDX-License-Identifier: MIT */
/* drv_internal.h - what the files of the driver share (the .c files of src/drv only): the
 * driver's state and the functions one file calls in another.
 *   drv.c      actions -> backend calls, backend events -> sup events, timers, the API
 *   status.c   the two files it writes (.pod.status, .pod.state): render, hash, parse, atomic
 *              write, retries
 *   logsink.c  the logw-inline log sink
 * Like the driver: no polling, no sleeping, no real clock, no printing (pod_log only). */
#ifndef POD_DRV_INTERNAL_H
#define POD_DRV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/drv.h"
#include "pod/util.h"

/* A status/state file write that failed: retried on its own with a bounded backoff. */
struct write_retry {
    bool failing;             /* the last write of this file failed */
    uint64_t failures;        /* consecutive failed writes */
    int64_t delay_ms;         /* delay of the next retry */
    int64_t retry_at_mono_ms; /* the next retry, INT64_MAX = none */
    int64_t tried_at_mono_ms; /* the last attempt, -1 = none */
};

/* The two files the driver writes (status.c). */
struct drv_files {
    const char *status_name, *state_name; /* cfg.status_file / cfg.state_file or the defaults */
    char *status_path, *status_tmp, *state_path, *state_tmp;
    struct write_retry status_retry, state_retry;
    char *status_text;          /* the .pod.status last written, NULL after a failed write */
    uint64_t status_hash;       /* of what status_text shows */
    uint64_t state_hash;        /* of what the last .pod.state written (or tried) holds */
    bool dirty;                 /* the supervisor reported a change: look at the hashes */
    int64_t refresh_at_mono_ms; /* the next periodic rewrite of .pod.status */
};

/* What the trace showed last of a container (only changes are traced). */
struct ctr_traced {
    bool phase_known;
    enum sup_ctr_phase phase;
    bool ready;
    uint64_t rotations[2], dropped[2];
    bool log_failing[2];
};

/* The reconcile's view of a mismatch between the supervisor and inspect. */
enum mismatch {
    MISMATCH_NONE = 0,
    MISMATCH_EXITED,  /* running for sup, exited for inspect: repaired at once */
    MISMATCH_STARTED, /* creating for sup, running for inspect: repaired when seen twice */
    MISMATCH_GONE,    /* running for sup, another instance or none for inspect: likewise */
};

/* What `pod ps` shows as a container's last problem (SPEC 7.2 lastWarning). */
struct drv_warning {
    char text[240];
    int64_t wall_s; /* 0: none yet */
};

struct drv {
    struct drv_cfg cfg;
    const struct pod_spec *spec;
    size_t n;
    struct sup *sup;
    struct sup_actions acts;
    struct sup_event *pend; /* FIFO of synthesised events (never re-enter sup_step) */
    size_t pend_head, pend_len, pend_cap;
    bool *adopt_pending;                  /* still to be adopted (or adopting: asked again) */
    bool *adopt_fed;                      /* an ADOPT was fed */
    struct backend_ctr_state *adopt_seen; /* what the last ADOPT said (traced on a change) */
    int64_t adopt_retry_at_mono_ms;
    uint64_t *mismatch_instance; /* a mismatch seen once (its instance), 0 = none */
    enum mismatch *mismatch_seen;
    int64_t reconcile_at_mono_ms, log_retry_at_mono_ms;
    bool stopped;
    int64_t created_wall_s, started_wall_s; /* Unix seconds; started 0 = never */
    struct drv_files files;
    struct ctr_traced *traced;
    struct drv_warning *warn; /* n + 1: the last WARN/ERROR per container, [n] the pod's */
    int pod_phase, pod_ready, pod_healthy; /* as last traced, -1 = not yet */
};

static inline int64_t drv_now_mono_ms(const struct drv *d)
{
    return clk_mono_ms(&d->cfg.clk);
}

/* drv.c */
void drv_trace(struct drv *d, const char *subject, const char *event, const char *fmt, ...)
    POD_PRINTF(4, 5);

/* status.c */
void drv_files_init(struct drv *d);
void drv_files_free(struct drv_files *f);
/* The one place that decides what is written (SPEC.md 10.2): .pod.state when what it holds
 * changed, .pod.status when what it shows changed or with `refresh` (`updated:` advances);
 * both with `force`. */
void drv_files_write(struct drv *d, bool refresh, bool force);
/* The file timers due at now: the state retry, the status retry and refresh, and a change the
 * supervisor reported. */
void drv_files_due(struct drv *d, int64_t now_mono_ms);
int64_t drv_files_next_deadline(const struct drv *d);

#endif
