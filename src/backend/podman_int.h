/* SPDX-License-Identifier: MIT */
/* podman_int.h - the podman backend's private parts, shared by its files:
 *   backend_podman.c  the ops table, the per-container cache, starts/stops/kills, listing
 *   podman_exit.c     exit sources (pidfd of the container's PID 1, inspect, podman wait)
 *   podman_call.c     podman child processes: queue, concurrency cap, deadlines
 *   podman_out.c      log pipes (OUTPUT / OUTPUT_EOF events, backpressure)
 *   podman_probe.c    tcp/http probes, exec probes through `podman exec`, cancel
 *   podman_infra.c    the pod's infra container: found, watched (pidfd), INFRA_DOWN
 *   podman_warm.c     the warm standby: the next instance created and initialised ahead
 * Everything runs on the daemon's loop thread; nothing blocks.
 */
#ifndef POD_PODMAN_INT_H
#define POD_PODMAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pod/podman.h"
#include "pod/proc.h"
#include "pod/util.h"

struct pm;

/* ------------------------------------------------------------------ podman calls */

enum call_kind {
    CALL_RUN = 1,
    CALL_PULL,
    CALL_INSPECT, /* exit source: find the pid, or confirm an exit */
    CALL_WAIT,    /* exit source fallback */
    CALL_STOP,
    CALL_KILL,
    CALL_RM,
    CALL_EXEC,
    CALL_PS,
    CALL_POD_CREATE,
    CALL_POD_RM,
    CALL_INFRA,    /* `ps -a --filter pod=P`: find the infra container (podman_infra.c) */
    CALL_W_CREATE, /* the warm standby (podman_warm.c): `create`, `init`, `inspect` (its */
    CALL_W_INIT,   /* id), `start`, `rename` to the container's name, `rm` of what it replaces */
    CALL_W_INSPECT,
    CALL_W_START,
    CALL_W_RENAME,
    CALL_W_RM,
};

struct call_res {
    bool spawned; /* false: podman could not be started (msg says why) */
    bool exited;  /* exited normally: code valid */
    int code;     /* exit code, or 128 + signal */
    bool timed_out;
    const char *out, *err;
    size_t out_len, err_len;
    char msg[160]; /* podman_error_line of err, or the spawn failure */
};

struct call {
    struct call *next; /* queue link */
    enum call_kind kind;
    char **argv;
    size_t ctr; /* SIZE_MAX: pod-level (serial: runs alone among the serial calls) */
    uint64_t instance, tag;
    int sig;
    int64_t timeout_ms;
    bool serial;     /* mutates container ctr: one such call per container at a time */
    bool exec_class; /* exec probes: their own share of the cap */
    bool capture_out;
    bool pulled;         /* RUN: the image was pulled for it (no second pull) */
    int fd_out, fd_err;  /* RUN: the log pipes' write ends (owned; closed with the call) */
    struct call *then;   /* PULL: the RUN to retry after it; POD_RM of a repair: the POD_CREATE */
    bool again;          /* POD_RM of a repair: the second try */
    uint64_t gen;        /* PS: cache generation when submitted */
    struct esrc *es;     /* INSPECT/WAIT: the exit source asking */
    char spawn_msg[160]; /* podman could not be started: why (completed at the next tick) */
    /* while running */
    struct pm *pm;
    struct proc *p;
    int64_t start_ms, deadline_ms;
    bool timed_out;
};

struct call *call_new(enum call_kind k, char **argv, size_t ctr, uint64_t instance,
                      int64_t timeout_ms);
void call_free(struct call *c);
/* Queues c (ownership moves) and starts what the cap allows. */
void call_submit(struct pm *pm, struct call *c);
/* The same at the head of the queue: a pod-level call that must come before what is queued. */
void call_submit_front(struct pm *pm, struct call *c);
void call_pump(struct pm *pm);
/* Kills calls past their deadline; completes calls that could not be started. */
void call_tick(struct pm *pm, int64_t now);
int64_t call_next_deadline(const struct pm *pm);
/* The queued or running EXEC call of tag (NULL when none); a queued one is removed and
 * returned to the caller (*queued true), a running one stays. */
struct call *call_take_exec(struct pm *pm, uint64_t tag, bool *queued);
/* Kills (SIGKILL, group) a running call. */
void call_kill(struct call *c);
void calls_free(struct pm *pm);
/* Implemented by backend_podman.c: a call ended (c is freed by the caller afterwards). */
void pm_call_done(struct pm *pm, struct call *c, const struct call_res *r);

/* ------------------------------------------------------------------ exit sources */

enum es_state {
    ES_LOOKUP = 1, /* inspect to learn the pid (after a start, or adoption without one) */
    ES_ARMED,      /* pidfd of PID 1 in the loop */
    ES_CONFIRM,    /* PID 1 is gone: inspect for the exit code */
    ES_WAIT,       /* `podman wait` */
    ES_DONE,
};

struct esrc {
    struct pm *pm;
    size_t ctr;
    uint64_t instance;
    enum es_state st;
    char *id; /* container id once known */
    int pid, pidfd;
    int64_t started_wall_ns;
    char *exit_file;  /* conmon's exit file (--exit-dir of its command line + "/" + id) */
    int file_tries;   /* CONFIRM: reads of exit_file so far */
    int64_t since_ms; /* CONFIRM: when PID 1 was seen gone */
    int64_t retry_at; /* INT64_MAX: none */
    int retries;
    bool busy; /* a call for it is running */
};

/* A started instance (pid may be 0: look it up). */
void es_new(struct pm *pm, size_t ctr, uint64_t instance, const char *id, int pid,
            int64_t started_wall_ns);
/* conmon's exit file of container id from its command line ("--exit-dir D"); NULL when the
 * process is not that container's conmon.  New string. */
char *es_conmon_exit_file(int conmon_pid, const char *id);
/* Reads an exit file: 0 with the code and its mtime, -1 when absent or malformed. */
int es_read_exit_file(const char *path, int *code, int64_t *mtime_wall_ns);
void es_inspect_done(struct pm *pm, struct esrc *es, const struct call_res *r);
void es_wait_done(struct pm *pm, struct esrc *es, const struct call_res *r);
/* The armed exit source of ctr/instance, NULL when none. */
struct esrc *es_find(struct pm *pm, size_t ctr, uint64_t instance);
/* A stop/kill/rm of ctr/instance succeeded: make sure its exit is seen. */
void es_poke(struct pm *pm, size_t ctr, uint64_t instance);
void es_tick(struct pm *pm, int64_t now);
int64_t es_next_deadline(const struct pm *pm);
void es_free_all(struct pm *pm);
/* Whether pid is PID 1 of container id (cgroup, else pid namespace init + start time). */
bool es_pid_is_container(int pid, const char *id, int64_t started_wall_ns);

/* ------------------------------------------------------------------ output */

struct stream {
    struct pm *pm;
    size_t ctr;
    uint64_t instance;
    int which; /* BACKEND_STDOUT / BACKEND_STDERR */
    int fd;
    char *buf;
    size_t len;
    bool held;           /* buf is in an OUTPUT event not yet released */
    bool delivered;      /* that event went out with poll_events: release at the next call */
    bool paused;         /* no room in the log pump: not reading */
    bool armed;          /* registered for LOOP_IN in the loop */
    struct pod_buf head; /* the first bytes while `podman run` runs (its error message) */
    bool capture_head;
    char *strip;      /* stdout: "<name>\n" that `run --replace` prints when it removes the old
                         container, before the new one exists; dropped from the first read */
    size_t off;       /* start of the event's data in buf */
    size_t pipe_size; /* PODMAN_PIPE_BURST after it grew, else 0 (the kernel's default) */
    int64_t grown_at_ms;
};

struct stream *stream_open(struct pm *pm, size_t ctr, uint64_t instance, int which, int fd,
                           bool hand_to_holder);
struct stream *stream_find(struct pm *pm, size_t ctr, uint64_t instance, int which);
/* Reads what the pipe has now, unless the buffer is held (at a failed `podman run`). */
void stream_read_now(struct pm *pm, struct stream *s);
/* Releases buffers delivered by the previous poll_events; resumes reading when there is room. */
void streams_release(struct pm *pm);
bool streams_need_release(const struct pm *pm);
void streams_resume(struct pm *pm);
void streams_free(struct pm *pm);

/* ------------------------------------------------------------------ probes */

int probe_start(struct pm *pm, const struct backend_probe_req *req, struct pod_err *err);
int probe_cancel(struct pm *pm, uint64_t tag, struct pod_err *err);
void probe_exec_done(struct pm *pm, struct call *c, const struct call_res *r);
void probe_strategy_done(struct pm *pm, uint64_t tag, enum backend_result r, int code,
                         const char *msg);
/* Container ctr's instance ended: probes about it that wait for a cancel scan can finish. */
void probe_tick(struct pm *pm, int64_t now);
int64_t probe_next_deadline(const struct pm *pm);
void probes_free(struct pm *pm);
/* The cancel scan (SPEC 7.8 'Cancel'), with its /proc root and its way to kill injectable. */
enum probe_mark {
    PROBE_MARK_NO,     /* its environment was read: no marker */
    PROBE_MARK_YES,    /* the marker is there */
    PROBE_MARK_GONE,   /* the process is gone (ENOENT, ESRCH) */
    PROBE_MARK_UNKNOWN /* could not tell (EACCES, EPERM, any other error) */
};
enum probe_mark probe_mark_of_errno(int e);
/* What <proc>/<pid>/environ says about marker (NAME=VALUE); *errnum: why UNKNOWN/GONE. */
enum probe_mark probe_environ_mark(const char *proc, long long pid, const char *marker,
                                   int *errnum);
/* The start time of pid (<proc>/<pid>/stat field 22, clock ticks since boot); -1 + errno. */
int probe_start_ticks(const char *proc, long long pid, unsigned long long *ticks);
/* Now in the same unit (CLOCK_BOOTTIME, rounded down); 0 when unknown. */
unsigned long long probe_boot_ticks(void);
struct probe_scan_ops {
    int (*open)(void *self, long long pid); /* a handle (>= 0) on the process; -1: gone */
    int (*kill)(void *self, int h);         /* SIGKILL: 0, or -1 + errno (ESRCH: gone) */
    void (*close)(void *self, int h);
    void *self;
};
struct probe_scan_res {
    int killed;             /* processes with the marker, killed */
    int failed, fail_errno; /* ... whose kill was refused */
    int unknown;            /* environment unreadable, started since since_ticks (or unknown) */
    int unknown_errno;      /* why (the last one) */
    int older;              /* environment unreadable, started before since_ticks: not its */
};
/* Kills every process in the pid namespace of pid (<proc>/<pid>/ns/pid; a process whose ns
 * cannot be read may be in it unless its uid is outside pid's uid_map or its cgroup is not
 * pid's) whose environment has marker,
 * and counts those it could not check.  since_ticks 0: no process is known older than the
 * request.  0 (res filled), -1 when the scan cannot be done (err). */
int probe_scan_marked(const char *proc, int pid, const char *marker, unsigned long long since_ticks,
                      const struct probe_scan_ops *ops, struct probe_scan_res *res,
                      struct pod_err *err);
/* The rule for a cancel whose scans fail only because processes could not be checked (SPEC 7.8
 * 'Cancel'), fed every scan: *unknown_since_ms (-1 at first) is when such scans began, reset by
 * any other outcome (only_unknown false: a clean scan, a refused kill, a scan that could not be
 * done).  True once they have gone on for 60 s: the cancel is then accepted with a warning. */
bool probe_cancel_unknown_rule(int64_t *unknown_since_ms, bool only_unknown, int64_t now_ms);

/* ------------------------------------------------------------------ the infra container */
enum infra_state {
    IW_NONE = 0, /* not known: looked up after the next start of a container of the pod */
    IW_LOOKUP,   /* the listing of the pod's containers runs */
    IW_ARMED,    /* pidfd of the infra's PID 1 in the loop */
    IW_DOWN,     /* INFRA_DOWN reported: nothing more until the pod is made anew */
};
struct infra {
    enum infra_state st;
    int pid, pidfd;
    bool recreate;      /* the next pod_create removes the pod first (its infra is down) */
    bool after_failure; /* the lookup was asked by a failed start */
};
/* Container ctr of the pod (not `network: host`) started, or failed to start: learn the
 * infra's PID 1 when it is not known (a failed start: also whether the infra runs at all). */
void infra_want(struct pm *pm, size_t ctr, bool failed);
void infra_lookup_done(struct pm *pm, struct call *c, const struct call_res *r);
/* The podman pod was made anew (ok) or that failed: the infra is looked up again. */
void infra_reset(struct pm *pm);
void infra_free(struct pm *pm);

/* ------------------------------------------------------------------ the warm standby */
enum warm_state {
    W_NONE = 0,
    W_CREATING,   /* `podman create` runs */
    W_INITING,    /* `podman init` runs, its stdout/stderr on the standby's log pipes */
    W_INSPECTING, /* `podman container inspect`: its id (passthrough: create prints none) */
    W_READY,      /* initialised: `podman start` runs it */
};
struct warm {
    enum warm_state st;
    uint64_t instance; /* the instance it becomes (its podc.instance label) */
    uint64_t gen;      /* calls carry it (tag): an older one is stale */
    char *id;          /* from `podman container inspect` */
    int rfd[2];        /* INITING, READY: the read ends of its log pipes, -1 */
    int failures;      /* in a row: none is made after 3 (by this daemon) */
};
/* Whether container ctr keeps a warm standby (warmStandby, restarts, not `network: host`). */
bool warm_enabled(const struct pm *pm, size_t ctr);
/* An instance of ctr runs (started or adopted): make its standby if it has none. */
void warm_want(struct pm *pm, size_t ctr);
/* Starts instance through the standby: true when taken (STARTED/START_FAILED follow). */
bool warm_start(struct pm *pm, size_t ctr, uint64_t instance);
void warm_call_done(struct pm *pm, struct call *c, const struct call_res *r);
/* A listed container e that may be a standby of ctr (name <name>-standby, not ours): one that
 * runs while the canonical one does not is adopted as the instance (true: e is it; then
 * renamed); any other is removed (false). */
bool warm_listed(struct pm *pm, size_t ctr, const struct podman_ctr_info *e, bool canonical_runs);
/* The pod was removed: its standbys went with it. */
void warm_forget_all(struct pm *pm);
/* An operator's rerun of ctr: its standby (made from the image of then) is removed. */
void warm_renew(struct pm *pm, size_t ctr);
/* The daemon ends: removes every standby, waiting (bounded) for podman. */
void warm_teardown(struct pm *pm);
void warm_free(struct pm *pm);
/* How podman calls address ctr's instance: its id when it came from a standby, else its name. */
const char *pm_ref(const struct pm *pm, size_t ctr);

/* ------------------------------------------------------------------ the backend */

struct pctr {
    char *name; /* <ctr>-<pod>-<version> */
    /* what inspect answers (SPEC 7.8: the cache) */
    bool exists, running;
    uint64_t instance;
    int exit_code;
    int64_t started_wall_ns, finished_wall_ns;
    uint64_t gen;      /* pm->gen at the last local change */
    uint64_t starting; /* instance whose `podman run` is queued or running, 0 = none */
    bool serial_busy;  /* a serial call for it runs */
    bool left_behind;  /* a failed start may have left a container of that name */
    char *ref;         /* the id of an instance started from its standby; NULL: by name */
    bool renaming;     /* ... not yet renamed to name: listings skip ctr */
    struct warm w;
};

struct qev {
    struct backend_event ev;
    struct stream *s; /* OUTPUT: its buffer */
};

struct pm {
    struct podman_cfg cfg;
    struct podman_argv_ctx actx;
    const struct pod_spec *spec;
    char *podman;
    size_t n;
    struct pctr *c;
    uint64_t gen;
    /* calls */
    struct call *q_head, *q_tail;
    struct call *failed; /* could not be started: completed by call_tick */
    bool pod_busy;       /* a pod-level call (pod create/rm) runs: containers wait */
    struct call **run;
    size_t n_run, cap_run;
    int n_exec_run, max_parallel;
    bool pumping;
    /* events */
    struct qev *q;
    size_t ev_head, ev_len, ev_cap;
    /* exit sources, streams, probes */
    struct esrc **es;
    size_t n_es, cap_es;
    struct stream **str;
    size_t n_str, cap_str;
    struct probe **pr;
    size_t n_pr, cap_pr;
    struct infra infra;
    /* listing */
    bool listed, listing;
    int listing_failures;
    int64_t listing_at;
    struct podman_stats st;
};

int64_t pm_now(const struct pm *pm);
int64_t pm_wall(const struct pm *pm);
/* Queues an event (msg may be NULL). */
struct backend_event *pm_event(struct pm *pm, enum backend_event_type t, size_t ctr,
                               uint64_t instance, const char *msg);
void pm_event_output(struct pm *pm, struct stream *s);
void pm_call_failed(struct pm *pm, enum backend_op op, size_t ctr, uint64_t instance, uint64_t tag,
                    int sig, const char *fmt, ...) POD_PRINTF(7, 8);
/* `podman run`/`start` of instance `c->instance` succeeded (id: the container's, or NULL). */
void pm_run_ok(struct pm *pm, struct call *c, const char *id);
void pm_start_failed(struct pm *pm, size_t ctr, uint64_t instance, const char *msg);
/* The cache says: instance of ctr is being started (its run or start was submitted). */
void pm_starting(struct pm *pm, size_t ctr, uint64_t instance);
bool pm_mentions(const char *a, const char *b, const char *what);
/* Two pipes (O_CLOEXEC) for an instance's stdout and stderr: p[s][0] read, p[s][1] write. */
int pm_log_pipes(int p[2][2], struct pod_err *err);
/* ctr's cache changed here (listings asked before it do not overwrite it). */
void pm_touch(struct pm *pm, struct pctr *k);
/* The first inspect of a started instance: its id and start time for the cache. */
void pm_started_info(struct pm *pm, size_t ctr, uint64_t instance,
                     const struct podman_ctr_info *in);
/* An instance exited: EXITED event, cache, exec strategy. */
void pm_exited(struct pm *pm, size_t ctr, uint64_t instance, int code, int64_t finished_wall_ns,
               const char *msg);
/* Copies src into dst[cap] (truncated, always terminated). */
static inline void pm_strlcpy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}
/* Adds p to a growable pointer array. */
void pm_ptr_push(void ***v, size_t *n, size_t *cap, void *p);
void pm_ptr_remove(void **v, size_t *n, void *p);

#endif
