/* SPDX-License-Identifier: MIT */
/* fs.h - a small file-system seam for the log writer (and other writers that must be testable
 * without a disk): open for append, write, fsync, close, rename, unlink, stat size, list a dir.
 * Two implementations: fs_real (POSIX, src/fs/fs_real.c) and fs_mem (in memory, with fault
 * injection: disk full, failing calls, a simulated crash that drops unsynced data;
 * src/fs/fs_mem.c).  Functions return 0 / -1 and set err; handles are small ints.
 *
 * Semantics both implementations share (the contract the log writer relies on):
 *  - write appends all of buf or nothing (fs_real truncates a partial write away again);
 *  - file *contents* are durable only up to the last successful fsync of a handle to that file;
 *  - directory operations (creating a file, rename, unlink) are durable once sync_dir of their
 *    directory returned 0 (fs_real: an fsync of the directory; the operations themselves do not
 *    sync, so a writer decides how often to pay for it).  mkdir_p is durable on return.  fs_mem
 *    is more optimistic here: its directory operations are durable at once (see below);
 *  - rename replaces an existing target atomically (POSIX rename);
 *  - writeback starts writing a handle's dirty data to the disk without waiting for it (a hint
 *    that makes a later fsync cheaper; it makes nothing durable).
 * sync_dir and writeback are optional: a struct fs_ops that leaves them NULL (e.g. a wrapper
 * written before they existed) gets a no-op from fs_sync_dir/fs_writeback.
 * Paths are plain strings ("dir/name"); no "..", no "//". */
#ifndef POD_FS_H
#define POD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/err.h"

struct fs_ops {
    /* Opens (creating with mode 0644 if needed) for appending; returns a handle >= 0. */
    int (*open_append)(void *self, const char *path, struct pod_err *err);
    /* Writes all of buf or fails (a short write is an error: ENOSPC etc.); returns bytes. */
    ssize_t (*write)(void *self, int h, const void *buf, size_t len, struct pod_err *err);
    int (*fsync)(void *self, int h, struct pod_err *err);
    int (*close)(void *self, int h, struct pod_err *err);
    int (*rename)(void *self, const char *from, const char *to, struct pod_err *err);
    int (*unlink)(void *self, const char *path, struct pod_err *err);
    /* Size of path; -1 with err->code POD_E_NOTFOUND when it does not exist. */
    int (*stat_size)(void *self, const char *path, int64_t *size, struct pod_err *err);
    /* Names (not paths) of the entries of dir, sorted; *names is a NULL-terminated strv the
     * caller frees with pod_strv_free. */
    int (*list)(void *self, const char *dir, char ***names, struct pod_err *err);
    int (*mkdir_p)(void *self, const char *dir, struct pod_err *err);
    /* Reads up to len bytes of path at offset off into buf; *got = bytes read (0 at EOF). */
    int (*read_at)(void *self, const char *path, int64_t off, void *buf, size_t len, size_t *got,
                   struct pod_err *err);
    /* Makes the directory operations done so far in dir durable (optional, NULL: no-op). */
    int (*sync_dir)(void *self, const char *dir, struct pod_err *err);
    /* Starts writeback of h's dirty data without waiting (optional, NULL: no-op). */
    int (*writeback)(void *self, int h, struct pod_err *err);
};

struct fs {
    const struct fs_ops *ops;
    void *self;
};

extern const struct fs_ops fs_real_ops;
struct fs fs_real(void);

/* Convenience wrappers: fs_open_append(&fs, path, err) == fs.ops->open_append(fs.self, ...). */
static inline int fs_open_append(const struct fs *f, const char *path, struct pod_err *err)
{
    return f->ops->open_append(f->self, path, err);
}
static inline ssize_t fs_write(const struct fs *f, int h, const void *buf, size_t len,
                               struct pod_err *err)
{
    return f->ops->write(f->self, h, buf, len, err);
}
static inline int fs_fsync(const struct fs *f, int h, struct pod_err *err)
{
    return f->ops->fsync(f->self, h, err);
}
static inline int fs_close(const struct fs *f, int h, struct pod_err *err)
{
    return f->ops->close(f->self, h, err);
}
static inline int fs_rename(const struct fs *f, const char *from, const char *to,
                            struct pod_err *err)
{
    return f->ops->rename(f->self, from, to, err);
}
static inline int fs_unlink(const struct fs *f, const char *path, struct pod_err *err)
{
    return f->ops->unlink(f->self, path, err);
}
static inline int fs_stat_size(const struct fs *f, const char *path, int64_t *size,
                               struct pod_err *err)
{
    return f->ops->stat_size(f->self, path, size, err);
}
static inline int fs_list(const struct fs *f, const char *dir, char ***names, struct pod_err *err)
{
    return f->ops->list(f->self, dir, names, err);
}
static inline int fs_mkdir_p(const struct fs *f, const char *dir, struct pod_err *err)
{
    return f->ops->mkdir_p(f->self, dir, err);
}
static inline int fs_sync_dir(const struct fs *f, const char *dir, struct pod_err *err)
{
    return f->ops->sync_dir ? f->ops->sync_dir(f->self, dir, err) : 0;
}
static inline int fs_writeback(const struct fs *f, int h, struct pod_err *err)
{
    return f->ops->writeback ? f->ops->writeback(f->self, h, err) : 0;
}
static inline int fs_read_at(const struct fs *f, const char *path, int64_t off, void *buf,
                             size_t len, size_t *got, struct pod_err *err)
{
    return f->ops->read_at(f->self, path, off, buf, len, got, err);
}

/* ---- fs_mem: the in-memory file system (deterministic; no real I/O, no clock) ----
 *
 * Model: a set of directories and of files (inodes with a name).  Every file has a length and
 * a durable length (bytes covered by an fsync).  Handles are never reused, so a handle that
 * outlived a crash fails with EBADF instead of hitting a newer file.  A crash:
 *  - drops every file's unsynced bytes (FS_MEM_CRASH_DROP, the default), or keeps half of them
 *    (FS_MEM_CRASH_TORN: a torn tail, as a real disk may leave), or keeps them all
 *    (FS_MEM_CRASH_KEEP: a process crash, the kernel still had the data);
 *  - closes every handle (later use: EBADF);
 *  - keeps the directory tree as it is (directory operations are durable at once: sync_dir is
 *    a counted call that can fail or be crashed after, but changes nothing; writeback too).
 * Fault injection (each failure is all-or-nothing, i.e. nothing changes):
 *  - fs_mem_fail: calls nth .. nth+count-1 (1-based, counted from now) of one kind fail with
 *    errno errnum (count 0 = forever, until fs_mem_fail_clear);
 *  - fs_mem_set_capacity: total bytes of all live files; a write that would exceed it fails
 *    with ENOSPC (deleting files frees space);
 *  - fs_mem_crash_at: crash right after the k-th call of any kind (counted from now); the file
 *    system is then down (every call fails with EIO) until fs_mem_reboot.
 * Ownership: fs_mem_new returns an object the caller frees with fs_mem_free (NULL is fine);
 * struct fs values from fs_mem_fs borrow it. */
enum fs_mem_op {
    FS_MEM_OP_OPEN,
    FS_MEM_OP_WRITE,
    FS_MEM_OP_FSYNC,
    FS_MEM_OP_CLOSE,
    FS_MEM_OP_RENAME,
    FS_MEM_OP_UNLINK,
    FS_MEM_OP_STAT,
    FS_MEM_OP_LIST,
    FS_MEM_OP_MKDIR,
    FS_MEM_OP_READ,
    FS_MEM_OP_SYNCDIR,
    FS_MEM_OP_WRITEBACK,
    FS_MEM_OP_COUNT_, /* number of kinds */
    FS_MEM_OP_ANY = FS_MEM_OP_COUNT_,
};

enum fs_mem_crash_mode {
    FS_MEM_CRASH_DROP, /* power loss: unsynced bytes are lost */
    FS_MEM_CRASH_TORN, /* power loss with a torn tail: half of the unsynced bytes survive */
    FS_MEM_CRASH_KEEP, /* process crash: everything written survives */
};

struct fs_mem;
extern const struct fs_ops fs_mem_ops;
struct fs_mem *fs_mem_new(void);
void fs_mem_free(struct fs_mem *m);
struct fs fs_mem_fs(struct fs_mem *m);

void fs_mem_fail(struct fs_mem *m, enum fs_mem_op op, uint64_t nth, uint64_t count, int errnum);
void fs_mem_fail_clear(struct fs_mem *m);
void fs_mem_set_capacity(struct fs_mem *m, int64_t bytes); /* -1: unlimited (the default) */
int64_t fs_mem_used(const struct fs_mem *m);               /* bytes in live files */
void fs_mem_set_crash_mode(struct fs_mem *m, enum fs_mem_crash_mode mode);
void fs_mem_crash(struct fs_mem *m);                /* crash now; stays usable */
void fs_mem_crash_at(struct fs_mem *m, uint64_t k); /* 0 cancels */
bool fs_mem_is_down(const struct fs_mem *m);
void fs_mem_reboot(struct fs_mem *m);                             /* ends the down state */
uint64_t fs_mem_calls(const struct fs_mem *m, enum fs_mem_op op); /* calls made (ANY: all) */
int fs_mem_open_handles(const struct fs_mem *m);
/* Kind of the most recent call (FS_MEM_OP_ANY before the first). */
enum fs_mem_op fs_mem_last_op(const struct fs_mem *m);
/* Kind of the call that the last fs_mem_crash_at crash followed (FS_MEM_OP_ANY: none yet). */
enum fs_mem_op fs_mem_crash_op(const struct fs_mem *m);

/* Inspection and set-up for tests (no fault injection, not counted). */
/* Copies path's content into a new NUL-terminated buffer; -1 when path is not a file. */
int fs_mem_get(const struct fs_mem *m, const char *path, char **data, size_t *len);
/* Durable length of path (bytes that survive FS_MEM_CRASH_DROP), -1 when missing. */
int64_t fs_mem_synced_len(const struct fs_mem *m, const char *path);
/* Every file path, sorted (free with pod_strv_free). */
char **fs_mem_files(const struct fs_mem *m);
/* Creates or replaces path (creating its directories) with data; synced says whether it is
 * durable. */
void fs_mem_put(struct fs_mem *m, const char *path, const void *data, size_t len, bool synced);

#endif
