/* SPDX-License-Identifier: MIT */
/* fs.h - a small file-system seam for the log writer (and other writers that must be testable
 * without a disk): open for append, write, fsync, close, rename, unlink, stat size, list a dir.
 * Two implementations: fs_real (POSIX, src/fs/fs_real.c) and, for the simulator and the tests
 * only (never linked into podc or a pod), fs_mem (in memory, with fault injection: disk full,
 * failing calls, a simulated crash that drops unsynced data; sim/fs_mem.h).  Functions return
 * 0 / -1 and set err; handles are small ints.
 *
 * Semantics both implementations share (the contract the log writer relies on):
 *  - write appends all of buf or nothing (fs_real truncates a partial write away again);
 *  - file *contents* are durable only up to the last successful fsync of a handle to that file;
 *  - directory operations (creating a file, rename, unlink) are durable once sync_dir of their
 *    directory returned 0 (fs_real: an fsync of the directory; the operations themselves do not
 *    sync, so a writer decides how often to pay for it).  mkdir_p is durable on return.  fs_mem
 *    is more optimistic here: its directory operations are durable at once (sim/fs_mem.h);
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

/* fs_real confined to one directory, the pod directory (SPEC.md 7.5.1: it is not trusted).
 * Every path must be that directory or under it ("<dir>/log/x.log", as the daemon builds them;
 * another path is refused); it is resolved from a descriptor of the directory one component at
 * a time without following any symbolic link (pod_open_beneath), so a link anywhere below the
 * directory (`log` -> /etc, `log/x.log` -> /etc/passwd, `.pod.status.tmp` -> ...) is refused,
 * never followed or written through; a file opened for append or read that is not a regular
 * file (a FIFO) is refused without blocking.  The plain fs_real() opens files with O_NOFOLLOW
 * and refuses non-regular ones too, but resolves the directories of a path as given. */
struct fs_root;
int fs_root_open(const char *dir, struct fs_root **out, struct pod_err *err);
void fs_root_free(struct fs_root *r); /* NULL: nothing */
struct fs fs_real_beneath(struct fs_root *r);

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

#endif
