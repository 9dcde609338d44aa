/* SPDX-License-Identifier: MIT */
/* cfgwatch.c - config volume change detection: inotify, with a content-checksum fallback (see
 * pod/cfgwatch.h).
 *
 * Watches: one on config/ (W_CONFIG: entries <name> and <name>.txt, and config/ itself going
 * away), one per directory of each volume tree (W_VOL), and - only while config/ is missing -
 * one on the pod directory (W_POD: `config` appearing), so the status file the daemon rewrites
 * every 5 s in the pod directory does not wake it up again.  Events of one read() are folded
 * into per-volume flags and reported at the end of the batch.
 */
#include "pod/cfgwatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/util.h"

#define DIR_MASK                                                                                   \
    (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |            \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define POD_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define MAX_DEPTH CFGWATCH_SUM_MAX_DEPTH

enum wkind { W_POD, W_CONFIG, W_VOL };

struct wt {
    int wd;
    enum wkind kind;
    size_t vol;
    char *rel; /* relative to the pod directory: "config/cfg/sub" */
};

struct volst {
    size_t index;
    char *name, *txt; /* "<name>", "<name>.txt" */
    uint64_t sum_dir, sum_txt;
    bool stale;          /* reported changed since its checksums were taken */
    bool ch_dir, ch_txt; /* this batch */
    bool rewatch;        /* its root was created/deleted/replaced in this batch */
};

struct cfgwatch {
    struct cfgwatch_cfg cfg;
    char *dir;
    struct volst *v;
    size_t nv;
    int ifd; /* -1 while polling */
    struct wt *w;
    size_t nw, capw;
    bool polling, out_of_watches;
    int64_t next_poll_ms;
    unsigned overflows;
};

/* ------------------------------------------------------------------ checksums */

/* The byte loop carries no decision worth a fuzzer's coverage feedback, and instrumented it
 * costs the checksum fuzzer (fuzz_cfgsum) 3/4 of its time. */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define NO_COVERAGE
#endif

NO_COVERAGE static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV0 0xcbf29ce484222325ULL

/* A string and its terminating NUL (so "a" "bc" and "ab" "c" differ). */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    for (;; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
        if (!*s)
            return h;
    }
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) {
        h ^= v & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* What one checksum may still read (SPEC 8.7): entries and file bytes. */
struct budget {
    size_t entries, bytes;
};

/* Hash of one entry (name relative to the volume, metadata, content or link target); the
 * content only while the budget lasts. */
static uint64_t entry_hash(int dfd, const char *name, const char *rel, const struct stat *st,
                           struct budget *b)
{
    uint64_t h = fnv_str(FNV0, rel);
    h = fnv_u64(h, (uint64_t)st->st_size);
    h = fnv_u64(h, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    h = fnv_u64(h, (uint64_t)st->st_mode);
    if (S_ISLNK(st->st_mode)) {
        char t[4096];
        ssize_t n = readlinkat(dfd, name, t, sizeof t);
        if (n > 0)
            h = fnv(h, t, (size_t)n);
    } else if (S_ISREG(st->st_mode)) {
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        char buf[65536];
        ssize_t n;
        while (fd >= 0 && b->bytes &&
               (n = read(fd, buf, b->bytes < sizeof buf ? b->bytes : sizeof buf)) > 0) {
            h = fnv(h, buf, (size_t)n);
            b->bytes -= (size_t)n;
        }
        if (fd >= 0)
            close(fd);
    }
    return h;
}

/* Sum of the entry hashes of a tree (order-independent while the budget lasts).  Takes dfd. */
static uint64_t tree_sum(int dfd, const char *rel, int depth, struct budget *b)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return 1;
    }
    uint64_t sum = 0;
    struct dirent *e;
    while (b->entries && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        b->entries--;
        char *r = xasprintf("%s/%s", rel, e->d_name);
        sum += entry_hash(dirfd(d), e->d_name, r, &st, b);
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0)
                sum += tree_sum(sub, r, depth + 1, b);
        }
        free(r);
    }
    closedir(d);
    return sum;
}

static int open_config(const struct cfgwatch *w)
{
    char *p = xasprintf("%s/config", w->dir);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW); /* SPEC 7.5.1 */
    free(p);
    return fd;
}

/* Checksums of volume v now: its tree (0 when missing) and its checksum file (0 when none). */
static void vol_sums(const struct cfgwatch *w, const struct volst *v, uint64_t *sd, uint64_t *st)
{
    *sd = *st = 0;
    int cfd = open_config(w);
    if (cfd < 0)
        return;
    struct stat s;
    memset(&s, 0, sizeof s);
    struct budget b = {CFGWATCH_SUM_MAX_ENTRIES, CFGWATCH_SUM_MAX_BYTES};
    int vfd = openat(cfd, v->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (vfd >= 0 && fstat(vfd, &s) == 0) {
        *sd = entry_hash(cfd, v->name, "", &s, &b) + tree_sum(vfd, "", 0, &b);
        vfd = -1; /* tree_sum took it */
    }
    if (vfd >= 0)
        close(vfd);
    b = (struct budget){1, CFGWATCH_SUM_MAX_BYTES};
    if (fstatat(cfd, v->txt, &s, AT_SYMLINK_NOFOLLOW) == 0)
        *st = entry_hash(cfd, v->txt, v->txt, &s, &b) | 1;
    close(cfd);
}

void cfgwatch_checksums(const char *dir, const char *name, uint64_t *sum_dir, uint64_t *sum_txt)
{
    struct cfgwatch w = {.dir = (char *)dir};
    struct volst v = {.name = (char *)name, .txt = xasprintf("%s.txt", name)};
    vol_sums(&w, &v, sum_dir, sum_txt);
    free(v.txt);
}

bool cfgwatch_sums(const struct cfgwatch *w, size_t index, uint64_t *dir, uint64_t *txt)
{
    for (size_t i = 0; i < w->nv; i++)
        if (w->v[i].index == index) {
            vol_sums(w, &w->v[i], dir, txt);
            return true;
        }
    return false;
}

static bool has_txt(const struct cfgwatch *w, const struct volst *v)
{
    char *p = xasprintf("%s/config/%s", w->dir, v->txt);
    bool r = access(p, F_OK) == 0;
    free(p);
    return r;
}

static void take_sums(struct cfgwatch *w)
{
    for (size_t i = 0; i < w->nv; i++) {
        vol_sums(w, &w->v[i], &w->v[i].sum_dir, &w->v[i].sum_txt);
        w->v[i].stale = false;
    }
}

/* ------------------------------------------------------------------ reporting */

/* Calls back for the flagged volumes.  With fresh, the checksums were just taken (they cover
 * these changes); otherwise the volumes' checksums are stale from now on. */
static void report(struct cfgwatch *w, bool fresh)
{
    for (size_t i = 0; i < w->nv; i++) {
        struct volst *v = &w->v[i];
        bool d = v->ch_dir, t = v->ch_txt;
        v->ch_dir = v->ch_txt = false;
        if (!d && !t)
            continue;
        v->stale = !fresh;
        bool has = has_txt(w, v);
        if (d)
            w->cfg.fn(w->cfg.arg, v->index, false, has);
        if (t)
            w->cfg.fn(w->cfg.arg, v->index, true, has);
    }
}

/* Compares every volume with its last checksums (stale ones count as changed), flags the
 * differences and takes the new checksums. */
static void compare_sums(struct cfgwatch *w)
{
    for (size_t i = 0; i < w->nv; i++) {
        struct volst *v = &w->v[i];
        uint64_t sd, st;
        vol_sums(w, v, &sd, &st);
        if (v->stale || sd != v->sum_dir)
            v->ch_dir = true;
        if ((v->stale && st) || st != v->sum_txt)
            v->ch_txt = true;
        v->sum_dir = sd;
        v->sum_txt = st;
        v->stale = false;
    }
}

/* ------------------------------------------------------------------ watches */

static struct wt *wt_find(struct cfgwatch *w, int wd)
{
    for (size_t i = 0; i < w->nw; i++)
        if (w->w[i].wd == wd)
            return &w->w[i];
    return NULL;
}

static void wt_remove_at(struct cfgwatch *w, size_t i, bool rm)
{
    if (rm && w->ifd >= 0)
        (void)inotify_rm_watch(w->ifd, w->w[i].wd);
    free(w->w[i].rel);
    if (i + 1 < w->nw)
        w->w[i] = w->w[w->nw - 1];
    w->nw--;
}

/* Adds (or renames) a watch; false when out of watches (the caller falls back to polling). */
static bool wt_add(struct cfgwatch *w, const char *rel, enum wkind kind, size_t vol)
{
    if (w->ifd < 0)
        return true;
    if (w->cfg.max_watches && w->nw >= w->cfg.max_watches) {
        w->out_of_watches = true;
        return false;
    }
    char *path = *rel ? xasprintf("%s/%s", w->dir, rel) : xstrdup(w->dir);
    int wd =
        inotify_add_watch(w->ifd, path, (kind == W_POD ? POD_MASK : DIR_MASK) | IN_DONT_FOLLOW);
    int e = errno;
    free(path);
    if (wd < 0) {
        if (e == ENOSPC || e == ENOMEM) {
            w->out_of_watches = true;
            return false;
        }
        return true; /* gone meanwhile, or not a directory: nothing to watch */
    }
    struct wt *t = wt_find(w, wd);
    if (t) { /* the same directory under a new name (moved within the tree) */
        free(t->rel);
        t->rel = xstrdup(rel);
        t->kind = kind;
        t->vol = vol;
        return true;
    }
    if (w->nw == w->capw) {
        w->capw = w->capw ? 2 * w->capw : 16;
        w->w = xrealloc(w->w, w->capw * sizeof *w->w);
    }
    w->w[w->nw++] = (struct wt){wd, kind, vol, xstrdup(rel)};
    return true;
}

/* Watches rel and every directory below it (volume vol). */
static bool watch_tree(struct cfgwatch *w, const char *rel, size_t vol, int depth)
{
    if (!wt_add(w, rel, W_VOL, vol))
        return false;
    char *path = xasprintf("%s/%s", w->dir, rel);
    DIR *d = opendir(path);
    free(path);
    if (!d)
        return true;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        char *sub = xasprintf("%s/%s", rel, e->d_name);
        if (depth < MAX_DEPTH)
            ok = watch_tree(w, sub, vol, depth + 1);
        free(sub);
    }
    closedir(d);
    return ok;
}

/* Drops the watches of volume vol at rel and below (rel NULL: all of vol's); keeps the order
 * of the others. */
static void unwatch(struct cfgwatch *w, size_t vol, const char *rel)
{
    size_t n = rel ? strlen(rel) : 0, k = 0;
    for (size_t i = 0; i < w->nw; i++) {
        struct wt *t = &w->w[i];
        if (t->kind == W_VOL && t->vol == vol &&
            (!rel || (strncmp(t->rel, rel, n) == 0 && (t->rel[n] == '\0' || t->rel[n] == '/')))) {
            if (w->ifd >= 0)
                (void)inotify_rm_watch(w->ifd, t->wd);
            free(t->rel);
            continue;
        }
        w->w[k++] = *t;
    }
    w->nw = k;
}

static bool watch_vol(struct cfgwatch *w, size_t i)
{
    char *rel = xasprintf("config/%s", w->v[i].name);
    unwatch(w, i, NULL);
    char *path = xasprintf("%s/%s", w->dir, rel);
    struct stat st;
    bool ok = lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || watch_tree(w, rel, i, 0);
    free(path);
    free(rel);
    return ok;
}

/* (Re)builds every watch: config/ and the volumes, or the pod directory while config/ is
 * missing. */
static bool watch_all(struct cfgwatch *w)
{
    while (w->nw)
        wt_remove_at(w, w->nw - 1, true);
    char *path = xasprintf("%s/config", w->dir);
    struct stat st;
    bool have = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(path);
    if (!have)
        return wt_add(w, "", W_POD, 0);
    if (!wt_add(w, "config", W_CONFIG, 0))
        return false;
    for (size_t i = 0; i < w->nv; i++)
        if (!watch_vol(w, i))
            return false;
    return true;
}

/* ------------------------------------------------------------------ polling */

static void start_polling(struct cfgwatch *w, const char *why)
{
    pod_log(POD_LOG_WARN, "config watch: %s: polling checksums every %lld ms instead", why,
            (long long)w->cfg.poll_ms);
    if (w->ifd >= 0) {
        loop_del(w->cfg.loop, w->ifd);
        close(w->ifd);
        w->ifd = -1;
    }
    while (w->nw)
        wt_remove_at(w, w->nw - 1, false);
    w->polling = true;
    w->next_poll_ms = clk_mono_ms(w->cfg.clk) + w->cfg.poll_ms;
}

void cfgwatch_run(struct cfgwatch *w)
{
    if (!w->polling || clk_mono_ms(w->cfg.clk) < w->next_poll_ms)
        return;
    for (size_t i = 0; i < w->nv; i++)
        w->v[i].stale = false; /* while polling, the checksums are always current */
    compare_sums(w);
    report(w, true);
    w->next_poll_ms = clk_mono_ms(w->cfg.clk) + w->cfg.poll_ms;
}

/* ------------------------------------------------------------------ inotify events */

struct batch {
    bool rebuild, overflow;
};

static void on_config_entry(struct cfgwatch *w, const struct inotify_event *ev)
{
    for (size_t i = 0; i < w->nv; i++) {
        struct volst *v = &w->v[i];
        if (strcmp(ev->name, v->name) == 0) {
            v->ch_dir = true;
            if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM))
                v->rewatch = true;
        } else if (strcmp(ev->name, v->txt) == 0) {
            v->ch_txt = true;
        }
    }
}

static void on_vol_event(struct cfgwatch *w, const struct wt *t, const struct inotify_event *ev)
{
    size_t vol = t->vol;
    w->v[vol].ch_dir = true;
    if (!ev->len || !(ev->mask & IN_ISDIR))
        return;
    char *sub = xasprintf("%s/%s", t->rel, ev->name);
    if (ev->mask & IN_MOVED_FROM)
        unwatch(w, vol, sub); /* moved elsewhere: a MOVED_TO inside the tree re-adds it */
    else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && !watch_tree(w, sub, vol, 0))
        w->out_of_watches = true;
    free(sub);
}

static void on_event(struct cfgwatch *w, const struct inotify_event *ev, struct batch *b)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        b->overflow = true;
        return;
    }
    struct wt *t = wt_find(w, ev->wd);
    if (!t)
        return;
    if (ev->mask & IN_IGNORED) {
        wt_remove_at(w, (size_t)(t - w->w), false);
        return;
    }
    switch (t->kind) {
    case W_POD:
        if (ev->len && strcmp(ev->name, "config") == 0)
            b->rebuild = true;
        break;
    case W_CONFIG:
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
            b->rebuild = true;
        else if (ev->len)
            on_config_entry(w, ev);
        break;
    case W_VOL:
        on_vol_event(w, t, ev);
        break;
    }
}

static void end_batch(struct cfgwatch *w, const struct batch *b)
{
    if (b->rebuild) {
        if (!watch_all(w))
            w->out_of_watches = true;
        for (size_t i = 0; i < w->nv; i++) {
            w->v[i].ch_dir = true;
            w->v[i].ch_txt = has_txt(w, &w->v[i]);
        }
    }
    for (size_t i = 0; i < w->nv; i++) {
        if (w->v[i].rewatch && !b->rebuild && !watch_vol(w, i))
            w->out_of_watches = true;
        w->v[i].rewatch = false;
    }
    if (b->overflow) {
        w->overflows++;
        pod_log(POD_LOG_WARN, "config watch: inotify queue overflow: comparing checksums");
        compare_sums(w);
        if (!b->rebuild && !watch_all(w))
            w->out_of_watches = true;
    }
    report(w, b->overflow);
    if (w->out_of_watches && !w->polling) {
        take_sums(w);
        start_polling(w, "out of inotify watches");
    }
}

static void on_inotify(void *arg, int fd, unsigned events)
{
    struct cfgwatch *w = arg;
    (void)events;
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct batch b = {false, false};
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            on_event(w, ev, &b);
            p += sizeof *ev + ev->len;
        }
    }
    end_batch(w, &b);
}

/* ------------------------------------------------------------------ API */

int cfgwatch_new(const struct cfgwatch_cfg *cfg, struct cfgwatch **out, struct pod_err *err)
{
    struct cfgwatch *w = xcalloc(1, sizeof *w);
    w->cfg = *cfg;
    if (w->cfg.poll_ms <= 0)
        w->cfg.poll_ms = CFGWATCH_POLL_MS;
    w->dir = xstrdup(cfg->dir);
    w->cfg.dir = w->dir;
    w->cfg.vols = NULL;
    w->nv = cfg->n;
    w->v = xcalloc(cfg->n + 1, sizeof *w->v);
    for (size_t i = 0; i < cfg->n; i++) {
        w->v[i].index = cfg->vols[i].index;
        w->v[i].name = xstrdup(cfg->vols[i].name);
        w->v[i].txt = xasprintf("%s.txt", cfg->vols[i].name);
    }
    w->ifd = -1;
    take_sums(w);
    w->next_poll_ms = INT64_MAX;
    if (cfg->force_poll) {
        start_polling(w, "inotify disabled");
    } else if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
        start_polling(w, strerror(errno));
    } else if (loop_add(cfg->loop, w->ifd, LOOP_IN, on_inotify, w, err) < 0) {
        cfgwatch_free(w);
        return -1;
    } else if (!watch_all(w)) {
        start_polling(w, "out of inotify watches");
    }
    *out = w;
    return 0;
}

int64_t cfgwatch_next_deadline(const struct cfgwatch *w)
{
    return w->polling ? w->next_poll_ms : INT64_MAX;
}

bool cfgwatch_polling(const struct cfgwatch *w)
{
    return w->polling;
}

size_t cfgwatch_watches(const struct cfgwatch *w)
{
    return w->nw;
}

unsigned cfgwatch_overflows(const struct cfgwatch *w)
{
    return w->overflows;
}

void cfgwatch_free(struct cfgwatch *w)
{
    if (!w)
        return;
    if (w->ifd >= 0) {
        loop_del(w->cfg.loop, w->ifd);
        close(w->ifd);
    }
    for (size_t i = 0; i < w->nw; i++)
        free(w->w[i].rel);
    free(w->w);
    for (size_t i = 0; i < w->nv; i++) {
        free(w->v[i].name);
        free(w->v[i].txt);
    }
    free(w->v);
    free(w->dir);
    free(w);
}
