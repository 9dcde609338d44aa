/* SPDX-License-Identifier: MIT */
/* fs_real.c - the POSIX implementation of the file-system seam (include/pod/fs.h).
 *
 * Handles are file descriptors.  To give the seam's contract on a real disk: a write either
 * appends all of its bytes or (after a short write) truncates the partial bytes away again.
 * Create, rename and unlink do not fsync the directory (each would be an ext4 journal commit);
 * sync_dir does, once for all of them, when the caller needs them durable.  mkdir_p (rare)
 * fsyncs the parents it changed.  Directory syncs and mkdir -p are util's (pod_sync_dir,
 * pod_mkdir_p), shared with podc and the pod CLI.  writeback is
 * sync_file_range(SYNC_FILE_RANGE_WRITE): it starts writeback of the dirty pages and does not wait.
 * fs_real() is stateless (`self` NULL); fs_real_beneath() passes a struct fs_root as `self`:
 * every path is then resolved beneath the pod directory's descriptor without following a
 * symbolic link (pod_open_beneath, SPEC.md 7.5.1).  Files opened for append or read are opened
 * O_NOFOLLOW|O_NONBLOCK either way and must be regular files (a FIFO is refused, not waited on).
 */
#include "pod/fs.h"
#include "pod/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fs_root {
    int fd;    /* O_PATH descriptor of the directory */
    char *dir; /* its path as given, without trailing slashes */
    size_t len;
};

int fs_root_open(const char *dir, struct fs_root **out, struct pod_err *err)
{
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno,
                           "open directory `%s`", dir);
    struct fs_root *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    r->dir = xstrdup(dir);
    r->len = strlen(r->dir);
    while (r->len > 0 && r->dir[r->len - 1] == '/')
        r->dir[--r->len] = '\0';
    *out = r;
    return 0;
}

void fs_root_free(struct fs_root *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->dir);
    free(r);
}

struct fs fs_real_beneath(struct fs_root *r)
{
    struct fs f = {&fs_real_ops, r};
    return f;
}

/* path relative to the root ("." for the root itself), or NULL with err when it is outside. */
static const char *rel_of(const struct fs_root *r, const char *path, struct pod_err *err)
{
    if (strncmp(path, r->dir, r->len) == 0 && (path[r->len] == '/' || path[r->len] == '\0')) {
        const char *p = path + r->len;
        while (*p == '/')
            p++;
        return *p ? p : ".";
    }
    pod_err_set(err, POD_E_INVALID, 0, "`%s` is outside the pod directory `%s`: refused", path,
                r->dir);
    return NULL;
}

/* Opens path: beneath the root (no link followed) or, without one, as given with O_NOFOLLOW
 * on its last component. */
static int open_path(void *self, const char *path, int flags, struct pod_err *err)
{
    const struct fs_root *r = self;
    if (r) {
        const char *rel = rel_of(r, path, err);
        return rel ? pod_open_beneath(r->fd, rel, flags, 0644, err) : -1;
    }
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open `%s`",
                           path);
    return fd;
}

/* An open file must be a regular file (not a FIFO, a device...); closes fd when not. */
static int regular(int fd, const char *path, struct pod_err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return pod_err_set(err, POD_E_IO, e, "stat `%s`", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pod_err_set(err, POD_E_FAILED, 0, "`%s` is a %s, not a regular file: refused", path,
                           pod_file_kind(st.st_mode));
    }
    return fd;
}

/* The directory holding path's last component (an O_PATH fd) and that component's name. */
static int open_parent(void *self, const char *path, const char **base, struct pod_err *err)
{
    const struct fs_root *r = self;
    *base = pod_basename(path);
    if (!r) {
        char *dir = pod_dirname(path);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno,
                        "open directory `%s`", dir);
        free(dir);
        return fd;
    }
    const char *rel = rel_of(r, path, err);
    if (!rel)
        return -1;
    if (strcmp(rel, ".") == 0)
        return pod_err_set(err, POD_E_INVALID, 0, "`%s`: the pod directory itself", path);
    char *prel = pod_dirname(rel);
    int fd = pod_open_beneath(r->fd, prel, O_PATH | O_DIRECTORY, 0, err);
    free(prel);
    return fd;
}

static int real_sync_dir(void *self, const char *dir, struct pod_err *err)
{
    if (!self)
        return pod_sync_dir(dir, err);
    int fd = open_path(self, dir, O_RDONLY | O_DIRECTORY, err);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        rc = pod_err_set(err, POD_E_IO, errno, "fsync directory `%s`", dir);
    close(fd);
    return rc;
}

static int real_writeback(void *self, int h, struct pod_err *err)
{
    (void)self;
    if (sync_file_range(h, 0, 0, SYNC_FILE_RANGE_WRITE) < 0 && errno != EINVAL && errno != ESPIPE)
        return pod_err_set(err, POD_E_IO, errno, "sync_file_range");
    return 0;
}

static int real_open_append(void *self, const char *path, struct pod_err *err)
{
    int fd = open_path(self, path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, err);
    return fd < 0 ? -1 : regular(fd, path, err);
}

static ssize_t real_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    (void)self;
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(h, p + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        int e = n < 0 ? errno : ENOSPC;
        if (done > 0) {
            /* All or nothing: cut the partial bytes off again (O_APPEND: they are at the end). */
            off_t end = lseek(h, 0, SEEK_END);
            if (end >= (off_t)done && ftruncate(h, end - (off_t)done) < 0) {
                pod_err_set(err, POD_E_IO, e, "write (%zu of %zu bytes written, not undone)", done,
                            len);
                return -1;
            }
        }
        pod_err_set(err, POD_E_IO, e, "write");
        return -1;
    }
    return (ssize_t)len;
}

static int real_fsync(void *self, int h, struct pod_err *err)
{
    (void)self;
    if (fsync(h) < 0)
        return pod_err_set(err, POD_E_IO, errno, "fsync");
    return 0;
}

static int real_close(void *self, int h, struct pod_err *err)
{
    (void)self;
    if (close(h) < 0 && errno != EINTR)
        return pod_err_set(err, POD_E_IO, errno, "close");
    return 0;
}

static int real_rename(void *self, const char *from, const char *to, struct pod_err *err)
{
    const char *fb, *tb;
    int ffd = open_parent(self, from, &fb, err);
    if (ffd < 0)
        return -1;
    int tfd = open_parent(self, to, &tb, err);
    if (tfd < 0) {
        close(ffd);
        return -1;
    }
    int rc = renameat(ffd, fb, tfd, tb);
    int e = errno;
    close(ffd);
    close(tfd);
    if (rc < 0)
        return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "rename `%s` to `%s`",
                           from, to);
    return 0;
}

static int real_unlink(void *self, const char *path, struct pod_err *err)
{
    const char *base;
    int pfd = open_parent(self, path, &base, err);
    if (pfd < 0)
        return -1;
    int rc = unlinkat(pfd, base, 0);
    int e = errno;
    close(pfd);
    if (rc < 0)
        return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "unlink `%s`", path);
    return 0;
}

static int real_stat_size(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    const char *base;
    int pfd = open_parent(self, path, &base, err);
    if (pfd < 0)
        return -1;
    struct stat st;
    int rc = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(pfd);
    if (rc < 0)
        return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "stat `%s`", path);
    if (!S_ISREG(st.st_mode))
        return pod_err_set(err, POD_E_FAILED, 0, "`%s` is a %s, not a regular file: refused", path,
                           pod_file_kind(st.st_mode));
    *size = (int64_t)st.st_size;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int real_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    DIR *d = NULL;
    if (self) {
        int fd = open_path(self, dir, O_RDONLY | O_DIRECTORY, err);
        if (fd < 0)
            return -1;
        if (!(d = fdopendir(fd))) {
            int e = errno;
            close(fd);
            return pod_err_set(err, POD_E_IO, e, "open directory `%s`", dir);
        }
    } else if (!(d = opendir(dir))) {
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno,
                           "open directory `%s`", dir);
    }
    char **v = xcalloc(1, sizeof *v);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        pod_strv_push(&v, de->d_name);
    }
    int e = errno;
    closedir(d);
    if (e) {
        pod_strv_free(v);
        return pod_err_set(err, POD_E_IO, e, "read directory `%s`", dir);
    }
    qsort(v, pod_strv_len(v), sizeof *v, cmp_str);
    *names = v;
    return 0;
}

static int real_mkdir_p(void *self, const char *dir, struct pod_err *err)
{
    const struct fs_root *r = self;
    if (!r)
        return pod_mkdir_p(dir, 0755, err);
    const char *rel = rel_of(r, dir, err);
    return rel ? pod_mkdir_beneath(r->fd, rel, 0755, err) : -1;
}

static int real_read_at(void *self, const char *path, int64_t off, void *buf, size_t len,
                        size_t *got, struct pod_err *err)
{
    int fd = open_path(self, path, O_RDONLY | O_NONBLOCK, err);
    if (fd < 0 || (fd = regular(fd, path, err)) < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return pod_err_set(err, POD_E_IO, e, "read `%s`", path);
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    *got = done;
    return 0;
}

const struct fs_ops fs_real_ops = {
    .open_append = real_open_append,
    .write = real_write,
    .fsync = real_fsync,
    .close = real_close,
    .rename = real_rename,
    .unlink = real_unlink,
    .stat_size = real_stat_size,
    .list = real_list,
    .mkdir_p = real_mkdir_p,
    .read_at = real_read_at,
    .sync_dir = real_sync_dir,
    .writeback = real_writeback,
};

struct fs fs_real(void)
{
    struct fs f = {&fs_real_ops, NULL};
    return f;
}
