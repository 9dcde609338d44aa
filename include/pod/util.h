/* SPDX-License-Identifier: MIT */
/* util.h - allocation, growable buffers, string vectors, whole-file I/O, logging.
 *
 * No project logic lives here.  Ownership: x* allocators abort on OOM; a struct pod_buf owns
 * its bytes (pod_buf_free); a strv (char **, NULL-terminated) owns its strings (pod_strv_free);
 * pod_read_file returns a heap buffer the caller frees.
 */
#ifndef POD_UTIL_H
#define POD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pod/err.h"

/* ---- allocation (abort with a message on OOM) ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) POD_PRINTF(1, 2);

static inline void *pod_steal_ptr(void *pp)
{
    void **p = (void **)pp;
    void *r = *p;
    *p = NULL;
    return r;
}

/* ---- growable byte buffer, always NUL-terminated ---- */
struct pod_buf {
    char *data;
    size_t len, cap;
};
void pod_buf_reserve(struct pod_buf *b, size_t extra);
void pod_buf_add(struct pod_buf *b, const void *p, size_t n);
void pod_buf_adds(struct pod_buf *b, const char *s);
void pod_buf_addc(struct pod_buf *b, char c);
void pod_buf_printf(struct pod_buf *b, const char *fmt, ...) POD_PRINTF(2, 3);
void pod_buf_vprintf(struct pod_buf *b, const char *fmt, va_list ap) POD_PRINTF(2, 0);
char *pod_buf_take(struct pod_buf *b); /* returns data ("" if empty), resets b */
void pod_buf_free(struct pod_buf *b);

/* ---- NULL-terminated string vectors ---- */
size_t pod_strv_len(char *const *v);
void pod_strv_push(char ***v, const char *s); /* copies s */
char **pod_strv_dup(char *const *v);
void pod_strv_free(char **v);
bool pod_strv_contains(char *const *v, const char *s);

/* ---- files ---- */
/* Reads a whole file (at most max_bytes; larger is an error).  *out is NUL-terminated. */
int pod_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                  struct pod_err *err) POD_WUR;
/* The path that starts this executable again (the holder, the daemon, a new holder):
 * "/proc/self/exe", the running file even once it has been replaced on disk.  With
 * POD_SELF_EXE_BY_PATH=1 (a test knob) its path as readlink(2) gives it instead: under
 * valgrind, /proc/self/exe is valgrind's own tool, and valgrind --trace-children only follows an
 * exec of the client's path (make e2e-valgrind, make valgrind; SPEC 7.8.1).  A static buffer:
 * call it before fork. */
const char *pod_self_exe(void);

/* Writes all of data to fd (short writes and EINTR retried); 0, or -1 with errno set. */
int pod_write_all(int fd, const void *data, size_t len);

/* ---- writing a whole file: into a temporary next to it, then rename ----
 * A reader sees the old file or the new one, never a part of it.  The temporary is
 * ".<name>.XXXXXX" in path's directory (so the rename stays within one file system). */

/* Writes a new file's content through fd; returns 0, or -1 with errno set. */
typedef int pod_fill_fn(void *self, int fd);
/* A pod_fill_fn for a struct pod_bytes: writes data[0..len). */
struct pod_bytes {
    const void *data;
    size_t len;
};
int pod_fill_bytes(void *self, int fd);

enum pod_sync {
    POD_SYNC_NONE, /* not fsync'ed (compiler outputs: rebuilt, and a damaged pod refuses to run) */
    POD_SYNC_DATA, /* fsync'ed before the rename: after a crash, the old file or all of the new */
};

/* Stages a new file for path: creates the temporary, fills it, applies mode (e.g. 0644, 0755),
 * fsyncs it with POD_SYNC_DATA and closes it.  *tmp_out (new string) names it: the caller
 * renames it over path (after staging all of a set of files, say) or unlinks it.  On failure
 * nothing is left behind. */
int pod_stage_file(const char *path, unsigned mode, enum pod_sync sync, pod_fill_fn *fill,
                   void *fill_self, char **tmp_out, struct pod_err *err) POD_WUR;
/* Renames the staged file *tmp over path (removing it when that fails); frees *tmp and sets it
 * to NULL either way. */
int pod_commit_file(char **tmp, const char *path, struct pod_err *err) POD_WUR;
/* Writes data to path atomically and durably: pod_stage_file (POD_SYNC_DATA), then
 * pod_commit_file. */
int pod_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
                          struct pod_err *err) POD_WUR;

/* Calls fn with each leading part of path, shortest first: "a", "a/b", "a/b/c" for "a/b/c/",
 * "/a", "/a/b" for "/a/b" (the directories mkdir -p makes).  Stops at the first fn that does
 * not return 0 and returns what it returned. */
typedef int pod_prefix_fn(void *self, const char *prefix, struct pod_err *err);
int pod_path_prefixes(const char *path, pod_prefix_fn *fn, void *self, struct pod_err *err);
/* Creates dir and its missing parents with mode, durably (the parent of every directory it
 * creates is fsync'ed).  An existing directory is fine; anything else in the way is ENOTDIR. */
int pod_mkdir_p(const char *dir, unsigned mode, struct pod_err *err) POD_WUR;
/* fsyncs the directory dir: the creates, renames and unlinks in it so far become durable
 * (a file system that cannot sync a directory, EINVAL/EROFS, is not an error). */
int pod_sync_dir(const char *dir, struct pod_err *err) POD_WUR;
/* Removes path; a missing file is not an error. */
int pod_unlink_if_exists(const char *path, struct pod_err *err) POD_WUR;

/* ---- the pod directory is not trusted (SPEC.md 7.5.1) ----
 * It arrives by a sync from a git repository, so any name in it may be a symbolic link (to
 * /etc, to another pod), a FIFO, unreadable or huge.  These resolve a relative name `rel`
 * ("log/x.log"; no "..", no "." components, no leading '/') beneath dirfd one component at a
 * time with O_NOFOLLOW, so no symbolic link in any component is ever followed: a link is
 * refused with POD_E_INVALID, ELOOP and the message "`<the part that is a link>` in the pod
 * directory is a symbolic link: refused (not followed)".  rel "." is dirfd itself. */
/* openat(2) of rel beneath dirfd with flags (O_CLOEXEC|O_NOCTTY|O_NOFOLLOW added) and mode;
 * returns the fd or -1 with err (POD_E_NOTFOUND when a component is missing). */
int pod_open_beneath(int dirfd, const char *rel, int flags, unsigned mode,
                     struct pod_err *err) POD_WUR;
/* Reads the regular file rel beneath dirfd whole (pod_read_file's contract): opened
 * O_NONBLOCK (a FIFO is refused, never waited on), anything but a regular file refused, a
 * file larger than max_bytes refused before anything is read (and the read stops there). */
int pod_read_file_at(int dirfd, const char *rel, size_t max_bytes, char **out, size_t *len,
                     struct pod_err *err) POD_WUR;
/* Checks rel beneath dirfd without following any link: 0 when it does not exist (*exists
 * false) or exists as a `kind` (a S_IFMT value: S_IFDIR, S_IFREG, S_IFSOCK; 0 = any but a
 * link); -1 with err when a component is a link, is not a directory, or rel is another kind
 * ("`rel` in the pod directory is a <fifo|...>, not a <kind>: refused"). */
int pod_check_beneath(int dirfd, const char *rel, unsigned kind, bool *exists,
                      struct pod_err *err) POD_WUR;
/* mkdir -p of rel beneath dirfd (mode for the directories it creates, their parents fsync'ed);
 * an existing link or non-directory in the way is refused like pod_open_beneath. */
int pod_mkdir_beneath(int dirfd, const char *rel, unsigned mode, struct pod_err *err) POD_WUR;
/* The tmp+rename writer beneath dirfd (pod_stage_file's temporary and contract): every
 * directory of rel is opened without following a link (a link or non-directory there is
 * refused as above and nothing is written), the temporary is created O_EXCL|O_NOFOLLOW in
 * that directory and renamed over rel's last component with renameat(2), which replaces a
 * link there instead of writing through it. */
int pod_write_file_at(int dirfd, const char *rel, unsigned mode, enum pod_sync sync,
                      pod_fill_fn *fill, void *fill_self, struct pod_err *err) POD_WUR;
/* pod_write_file_at of data[0..len) with POD_SYNC_DATA (pod_write_file_atomic beneath). */
int pod_write_file_atomic_at(int dirfd, const char *rel, const void *data, size_t len,
                             unsigned mode, struct pod_err *err) POD_WUR;
/* unlinkat(2) of rel's last component in its directory opened beneath dirfd, no link
 * followed; a missing file (or directory on the way) is not an error, a link on the way is
 * refused (nothing removed). */
int pod_unlink_beneath(int dirfd, const char *rel, struct pod_err *err) POD_WUR;
/* The name of a file type (S_IFMT bits) for messages: "directory", "fifo", "symbolic link"... */
const char *pod_file_kind(unsigned mode);

/* Directory part of path ("." when none); returns a new string. */
char *pod_dirname(const char *path);
/* Last component of path; returns a pointer into path. */
const char *pod_basename(const char *path);
/* Joins dir and name with one '/'; returns a new string.  An absolute name is returned as is. */
char *pod_path_join(const char *dir, const char *name);

/* CLOCK_MONOTONIC in ms (never simulated: simulated code takes a struct clk). */
int64_t pod_mono_ms(void);

/* ---- parsing helpers ---- */
/* Strict decimal integer in [min,max]; no sign for min>=0, no spaces, no trailing junk. */
bool pod_parse_int(const char *s, long long min, long long max, long long *out);

/* ---- logging (diagnostics of programs, not container logs) ----
 * Levels follow SPACE_LOG_LEVEL: 1 error, 2 warning, 3 ok, 4 info, 5 debug.
 * The default sink writes "[ERROR] msg" style lines to stderr.  Tests install their own sink. */
enum pod_log_level {
    POD_LOG_ERROR = 1,
    POD_LOG_WARN = 2,
    POD_LOG_OK = 3,
    POD_LOG_INFO = 4,
    POD_LOG_DEBUG = 5,
};
typedef void pod_log_sink_fn(void *self, int level, const char *msg);
void pod_log_set_sink(pod_log_sink_fn *fn, void *self);
void pod_log_set_level(int level);
int pod_log_level(void);
/* Reads SPACE_LOG_LEVEL from the environment (default def). */
void pod_log_init_from_env(int def);
void pod_log(int level, const char *fmt, ...) POD_PRINTF(2, 3);

#endif
