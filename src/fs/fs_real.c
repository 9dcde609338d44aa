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
 * Stateless: `self` is unused.
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

static int real_sync_dir(void *self, const char *dir, struct pod_err *err)
{
    (void)self;
    return pod_sync_dir(dir, err);
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
    (void)self;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open `%s`",
                           path);
    return fd;
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
    (void)self;
    if (rename(from, to) < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno,
                           "rename `%s` to `%s`", from, to);
    return 0;
}

static int real_unlink(void *self, const char *path, struct pod_err *err)
{
    (void)self;
    if (unlink(path) < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "unlink `%s`",
                           path);
    return 0;
}

static int real_stat_size(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    (void)self;
    struct stat st;
    if (stat(path, &st) < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "stat `%s`",
                           path);
    *size = (int64_t)st.st_size;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int real_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    (void)self;
    DIR *d = opendir(dir);
    if (!d)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno,
                           "open directory `%s`", dir);
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
    (void)self;
    return pod_mkdir_p(dir, 0755, err);
}

static int real_read_at(void *self, const char *path, int64_t off, void *buf, size_t len,
                        size_t *got, struct pod_err *err)
{
    (void)self;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open `%s`",
                           path);
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
