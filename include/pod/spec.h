/* SPDX-License-Identifier: MIT */
/* spec.h - the validated pod model (struct pod_spec) and the podc front end that builds it.
 *
 * Front end, one call (spec_compile): .env and preprocessing (spec_pp.c) -> spec_parse (libyaml,
 * keeps line:col of every node) -> spec_validate (pure; reports ALL problems as diagnostics,
 * never stops at the first) -> paths resolved and files checked (spec_fscheck.c).
 * The model is plain data: every string and array is owned by the struct that holds it and
 * released by spec_free().  A zeroed struct is a valid empty value.  Defaults are filled in by
 * the validator (from spec_defaults_*, their only copy), so consumers (emit, runtime,
 * supervisor, simulator) never re-derive them.
 * Units: every *_s field is seconds, every *_ms field milliseconds.
 */
#ifndef POD_SPEC_H
#define POD_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"

/* ------------------------------------------------------------------ diagnostics */

enum spec_sev { SPEC_SEV_ERROR, SPEC_SEV_WARNING };

struct spec_diag {
    enum spec_sev sev;
    int line, col; /* 1-based, into the file the user wrote; 0 = no position */
    char *path;    /* e.g. "containers[0].restart", may be "" */
    char *msg;
    char *file; /* NULL = the spec's file; else e.g. the .env file (pp_parse_env) */
};

struct spec_diags {
    struct spec_diag *v;
    size_t n, cap;
    size_t n_errors, n_warnings;
};

void spec_diag_add(struct spec_diags *d, enum spec_sev sev, int line, int col, const char *path,
                   const char *fmt, ...) POD_PRINTF(6, 7);
/* Like spec_diag_add, for a diagnostic about another file (e.g. "pod.env"). */
void spec_diag_add_file(struct spec_diags *d, const char *file, enum spec_sev sev, int line,
                        int col, const char *path, const char *fmt, ...) POD_PRINTF(7, 8);
/* Stable sort: diagnostics about other files first (in order), then by (line, col). */
void spec_diags_sort(struct spec_diags *d);
/* Formats one diagnostic as "file:line:col: error: path: message" (no newline); new string.
 * dg->file, when set, replaces file.
 * Without a position: "file: error: path: message"; empty path: "file:l:c: error: message". */
char *spec_diag_format(const char *file, const struct spec_diag *dg);
void spec_diags_free(struct spec_diags *d);

/* ------------------------------------------------------------------ the model */

enum spec_runtime { SPEC_RUNTIME_PODMAN = 0, SPEC_RUNTIME_EXECUTABLE };

enum spec_vol_type { SPEC_VOL_VOLUME = 0, SPEC_VOL_RAMDISK, SPEC_VOL_CONFIG, SPEC_VOL_HOST };

enum spec_shared { SPEC_SHARED_NO = 0, SPEC_SHARED_POD, SPEC_SHARED_HOST };

enum spec_restart {
    SPEC_RESTART_NEVER = 0, /* the default, as in the original */
    SPEC_RESTART_ALWAYS,
    SPEC_RESTART_ON_CONFIG,
    SPEC_RESTART_ON_INTERVAL, /* interval in restart_interval_s */
    SPEC_RESTART_ON_FAILURE,
};

/* Container kind (extension `kind:`): init containers run to completion in order before the
 * main containers; sidecars start before and stop after the main containers. */
enum spec_ctr_kind { SPEC_CTR_MAIN = 0, SPEC_CTR_INIT, SPEC_CTR_SIDECAR };

enum spec_probe_kind {
    SPEC_PROBE_NONE = 0,
    SPEC_PROBE_EXEC, /* cmd: run inside the container (podman exec) */
    SPEC_PROBE_EXIT, /* startupProbe.exit: true: wait for exit code 0 */
    SPEC_PROBE_TCP,  /* extension tcpSocket: host-side connect */
    SPEC_PROBE_HTTP, /* extension httpGet: host-side HTTP GET, 200-399 is success */
};

struct spec_kv {
    char *name;
    char *value;
};

struct spec_volume {
    char *name;
    enum spec_vol_type type;
    char *size;              /* ramdisk: e.g. "10M" (always <digits>M after validation) */
    enum spec_shared shared; /* volume */
    bool encrypted;          /* config: refused by the validator (not implemented) */
    char *bind;              /* host: absolute path after validation (relative ones made absolute
                                against srcdir, podc -d) */
    int line, col;
};

struct spec_mount {
    char *dest;   /* absolute path inside the container */
    char *volume; /* name of a declared volume */
};

struct spec_probe {
    enum spec_probe_kind kind;
    char **cmd;    /* EXEC: argv, NULL-terminated */
    int timeout_s; /* legacy `timeout`: startup = overall deadline (default 120);
                      readiness/liveness = per-attempt timeout (default 120) */
    /* Kubernetes knobs (extensions).  Defaults keep original pod.yaml semantics; see SPEC.md. */
    int initial_delay_s;
    int period_s;
    int attempt_timeout_s; /* timeoutSeconds; defaults from timeout_s */
    int success_threshold;
    int failure_threshold;
    int port;        /* TCP/HTTP: the container's targetPort (must be exposed with a hostPort) */
    int host_port;   /* TCP/HTTP: resolved hostPort the host-side probe connects to */
    char *http_path; /* HTTP: request path, default "/" */
    char **signal_targets; /* startupProbe.signal: container names to signal after startup */
};

struct spec_ingress {
    char *protocol; /* http | https | tcp */
    int bind;       /* 0 = default (80 http / 443 https); required for tcp */
    char *domain;   /* space-separated words, may be NULL */
    int weight;     /* default 100 */
    char *path, *path_beg, *path_end;
    bool redirect_to_https;
    char *redirect_location;
    char *redirect_prefix;
    char *errorfile; /* "CODE PATH" */
};

struct spec_expose {
    int target_port;      /* 0 for the executable runtime */
    int host_port;        /* 0 = none */
    char *host_interface; /* NULL = from --host-interface / podman default */
    int cluster_port;     /* 0 = none */
    int max_conn;         /* default 4096 */
    bool send_proxy;      /* default false */
    struct spec_ingress *ingress;
    size_t n_ingress;
};

struct spec_backoff {
    int initial_ms;       /* first restart delay, default 1000 */
    int max_ms;           /* cap, default 300000 */
    int reset_s;          /* running/ready this long resets the backoff, default 600 */
    int give_up_count;    /* 0 = never give up */
    int give_up_window_s; /* N failures within this window -> give up, default 600 */
};

struct spec_container {
    char *name;
    enum spec_ctr_kind kind;
    char *image;
    char **command; /* NULL = image ENTRYPOINT */
    char **args;    /* NULL = image CMD */
    char *working_dir;
    struct spec_kv *env;
    size_t n_env;
    enum spec_restart restart;
    int restart_interval_s; /* on-interval:x */
    char *signal_sig;       /* e.g. "HUP" (without SIG prefix), NULL = none */
    char **signal_cmd;      /* argv, NULL = none; exclusive with signal_sig */
    struct spec_mount *mounts;
    size_t n_mounts;
    struct spec_probe startup, readiness, liveness;
    struct spec_expose *expose;
    size_t n_expose;
    bool network_host;  /* network: host (original 0.4.0) */
    int stop_timeout_s; /* graceful stop before kill, default 10 */
    bool warm_standby;  /* podman: keep an initialised next instance (SPEC 7.8.2) */
    struct spec_backoff backoff;
    int line, col;
};

struct spec_logcfg {
    int64_t max_bytes; /* rotate at this size, default 10 MiB */
    int max_files;     /* rotated files kept per stream, default 5 */
};

struct pod_spec {
    char *api; /* "1.0.0-beta1" | "1.0.0-beta2" */
    enum spec_runtime runtime;
    char *name;    /* pod name (podc's positional argument) */
    char *version; /* podVersion */
    struct spec_kv *labels;
    size_t n_labels;
    struct spec_volume *volumes;
    size_t n_volumes;
    struct spec_container *containers;
    size_t n_containers;
    /* runtime: executable */
    char *exec_file; /* absolute path of executable.file (resolved against srcdir) */
    struct spec_expose *exec_expose;
    size_t n_exec_expose;
    /* pod-level extensions */
    int config_debounce_ms; /* default 250 (configDebounceSeconds 0.25) */
    struct spec_logcfg logs;
};

void spec_free(struct pod_spec *s); /* frees contents and s; NULL is fine */

/* The defaults of SPEC.md sections 4 and 5 (spec_defaults.c, their only copy).  Each sets the
 * whole struct: the defaults, and zero/NULL for everything else (an empty name, no lists).  The
 * validator starts from them; code that builds a model by hand (tests) should too. */
void spec_defaults_pod(struct pod_spec *s);             /* configDebounceSeconds, logs */
void spec_defaults_container(struct spec_container *c); /* kind, restart, stopTimeout,
                                                           restartBackoff, the three probes */
void spec_defaults_expose(struct spec_expose *e);       /* maxConn, sendProxy */
void spec_defaults_ingress(struct spec_ingress *r);     /* weight */

const char *spec_restart_name(enum spec_restart r);
const char *spec_vol_type_name(enum spec_vol_type t);
const char *spec_shared_name(enum spec_shared s);
const char *spec_ctr_kind_name(enum spec_ctr_kind k);
const char *spec_probe_kind_name(enum spec_probe_kind k);

/* Names derived from the model (new strings). */
char *spec_pod_fullname(const struct pod_spec *s);                 /* "<name>-<ver>" */
char *spec_container_fullname(const struct pod_spec *s, size_t i); /* "<ctr>-<name>-<ver>" */
char *spec_volume_fullname(const struct pod_spec *s, const struct spec_volume *v);
const struct spec_volume *spec_find_volume(const struct pod_spec *s, const char *name);
int spec_find_container(const struct pod_spec *s, const char *name); /* index or -1 */
/* Whether container c keeps a warm standby (SPEC 7.8.2): `warmStandby: true`, a restart policy
 * other than `never`, not `network: host`. */
bool spec_container_warm(const struct spec_container *c);
/* Canonical, human-readable dump of the whole model (one `path: value` per line, defaults
 * included); used by the golden tests and handy for debugging.  New string. */
char *spec_dump(const struct pod_spec *s);

/* ------------------------------------------------------------------ front end */

/* Name rule for pods, containers and volumes: ^[a-z]([_a-z0-9]*[a-z0-9])?$ */
bool spec_valid_name(const char *s);

/* Maps positions in the preprocessed text back to the user's file (built by the preprocessor
 * stage, read by the parser; private to src/spec).  NULL = identity. */
struct spec_line_map;

/* A source of variables that neither the given variables nor the .env file define (podc -e:
 * the process environment).  Returns NULL for an undefined name. */
typedef const char *spec_lookup_fn(void *self, const char *name);

/* ---- the front door: spec_compile ---- */

/* What the front end reads, as the caller read it: the front end opens no file itself (only
 * spec_compile_opts.check_files looks at the disk).  Borrowed for the duration of the call. */
struct spec_source {
    const char *file; /* the user's pod.yaml, as diagnostics name it */
    const char *text; /* its contents (need not be NUL-terminated) */
    size_t len;
    const char *env_file; /* the .env file, as diagnostics name it; NULL: there is none */
    const char *env_text; /* its contents; used only with preprocess */
    size_t env_len;
};

struct spec_compile_opts {
    const char *pod_name; /* positional pod name (podc [podname]) */
    const char *srcdir;   /* base for relative host binds and executable.file (podc -d) */
    const char *builddir; /* config volumes must exist under <builddir>/config/<name> */
    bool preprocess;      /* podc -p true: .env, ${VAR}, #if blocks; false: the text is YAML */
    const struct spec_kv *vars; /* variables defined before the .env file's (they win) */
    size_t n_vars;
    spec_lookup_fn *env_lookup; /* podc -e: asked for names defined nowhere else; may be NULL */
    void *env_lookup_self;
    bool strict;      /* podc --strict: a warning rejects the spec */
    bool check_files; /* check config dirs / executable.file on disk (podc: true) */
};

/* The whole front end in one call: .env file -> preprocess -> parse -> validate -> resolve
 * paths.  Every diagnostic of every stage goes into diags once, sorted (other files first,
 * then by position).  Preprocessing errors do not stop validation (an undefined variable is
 * substituted as empty), but a validation diagnostic on a line that already has a
 * preprocessing error is left out (it would only repeat it); an input the preprocessor refuses
 * as a whole (too large, a NUL byte) is not validated.  Returns 0 and the model in *out when
 * the spec was accepted (no error; with strict, no warning either), else -1 and *out = NULL.
 * Never prints. */
int spec_compile(const struct spec_source *src, const struct spec_compile_opts *opts,
                 struct spec_diags *diags, struct pod_spec **out);

/* ---- the YAML half alone ---- */

struct spec_opts {
    const char *file;     /* name used in diagnostics (the user's file) */
    const char *pod_name; /* positional pod name */
    const char *srcdir;   /* base for relative host binds and executable.file (podc -d) */
    const char *builddir; /* directory of the output: config volumes must exist under
                             <builddir>/config/<name> */
    const struct spec_line_map *map;
    bool check_files; /* check config dirs / executable.file on disk (podc: true) */
};

/* Limits on hostile input. */
#define SPEC_MAX_INPUT_BYTES (4u * 1024u * 1024u)
#define SPEC_MAX_DEPTH 64

/* What spec_compile does after preprocessing: parses and validates YAML text, resolves paths.
 * For YAML that has no variables (tests, tools); everything else calls spec_compile.  Always
 * fills diags (sorted); returns the model in *out only when there were no errors (warnings
 * allowed).  Returns 0 when *out was set, -1 when the spec was rejected.  Never prints. */
int spec_load(const char *text, size_t len, const struct spec_opts *opts, struct spec_diags *diags,
              struct pod_spec **out);

#endif
