/* SPDX-License-Identifier: MIT */
/* fsio.c - whole-file reads, whole-file writes into a temporary renamed into place (the one
 * implementation: podc's outputs, the pod image, state written by tools; by path, or beneath a
 * directory descriptor with no link followed for the untrusted pod directory, SPEC 7.5.1),
 * mkdir -p and directory syncs.  The OS seam for files written by podc and the pod CLI; writers
 * that must be testable without a disk go through include/pod/fs.h, whose fs_real uses these too.
 */
#include "pod/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
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

int pod_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int pod_fill_bytes(void *self, int fd)
{
    const struct pod_bytes *b = self;
    return pod_write_all(fd, b->data, b->len);
}

/* A random name ".<base>.XXXXXX" for a temporary next to base (the one mkostemp would pick). */
static void tmp_name(char *out, size_t cap, const char *base, unsigned try)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[6];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        struct timespec ts; /* no entropy yet: the time, the pid and the attempt */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long v = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^ try;
        for (size_t i = 0; i < sizeof r; i++, v /= 62)
            r[i] = (unsigned char)(v % 62);
    }
    char x[7];
    for (size_t i = 0; i < sizeof r; i++)
        x[i] = abc[r[i] % (sizeof abc - 1)];
    x[6] = '\0';
    snprintf(out, cap, ".%.*s.%s", (int)(cap > 10 ? cap - 10 : 0), base, x);
}

/* The one staging writer: a new temporary ".<base>.XXXXXX" in the directory pfd (created
 * O_EXCL|O_NOFOLLOW: a name planted there is never written through), filled, chmod'ed,
 * fsync'ed with POD_SYNC_DATA and closed; its name into tmp (NAME_MAX + 1 bytes).  shown
 * names the target in messages.  On failure nothing is left behind. */
static int stage_in(int pfd, const char *base, const char *shown, unsigned mode, enum pod_sync sync,
                    pod_fill_fn *fill, void *fill_self, char *tmp, struct pod_err *err)
{
    int fd = -1;
    for (unsigned tries = 0; fd < 0 && tries < 100; tries++) {
        tmp_name(tmp, 256, base, tries);
        fd =
            openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return pod_err_set(err, POD_E_IO, errno, "create temporary file for `%s`", shown);
    int e = 0;
    errno = 0;
    if (fill(fill_self, fd) < 0)
        e = errno ? errno : EIO;
    else if (fchmod(fd, (mode_t)mode) < 0 || (sync == POD_SYNC_DATA && fsync(fd) < 0))
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (e) {
        (void)unlinkat(pfd, tmp, 0);
        return pod_err_set(err, POD_E_IO, e, "write `%s`", shown);
    }
    return 0;
}

int pod_stage_file(const char *path, unsigned mode, enum pod_sync sync, pod_fill_fn *fill,
                   void *fill_self, char **tmp_out, struct pod_err *err)
{
    char *dir = pod_dirname(path);
    int pfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) {
        pod_err_set(err, POD_E_IO, errno, "create temporary file for `%s`", path);
        free(dir);
        return -1;
    }
    char tmp[256];
    int rc = stage_in(pfd, pod_basename(path), path, mode, sync, fill, fill_self, tmp, err);
    close(pfd);
    if (rc == 0)
        *tmp_out = pod_path_join(dir, tmp);
    free(dir);
    return rc;
}

int pod_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
                          struct pod_err *err)
{
    struct pod_bytes bytes = {data, len};
    char *tmp = NULL;
    if (pod_stage_file(path, mode, POD_SYNC_DATA, pod_fill_bytes, &bytes, &tmp, err) < 0)
        return -1;
    return pod_commit_file(&tmp, path, err);
}

int pod_sync_dir(const char *dir, struct pod_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "open directory `%s`",
                           dir);
    }
    int rc = 0;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        rc = pod_err_set(err, POD_E_IO, errno, "fsync directory `%s`", dir);
    close(fd);
    return rc;
}

int pod_path_prefixes(const char *path, pod_prefix_fn *fn, void *self, struct pod_err *err)
{
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    int rc = 0;
    for (char *s = p + (n > 0); rc == 0; s++) { /* "/a" gives "/a", not "" first */
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        rc = fn(self, p, err);
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return rc;
}

/* One step of pod_mkdir_p: creates dir (then syncs its parent) unless a directory is there. */
static int mkdir_one(void *self, const char *dir, struct pod_err *err)
{
    const unsigned *mode = self;
    if (mkdir(dir, (mode_t)*mode) == 0) {
        char *parent = pod_dirname(dir);
        int rc = pod_sync_dir(parent, err);
        free(parent);
        return rc;
    }
    if (errno != EEXIST)
        return pod_err_set(err, POD_E_IO, errno, "mkdir `%s`", dir);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return pod_err_set(err, POD_E_IO, ENOTDIR, "mkdir `%s`", dir);
    return 0;
}

int pod_mkdir_p(const char *dir, unsigned mode, struct pod_err *err)
{
    return pod_path_prefixes(dir, mkdir_one, &mode, err);
}

int pod_commit_file(char **tmp, const char *path, struct pod_err *err)
{
    char *staged = pod_steal_ptr(tmp);
    if (!staged)
        return pod_err_set(err, POD_E_INVALID, EINVAL, "write `%s`: nothing staged", path);
    int rc = 0;
    if (rename(staged, path) < 0) {
        rc = pod_err_set(err, POD_E_IO, errno, "write `%s`", path);
        unlink(staged);
    }
    free(staged);
    return rc;
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

/* ------------------------------------------------------------------ beneath a directory */

const char *pod_file_kind(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "regular file";
    case S_IFDIR:
        return "directory";
    case S_IFLNK:
        return "symbolic link";
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "character device";
    case S_IFBLK:
        return "block device";
    default:
        return "special file";
    }
}

/* The refusal of a name that is a link (or another kind than wanted): POD_E_FAILED (exit 1). */
static int refuse(struct pod_err *err, int sys_errno, const char *rel, size_t n, unsigned got,
                  unsigned want)
{
    if ((got & S_IFMT) == S_IFLNK)
        pod_err_set(err, POD_E_FAILED, 0,
                    "`%.*s` in the pod directory is a symbolic link: refused (not followed)",
                    (int)n, rel);
    else
        pod_err_set(err, POD_E_FAILED, 0, "`%.*s` in the pod directory is a %s, not a %s: refused",
                    (int)n, rel, pod_file_kind(got), pod_file_kind(want));
    err->sys_errno = sys_errno;
    return -1;
}

static bool rel_ok(const char *rel)
{
    if (!rel || !*rel || *rel == '/')
        return false;
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || n > 255 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/' && !*++p)
            return false;
    }
    return true;
}

/* Opens (O_PATH) the directory that holds rel's last component, checking every component on
 * the way is a directory and not a link; *last points into rel. */
static int walk_parent(int dirfd, const char *rel, const char **last, struct pod_err *err)
{
    if (!rel_ok(rel))
        return pod_err_set(err, POD_E_INVALID, 0, "`%s`: not a plain name in the pod directory",
                           rel ? rel : "");
    int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0)
        return pod_err_set(err, POD_E_IO, errno, "open the pod directory");
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) {
            *last = p;
            return cur;
        }
        char comp[256];
        memcpy(comp, p, (size_t)(slash - p));
        comp[slash - p] = '\0';
        size_t upto = (size_t)(slash - rel);
        int next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        int e = errno;
        if (next >= 0 && fstat(next, &st) < 0) {
            e = errno;
            close(next);
            next = -1;
        }
        close(cur);
        if (next < 0)
            return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "open `%.*s`",
                               (int)upto, rel);
        if (!S_ISDIR(st.st_mode)) {
            close(next);
            return refuse(err, S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR, rel, upto, st.st_mode,
                          S_IFDIR);
        }
        cur = next;
        p = slash + 1;
    }
}

int pod_open_beneath(int dirfd, const char *rel, int flags, unsigned mode, struct pod_err *err)
{
    flags |= O_CLOEXEC | O_NOCTTY;
    if (!rel)
        return pod_err_set(err, POD_E_INVALID, 0, "no name in the pod directory");
    if (strcmp(rel, ".") == 0) {
        int fd = openat(dirfd, ".", flags, (mode_t)mode);
        return fd < 0 ? pod_err_set(err, POD_E_IO, errno, "open the pod directory") : fd;
    }
    const char *last = rel;
    int pfd = walk_parent(dirfd, rel, &last, err);
    if (pfd < 0)
        return -1;
    int fd = openat(pfd, last, flags | O_NOFOLLOW, (mode_t)mode);
    int e = errno;
    struct stat st;
    if (fd >= 0 && (flags & O_PATH) && (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode))) {
        close(fd); /* O_PATH|O_NOFOLLOW opens the link itself */
        fd = -1;
        e = ELOOP;
    }
    if (fd < 0) {
        bool known = fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
        close(pfd);
        if (known && S_ISLNK(st.st_mode))
            return refuse(err, ELOOP, rel, strlen(rel), st.st_mode, 0);
        if (known && (e == ENXIO || e == ENOTDIR || e == EISDIR))
            return refuse(err, e, rel, strlen(rel), st.st_mode,
                          (flags & O_DIRECTORY) ? S_IFDIR : S_IFREG);
        return pod_err_set(err, e == ENOENT ? POD_E_NOTFOUND : POD_E_IO, e, "open `%s`", rel);
    }
    close(pfd);
    return fd;
}

int pod_read_file_at(int dirfd, const char *rel, size_t max_bytes, char **out, size_t *len,
                     struct pod_err *err)
{
    int fd = pod_open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK, 0, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return pod_err_set(err, POD_E_IO, e, "stat `%s`", rel);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(err, EINVAL, rel, strlen(rel), st.st_mode, S_IFREG);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return pod_err_set(err, POD_E_FAILED, 0,
                           "`%s` in the pod directory is larger than %zu bytes: refused", rel,
                           max_bytes);
    }
    struct pod_buf b = {0};
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            pod_buf_free(&b);
            return pod_err_set(err, POD_E_IO, e, "read `%s`", rel);
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max_bytes) { /* it grew while we read */
            close(fd);
            pod_buf_free(&b);
            return pod_err_set(err, POD_E_FAILED, 0,
                               "`%s` in the pod directory is larger than %zu bytes: refused", rel,
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

/* walk_parent, where a missing directory on the way is no error: returns the parent's fd, or
 * -2 when a component is missing (nothing there to check or remove), or -1 with err set. */
static int walk_parent_if_any(int dirfd, const char *rel, const char **last, struct pod_err *err)
{
    struct pod_err e2 = POD_ERR_ZERO;
    int pfd = walk_parent(dirfd, rel, last, &e2);
    if (pfd >= 0)
        return pfd;
    if (e2.code == POD_E_NOTFOUND)
        return -2;
    *err = e2;
    return -1;
}

int pod_check_beneath(int dirfd, const char *rel, unsigned kind, bool *exists, struct pod_err *err)
{
    *exists = false;
    const char *last = rel;
    int pfd = walk_parent_if_any(dirfd, rel, &last, err);
    if (pfd < 0)
        return pfd == -2 ? 0 : -1;
    struct stat st;
    int rc = fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(pfd);
    if (rc < 0)
        return e == ENOENT ? 0 : pod_err_set(err, POD_E_IO, e, "stat `%s`", rel);
    if (S_ISLNK(st.st_mode) || (kind && (st.st_mode & S_IFMT) != (kind & S_IFMT)))
        return refuse(err, S_ISLNK(st.st_mode) ? ELOOP : EINVAL, rel, strlen(rel), st.st_mode,
                      kind);
    *exists = true;
    return 0;
}

int pod_mkdir_beneath(int dirfd, const char *rel, unsigned mode, struct pod_err *err)
{
    if (strcmp(rel, ".") == 0)
        return 0;
    if (!rel_ok(rel))
        return pod_err_set(err, POD_E_INVALID, 0, "`%s`: not a plain name in the pod directory",
                           rel);
    int cur = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0)
        return pod_err_set(err, POD_E_IO, errno, "open the pod directory");
    const char *p = rel;
    for (;;) {
        size_t n = strcspn(p, "/");
        char comp[256];
        memcpy(comp, p, n);
        comp[n] = '\0';
        size_t upto = (size_t)(p - rel) + n;
        if (mkdirat(cur, comp, (mode_t)mode) == 0) {
            if (fsync(cur) < 0 && errno != EINVAL && errno != EROFS) {
                int e = errno;
                close(cur);
                return pod_err_set(err, POD_E_IO, e, "fsync the parent of `%.*s`", (int)upto, rel);
            }
        } else if (errno != EEXIST) {
            int e = errno;
            close(cur);
            return pod_err_set(err, POD_E_IO, e, "mkdir `%.*s`", (int)upto, rel);
        }
        int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int e = errno;
            struct stat st;
            bool known = fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0;
            close(cur);
            if (known)
                return refuse(err, e, rel, upto, st.st_mode, S_IFDIR);
            return pod_err_set(err, POD_E_IO, e, "open `%.*s`", (int)upto, rel);
        }
        close(cur);
        cur = next;
        p += n;
        if (!*p)
            break;
        p++;
    }
    close(cur);
    return 0;
}

int pod_write_file_at(int dirfd, const char *rel, unsigned mode, enum pod_sync sync,
                      pod_fill_fn *fill, void *fill_self, struct pod_err *err)
{
    const char *last = rel;
    int pfd = walk_parent(dirfd, rel, &last, err);
    if (pfd < 0)
        return -1;
    char tmp[256];
    int rc = stage_in(pfd, last, rel, mode, sync, fill, fill_self, tmp, err);
    if (rc == 0 && renameat(pfd, tmp, pfd, last) < 0) {
        rc = pod_err_set(err, POD_E_IO, errno, "write `%s`", rel);
        (void)unlinkat(pfd, tmp, 0);
    }
    close(pfd);
    return rc;
}

int pod_write_file_atomic_at(int dirfd, const char *rel, const void *data, size_t len,
                             unsigned mode, struct pod_err *err)
{
    struct pod_bytes bytes = {data, len};
    return pod_write_file_at(dirfd, rel, mode, POD_SYNC_DATA, pod_fill_bytes, &bytes, err);
}

int pod_unlink_beneath(int dirfd, const char *rel, struct pod_err *err)
{
    const char *last = rel;
    int pfd = walk_parent_if_any(dirfd, rel, &last, err);
    if (pfd < 0)
        return pfd == -2 ? 0 : -1;
    int rc = 0;
    if (unlinkat(pfd, last, 0) < 0 && errno != ENOENT)
        rc = pod_err_set(err, POD_E_IO, errno, "remove `%s`", rel);
    close(pfd);
    return rc;
}
