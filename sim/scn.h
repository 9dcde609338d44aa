/* SPDX-License-Identifier: MIT */
/* scn.h - the simulator's scenario: the model of one `.scn` file and its parser.
 *
 * A scenario names a pod spec (inline or a pod.yaml path), scripts the simulated containers
 * (start latency, exits, output, probe results), injects faults (failing/hanging/slow podman
 * calls, lost/duplicated events, disk full, crash during rotation, daemon crashes), lists user
 * actions at times and the expectations (the golden trace lives next to the file).  The format
 * is documented in sim/README.md.
 * The parser is pure (no I/O): it takes the text and a file name for diagnostics and reports
 * the first problem as "file:line:col: message".  Input is bounded (SCN_MAX_*) because it is
 * fuzzed.  Ownership: scn_free releases a struct scn and everything it holds.
 */
#ifndef POD_SIM_SCN_H
#define POD_SIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"

#define SCN_MAX_BYTES (256u * 1024u)
#define SCN_MAX_LINE 1024
#define SCN_MAX_CTRS 32
#define SCN_MAX_RULES 512
#define SCN_MAX_FAULTS 256
#define SCN_MAX_ACTIONS 1024
#define SCN_MAX_EXPECTS 512
#define SCN_MAX_VARS 64
#define SCN_MAX_TIME_MS (31LL * 24 * 3600 * 1000) /* 31 days */

/* Selects when a rule or fault applies.  Zeroed = always (scn_filter_any sets the defaults). */
struct scn_filter {
    int64_t from_ms, to_ms;    /* simulated time window [from, to) */
    uint64_t inst_lo, inst_hi; /* container instances (1-based, inclusive) */
    uint64_t att_lo, att_hi;   /* probe attempts per (instance, role), 1-based, inclusive */
    uint64_t nth_lo, nth_hi;   /* faults: the matching calls/events, 1-based, inclusive */
    unsigned p_milli;          /* faults: probability in 1/1000 (1000 = always) */
};

/* Container behaviour rules; for each question the LAST matching rule wins. */
enum scn_rule_kind {
    SCN_R_LATENCY = 1, /* start-latency D */
    SCN_R_EXIT,        /* exit C after D */
    SCN_R_FOREVER,     /* run forever */
    SCN_R_START_FAIL,  /* start-fail (the image cannot run: START_FAILED) */
    SCN_R_OUTPUT,      /* stdout|stderr N/s [bytes B] */
    SCN_R_PARTIAL,     /* partial-line: an unterminated last line before each exit */
    SCN_R_ON_TERM,     /* on-term exit C after D | on-term ignore */
    SCN_R_PROBE,       /* probe ROLE pass|fail|hang [after D] [code C] */
};

enum scn_result { SCN_PASS = 0, SCN_FAIL, SCN_HANG };

/* Probe roles as written in scenarios (numbered like enum sup_probe_role). */
enum scn_role {
    SCN_ROLE_STARTUP = 0,
    SCN_ROLE_READINESS,
    SCN_ROLE_LIVENESS,
    SCN_ROLE_EXEC,
    SCN_ROLE_ANY
};

struct scn_rule {
    enum scn_rule_kind kind;
    int line;
    enum scn_role role;     /* PROBE */
    enum scn_result result; /* PROBE */
    int code;               /* EXIT, ON_TERM, PROBE (fail exit code) */
    int64_t dur_ms;         /* EXIT/ON_TERM after, LATENCY, PROBE after */
    int stream;             /* OUTPUT: 0 stdout, 1 stderr */
    unsigned per_s;         /* OUTPUT: lines per second */
    unsigned bytes;         /* OUTPUT: bytes per line incl. newline */
    bool ignore;            /* ON_TERM ignore */
    struct scn_filter f;
};

struct scn_ctr {
    char *name;
    int line, col;
    size_t spec_idx; /* set by the runner once the spec is loaded */
    struct scn_rule *rules;
    size_t n_rules;
};

enum scn_op {
    SCN_OP_POD_CREATE = 0,
    SCN_OP_START,
    SCN_OP_STOP,
    SCN_OP_KILL,
    SCN_OP_REMOVE,
    SCN_OP_PROBE,
    SCN_OP_CANCEL,
    SCN_OP_INSPECT,
    SCN_OP_EVENT, /* backend events (lose/dup) */
    SCN_OP_DISK,  /* the file system (full / fail / crash) */
    SCN_OP_COUNT_,
};

enum scn_fault_kind {
    SCN_F_FAIL = 0,     /* the call fails at once (returns -1) */
    SCN_F_HANG,         /* the call never completes */
    SCN_F_SLOW,         /* the call completes dur_ms late */
    SCN_F_LOSE,         /* event: never delivered */
    SCN_F_DUP,          /* event: delivered twice */
    SCN_F_FULL,         /* disk: no space (ENOSPC) during the window */
    SCN_F_CRASH_ROTATE, /* disk: the daemon crashes in the middle of the nth rotation */
    SCN_F_FAIL_ASYNC,   /* the call returns 0, does nothing, and dur_ms later the backend
                           reports BACKEND_EV_CALL_FAILED (pod-create, stop, kill, remove,
                           cancel) */
};

/* Event types a lose/dup fault may select (0 = any). */
enum scn_ev {
    SCN_EV_ANY = 0,
    SCN_EV_STARTED,
    SCN_EV_START_FAILED,
    SCN_EV_EXITED,
    SCN_EV_EXEC_DONE,
    SCN_EV_OUTPUT,
    SCN_EV_CALL_FAILED,
};

struct scn_fault {
    enum scn_op op;
    enum scn_fault_kind kind;
    int64_t dur_ms; /* SLOW, FAIL_ASYNC (after) */
    char *ctr;      /* NULL = any container */
    size_t ctr_idx; /* set by the runner */
    enum scn_ev ev; /* EVENT */
    unsigned step;  /* CRASH_ROTATE: fs call within the rotation after which to crash (1..) */
    struct scn_filter f;
    int line;
};

enum scn_act_kind {
    SCN_A_START = 1,     /* pod start */
    SCN_A_STOP,          /* pod stop */
    SCN_A_KILL,          /* pod kill */
    SCN_A_SIGNAL,        /* pod signal [ctr] */
    SCN_A_RELOAD,        /* reload-configs VOL... */
    SCN_A_RERUN,         /* rerun ctr */
    SCN_A_CONFIG_CHANGE, /* config-change VOL [checksum-file] [managed] */
    SCN_A_CRASH,         /* daemon-crash [down D] */
    SCN_A_INFRA_DOWN,    /* infra-down: the pod's infra container dies (a host event) */
};

struct scn_action {
    enum scn_act_kind kind;
    int64_t at_ms;
    char *ctr;                   /* SIGNAL (NULL = all), RERUN */
    char **vols;                 /* RELOAD, CONFIG_CHANGE (NULL-terminated) */
    bool checksum_file, managed; /* CONFIG_CHANGE */
    int64_t down_ms;             /* CRASH */
    int line;
};

enum scn_expect_kind {
    SCN_X_AT = 1, /* expect at T CTR EVENT [text] */
    SCN_X_NO,     /* expect no CTR EVENT [text] [after T] [before T] */
    SCN_X_CMP,    /* expect METRIC... OP VALUE */
};

enum scn_cmp { SCN_EQ = 0, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

struct scn_expect {
    enum scn_expect_kind kind;
    int line;
    int64_t at_ms, after_ms, before_ms;
    char *ctr, *event, *text;
    char *words[4]; /* CMP: metric words */
    size_t n_words;
    enum scn_cmp op;
    char *value;
};

struct scn {
    char *file; /* as given to scn_parse */
    char *name;
    uint64_t seed;
    int64_t run_for_ms;
    bool output_direct; /* output-path direct (no fd holder) */
    bool autostart;     /* `start` at 0 s unless `autostart no` */
    int64_t wall0_s;    /* wall clock at simulated time 0 */
    int64_t output_flush_ms;
    int64_t log_max_bytes; /* 0 = from the spec */
    int log_max_files;     /* 0 = from the spec */
    int64_t reconcile_ms;  /* driver inspect cadence, 0 = driver default */
    char *pod_text;        /* inline spec (NULL when pod_file) */
    size_t pod_len;
    int pod_line;   /* first line of the inline spec in the scenario file */
    char *pod_file; /* path relative to the scenario file */
    int pod_file_line, pod_file_col;
    char **var_names, **var_values;
    size_t n_vars;
    struct scn_ctr *ctrs;
    size_t n_ctrs;
    struct scn_fault *faults;
    size_t n_faults;
    struct scn_action *actions; /* sorted by time (stable) */
    size_t n_actions;
    struct scn_expect *expects;
    size_t n_expects;
};

void scn_filter_any(struct scn_filter *f);
bool scn_filter_match(const struct scn_filter *f, int64_t now_ms, uint64_t instance,
                      uint64_t attempt);

/* Parses a scenario.  On error returns -1 and err->msg is "file:line:col: message". */
int scn_parse(const char *text, size_t len, const char *file, struct scn **out,
              struct pod_err *err) POD_WUR;
void scn_free(struct scn *s);

/* Parses a duration/time such as "12s", "1.5s", "250ms", "5m", "2h", "1d", "12.000s". */
bool scn_parse_duration(const char *s, int64_t *ms);
const char *scn_op_name(enum scn_op op);
const char *scn_role_name(enum scn_role r);
const char *scn_ev_name(enum scn_ev e);
struct scn_ctr *scn_find_ctr(const struct scn *s, const char *name);

#endif
