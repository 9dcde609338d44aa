/* SPDX-License-Identifier: MIT */
/* fsio.c - whole-file reads and atomic (tmp + fsync + rename) writes.  The OS seam for files
 * written by podc and the pod CLI; the log writer has its own seam (include/pod/fs.h). */
#include "pod/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pod_read_file(const char *path, size_t max_bytes, char **out, size_t *len, struct pod_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open `%s`",
                           path);
    struct pod_buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            pod_buf_free(&b);
            return pod_err_set(err, POD_E_IO, e, "read `%s`", path);
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max_bytes) {
            close(fd);
            pod_buf_free(&b);
            return pod_err_set(err, POD_E_INVALID, 0, "`%s` is larger than %zu bytes", path,
                               max_bytes);
        }
        pod_buf_add(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len)
        *len = b.len;
    *out = pod_buf_take(&b);
    return 0;
}

int pod_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
                          struct pod_err *err)
{
    char *dir = pod_dirname(path);
    char *tmpl = xasprintf("%s/.%s.XXXXXX", dir, pod_basename(path));
    free(dir);
    int fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pod_err_set(err, POD_E_IO, e, "create temporary file for `%s`", path);
        free(tmpl);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmpl, path) < 0)
        goto fail;
    free(tmpl);
    return 0;
fail : {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmpl);
    free(tmpl);
    return pod_err_set(err, POD_E_IO, e, "write `%s`", path);
}
}

int pod_unlink_if_exists(const char *path, struct pod_err *err)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return pod_err_set(err, POD_E_IO, errno, "remove `%s`", path);
    return 0;
}

char *pod_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

const char *pod_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *pod_path_join(const char *dir, const char *name)
{
    if (name[0] == '/')
        return xstrdup(name);
    size_t dl = strlen(dir);
    if (dl && dir[dl - 1] == '/')
        return xasprintf("%s%s", dir, name);
    return xasprintf("%s/%s", dir, name);
}
