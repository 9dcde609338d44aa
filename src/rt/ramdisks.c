/* SPDX-License-Identifier: MIT */
/* ramdisks.c - the pod's ramdisks (pod/rt.h, SPEC.md 7): tmpfs mounts at ramdisk/<name> made
 * by `create-ramdisks` as root through mount(2) (no shell, no mount(8)), removed by
 * `create-ramdisks -d` with umount(2); and the "fake ramdisks" (plain directories) that
 * `create` makes when nobody mounted one and `rm` removes again.  Every path is absolute
 * (pod_dir), so the cwd does not matter.  Never removes anything inside a mount. */
#include "pod/rt.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/util.h"

int rt_is_mountpoint(const char *path, struct pod_err *err)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0)
        return pod_err_set(err, POD_E_IO, errno, "stat `%s`", path);
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    /* kernels before 5.8: another device than the parent's */
    char *parent = pod_dirname(path);
    struct stat a, b;
    int rc = lstat(path, &a) == 0 && stat(parent, &b) == 0 ? a.st_dev != b.st_dev : -1;
    if (rc < 0)
        pod_err_set(err, POD_E_IO, errno, "stat `%s`", parent);
    free(parent);
    return rc;
}

static char *ramdisk_dir(const struct rt_ctx *c, const char *name)
{
    return xasprintf("%s/ramdisk/%s", c->pod_dir, name);
}

/* `ramdisk` and `ramdisk/<name>` are directories or missing, never links: the pod directory
 * is not trusted (SPEC 7.5.1), and a link there would have fn make, mount over or remove a
 * directory elsewhere. */
static int checked(const struct rt_ctx *c, const char *name, struct pod_err *err)
{
    int dfd = open(c->pod_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open `%s`", c->pod_dir);
    char *rel = xasprintf("ramdisk/%s", name);
    bool exists;
    int rc = pod_check_beneath(dfd, "ramdisk", S_IFDIR, &exists, err);
    if (rc == 0)
        rc = pod_check_beneath(dfd, rel, S_IFDIR, &exists, err);
    free(rel);
    close(dfd);
    return rc;
}

/* Calls fn for every ramdisk of the spec with its directory; counts failures (fn > 0) and
 * stops at fn < 0.  0 when none failed, else -1 with err (POD_E_FAILED naming the first). */
static int each_ramdisk(const struct rt_ctx *c, const char *what,
                        int (*fn)(const struct rt_ctx *, const struct spec_volume *, const char *,
                                  struct pod_err *),
                        struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    const char *first_failed = NULL;
    struct pod_err first = POD_ERR_ZERO;
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct spec_volume *v = &s->volumes[i];
        if (v->type != SPEC_VOL_RAMDISK)
            continue;
        char *dir = ramdisk_dir(c, v->name);
        struct pod_err e = POD_ERR_ZERO;
        int rc = 1;
        if (checked(c, v->name, &e) < 0)
            pod_log(POD_LOG_ERROR, "Ramdisk %s: %s", v->name, e.msg);
        else
            rc = fn(c, v, dir, &e);
        free(dir);
        if (rc < 0) {
            *err = e;
            return -1;
        }
        if (rc > 0 && !first_failed) {
            first_failed = v->name;
            first = e;
        }
    }
    if (!first_failed)
        return 0;
    return pod_err_set(err, POD_E_FAILED, 0, "could not %s ramdisk %s: %s", what, first_failed,
                       first.msg);
}

/* ------------------------------------------------------------------ fake ramdisks */

static int prepare_one(const struct rt_ctx *c, const struct spec_volume *v, const char *dir,
                       struct pod_err *err)
{
    int mp = rt_is_mountpoint(dir, err);
    if (mp == 1)
        return 0;
    if (mp == 0) {
        struct stat st;
        if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
            pod_err_set(err, POD_E_FAILED, 0, "`%s` is not a directory", dir);
            pod_log(POD_LOG_ERROR, "Ramdisk %s: %s", v->name, err->msg);
            return 1;
        }
        pod_log(POD_LOG_WARN,
                "Ramdisk %s is not a mountpoint, using the regular directory (a fake ramdisk "
                "left over, e.g. by an abrupt shutdown): %s",
                v->name, dir);
        return 0;
    }
    if (err->sys_errno != ENOENT) {
        pod_log(POD_LOG_ERROR, "Ramdisk %s: %s", v->name, err->msg);
        return 1;
    }
    pod_log(POD_LOG_WARN,
            "Ramdisk %s does not exist, creating fake ramdisk as regular directory: %s", v->name,
            dir);
    int dfd = open(c->pod_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *rel = xasprintf("ramdisk/%s", v->name);
    int rc = dfd < 0 ? pod_err_set(err, POD_E_IO, errno, "open `%s`", c->pod_dir)
                     : pod_mkdir_beneath(dfd, rel, 0700, err); /* no link followed */
    free(rel);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0) {
        pod_log(POD_LOG_ERROR, "Ramdisk %s: %s", v->name, err->msg);
        return 1;
    }
    return 0;
}

int rt_ramdisks_prepare(const struct rt_ctx *c, struct pod_err *err)
{
    return each_ramdisk(c, "prepare", prepare_one, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_fake_one(const struct rt_ctx *c, const struct spec_volume *v, const char *dir,
                           struct pod_err *err)
{
    (void)c;
    int mp = rt_is_mountpoint(dir, err);
    if (mp < 0 && err->sys_errno == ENOENT)
        return 0;
    if (mp == 1) {
        pod_log(POD_LOG_DEBUG, "Ramdisk %s is mounted, left alone: %s", v->name, dir);
        return 0;
    }
    if (mp == 0) {
        pod_log(POD_LOG_INFO, "Fake ramdisk %s being removed: %s", v->name, dir);
        /* depth first, no symlinks followed, never into another mount */
        if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0)
            return 0;
        pod_err_set(err, POD_E_FAILED, errno, "remove `%s`", dir);
    }
    pod_log(POD_LOG_ERROR, "Fake ramdisk %s: %s", v->name, err->msg);
    return 1;
}

int rt_ramdisks_remove_fake(const struct rt_ctx *c, struct pod_err *err)
{
    return each_ramdisk(c, "remove", remove_fake_one, err);
}

/* ------------------------------------------------------------------ real ramdisks (root) */

/* mkdir (missing) and chown to the owner; a symlink in the way is refused. */
static int owned_dir(const char *dir, uid_t uid, gid_t gid, struct pod_err *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return pod_err_set(err, POD_E_FAILED, errno, "mkdir `%s`", dir);
    struct stat st;
    if (lstat(dir, &st) < 0)
        return pod_err_set(err, POD_E_FAILED, errno, "stat `%s`", dir);
    if (!S_ISDIR(st.st_mode))
        return pod_err_set(err, POD_E_FAILED, 0, "`%s` is not a directory", dir);
    if (lchown(dir, uid, gid) < 0)
        return pod_err_set(err, POD_E_FAILED, errno, "chown `%s`", dir);
    return 0;
}

static int mount_one(const struct rt_ctx *c, const struct spec_volume *v, const char *dir,
                     struct pod_err *err)
{
    struct stat pst;
    if (stat(c->pod_dir, &pst) < 0) {
        pod_err_set(err, POD_E_FAILED, errno, "stat `%s`", c->pod_dir);
        goto fail;
    }
    char *top = xasprintf("%s/ramdisk", c->pod_dir);
    int rc = owned_dir(top, pst.st_uid, pst.st_gid, err);
    free(top);
    if (rc < 0 || owned_dir(dir, pst.st_uid, pst.st_gid, err) < 0)
        goto fail;
    int mp = rt_is_mountpoint(dir, err);
    if (mp < 0)
        goto fail;
    if (mp == 1) {
        pod_log(POD_LOG_INFO, "Ramdisk %s already mounted: %s", v->name, dir);
        return 0;
    }
    char *opts = xasprintf("size=%s,mode=0700,uid=%u,gid=%u", v->size ? v->size : "1M",
                           (unsigned)pst.st_uid, (unsigned)pst.st_gid);
    rc = mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts);
    int e = errno;
    free(opts);
    if (rc < 0) {
        pod_err_set(err, POD_E_FAILED, e, "mount tmpfs on `%s`", dir);
        goto fail;
    }
    pod_log(POD_LOG_INFO, "Ramdisk %s (%s) mounted: %s", v->name, v->size ? v->size : "", dir);
    return 0;
fail:
    pod_log(POD_LOG_ERROR, "Could not create ramdisk %s: %s", v->name, err->msg);
    return 1;
}

int rt_ramdisks_mount(const struct rt_ctx *c, struct pod_err *err)
{
    return each_ramdisk(c, "create", mount_one, err);
}

static int umount_one(const struct rt_ctx *c, const struct spec_volume *v, const char *dir,
                      struct pod_err *err)
{
    (void)c;
    int mp = rt_is_mountpoint(dir, err);
    if (mp < 0 && err->sys_errno == ENOENT)
        return 0;
    if (mp == 0)
        return 0;
    if (mp == 1) {
        if (umount2(dir, UMOUNT_NOFOLLOW) == 0) {
            pod_log(POD_LOG_INFO, "Ramdisk %s unmounted: %s", v->name, dir);
            return 0;
        }
        pod_err_set(err, POD_E_FAILED, errno, "umount `%s`", dir);
    }
    pod_log(POD_LOG_ERROR, "Could not delete ramdisk %s: %s", v->name, err->msg);
    return 1;
}

int rt_ramdisks_umount(const struct rt_ctx *c, struct pod_err *err)
{
    return each_ramdisk(c, "delete", umount_one, err);
}
