/* SPDX-License-Identifier: MIT */
/* tree.c - pod directories: copying a pod for one case, and manifests of directory trees.
 *
 * Each case runs against a fresh copy of the pod, made with the rules `sns cluster sync` uses
 * to ship a release to a host (pod-api-contract.md section 3.1): the executable, every other
 * top-level non-dot regular file, and config/.  "The directory is byte-identical" means equal
 * manifests: names, types, permission bits, sizes and contents (times are ignored).
 */
#include "conformance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_MAX_BYTES (1024LL * 1024 * 1024)
#define COPY_MAX_ENTRIES 20000

struct copy_budget {
    long long bytes;
    long entries;
    char *msg;
    size_t msg_len;
};

static int copy_fail(struct copy_budget *b, const char *what, const char *path)
{
    snprintf(b->msg, b->msg_len, "%s `%s`: %s", what, path, strerror(errno));
    return -1;
}

static int copy_file(struct copy_budget *b, const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return copy_fail(b, "open", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return copy_fail(b, "create", dst);
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            rc = copy_fail(b, "read", src);
            break;
        }
        b->bytes += n;
        if (b->bytes > COPY_MAX_BYTES) {
            snprintf(b->msg, b->msg_len, "the pod directory holds more than 1 GiB");
            rc = -1;
            break;
        }
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0)
                rc = copy_fail(b, "write", dst);
            else
                off += w;
        }
    }
    if (rc == 0 && fchmod(out, mode & 07777) < 0)
        rc = copy_fail(b, "chmod", dst);
    close(in);
    close(out);
    return rc;
}

static int count_entry(struct copy_budget *b)
{
    if (++b->entries > COPY_MAX_ENTRIES) {
        snprintf(b->msg, b->msg_len, "the pod directory holds more than %d entries",
                 COPY_MAX_ENTRIES);
        return -1;
    }
    return 0;
}

/* config/: every non-dot entry, recursively (directories, regular files, symlinks). */
static int copy_config(struct copy_budget *b, const char *src, const char *dst)
{
    DIR *d = opendir(src);
    if (!d)
        return copy_fail(b, "open directory", src);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *s = xasprintf("%s/%s", src, e->d_name);
        char *t = xasprintf("%s/%s", dst, e->d_name);
        struct stat st;
        if ((rc = count_entry(b)) < 0) {
        } else if (lstat(s, &st) < 0) {
            rc = copy_fail(b, "stat", s);
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0700) < 0)
                rc = copy_fail(b, "mkdir", t);
            else if ((rc = copy_config(b, s, t)) == 0 && chmod(t, st.st_mode & 07777) < 0)
                rc = copy_fail(b, "chmod", t);
        } else if (S_ISREG(st.st_mode)) {
            rc = copy_file(b, s, t, st.st_mode);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(s, target, sizeof(target) - 1);
            if (n < 0)
                rc = copy_fail(b, "readlink", s);
            else {
                target[n] = '\0';
                if (symlink(target, t) < 0)
                    rc = copy_fail(b, "symlink", t);
            }
        }
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

int cf_copy_pod(const char *exe, const char *dst, char *msg, size_t msg_len)
{
    struct copy_budget b = {.msg = msg, .msg_len = msg_len};
    char *dir = pod_dirname(exe);
    const char *name = pod_basename(exe);
    struct stat st;
    int rc = 0;
    char *t = xasprintf("%s/%s", dst, name);
    if (stat(exe, &st) < 0)
        rc = copy_fail(&b, "stat", exe);
    else
        rc = copy_file(&b, exe, t, st.st_mode);
    free(t);
    DIR *d = rc == 0 ? opendir(dir) : NULL;
    if (rc == 0 && !d)
        rc = copy_fail(&b, "open directory", dir);
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, name) == 0)
            continue;
        char *s = xasprintf("%s/%s", dir, e->d_name);
        t = xasprintf("%s/%s", dst, e->d_name);
        if (strcmp(e->d_name, "config") == 0 && lstat(s, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0700) < 0)
                rc = copy_fail(&b, "mkdir", t);
            else if ((rc = copy_config(&b, s, t)) == 0 && chmod(t, st.st_mode & 07777) < 0)
                rc = copy_fail(&b, "chmod", t);
        } else if (stat(s, &st) == 0 && S_ISREG(st.st_mode)) {
            if ((rc = count_entry(&b)) == 0)
                rc = copy_file(&b, s, t, st.st_mode);
        }
        free(s);
        free(t);
    }
    if (d)
        closedir(d);
    free(dir);
    return rc;
}

char *cf_read_file(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct pod_buf b = {0};
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 && b.len <= max)
        pod_buf_add(&b, buf, (size_t)n);
    close(fd);
    if (n < 0 || b.len > max) {
        pod_buf_free(&b);
        return NULL;
    }
    return pod_buf_take(&b);
}

/* ------------------------------------------------------------------ */
/* manifests                                                           */
/* ------------------------------------------------------------------ */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void manifest_entry(struct pod_buf *b, const char *path, const char *rel)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    uint64_t h = 0xcbf29ce484222325ULL;
    char kind = '?';
    if (S_ISDIR(st.st_mode)) {
        kind = 'd';
    } else if (S_ISLNK(st.st_mode)) {
        kind = 'l';
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof(target));
        if (n > 0)
            h = fnv1a(h, target, (size_t)n);
    } else if (S_ISREG(st.st_mode)) {
        kind = 'f';
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            char buf[65536];
            ssize_t n;
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                h = fnv1a(h, buf, (size_t)n);
            close(fd);
        } else {
            h = 0; /* unreadable: compared by metadata only */
        }
    }
    pod_buf_printf(b, "%s\t%c\t%04o\t%lld\t%016llx\n", rel, kind, (unsigned)(st.st_mode & 07777),
                   kind == 'd' ? 0LL : (long long)st.st_size, (unsigned long long)h);
    if (kind != 'd')
        return;
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        pod_buf_printf(b, "%s/\t?\tunreadable\n", rel);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
            char *p = xasprintf("%s/%s", path, nm);
            char *r = xasprintf("%s/%s", rel, nm);
            manifest_entry(b, p, r);
            free(p);
            free(r);
        }
        free(ents[i]);
    }
    free(ents);
}

char *cf_manifest(const char *dir)
{
    struct pod_buf b = {0};
    manifest_entry(&b, dir, ".");
    return pod_buf_take(&b);
}

/* The path of a manifest line (up to the first tab). */
static size_t path_len(const char *line)
{
    const char *t = strchr(line, '\t');
    return t ? (size_t)(t - line) : strlen(line);
}

static const char *find_line(const char *m, const char *path, size_t plen)
{
    for (const char *l = m; *l;) {
        if (path_len(l) == plen && strncmp(l, path, plen) == 0)
            return l;
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return NULL;
}

static size_t line_len(const char *l)
{
    const char *nl = strchr(l, '\n');
    return nl ? (size_t)(nl - l) : strlen(l);
}

/* Appends "`path` what" (path without the leading "./") to buf. */
static void note(char *buf, size_t len, size_t *used, int *found, const char *l, const char *what)
{
    size_t pl = path_len(l);
    if (pl >= 2 && l[0] == '.' && l[1] == '/') {
        l += 2;
        pl -= 2;
    }
    int w = snprintf(buf + *used, len - *used, "%s`%.*s` %s", *found ? ", " : "", (int)pl, l, what);
    if (w > 0 && (size_t)w < len - *used)
        *used += (size_t)w;
    (*found)++;
}

static const char *next_line(const char *l)
{
    size_t n = line_len(l);
    return l[n] ? l + n + 1 : l + n;
}

void cf_manifest_diff(const char *before, const char *after, char *buf, size_t len)
{
    size_t used = 0;
    int found = 0;
    buf[0] = '\0';
    for (const char *l = after; *l && found < 3; l = next_line(l)) {
        const char *o = find_line(before, l, path_len(l));
        if (!o)
            note(buf, len, &used, &found, l, "was created");
        else if (line_len(o) != line_len(l) || strncmp(o, l, line_len(l)) != 0)
            note(buf, len, &used, &found, l, "changed");
    }
    for (const char *l = before; *l && found < 3; l = next_line(l))
        if (!find_line(after, l, path_len(l)))
            note(buf, len, &used, &found, l, "was removed");
    if (!found)
        snprintf(buf, len, "no difference");
}

/* ------------------------------------------------------------------ */
/* ownership and removal                                               */
/* ------------------------------------------------------------------ */

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

int cf_chown_tree(const char *dir, uid_t uid, gid_t gid)
{
    chown_uid = uid;
    chown_gid = gid;
    return nftw(dir, chown_one, 16, FTW_PHYS);
}

static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DNR || (st && S_ISDIR(st->st_mode)))
        chmod(path, 0700);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void cf_remove_tree(const char *dir)
{
    chmod(dir, 0700);
    nftw(dir, open_up, 16, FTW_PHYS);
    nftw(dir, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}
