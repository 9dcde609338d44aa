/* SPDX-License-Identifier: MIT */
/* fs.h - a small file-system seam for the log writer (and other writers that must be testable
 * without a disk): open for append, write, fsync, close, rename, unlink, stat size, list a dir.
 * Two implementations: fs_real (POSIX, src/fs/fs_real.c) and fs_mem (in memory, with fault
 * injection: disk full, failing calls, a simulated crash that drops unsynced data;
 * src/fs/fs_mem.c).  Functions return 0 / -1 and set err; handles are small ints. */
#ifndef POD_FS_H
#define POD_FS_H

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
};

struct fs {
    const struct fs_ops *ops;
    void *self;
};

extern const struct fs_ops fs_real_ops;
struct fs fs_real(void);

#endif
