/* SPDX-License-Identifier: MIT */
/* runc_norlimit.c - OCI runtime wrapper for machines without CAP_SYS_RESOURCE.
 *
 * On such machines (the development and CI VMs) every container start fails with
 * "setrlimit RLIMIT_NOFILE: Operation not permitted", because podman always asks for raised
 * rlimits.  This wrapper deletes `process.rlimits` from the bundle's config.json
 * (`--bundle DIR`) and `rlimits` from an exec process file (`--process FILE`), then execs the
 * real runc with the unchanged argument vector.  ci/podman-setup.sh compiles and installs it
 * only when that failure is detected; it is never part of the pod runtime itself.
 *
 * Self-contained on purpose (libc only, no jq, no jansson): the JSON is not re-serialised,
 * only the one member is cut out of the original bytes by a small validating scanner.  If a
 * file is missing or is not the JSON we expect, it is left alone and runc reports the error.
 *
 * `runc-norlimit --strip-only config|process FILE` edits FILE and exits (used by the tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RUNC_PATH
#define RUNC_PATH "/usr/sbin/runc"
#endif

#define MAX_FILE (16u << 20) /* OCI configs are a few KiB; refuse anything absurd */
#define MAX_DEPTH 256

/* ---- a minimal JSON scanner: positions only, nothing is decoded ---- */

struct scan {
    const char *s;
    size_t n;
};

static size_t skip_ws(const struct scan *sc, size_t i)
{
    while (i < sc->n &&
           (sc->s[i] == ' ' || sc->s[i] == '\t' || sc->s[i] == '\n' || sc->s[i] == '\r'))
        i++;
    return i;
}

/* i is at the opening quote; returns the index after the closing quote, or 0 on error. */
static size_t skip_string(const struct scan *sc, size_t i)
{
    for (i++; i < sc->n; i++) {
        if (sc->s[i] == '\\')
            i++;
        else if (sc->s[i] == '"')
            return i + 1;
        else if ((unsigned char)sc->s[i] < 0x20)
            return 0;
    }
    return 0;
}

static size_t skip_value(const struct scan *sc, size_t i, int depth);

/* i is at '{' or '['; returns the index after the matching close, or 0 on error. */
static size_t skip_container(const struct scan *sc, size_t i, int depth)
{
    char close = sc->s[i] == '{' ? '}' : ']';
    int is_obj = close == '}';
    if (depth > MAX_DEPTH)
        return 0;
    i = skip_ws(sc, i + 1);
    if (i < sc->n && sc->s[i] == close)
        return i + 1;
    for (;;) {
        if (is_obj) {
            if (i >= sc->n || sc->s[i] != '"' || !(i = skip_string(sc, i)))
                return 0;
            i = skip_ws(sc, i);
            if (i >= sc->n || sc->s[i] != ':')
                return 0;
            i = skip_ws(sc, i + 1);
        }
        if (!(i = skip_value(sc, i, depth + 1)))
            return 0;
        i = skip_ws(sc, i);
        if (i >= sc->n)
            return 0;
        if (sc->s[i] == close)
            return i + 1;
        if (sc->s[i] != ',')
            return 0;
        i = skip_ws(sc, i + 1);
    }
}

static size_t skip_value(const struct scan *sc, size_t i, int depth)
{
    if (i >= sc->n)
        return 0;
    char c = sc->s[i];
    if (c == '{' || c == '[')
        return skip_container(sc, i, depth);
    if (c == '"')
        return skip_string(sc, i);
    size_t start = i; /* number, true, false, null */
    while (i < sc->n &&
           (sc->s[i] == '-' || sc->s[i] == '+' || sc->s[i] == '.' ||
            (sc->s[i] >= '0' && sc->s[i] <= '9') || (sc->s[i] >= 'a' && sc->s[i] <= 'z') ||
            (sc->s[i] >= 'A' && sc->s[i] <= 'Z')))
        i++;
    return i > start ? i : 0;
}

/* Finds member `key` of the object starting at obj (at '{').  On success sets the value's
 * start and the byte range [*cut_from, *cut_to) that removes the member with one comma. */
static int find_member(const struct scan *sc, size_t obj, const char *key, size_t *value,
                       size_t *cut_from, size_t *cut_to)
{
    size_t klen = strlen(key);
    size_t prev_end = 0; /* end of the previous member's value, 0 if none */
    size_t i = skip_ws(sc, obj + 1);
    if (i < sc->n && sc->s[i] == '}')
        return -1;
    for (;;) {
        size_t kstart = i, kend, vstart, vend;
        if (i >= sc->n || sc->s[i] != '"' || !(kend = skip_string(sc, i)))
            return -1;
        i = skip_ws(sc, kend);
        if (i >= sc->n || sc->s[i] != ':')
            return -1;
        vstart = skip_ws(sc, i + 1);
        if (!(vend = skip_value(sc, vstart, 1)))
            return -1;
        i = skip_ws(sc, vend);
        if (i >= sc->n)
            return -1;
        int last = sc->s[i] == '}';
        if (!last && sc->s[i] != ',')
            return -1;
        if (kend - kstart == klen + 2 && memcmp(sc->s + kstart + 1, key, klen) == 0) {
            *value = vstart;
            if (!last) { /* `"k":v, ` -> cut up to the next member */
                *cut_from = kstart;
                *cut_to = skip_ws(sc, i + 1);
            } else if (prev_end) { /* `, "k":v` -> cut from the previous value's end */
                *cut_from = prev_end;
                *cut_to = vend;
            } else { /* the only member */
                *cut_from = kstart;
                *cut_to = vend;
            }
            return 0;
        }
        if (last)
            return -1;
        prev_end = vend;
        i = skip_ws(sc, i + 1);
    }
}

/* Cuts the rlimits member out of buf (config: .process.rlimits, process: .rlimits).
 * Returns 1 if something was cut, 0 if there was nothing to cut or the JSON is unexpected. */
static int strip(char *buf, size_t *len, int is_config)
{
    struct scan sc = {buf, *len};
    size_t root = skip_ws(&sc, 0), obj = root, v, from, to;
    if (root >= sc.n || buf[root] != '{' || skip_container(&sc, root, 0) == 0)
        return 0; /* not one well-formed object: leave it to runc */
    if (is_config) {
        if (find_member(&sc, root, "process", &obj, &from, &to) < 0 || buf[obj] != '{')
            return 0;
    }
    if (find_member(&sc, obj, "rlimits", &v, &from, &to) < 0)
        return 0;
    memmove(buf + from, buf + to, *len - to);
    *len -= to - from;
    return 1;
}

/* ---- files ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Rewrites path without its rlimits (tmp + rename, same mode).  Returns 0 also when there was
 * nothing to do; -1 only when an edit was needed and failed. */
static int strip_file(const char *path, int is_config)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (size_t)st.st_size > MAX_FILE) {
        close(fd);
        return 0;
    }
    size_t len = 0, cap = (size_t)st.st_size;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!strip(buf, &len, is_config)) {
        free(buf);
        return 0;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".norlimit.tmp");
    if (!tmp) {
        free(buf);
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".norlimit.tmp", sizeof ".norlimit.tmp");
    int rc = -1;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out >= 0) {
        if (fchmod(out, st.st_mode & 07777) == 0 && write_all(out, buf, len) == 0 &&
            close(out) == 0)
            rc = rename(tmp, path);
        else
            close(out);
        if (rc < 0)
            unlink(tmp);
    }
    free(tmp);
    free(buf);
    return rc;
}

static void warn_strip(const char *path)
{
    fprintf(stderr, "runc-norlimit: cannot rewrite %s: %s\n", path, strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--strip-only") == 0) {
        int is_config = strcmp(argv[2], "config") == 0;
        if (!is_config && strcmp(argv[2], "process") != 0)
            return 100;
        if (strip_file(argv[3], is_config) < 0) {
            warn_strip(argv[3]);
            return 1;
        }
        return 0;
    }

    const char *bundle = NULL, *process = NULL;
    int is_exec = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "exec") == 0)
            is_exec = 1;
        if ((strcmp(a, "--bundle") == 0 || strcmp(a, "-b") == 0) && next)
            bundle = next;
        else if (strncmp(a, "--bundle=", 9) == 0)
            bundle = a + 9;
        else if ((strcmp(a, "--process") == 0 || (is_exec && strcmp(a, "-p") == 0)) && next)
            process = next;
        else if (strncmp(a, "--process=", 10) == 0)
            process = a + 10;
    }
    if (bundle) {
        size_t blen = strlen(bundle);
        char *cfg = malloc(blen + sizeof "/config.json");
        if (cfg) {
            memcpy(cfg, bundle, blen);
            memcpy(cfg + blen, "/config.json", sizeof "/config.json");
            if (strip_file(cfg, 1) < 0)
                warn_strip(cfg);
            free(cfg);
        }
    }
    if (process && strip_file(process, 0) < 0)
        warn_strip(process);

    execv(RUNC_PATH, argv);
    fprintf(stderr, "runc-norlimit: exec %s: %s\n", RUNC_PATH, strerror(errno));
    return 127;
}
