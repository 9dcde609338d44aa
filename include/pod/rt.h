/* SPDX-License-Identifier: MIT */
/* rt.h - the command line's synchronous runtime operations (module rt, src/rt/): images
 * (`download`), volumes (`create-volumes`, `purge`), ramdisks (`create-ramdisks`, the fake
 * ramdisks of `create` and `rm`), `logs` and `shell`, and the one way they run podman.
 *
 * These run in the `pod` command line, not in the daemon: each podman call is a child process
 * from an argv array (pod/podman.h builds them; no shell ever sees a user string) run to its end
 * with a deadline, in the pod directory (rootless podman fails in an unreadable cwd), without
 * LD_PRELOAD/FAKETIME.  Progress and per-item failures are reported with pod_log in the
 * original's words (SPEC.md 7); the functions never exit and never write to stdout (except the
 * `logs` output stream the caller hands in).
 *
 * Errors: 0 ok, -1 with err.  err->code is POD_E_BACKEND when podman could not be run at all
 * (missing, not executable: exit 111 through pod_err_exit_code), POD_E_FAILED when an operation
 * failed (podman refused, a mount failed: exit 1), POD_E_USAGE for a bad command line (100).
 * Ownership: every pointer is borrowed for the call; results named *_free are the caller's.
 */
#ifndef POD_RT_H
#define POD_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pod/err.h"
#include "pod/podman.h"
#include "pod/proc.h"
#include "pod/spec.h"

/* ------------------------------------------------------------------ podman */

struct rt_ctx {
    const struct pod_spec *spec;
    const char *pod_dir; /* absolute pod directory: ramdisk/, log/, the cwd of podman */
    const char *podman;  /* podman binary; NULL: $POD_PODMAN, else "podman" from PATH */
};

/* $POD_PODMAN when set and not empty, else "podman". */
const char *rt_podman_bin(void);
/* The argv builders' context for c (podman = rt_podman_bin() when c->podman is NULL). */
void rt_argv_ctx(const struct rt_ctx *c, struct podman_argv_ctx *out);

#define RT_PODMAN_SHORT_MS 30000 /* exists, create, rm, inspect */

/* Runs one podman command line to its end: cwd pod_dir, stdin /dev/null, stdout and stderr
 * captured, LD_PRELOAD/FAKETIME stripped, own session (killed as a group at the deadline).
 * 0 when it ran (res filled, whatever its exit code; proc_result_free it), -1 POD_E_BACKEND
 * when it could not be started. */
int rt_podman_run(const struct rt_ctx *c, char *const *argv, int64_t timeout_ms,
                  struct proc_result *res, struct pod_err *err) POD_WUR;
/* "exited N" / "timed out after N s" / podman's `Error: ...` line, for messages. */
void rt_podman_why(const struct proc_result *res, char *buf, size_t cap);

/* ------------------------------------------------------------------ images (download) */

#define RT_PULL_TIMEOUT_MS 600000 /* one pull attempt */
#define RT_PULL_TRIES 3
#define RT_PULL_BACKOFF_MS 2000 /* before the 2nd try; doubled before each further one */

struct rt_pull_opts {
    bool force;         /* pull even when the image exists (download -f) */
    int64_t timeout_ms; /* per attempt; 0 = RT_PULL_TIMEOUT_MS */
    int tries;          /* 0 = RT_PULL_TRIES */
    int64_t backoff_ms; /* 0 = RT_PULL_BACKOFF_MS; < 0 = no wait */
};

/* `download` and `create`: every distinct image of the spec once, in container order:
 * `podman image exists`, then `podman pull` when missing (always with force), each pull with
 * its deadline and up to `tries` attempts.  Logs `[INFO]  Pull image X` before pulling and
 * `[ERROR] Could not pull image X: why` when all attempts failed, then goes on with the next
 * image.  0 when every image is there; -1 when any pull failed (POD_E_FAILED, err names the
 * first) or podman could not be run (POD_E_BACKEND, at once). */
int rt_images_pull(const struct rt_ctx *c, const struct rt_pull_opts *o,
                   struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ volumes */

/* `create-volumes` and `create`: every `type: volume` (podman name per `shared`,
 * spec_volume_fullname) is checked with `podman volume exists` (an exact name: `inspect` and
 * `rm` match prefixes) and created when missing (`--label podc.pod=<pod>-<ver>`).  Logs
 * `[INFO]  Volume V already exists` / `[INFO]  Volume V created`.  Idempotent.  -1 when any
 * check or create failed (after trying all). */
int rt_volumes_create(const struct rt_ctx *c, struct pod_err *err) POD_WUR;
/* `purge` (the pod must not exist: the caller checks): removes only this version's own
 * volumes (`shared: no`), never `shared: pod|host` ones; only names that exist exactly
 * (`podman volume rm` would remove a volume whose name merely starts with it).  Logs each
 * removal; -1 when any removal failed (after trying all). */
int rt_volumes_purge(const struct rt_ctx *c, struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ ramdisks */

/* 1 when path is the root of a mount, 0 when not, -1 (err) when it cannot be looked at
 * (ENOENT: err->sys_errno). */
int rt_is_mountpoint(const char *path, struct pod_err *err) POD_WUR;
/* `create` (any user): every ramdisk's directory ramdisk/<name> exists.  A mounted one is
 * used as it is; a missing one is created as a plain directory (a "fake ramdisk": WARN, the
 * original's message); an existing plain directory is reused with a WARN (a fake ramdisk left
 * over, e.g. by an abrupt shutdown).  -1 when a directory cannot be made. */
int rt_ramdisks_prepare(const struct rt_ctx *c, struct pod_err *err) POD_WUR;
/* `rm`: removes every ramdisk directory that is not a mountpoint (fake ramdisks), with its
 * contents (never crossing into another mount, never following symlinks); logs
 * `[INFO]  Fake ramdisk X being removed: DIR` for each that exists.  -1 when one could not be
 * removed (after trying all).  Real tmpfs mounts are left alone. */
int rt_ramdisks_remove_fake(const struct rt_ctx *c, struct pod_err *err) POD_WUR;
/* `create-ramdisks` (root only: the caller checks): ramdisk/ and ramdisk/<name> created and
 * owned by the pod directory's owner; each that is not a mountpoint yet gets
 * tmpfs (size=<size>,mode=0700,uid=,gid= of the owner) through mount(2).  -1 when any failed. */
int rt_ramdisks_mount(const struct rt_ctx *c, struct pod_err *err) POD_WUR;
/* `create-ramdisks -d` (root): umount(2) every ramdisk that is a mountpoint; the directories
 * stay.  -1 when any failed. */
int rt_ramdisks_umount(const struct rt_ctx *c, struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ logs */

enum rt_logs_col { RT_COL_TS = 1, RT_COL_AGE, RT_COL_NAME, RT_COL_STREAM };
#define RT_LOGS_MAX_COLS 16

/* The largest `-t` in seconds (either sign): its nanoseconds still fit an int64. */
#define RT_LOGS_MAX_TS_S 9223372035LL

/* `logs` options as given (rt_logs_parse). */
struct rt_logs_opts {
    char **containers;          /* names given (strv, NULL: none) */
    bool daemon;                /* -p */
    bool has_ts;                /* -t given */
    int64_t ts_ns;              /* -t value in ns; < 0: relative to now */
    long long limit;            /* -l: 0 all, > 0 the first N, < 0 the last |N| */
    bool streams[2];            /* -s: [0] stdout, [1] stderr */
    int cols[RT_LOGS_MAX_COLS]; /* -d: enum rt_logs_col, in order */
    int n_cols;
};
/* Parses the words after `logs`; -1 with POD_E_USAGE when they are wrong (not a number, an
 * unknown stream or column).  Defaults: no -t, -l 0, both streams, columns ts,name. */
int rt_logs_parse(int argc, char **argv, struct rt_logs_opts *o, struct pod_err *err) POD_WUR;
void rt_logs_opts_free(struct rt_logs_opts *o);

/* One log source: files <dir>/<prefix>-stdout.log* and -stderr.log*, shown as name. */
struct rt_logs_src {
    const char *name;
    const char *prefix;
};

/* What rt_logs_write shows. */
struct rt_logs_req {
    const char *log_dir;
    const struct rt_logs_src *srcs; /* in tie-break order */
    size_t n_srcs;
    bool streams[2];
    int64_t since_ns; /* records with ts >= since_ns (INT64_MIN: all) */
    long long limit;
    const int *cols;
    int n_cols;
    int64_t now_wall_ns; /* for the age column */
};

/* Streams the merged records to out (SPEC.md 7, 9.3): every file of every selected stream,
 * rotated ones first; merged by (timestamp, seq), ties by source then stdout before stderr;
 * `+` records re-joined; memory independent of the log's size (the files are opened once, so
 * `-l -N`, which reads them twice, sees one snapshot).  -1: a file could not be read (err). */
int rt_logs_write(const struct rt_logs_req *r, FILE *out, struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ shell */

struct rt_shell_opts {
    char *container; /* the spec's name; NULL: the last container of the spec */
    bool bash;       /* -b: bash instead of sh (no effect with a command) */
    char **cmd;      /* the command's argv exactly (strv), NULL: an interactive shell */
};
/* Parses the words after `shell`: -c NAME, -b, `--`; without -c, a first word that is empty or
 * names a container of the spec is the container (sns passes it so); the first other word
 * starts the command, and it and every word after it are the command's argv as given.
 * -1: POD_E_USAGE (bad option) or POD_E_NOTFOUND (-c names no container of the spec). */
int rt_shell_parse(const struct pod_spec *s, int argc, char **argv, struct rt_shell_opts *o,
                   struct pod_err *err) POD_WUR;
void rt_shell_opts_free(struct rt_shell_opts *o);
/* `podman exec -i [-t] <ctr> sh|bash|cmd...` (tty: with -t).  New strv. */
char **rt_shell_argv(const struct rt_ctx *c, const struct rt_shell_opts *o, bool tty,
                     struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ command lines */

/* One option of an action: -s / --long, with or without a value.  Accepted forms: `-s`,
 * `-s VALUE`, `-sVALUE`, `--long`, `--long=VALUE`, `--long VALUE`; a value may start with `-`
 * (`-l -4`).  `--` ends the options: everything after it is a word. */
struct rt_optdef {
    char short_name;       /* 0: none */
    const char *long_name; /* without "--"; NULL: none */
    bool has_arg;
};

enum { RT_OPT_END = -1, RT_OPT_WORD = -2, RT_OPT_DASHDASH = -3, RT_OPT_ERROR = -4 };

struct rt_getopt {
    int argc;
    char **argv;
    const struct rt_optdef *defs; /* ended by a zeroed entry */
    int i;                        /* next argv index */
    const char *arg;              /* the option's value, or the word */
    bool after_dashdash;
};

/* The next option: its index in defs (arg = its value or NULL), RT_OPT_WORD (arg = the word),
 * RT_OPT_DASHDASH once at `--` (every later word is RT_OPT_WORD), RT_OPT_END, or RT_OPT_ERROR
 * (err: POD_E_USAGE, "unknown option", "option needs a value", ...). */
int rt_getopt_next(struct rt_getopt *g, struct pod_err *err);

/* The actions (SPEC.md 7).  Each parses its arguments (the words after the action), runs,
 * and returns the exit code (0, 1, 100, 111); the answer goes to out, diagnostics to pod_log. */
/* The options of the actions that take flags only: download (-f), create-volumes,
 * create-ramdisks (-l, -d) and purge.  flags[k] is set for option k of the action;
 * any word, `--` or unknown option is a usage error (POD_E_USAGE).  Pure. */
int rt_flags_parse(const char *action, int argc, char **argv, bool flags[2],
                   struct pod_err *err) POD_WUR;

typedef int rt_action_fn(const struct rt_ctx *c, const char *action, int argc, char **argv,
                         FILE *out);
rt_action_fn rt_action_download, rt_action_create_volumes, rt_action_create_ramdisks,
    rt_action_purge, rt_action_logs, rt_action_shell;

#endif
