/* SPDX-License-Identifier: MIT */
/* podman.h - everything the pod knows about podman: the command lines (podman_args.c, pure),
 * the parsers of podman's JSON (podman_json.c, pure) and the asynchronous podman backend
 * (backend_podman.c and its helpers) that implements struct backend_ops on src/proc + src/loop.
 *
 * No shell ever sees a user string: every podman call is an argv array built here, one user
 * string per element.  The argv builders and parsers never do I/O; the backend never blocks
 * (every podman call is a child process with a deadline watched by the loop) and never exits:
 * a failure is an event or a -1 with a message.  SPEC.md 7.8 says what the backend does.
 * Ownership: argv arrays (strv) and parsed records are new and owned by the caller; the
 * backend borrows its cfg strings, spec and loop for its whole life.
 */
#ifndef POD_PODMAN_H
#define POD_PODMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"
#include "pod/spec.h"

/* ------------------------------------------------------------------ command lines */

/* Labels on every podman object the pod creates. */
#define PODMAN_LABEL_POD "podc.pod"             /* <pod>-<version> */
#define PODMAN_LABEL_CONTAINER "podc.container" /* the spec's container name */
#define PODMAN_LABEL_INSTANCE "podc.instance"   /* the supervisor's instance number */
#define PODMAN_LABEL_STANDBY "podc.standby"     /* 1: a warm standby (SPEC 7.8.2) */
#define PODMAN_STANDBY_SUFFIX "-standby"        /* its name: <ctr>-<pod>-<version>-standby */
/* Environment marker of an exec probe run by `podman exec` (found again by cancel). */
#define PODMAN_PROBE_TAG_ENV "PODC_PROBE_TAG"
/* Where containers with an exec probe or a signal cmd see the pod executable and their
 * agent directory (the in-container exec agent). */
#define PODMAN_AGENT_PATH "/.podc/agent"
#define PODMAN_AGENT_RUN "/.podc/run"

struct podman_argv_ctx {
    const struct pod_spec *spec;
    const char *podman;         /* argv[0]; NULL = "podman" */
    const char *pod_dir;        /* absolute pod directory (ramdisk/, config/) */
    const char *exe_path;       /* absolute path of the pod executable (agent mount); NULL =
                                   no agent mounts */
    const char *run_dir;        /* absolute `.<b>.run` directory (agent sockets) */
    const char *host_interface; /* --host-interface IP; NULL or "" = none */
};

/* Each returns a new NULL-terminated argv (pod_strv_free), or NULL with err set. */
char **podman_argv_pod_create(const struct podman_argv_ctx *c, struct pod_err *err) POD_WUR;
char **podman_argv_pod_rm(const struct podman_argv_ctx *c, struct pod_err *err) POD_WUR;
char **podman_argv_pod_exists(const struct podman_argv_ctx *c, struct pod_err *err) POD_WUR;
/* `pod stop -i -t N P`: stops what still runs of the pod (its infra container). */
char **podman_argv_pod_stop(const struct podman_argv_ctx *c, int timeout_s,
                            struct pod_err *err) POD_WUR;
/* `run -d` of container ctr as `instance` (the whole line: SPEC.md 7.8). */
char **podman_argv_run(const struct podman_argv_ctx *c, size_t ctr, uint64_t instance,
                       struct pod_err *err) POD_WUR;
/* `create` of ctr's warm standby, to become `instance` (SPEC 7.8.2): the `run` line with
 * `create` for `run -d`, the name <ctr>-<pod>-<version>-standby and label podc.standby=1. */
char **podman_argv_standby_create(const struct podman_argv_ctx *c, size_t ctr, uint64_t instance,
                                  struct pod_err *err) POD_WUR;
/* `VERB NAME` (init, start). */
char **podman_argv_verb1(const struct podman_argv_ctx *c, const char *verb, const char *name,
                         struct pod_err *err) POD_WUR;
/* `rename NAME TO`. */
char **podman_argv_rename(const struct podman_argv_ctx *c, const char *name, const char *to,
                          struct pod_err *err) POD_WUR;
/* name: a container name or id.  timeout_s >= 0. */
char **podman_argv_stop(const struct podman_argv_ctx *c, const char *name, int timeout_s,
                        struct pod_err *err) POD_WUR;
char **podman_argv_kill(const struct podman_argv_ctx *c, const char *name, int sig,
                        struct pod_err *err) POD_WUR;
char **podman_argv_rm(const struct podman_argv_ctx *c, const char *name,
                      struct pod_err *err) POD_WUR;
char **podman_argv_inspect(const struct podman_argv_ctx *c, const char *name,
                           struct pod_err *err) POD_WUR;
char **podman_argv_wait(const struct podman_argv_ctx *c, const char *name,
                        struct pod_err *err) POD_WUR;
/* `ps -a` of this pod's containers (infra excluded) as JSON. */
char **podman_argv_ps(const struct podman_argv_ctx *c, struct pod_err *err) POD_WUR;
/* `ps -a --filter pod=P` as JSON: every container of the podman pod, the infra included
 * (`IsInfra`): how the backend finds the infra container's PID 1 (SPEC.md 8.11). */
char **podman_argv_infra_ps(const struct podman_argv_ctx *c, struct pod_err *err) POD_WUR;
/* `exec` of argv in container name with the probe-tag marker (tag 0: no marker). */
char **podman_argv_exec(const struct podman_argv_ctx *c, const char *name, uint64_t tag,
                        char *const *argv, struct pod_err *err) POD_WUR;
char **podman_argv_pull(const struct podman_argv_ctx *c, const char *image,
                        struct pod_err *err) POD_WUR;
char **podman_argv_image_exists(const struct podman_argv_ctx *c, const char *image,
                                struct pod_err *err) POD_WUR;
/* Volumes of type `volume` (vol: one of spec->volumes). */
char **podman_argv_volume_create(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                 struct pod_err *err) POD_WUR;
char **podman_argv_volume_exists(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                 struct pod_err *err) POD_WUR;
char **podman_argv_volume_inspect(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                  struct pod_err *err) POD_WUR;
char **podman_argv_volume_rm(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                             struct pod_err *err) POD_WUR;

/* The address a host-side tcp/http probe of container ctr connects to for host_port: the
 * expose entry's hostInterface, else host_interface, else 127.0.0.1 ("0.0.0.0" counts as
 * none).  Returns a string borrowed from the spec / host_interface / a literal. */
const char *podman_probe_host(const struct pod_spec *spec, size_t ctr, int host_port,
                              const char *host_interface);
/* Whether container ctr gets the agent mounts (it has an exec probe or a signal cmd). */
bool podman_ctr_needs_agent(const struct pod_spec *spec, size_t ctr);

/* ------------------------------------------------------------------ JSON */

#define PODMAN_JSON_MAX_BYTES (16u << 20)
#define PODMAN_JSON_MAX_DEPTH 32
#define PODMAN_PS_MAX_ENTRIES 100000

enum podman_state {
    PODMAN_ST_UNKNOWN = 0,
    PODMAN_ST_CREATED, /* created or configured: never started */
    PODMAN_ST_RUNNING, /* running or paused */
    PODMAN_ST_EXITED,  /* exited or stopped */
    PODMAN_ST_OTHER,   /* removing, stopping, ... */
};

/* One container as podman reports it.  Strings are owned (podman_ctr_info_clear). */
struct podman_ctr_info {
    char *id;
    char *name;        /* inspect: Name; ps: Names[0] */
    char *ctr_label;   /* podc.container label, NULL when absent */
    char *pod_label;   /* podc.pod label, NULL when absent */
    uint64_t instance; /* podc.instance label, 0 when absent or not a number */
    enum podman_state state;
    int exit_code;            /* valid when EXITED */
    int pid;                  /* State.Pid / Pid (0 when not running) */
    int conmon_pid;           /* inspect only; 0 when unknown */
    bool is_infra;            /* ps only: `IsInfra` (the podman pod's infra container) */
    int64_t started_wall_ns;  /* 0 = never */
    int64_t finished_wall_ns; /* 0 = never */
};
void podman_ctr_info_clear(struct podman_ctr_info *i);

/* `container inspect --format json` output.  *found is false for `[]` (no such container;
 * out is then zeroed).  -1 on malformed or hostile input. */
int podman_parse_inspect(const char *json, size_t len, struct podman_ctr_info *out, bool *found,
                         struct pod_err *err) POD_WUR;
/* `ps -a --format json` output: a new array of *n entries (podman_ctr_infos_free). */
int podman_parse_ps(const char *json, size_t len, struct podman_ctr_info **out, size_t *n,
                    struct pod_err *err) POD_WUR;
void podman_ctr_infos_free(struct podman_ctr_info *v, size_t n);
/* RFC 3339 with 0-9 fraction digits and `Z` or a numeric offset -> Unix ns; the zero time
 * `0001-01-01T00:00:00Z` (and anything before 1970) gives 0 ("never").  -1 when malformed. */
int podman_parse_time(const char *s, int64_t *wall_ns);
/* `podman wait` output ("N\n") -> exit code; -1 when malformed. */
int podman_parse_wait(const char *out, int *code);
/* The message of a failed podman call: the last `Error: ...` line of stderr (else its last
 * non-empty line), trimmed, at most cap-1 bytes. */
void podman_error_line(const char *stderr_text, size_t len, char *buf, size_t cap);

/* ------------------------------------------------------------------ the backend */

/* An alternative way to run exec probes and signal commands inside a container (the
 * in-container agent).  The backend offers every EXEC request to it first. */
struct podman_exec_ops {
    /* 0: taken (the strategy reports with backend_podman_exec_done), 1: declined (the backend
     * runs `podman exec` itself), -1: failed (err; reported as UNKNOWN). */
    int (*start)(void *self, const struct backend_probe_req *req, const char *ctr_name,
                 struct pod_err *err);
    /* Stops request tag inside the container (0: done or under way). */
    int (*cancel)(void *self, uint64_t tag, struct pod_err *err);
    /* Container instance ctr started (pid of its PID 1, 0 if unknown; id: its container id when
     * it is addressed by id, i.e. it came from a warm standby (SPEC 7.8.2); NULL: by its name)
     * or ended (pid -1). */
    void (*instance)(void *self, size_t ctr, uint64_t instance, int pid, const char *id);
    int64_t (*next_deadline)(void *self); /* mono ms or INT64_MAX */
    void (*tick)(void *self);             /* called from poll_events */
    void (*free)(void *self);
};
struct podman_exec_strategy {
    const struct podman_exec_ops *ops; /* NULL = `podman exec` only */
    void *self;
};

struct podman_cfg {
    const struct pod_spec *spec;
    struct loop *loop;
    struct clk clk;
    const char *pod_dir;        /* absolute */
    const char *exe_path;       /* absolute; NULL = no agent mounts */
    const char *run_dir;        /* absolute `.<b>.run` */
    const char *host_interface; /* NULL = none */
    const char *podman;         /* NULL: $POD_PODMAN, else "podman" from PATH */
    int max_parallel;           /* podman children at once; 0 = 6 */
    int64_t refresh_ms;         /* listing refresh period; 0 = 300000; < 60000 = 60000 */
    int64_t max_call_ms;        /* caps every podman call's deadline (tests); 0 = defaults */
    /* Log pipe read ends: hold_fd is called for each new one (the fd stays the backend's: the
     * hook copies it, e.g. SCM_RIGHTS to the fd holder, and never closes it); drop_fd when the
     * backend closed it at EOF.  key = ctr/instance/stream.  Both may be NULL. */
    void (*hold_fd)(void *self, size_t ctr, uint64_t instance, int stream, int fd);
    void (*drop_fd)(void *self, size_t ctr, uint64_t instance, int stream);
    void *hold_self;
    /* Reading container output pauses while this returns false (the log pump is full);
     * backend_podman_output_resume() resumes it.  NULL = always room. */
    bool (*output_room)(void *self);
    void *room_self;
    struct podman_exec_strategy exec;
};

/* Timings (ms) of the backend; SPEC.md 7.8. */
#define PODMAN_RUN_TIMEOUT_MS 120000
#define PODMAN_PULL_TIMEOUT_MS 240000
#define PODMAN_SHORT_TIMEOUT_MS 30000 /* inspect, kill, ps, exists */
#define PODMAN_WAIT_TIMEOUT_MS 60000
#define PODMAN_STOP_MARGIN_MS 30000 /* stop/rm: stop timeout + this */
#define PODMAN_EXIT_RETRY_MAX_MS 5000
#define PODMAN_OUT_BUF 65536
/* A log pipe that a read finds full (PODMAN_OUT_BUF bytes) grows to PODMAN_PIPE_BURST bytes,
 * so a fast writer runs ahead of the reader instead of blocking every 64 KiB; once reads find
 * it nearly empty (< PODMAN_PIPE_CALM bytes) for PODMAN_PIPE_SHRINK_MS after it grew, it goes
 * back to the kernel's default (SPEC 7.8 "Pipe size"). */
#define PODMAN_PIPE_BURST (1 << 20)
#define PODMAN_PIPE_DEFAULT 65536
#define PODMAN_PIPE_CALM 4096
#define PODMAN_PIPE_BUSY 16384
#define PODMAN_PIPE_SHRINK_MS 5000

int backend_podman_new(const struct podman_cfg *cfg, struct backend *out,
                       struct pod_err *err) POD_WUR;
void backend_podman_free(struct backend *be);
/* A log pipe read end handed back by the fd holder after a daemon restart (ownership moves to
 * the backend). */
void backend_podman_adopt_pipe(struct backend *be, size_t ctr, uint64_t instance, int stream,
                               int fd);
/* The log pump has room again: resume reading paused pipes. */
void backend_podman_output_resume(struct backend *be);
/* An exec strategy's result for tag (ignored when tag was cancelled or is unknown). */
void backend_podman_exec_done(struct backend *be, uint64_t tag, enum backend_result r, int code,
                              const char *msg);

/* Counters for tests and the bench. */
struct podman_stats {
    uint64_t calls, calls_failed, calls_timed_out, max_running;
    uint64_t armed, pidfd_exits, wait_fallbacks, pidfd_signals, kill_fallbacks;
    uint64_t exit_files, listings, pulls, cancel_kills, replace_lines, confirm_retries;
    uint64_t pipe_grows, pipe_shrinks, pipe_grow_refused;
    /* warm standbys made ready, started, failed; preparing calls ended by a start (7.8.2) */
    uint64_t warm_ready, warm_starts, warm_failures, warm_killed;
    int64_t last_exit_confirm_ms; /* PID 1 gone (pidfd) -> EXITED queued, the last one */
};
void backend_podman_stats(const struct backend *be, struct podman_stats *out);

/* Container ctr's warm standby as `ps` shows it (SPEC 7.2, 7.8.2): NULL when ctr keeps none
 * (warmStandby off, `restart: never`, `network: host`); "ready" (initialised: the next start
 * takes it), "preparing" (its create, init or inspect runs), "none" (not made: the instance
 * does not run, or its start from the standby awaits the rename) or "off" (three failed
 * preparations in a row: this daemon makes no more). */
const char *backend_podman_standby(const struct backend *be, size_t ctr);

/* The pipe-size policy: what a stream's pipe should be after a read of nread bytes (n > 0),
 * given its size now (0: the default) and when it last grew.  Returns the new size, or 0 to
 * keep it. */
size_t podman_pipe_resize(size_t now_size, size_t nread, int64_t grown_at_ms, int64_t now_ms);

/* Whether cmdline (len bytes of NUL-terminated arguments: a conmon's /proc/PID/cmdline) names
 * an exec session's OCI process spec (`--exec-process-spec FILE`) whose JSON holds the string
 * marker ("NAME=VALUE") as a whole JSON string: the `podman exec` it runs was marked (7.8). */
bool podman_exec_spec_has(const char *cmdline, size_t len, const char *marker);

extern const struct backend_ops backend_podman_ops;

#endif
