/* SPDX-License-Identifier: MIT */
/* fs_mem.h - the in-memory file system behind the fs seam (pod/fs.h): a test double for the
 * simulator and the unit tests, deterministic (no real I/O, no clock).  Built into the
 * simulator's library (libpodsim.a), never into libpod.a: podc and the pods do not carry it.
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
#ifndef POD_SIM_FS_MEM_H
#define POD_SIM_FS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/fs.h"

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
