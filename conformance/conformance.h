/* SPDX-License-Identifier: MIT */
/* conformance.h - internal interfaces of pod-conformance, the Pod API conformance runner.
 *
 * The runner tests a Pod API executable from the outside, the way simplenetesd and sns drive
 * it (SPEC.md section 11, conformance/README.md).  Four parts, one file each:
 *   case_parse.c       the corpus format (conformance/cases/ *.case) -> struct cf_case
 *   proc.c             subreaper, invocation with deadline and pipe-EOF tracking, the process
 *                      tree below the runner, killing and reaping it
 *   tree.c             copying a pod directory, manifests of directory trees
 *   run_conformance.c  command line, executing cases, reporting
 * Ownership: every struct here owns its strings; the *_free functions accept NULL.
 */
#ifndef POD_CONFORMANCE_H
#define POD_CONFORMANCE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/util.h"

/* ---- the case corpus ---- */

enum cf_tier { CF_TIER_MUST, CF_TIER_SHOULD, CF_TIER_MAY };
enum cf_exit { CF_EXIT_ANY, CF_EXIT_ZERO, CF_EXIT_NONZERO };
enum cf_out { CF_OUT_ANY, CF_OUT_EMPTY, CF_OUT_TOKENS, CF_OUT_LINES };
enum cf_procs { CF_PROCS_ANY, CF_PROCS_NONE, CF_PROCS_SAME };
enum cf_cwd { CF_CWD_ROOT, CF_CWD_UNREADABLE, CF_CWD_SCRATCH };
enum cf_step_kind {
    CF_STEP_INVOKE,       /* step: ARGS */
    CF_STEP_WAIT_STATUS,  /* wait: status [SECONDS] */
    CF_STEP_WAIT_ADVANCE, /* wait: status-advance [SECONDS] */
    CF_STEP_CHECK_EXEC,   /* check: executable */
};

struct cf_step {
    enum cf_step_kind kind;
    int line;
    char *args;       /* INVOKE: the words after the executable (may hold ${CONTAINER}) */
    double timeout_s; /* INVOKE: deadline; WAIT_*: longest wait, < 0 = --status-wait */
    double eof_s;     /* INVOKE: how long after exit the output pipes must reach EOF */
    enum cf_exit exit;
    enum cf_out out;
    char *out_re; /* TOKENS/LINES: extended regex each token/line must match */
    regex_t out_rx;
    enum cf_procs procs;
    double procs_within_s; /* NONE: the processes must be gone within this many seconds */
    bool unchanged_pod, unchanged_cwd;
};

struct cf_case {
    char *name;
    char *file;
    int line;
    enum cf_tier tier;
    enum cf_tier tier_nopm; /* tier when the pod ships no pod.portmappings.conf */
    char *evidence;
    char *about;
    enum cf_cwd cwd;
    bool unprivileged;
    struct cf_step *steps;
    size_t nsteps;
};

struct cf_corpus {
    struct cf_case *cases;
    size_t ncases;
};

/* Parses every *.case file of dir (sorted by name) into corpus.  On a syntax error returns -1
 * with "file:line: message" in diag (diag_len bytes). */
int cf_corpus_load(const char *dir, struct cf_corpus *corpus, char *diag, size_t diag_len);
/* Parses one file (appending to corpus). */
int cf_corpus_load_file(const char *path, struct cf_corpus *corpus, char *diag, size_t diag_len);
void cf_corpus_free(struct cf_corpus *corpus);
const char *cf_tier_name(enum cf_tier t);

/* ---- processes ---- */

/* Makes the runner a child subreaper and installs the SIGCHLD self-pipe and the handlers
 * for SIGINT/SIGTERM/SIGHUP (which only set a flag, see cf_interrupted). */
int cf_proc_init(void);
bool cf_interrupted(void);
int64_t cf_now_ms(void);

struct cf_invocation {
    const char *cmd;   /* the string given to sh -c */
    const char *cwd;   /* directory to start in */
    bool chmod_cwd;    /* make cwd mode 000 after entering it (an unreadable cwd) */
    char *const *envp; /* the complete environment */
    bool drop;         /* switch to uid/gid before exec */
    uid_t uid;
    gid_t gid;
    double timeout_s;
    double eof_s;
};

struct cf_outcome {
    bool timed_out; /* still running at the deadline (then killed) */
    bool exited;
    int status; /* wait status */
    bool eof;   /* both pipes reached EOF */
    double exit_s;
    struct pod_buf out, err;
    char holder[256]; /* when !eof: "pid N (comm)" of a process holding the pipe */
};

/* Runs inv, reaping any other descendant that dies meanwhile.  Returns -1 only when the
 * process could not be started (msg says why). */
int cf_invoke(const struct cf_invocation *inv, struct cf_outcome *out, char *msg, size_t msg_len);
void cf_outcome_free(struct cf_outcome *o);

/* A living descendant of the runner (zombies excluded). */
struct cf_proc {
    pid_t pid, ppid;
    unsigned long long start; /* start time in clock ticks (guards against pid reuse) */
    char comm[32];
};
/* All living descendants (*out is malloc'd).  Returns the count. */
size_t cf_descendants(struct cf_proc **out);
/* Only the runner's direct children: the processes that detached and were re-parented to it. */
size_t cf_detached(struct cf_proc **out);
/* Reaps whatever died; waits up to ms milliseconds for SIGCHLD first. */
void cf_reap(int ms);
/* SIGTERM to every descendant, grace_ms to go, then SIGKILL until none is left (bounded). */
void cf_kill_all(int grace_ms);
/* "pid N (comm)" list, comma separated, at most max entries. */
void cf_describe_procs(const struct cf_proc *p, size_t n, size_t max, char *buf, size_t len);

/* ---- directory trees ---- */

/* Copies a pod the way `sns cluster sync` ships a release: the executable, every other
 * top-level non-dot regular file of its directory, and config/ (non-dot entries, recursively)
 * into dst (which exists).  The executable keeps its name. */
int cf_copy_pod(const char *exe, const char *dst, char *msg, size_t msg_len);
/* A manifest: one line per entry "path type mode size digest", sorted.  Byte-identical trees
 * have equal manifests (times are ignored). */
char *cf_manifest(const char *dir);
/* Describes the first difference of two manifests ("`x` created", "`y` changed", ...). */
void cf_manifest_diff(const char *before, const char *after, char *buf, size_t len);
/* Whole small file, NUL-terminated (NULL when unreadable or larger than max). */
char *cf_read_file(const char *path, size_t max);
/* Directory part of path (a new string); last component (a pointer into path). */
/* chown -R (no symlink following). */
int cf_chown_tree(const char *dir, uid_t uid, gid_t gid);
/* rm -rf, making directories writable/searchable first. */
void cf_remove_tree(const char *dir);

#endif
