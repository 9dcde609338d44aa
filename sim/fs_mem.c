/* SPDX-License-Identifier: MIT */
/* fs_mem.c - the in-memory file system behind the seam (include/pod/fs.h), for unit tests and
 * the simulator (never linked into podc or a pod).  Deterministic: no real I/O, no clock, no
 * randomness; the same calls give the same results.  Models what the log writer has to survive:
 * failing calls, a full disk, and crashes that lose unsynced data (see fs_mem.h for the exact
 * model). Ownership: struct fs_mem owns every inode, directory name and handle.  Linear searches
 * are deliberate: a simulated pod has a few dozen files.
 */
#include "fs_mem.h"
#include "pod/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mfile {
    char *path; /* NULL once unlinked (then alive only while a handle refers to it) */
    char *data;
    size_t len, cap, synced;
    int refs; /* open handles */
};

struct mhandle {
    int h;
    struct mfile *f;
};

struct fail_rule {
    uint64_t base;  /* calls of the kind when the rule was set */
    uint64_t nth;   /* 0: no rule */
    uint64_t count; /* 0: forever */
    int errnum;
};

struct fs_mem {
    struct mfile **files; /* every inode, linked or not */
    size_t nfiles;
    char **dirs; /* strv of directory paths ("." and "/" exist implicitly) */
    struct mhandle *handles;
    size_t nhandles;
    int next_handle;
    uint64_t calls[FS_MEM_OP_COUNT_ + 1];
    struct fail_rule rules[FS_MEM_OP_COUNT_ + 1];
    int64_t capacity;
    enum fs_mem_crash_mode crash_mode;
    uint64_t crash_base, crash_k; /* crash after call crash_base+crash_k (any kind) */
    bool down;
    enum fs_mem_op last_op, crash_op;
};

static const char *const op_names[] = {"open",     "write",     "fsync", "close", "rename",
                                       "unlink",   "stat",      "list",  "mkdir", "read",
                                       "sync_dir", "writeback", "any"};

/* ---- model helpers ---- */

static struct mfile *find_file(const struct fs_mem *m, const char *path)
{
    for (size_t i = 0; i < m->nfiles; i++)
        if (m->files[i]->path && strcmp(m->files[i]->path, path) == 0)
            return m->files[i];
    return NULL;
}

static bool is_dir(const struct fs_mem *m, const char *path)
{
    if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0)
        return true;
    return pod_strv_contains(m->dirs, path);
}

static bool parent_is_dir(const struct fs_mem *m, const char *path)
{
    char *d = pod_dirname(path);
    bool ok = is_dir(m, d);
    free(d);
    return ok;
}

static struct mfile *new_file(struct fs_mem *m, const char *path)
{
    struct mfile *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof *m->files);
    m->files[m->nfiles++] = f;
    return f;
}

/* Frees unlinked inodes that no handle refers to. */
static void collect(struct fs_mem *m)
{
    size_t j = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        struct mfile *f = m->files[i];
        if (!f->path && f->refs == 0) {
            free(f->data);
            free(f);
            continue;
        }
        m->files[j++] = f;
    }
    m->nfiles = j;
}

static void unlink_file(struct fs_mem *m, struct mfile *f)
{
    free(f->path);
    f->path = NULL;
    collect(m);
}

static struct mhandle *find_handle(struct fs_mem *m, int h)
{
    for (size_t i = 0; i < m->nhandles; i++)
        if (m->handles[i].h == h)
            return &m->handles[i];
    return NULL;
}

static void drop_handle(struct fs_mem *m, struct mhandle *hd)
{
    hd->f->refs--;
    size_t i = (size_t)(hd - m->handles);
    memmove(&m->handles[i], &m->handles[i + 1], (m->nhandles - i - 1) * sizeof *m->handles);
    m->nhandles--;
    collect(m);
}

static bool valid_path(const char *p)
{
    return p && *p && !strstr(p, "//") && strcmp(pod_basename(p), "..") != 0 &&
           !strstr(p, "/../") && strncmp(p, "../", 3) != 0;
}

/* ---- call accounting: counting, injected failures, crash points ---- */

static void crash_now(struct fs_mem *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        struct mfile *f = m->files[i];
        size_t keep = f->len;
        if (m->crash_mode == FS_MEM_CRASH_DROP)
            keep = f->synced;
        else if (m->crash_mode == FS_MEM_CRASH_TORN)
            keep = f->synced + (f->len - f->synced) / 2;
        f->len = keep;
        f->synced = keep;
        f->refs = 0;
    }
    free(m->handles);
    m->handles = NULL;
    m->nhandles = 0;
    collect(m);
}

static bool rule_hits(struct fail_rule *r, uint64_t calls)
{
    if (r->nth == 0)
        return false;
    uint64_t i = calls - r->base; /* 1-based index of this call since the rule was set */
    if (i < r->nth)
        return false;
    if (r->count != 0 && i >= r->nth + r->count)
        return false;
    return true;
}

/* Counts a call of kind op; returns -1 (err set) when the call must fail. */
static int begin(struct fs_mem *m, enum fs_mem_op op, const char *what, struct pod_err *err)
{
    m->calls[op]++;
    m->calls[FS_MEM_OP_ANY]++;
    m->last_op = op;
    if (m->down)
        return pod_err_set(err, POD_E_IO, EIO, "%s `%s` (fs_mem: crashed)", op_names[op], what);
    struct fail_rule *r = &m->rules[op];
    struct fail_rule *any = &m->rules[FS_MEM_OP_ANY];
    int e = 0;
    if (rule_hits(r, m->calls[op]))
        e = r->errnum;
    else if (rule_hits(any, m->calls[FS_MEM_OP_ANY]))
        e = any->errnum;
    if (e)
        return pod_err_set(err, POD_E_IO, e, "%s `%s` (fs_mem: injected)", op_names[op], what);
    return 0;
}

/* After a call: a scheduled crash happens now. */
static int end(struct fs_mem *m, int rc)
{
    if (m->crash_k && m->calls[FS_MEM_OP_ANY] >= m->crash_base + m->crash_k) {
        m->crash_k = 0;
        m->crash_op = m->last_op;
        crash_now(m);
        m->down = true;
    }
    return rc;
}

/* ---- the ops ---- */

static int do_open(struct fs_mem *m, const char *path, struct pod_err *err)
{
    if (!valid_path(path))
        return pod_err_set(err, POD_E_INVALID, EINVAL, "open `%s`", path);
    if (is_dir(m, path))
        return pod_err_set(err, POD_E_IO, EISDIR, "open `%s`", path);
    struct mfile *f = find_file(m, path);
    if (!f) {
        if (!parent_is_dir(m, path))
            return pod_err_set(err, POD_E_NOTFOUND, ENOENT, "open `%s`", path);
        f = new_file(m, path);
    }
    f->refs++;
    m->handles = xrealloc(m->handles, (m->nhandles + 1) * sizeof *m->handles);
    struct mhandle *hd = &m->handles[m->nhandles++];
    hd->h = m->next_handle++;
    hd->f = f;
    return hd->h;
}

static int mem_open_append(void *self, const char *path, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_OPEN, path, err) < 0)
        return end(m, -1);
    return end(m, do_open(m, path, err));
}

static ssize_t do_write(struct fs_mem *m, int h, const void *buf, size_t len, struct pod_err *err)
{
    struct mhandle *hd = find_handle(m, h);
    if (!hd)
        return pod_err_set(err, POD_E_IO, EBADF, "write (handle %d)", h);
    struct mfile *f = hd->f;
    if (m->capacity >= 0 && fs_mem_used(m) + (int64_t)len > m->capacity)
        return pod_err_set(err, POD_E_IO, ENOSPC, "write `%s`", f->path ? f->path : "(deleted)");
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + len)
            cap *= 2;
        f->data = xrealloc(f->data, cap);
        f->cap = cap;
    }
    if (len)
        memcpy(f->data + f->len, buf, len);
    f->len += len;
    return (ssize_t)len;
}

static ssize_t mem_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    struct fs_mem *m = self;
    struct mhandle *hd = find_handle(m, h);
    const char *what = hd && hd->f->path ? hd->f->path : "(handle)";
    if (begin(m, FS_MEM_OP_WRITE, what, err) < 0)
        return end(m, -1);
    ssize_t rc = do_write(m, h, buf, len, err);
    end(m, 0);
    return rc;
}

static int mem_fsync(void *self, int h, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_FSYNC, "(handle)", err) < 0)
        return end(m, -1);
    struct mhandle *hd = find_handle(m, h);
    if (!hd)
        return end(m, pod_err_set(err, POD_E_IO, EBADF, "fsync (handle %d)", h));
    hd->f->synced = hd->f->len;
    return end(m, 0);
}

static int mem_close(void *self, int h, struct pod_err *err)
{
    struct fs_mem *m = self;
    struct mhandle *hd = find_handle(m, h);
    /* Like Linux close(2): the handle is released even when an error is reported. */
    int rc = begin(m, FS_MEM_OP_CLOSE, "(handle)", err);
    if (!hd) {
        if (rc == 0)
            rc = pod_err_set(err, POD_E_IO, EBADF, "close (handle %d)", h);
        return end(m, rc);
    }
    if (!m->down)
        drop_handle(m, hd);
    return end(m, rc);
}

static int do_rename(struct fs_mem *m, const char *from, const char *to, struct pod_err *err)
{
    if (!valid_path(from) || !valid_path(to))
        return pod_err_set(err, POD_E_INVALID, EINVAL, "rename `%s` to `%s`", from, to);
    struct mfile *f = find_file(m, from);
    if (!f)
        return pod_err_set(err, POD_E_NOTFOUND, ENOENT, "rename `%s` to `%s`", from, to);
    if (is_dir(m, to))
        return pod_err_set(err, POD_E_IO, EISDIR, "rename `%s` to `%s`", from, to);
    if (!parent_is_dir(m, to))
        return pod_err_set(err, POD_E_NOTFOUND, ENOENT, "rename `%s` to `%s`", from, to);
    if (strcmp(from, to) == 0)
        return 0;
    struct mfile *old = find_file(m, to);
    free(f->path);
    f->path = xstrdup(to);
    if (old)
        unlink_file(m, old);
    return 0;
}

static int mem_rename(void *self, const char *from, const char *to, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_RENAME, from, err) < 0)
        return end(m, -1);
    return end(m, do_rename(m, from, to, err));
}

static int mem_unlink(void *self, const char *path, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_UNLINK, path, err) < 0)
        return end(m, -1);
    struct mfile *f = find_file(m, path);
    if (!f)
        return end(m, pod_err_set(err, POD_E_NOTFOUND, ENOENT, "unlink `%s`", path));
    unlink_file(m, f);
    return end(m, 0);
}

static int mem_stat_size(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_STAT, path, err) < 0)
        return end(m, -1);
    struct mfile *f = find_file(m, path);
    if (f) {
        *size = (int64_t)f->len;
        return end(m, 0);
    }
    if (is_dir(m, path)) {
        *size = 0;
        return end(m, 0);
    }
    return end(m, pod_err_set(err, POD_E_NOTFOUND, ENOENT, "stat `%s`", path));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_dir(const char *path, const char *dir)
{
    char *d = pod_dirname(path);
    bool r = strcmp(d, dir) == 0;
    free(d);
    return r;
}

static int mem_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_LIST, dir, err) < 0)
        return end(m, -1);
    if (!is_dir(m, dir))
        return end(m,
                   pod_err_set(err, find_file(m, dir) ? POD_E_IO : POD_E_NOTFOUND,
                               find_file(m, dir) ? ENOTDIR : ENOENT, "open directory `%s`", dir));
    char **v = xcalloc(1, sizeof *v);
    for (size_t i = 0; i < m->nfiles; i++)
        if (m->files[i]->path && in_dir(m->files[i]->path, dir))
            pod_strv_push(&v, pod_basename(m->files[i]->path));
    for (size_t i = 0; m->dirs && m->dirs[i]; i++)
        if (strcmp(m->dirs[i], dir) != 0 && in_dir(m->dirs[i], dir))
            pod_strv_push(&v, pod_basename(m->dirs[i]));
    qsort(v, pod_strv_len(v), sizeof *v, cmp_str);
    *names = v;
    return end(m, 0);
}

/* One step of mkdir -p: a directory unless a file is in the way. */
static int mkdir_one(void *self, const char *dir, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (find_file(m, dir))
        return pod_err_set(err, POD_E_IO, ENOTDIR, "mkdir `%s`", dir);
    if (!is_dir(m, dir))
        pod_strv_push(&m->dirs, dir);
    return 0;
}

static int do_mkdir_p(struct fs_mem *m, const char *dir, struct pod_err *err)
{
    if (!valid_path(dir))
        return pod_err_set(err, POD_E_INVALID, EINVAL, "mkdir `%s`", dir);
    return pod_path_prefixes(dir, mkdir_one, m, err);
}

static int mem_mkdir_p(void *self, const char *dir, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_MKDIR, dir, err) < 0)
        return end(m, -1);
    return end(m, do_mkdir_p(m, dir, err));
}

static int mem_read_at(void *self, const char *path, int64_t off, void *buf, size_t len,
                       size_t *got, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_READ, path, err) < 0)
        return end(m, -1);
    struct mfile *f = find_file(m, path);
    if (!f)
        return end(m, pod_err_set(err, POD_E_NOTFOUND, ENOENT, "open `%s`", path));
    if (off < 0)
        return end(m, pod_err_set(err, POD_E_INVALID, EINVAL, "read `%s`", path));
    size_t n = 0;
    if ((uint64_t)off < f->len) {
        n = f->len - (size_t)off;
        if (n > len)
            n = len;
        memcpy(buf, f->data + off, n);
    }
    *got = n;
    return end(m, 0);
}

/* Directory operations are durable at once in this model: sync_dir only checks its argument
 * (and can fail or be crashed after, like every call). */
static int mem_sync_dir(void *self, const char *dir, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_SYNCDIR, dir, err) < 0)
        return end(m, -1);
    if (!is_dir(m, dir))
        return end(m, pod_err_set(err, POD_E_NOTFOUND, ENOENT, "sync_dir `%s`", dir));
    return end(m, 0);
}

/* A hint on a real disk; nothing to do here (it makes nothing durable). */
static int mem_writeback(void *self, int h, struct pod_err *err)
{
    struct fs_mem *m = self;
    if (begin(m, FS_MEM_OP_WRITEBACK, "(handle)", err) < 0)
        return end(m, -1);
    if (!find_handle(m, h))
        return end(m, pod_err_set(err, POD_E_IO, EBADF, "writeback (handle %d)", h));
    return end(m, 0);
}

const struct fs_ops fs_mem_ops = {
    .open_append = mem_open_append,
    .write = mem_write,
    .fsync = mem_fsync,
    .close = mem_close,
    .rename = mem_rename,
    .unlink = mem_unlink,
    .stat_size = mem_stat_size,
    .list = mem_list,
    .mkdir_p = mem_mkdir_p,
    .read_at = mem_read_at,
    .sync_dir = mem_sync_dir,
    .writeback = mem_writeback,
};

/* ---- public API ---- */

struct fs_mem *fs_mem_new(void)
{
    struct fs_mem *m = xcalloc(1, sizeof *m);
    m->capacity = -1;
    m->next_handle = 3; /* like fds: never 0 */
    m->last_op = m->crash_op = FS_MEM_OP_ANY;
    return m;
}

void fs_mem_free(struct fs_mem *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i]->path);
        free(m->files[i]->data);
        free(m->files[i]);
    }
    free(m->files);
    free(m->handles);
    pod_strv_free(m->dirs);
    free(m);
}

struct fs fs_mem_fs(struct fs_mem *m)
{
    struct fs f = {&fs_mem_ops, m};
    return f;
}

void fs_mem_fail(struct fs_mem *m, enum fs_mem_op op, uint64_t nth, uint64_t count, int errnum)
{
    struct fail_rule *r = &m->rules[op];
    r->base = m->calls[op];
    r->nth = nth;
    r->count = count;
    r->errnum = errnum ? errnum : EIO;
}

void fs_mem_fail_clear(struct fs_mem *m)
{
    memset(m->rules, 0, sizeof m->rules);
}

void fs_mem_set_capacity(struct fs_mem *m, int64_t bytes)
{
    m->capacity = bytes;
}

int64_t fs_mem_used(const struct fs_mem *m)
{
    int64_t used = 0;
    for (size_t i = 0; i < m->nfiles; i++)
        used += (int64_t)m->files[i]->len;
    return used;
}

void fs_mem_set_crash_mode(struct fs_mem *m, enum fs_mem_crash_mode mode)
{
    m->crash_mode = mode;
}

void fs_mem_crash(struct fs_mem *m)
{
    crash_now(m);
}

void fs_mem_crash_at(struct fs_mem *m, uint64_t k)
{
    m->crash_base = m->calls[FS_MEM_OP_ANY];
    m->crash_k = k;
}

bool fs_mem_is_down(const struct fs_mem *m)
{
    return m->down;
}

void fs_mem_reboot(struct fs_mem *m)
{
    m->down = false;
}

uint64_t fs_mem_calls(const struct fs_mem *m, enum fs_mem_op op)
{
    return m->calls[op];
}

enum fs_mem_op fs_mem_last_op(const struct fs_mem *m)
{
    return m->last_op;
}

enum fs_mem_op fs_mem_crash_op(const struct fs_mem *m)
{
    return m->crash_op;
}

int fs_mem_open_handles(const struct fs_mem *m)
{
    return (int)m->nhandles;
}

int fs_mem_get(const struct fs_mem *m, const char *path, char **data, size_t *len)
{
    struct mfile *f = find_file(m, path);
    if (!f)
        return -1;
    char *d = xmalloc(f->len + 1);
    if (f->len)
        memcpy(d, f->data, f->len);
    d[f->len] = '\0';
    *data = d;
    if (len)
        *len = f->len;
    return 0;
}

int64_t fs_mem_synced_len(const struct fs_mem *m, const char *path)
{
    struct mfile *f = find_file(m, path);
    return f ? (int64_t)f->synced : -1;
}

char **fs_mem_files(const struct fs_mem *m)
{
    char **v = xcalloc(1, sizeof *v);
    for (size_t i = 0; i < m->nfiles; i++)
        if (m->files[i]->path)
            pod_strv_push(&v, m->files[i]->path);
    qsort(v, pod_strv_len(v), sizeof *v, cmp_str);
    return v;
}

void fs_mem_put(struct fs_mem *m, const char *path, const void *data, size_t len, bool synced)
{
    char *d = pod_dirname(path);
    struct pod_err e = POD_ERR_ZERO;
    if (strcmp(d, ".") != 0)
        (void)do_mkdir_p(m, d, &e);
    free(d);
    struct mfile *f = find_file(m, path);
    if (!f)
        f = new_file(m, path);
    f->len = 0;
    if (len > f->cap) {
        f->data = xrealloc(f->data, len);
        f->cap = len;
    }
    if (len)
        memcpy(f->data, data, len);
    f->len = len;
    f->synced = synced ? len : 0;
}
