/* SPDX-License-Identifier: MIT */
/* simrun_fs.c - the simulator's file-system wrapper around fs_mem: once the daemon is dead every
 * call fails (a dead process writes nothing more), and a scenario's `disk crash-rotation` kills
 * the daemon in the middle of the nth log rotation (the runner restarts it). */
#include "simrun_int.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ fs wrapper */

static int dead(struct simfs *f, struct pod_err *err)
{
    (void)f;
    return pod_err_set(err, POD_E_IO, EIO, "sim: the daemon is dead");
}

static void after_call(struct simfs *f)
{
    if (f->countdown > 0 && --f->countdown == 0) {
        f->crashed = true;
        f->dead = true;
    }
}

static int w_open(void *self, const char *path, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->open_append(f->inner.self, path, err);
    after_call(f);
    return rc;
}

static ssize_t w_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    ssize_t rc = f->inner.ops->write(f->inner.self, h, buf, len, err);
    after_call(f);
    return rc;
}

static int w_fsync(void *self, int h, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->fsync(f->inner.self, h, err);
    after_call(f);
    return rc;
}

static int w_close(void *self, int h, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->close(f->inner.self, h, err);
    after_call(f);
    return rc;
}

static bool is_log_current(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".log") == 0 && strstr(path, "/log/") != NULL;
}

static int w_rename(void *self, const char *from, const char *to, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    if (is_log_current(from)) {
        f->rotations++;
        for (size_t i = 0; i < f->n_cr && f->countdown == 0; i++) {
            const struct crash_rot *c = &f->cr[i];
            if (f->rotations < c->nth_lo || f->rotations > c->nth_hi)
                continue;
            f->rot_crashes++;
            if (c->step <= 1) { /* crash instead of the rename */
                f->crashed = f->dead = true;
                return dead(f, err);
            }
            f->countdown = (int)c->step - 1;
        }
    }
    int rc = f->inner.ops->rename(f->inner.self, from, to, err);
    after_call(f);
    return rc;
}

static int w_unlink(void *self, const char *path, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->unlink(f->inner.self, path, err);
    after_call(f);
    return rc;
}

static int w_stat(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->stat_size(f->inner.self, path, size, err);
    after_call(f);
    return rc;
}

static int w_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->list(f->inner.self, dir, names, err);
    after_call(f);
    return rc;
}

static int w_mkdir(void *self, const char *dir, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->mkdir_p(f->inner.self, dir, err);
    after_call(f);
    return rc;
}

static int w_read(void *self, const char *path, int64_t off, void *buf, size_t len, size_t *got,
                  struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->read_at(f->inner.self, path, off, buf, len, got, err);
    after_call(f);
    return rc;
}

const struct fs_ops simrun_fs_ops = {
    .open_append = w_open,
    .write = w_write,
    .fsync = w_fsync,
    .close = w_close,
    .rename = w_rename,
    .unlink = w_unlink,
    .stat_size = w_stat,
    .list = w_list,
    .mkdir_p = w_mkdir,
    .read_at = w_read,
};
