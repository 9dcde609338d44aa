/* SPDX-License-Identifier: MIT */
/* fuzz_cfgsum.c - libFuzzer target for the config-directory checksum reader (SPEC.md 8.7,
 * src/daemon/cfgwatch.c: cfgwatch_checksums, what the watcher compares when it polls or after
 * an inotify overflow): config/<name>/ arrives from a git repository, so it may hold anything.
 *
 * Input: two lists of file-system operations, separated by the byte 0xff, each operation a
 * code byte and its arguments: mkdir, write a file, a sparse file (256 KiB, or 64 MiB), a symlink
 * (to `..`, `/`, /dev/zero, itself, a FIFO, ...), a FIFO, a socket-like unreadable file, go
 * down into / up from a directory, remove, chmod, and the same on config/cfg.txt, config/cfg
 * itself (a symlink, a file, missing) and config/ (missing).  The first list builds the tree in
 * a fresh directory under /dev/shm (/tmp without it), the checksums are taken twice, the second
 * list changes the tree, the checksums are taken again.
 * Whatever the tree: no crash, no leak (memory or fd), no hang (never reads a FIFO, never
 * follows a link, reads bounded bytes); the checksums of an unchanged tree are equal; a name
 * created inside the volume changes the volume's checksum, one created at config/cfg.txt
 * changes the checksum file's.
 * Seed corpus: tests/fuzz/cfgsum_corpus/ (trees like the config-checksum-file scenario's: a
 * volume with files and subdirectories and its checksum file, edits, links, FIFOs).
 */
#include "pod/cfgwatch.h"
#include "pod/util.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAX_DOWN 12 /* well below CFGWATCH_SUM_MAX_DEPTH: every level is seen */

struct tree {
    char root[64];  /* the pod directory */
    char cwd[4096]; /* where operations act, relative to root ("config/cfg/a/b") */
    int depth;
    bool created_in_vol, created_txt, removed;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_DNR) /* never a link's target */
        (void)!fchmodat(AT_FDCWD, path, 0700, AT_SYMLINK_NOFOLLOW);
    (void)!remove(path);
    return 0;
}

static char *at(const struct tree *t, const char *name)
{
    return xasprintf("%s/%s/%s", t->root, t->cwd, name);
}

static const char *pick_name(unsigned char c)
{
    static const char *const names[] = {"a", "b", "c", "sub", ".hidden", "x.txt", "cfg", "dd"};
    return names[c % 8];
}

static const char *pick_target(unsigned char c)
{
    static const char *const targets[] = {"..",   "/",    "/dev/zero",   "a",   "../../..",
                                          "loop", "fifo", "/etc/passwd", "sub", "."};
    return targets[c % 10];
}

/* Runs the operations in [p, end); returns where it stopped. */
static const unsigned char *ops(struct tree *t, const unsigned char *p, const unsigned char *end)
{
    bool in_vol = strncmp(t->cwd, "config/cfg", 10) == 0;
    while (p < end && *p != 0xff) {
        unsigned char op = *p++, a = p < end ? *p++ : 0, b = p < end ? *p++ : 0;
        const char *name = pick_name(a);
        char *path = at(t, name);
        bool created = false;
        switch (op % 12) {
        case 0:
            created = mkdir(path, (mode_t)(0700 | (b & 077))) == 0;
            break;
        case 1: { /* a file of b bytes (content from the input) */
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            created = fd >= 0;
            if (fd < 0)
                fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            size_t n = (size_t)(end - p) < b ? (size_t)(end - p) : b;
            if (fd >= 0 && write(fd, p, n) < 0)
                n = 0;
            p += n;
            if (fd >= 0)
                close(fd);
            break;
        }
        case 2: { /* sparse: up to 256 KiB of zeros, or (a and b 255) 64 MiB: beyond the byte
                   * limit, costly to hash, so rare (the seed sparse-and-unreadable has one) */
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            created = fd >= 0;
            if (fd >= 0) {
                (void)!ftruncate(fd, a == 255 && b == 255 ? (off_t)64 << 20 : (off_t)1 << (b % 19));
                close(fd);
            }
            break;
        }
        case 3:
            created = symlink(pick_target(b), path) == 0;
            break;
        case 4:
            created = mkfifo(path, 0644) == 0;
            break;
        case 5: /* down into name */
            if (t->depth < MAX_DOWN) {
                struct stat st;
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                    size_t l = strlen(t->cwd);
                    snprintf(t->cwd + l, sizeof t->cwd - l, "/%s", name);
                    t->depth++;
                    in_vol = strncmp(t->cwd, "config/cfg", 10) == 0;
                }
            }
            break;
        case 6: /* up */
            if (t->depth > 0) {
                *strrchr(t->cwd, '/') = '\0';
                t->depth--;
                in_vol = strncmp(t->cwd, "config/cfg", 10) == 0;
            }
            break;
        case 7: /* never through a link (Linux refuses a link itself) */
            (void)!fchmodat(AT_FDCWD, path, (mode_t)((b & 0777) | 0700), AT_SYMLINK_NOFOLLOW);
            break;
        case 8:
            t->removed |= unlink(path) == 0 || rmdir(path) == 0;
            break;
        case 9: { /* the checksum file: written (b bytes of 'x'), a link, a FIFO or removed */
            char *txt = xasprintf("%s/config/cfg.txt", t->root);
            t->removed |= unlink(txt) == 0;
            if (b % 4 == 0) {
                int fd = open(txt, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                t->created_txt |= fd >= 0;
                char buf[256];
                memset(buf, 'x', sizeof buf);
                if (fd >= 0) {
                    (void)!write(fd, buf, b);
                    close(fd);
                }
            } else if (b % 4 == 1) {
                t->created_txt |= symlink(b & 8 ? "cfg" : "/dev/zero", txt) == 0;
            } else if (b % 4 == 2) {
                t->created_txt |= mkfifo(txt, 0644) == 0;
            }
            free(txt);
            break;
        }
        case 10: { /* config/cfg itself: a directory again, a symlink within the pod directory
                    * (one out of it is the opening's business, not the reader's), a file,
                    * missing */
            if (t->depth > 0)
                break; /* only from the pod directory's level */
            char *v = xasprintf("%s/config/cfg", t->root);
            char *old = xasprintf("%s/config/old%u", t->root, b);
            (void)!rename(v, old);
            if (b % 4 == 0)
                (void)!mkdir(v, 0755);
            else if (b % 4 == 1)
                (void)!symlink(b & 8 ? "nowhere" : "old0", v);
            else if (b % 4 == 2)
                (void)!close(open(v, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
            free(old);
            free(v);
            t->removed = true; /* the volume is another one now: no claim */
            in_vol = false;
            break;
        }
        default: /* a file nobody may read (as root: readable anyway) */
            created = close(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)) == 0;
            break;
        }
        if (created && in_vol)
            t->created_in_vol = true;
        free(path);
    }
    return p;
}

static int lowest_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *base;
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    int fd0 = lowest_fd();
    struct tree t;
    memset(&t, 0, sizeof t);
    snprintf(t.root, sizeof t.root, "%s/fz-cfgsum-XXXXXX", base);
    if (!mkdtemp(t.root))
        abort();
    char *p = xasprintf("%s/config", t.root);
    (void)!mkdir(p, 0755);
    free(p);
    p = xasprintf("%s/config/cfg", t.root);
    (void)!mkdir(p, 0755);
    free(p);
    strcpy(t.cwd, "config/cfg");
    const unsigned char *end = data + size;
    const unsigned char *q = ops(&t, data, end);

    uint64_t d1, t1, d2, t2;
    cfgwatch_checksums(t.root, "cfg", &d1, &t1);
    cfgwatch_checksums(t.root, "cfg", &d2, &t2);
    if (d1 != d2 || t1 != t2)
        abort();   /* nothing changed, yet the checksums differ */
    if (q < end) { /* the second list changes the tree */
        t.created_in_vol = t.created_txt = t.removed = false;
        ops(&t, q + 1, end);
        cfgwatch_checksums(t.root, "cfg", &d2, &t2);
        /* config/cfg made a link by the first list: the reader follows no link (SPEC 7.5.1),
         * so what the second list wrote through it is not the volume's */
        char *v = xasprintf("%s/config/cfg", t.root);
        struct stat vs;
        bool vol_dir = lstat(v, &vs) == 0 && S_ISDIR(vs.st_mode);
        free(v);
        if (t.created_in_vol && !t.removed && vol_dir && d2 == d1)
            abort(); /* a new name in the volume went unnoticed */
        if (t.created_txt && !t.removed && t1 == 0 && t2 == 0)
            abort(); /* a new checksum file went unnoticed */
    }
    if (nftw(t.root, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        abort();
    if (lowest_fd() != fd0)
        abort(); /* an fd leaked */
    return 0;
}
