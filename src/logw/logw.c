/* SPDX-License-Identifier: MIT */
/* logw.c - the container log writer (include/pod/logw.h; format and guarantees: SPEC.md §9).
 *
 * Data path: logw_write splits the input into records, formats them into one output buffer
 * (`out`) and drains it with as few fs writes as possible (one per call unless a rotation cuts
 * the batch).  The current file's size is tracked in memory, never stat'ed per line.  While the
 * disk fails, `out` is the backlog: bounded by max_backlog, newest records dropped first, and a
 * '!' notice says how much was lost once the disk works again.
 *
 * Rotation is a resumable state machine (rot_step); each state is one fs call, a failed step is
 * retried later from the same state, and a crash between any two steps is recovered by
 * logw_open (recover).  fsync policy (cfg.sync, SPEC.md section 9.5): with LOGW_SYNC_ROTATE one
 * fsync of the finished file and one directory sync per rotation (dir_dirty tracks creates,
 * renames and deletions since the last one) plus early writeback every writeback_step bytes; with
 * LOGW_SYNC_NONE nothing unless logw_sync is called (unsynced_from tracks rotated files it must
 * still fsync).  The common case of formatting (complete lines, nothing carried, the disk
 * keeping up) runs in split_fast.  Reading the files back (names, records) is logw_files.c.
 * This file must not read the clock, sleep, or call the OS directly: all I/O goes through
 * struct fs.
 */
#include "logw_internal.h"
#include "pod/logw.h"
#include "pod/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Input is formatted and written in slices of this size, so a huge write call does not need
 * a huge buffer. */
#define SLICE ((size_t)64 * 1024)
/* Longest record prefix: "<19 digits>.<9 digits> <20 digits><mark> ". */
#define PREFIX_MAX 64

enum rot_state {
    ROT_IDLE,
    ROT_SYNC,    /* fsync the full current file */
    ROT_CLOSE,   /* close it */
    ROT_RENAME,  /* rename <base>.log -> <base>.log.<N> (N never used before) */
    ROT_SYNCDIR, /* sync the directory: the rename is durable before the new name is created */
    ROT_OPEN,    /* create the new <base>.log */
};

struct logw {
    struct fs fs;
    char *dir, *base, *cur_path;
    int64_t max_bytes;
    int max_files;
    size_t max_line, max_backlog;
    int64_t retry_wall_ns;  /* a failing disk is retried this long after the last try */
    bool sync_rotate;       /* cfg.sync == LOGW_SYNC_ROTATE */
    int64_t writeback_step; /* start writeback every writeback_step bytes (0: never) */
    int64_t writeback_mark; /* cur_size at the last writeback start */

    bool recovered; /* recover() has completed */
    bool reopen;    /* the next recover() replaces a handle that died under a live writer */
    int h;          /* handle of the current file, -1 when not open */
    int64_t cur_size;
    bool dirty;     /* written since the last fsync */
    bool dir_dirty; /* a file was created/renamed/deleted in dir since the last sync_dir */
    /* sync=none: rotated files from this N on may hold unsynced records (logw_sync fsyncs
     * them); UINT64_MAX: none */
    uint64_t unsynced_from;
    enum rot_state rot;
    uint64_t next_archive;
    uint64_t *archives; /* existing rotated files' N, ascending */
    size_t narchives;
    bool trim_pending;

    /* formatting */
    int64_t ts_wall_ns; /* the time stamp of the records being formatted */
    char ts[32];
    size_t ts_len;
    uint64_t seq;
    char seq_str[24];
    size_t seq_len;
    char *carry; /* an unterminated line (at most max_line bytes) */
    size_t carry_len;

    /* output buffer / backlog: bytes out[off..len) are waiting for the disk */
    char *out;
    size_t off, len, cap;

    bool failing;
    int64_t last_try_wall_ns;
    bool dropping;
    uint64_t drop_bytes, drop_lines;
    int drop_errno;
    struct pod_err last_err;

    struct logw_stats st;
};

/* ---- small helpers ---- */

static size_t pending(const struct logw *w)
{
    return w->len - w->off;
}

static void out_reserve(struct logw *w, size_t extra)
{
    if (w->off == w->len) {
        w->off = w->len = 0;
    } else if (w->off > 0 && w->off >= w->len / 2) {
        memmove(w->out, w->out + w->off, w->len - w->off);
        w->len -= w->off;
        w->off = 0;
    }
    if (w->len + extra <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + extra)
        cap *= 2;
    w->out = xrealloc(w->out, cap);
    w->cap = cap;
}

static void set_ts(struct logw *w, int64_t now_wall_ns)
{
    if (now_wall_ns < 0)
        now_wall_ns = 0;
    if (w->ts_len && now_wall_ns == w->ts_wall_ns)
        return;
    w->ts_wall_ns = now_wall_ns;
    char tmp[32];
    int64_t sec = now_wall_ns / 1000000000, ns = now_wall_ns % 1000000000;
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + sec % 10);
        sec /= 10;
    } while (sec);
    for (size_t i = 0; i < n; i++)
        w->ts[i] = tmp[n - 1 - i];
    w->ts[n++] = '.';
    for (int i = 8; i >= 0; i--) {
        w->ts[n + (size_t)i] = (char)('0' + ns % 10);
        ns /= 10;
    }
    w->ts_len = n + 9;
}

static void set_seq(struct logw *w, uint64_t seq)
{
    char tmp[24];
    size_t n = 0;
    w->seq = seq;
    do {
        tmp[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    for (size_t i = 0; i < n; i++)
        w->seq_str[i] = tmp[n - 1 - i];
    w->seq_len = n;
}

/* seq++, on the decimal string in place (no division per line). */
static void next_seq(struct logw *w)
{
    w->seq++;
    size_t i = w->seq_len;
    while (i > 0) {
        i--;
        if (w->seq_str[i] != '9') {
            w->seq_str[i]++;
            return;
        }
        w->seq_str[i] = '0';
    }
    memmove(w->seq_str + 1, w->seq_str, w->seq_len);
    w->seq_str[0] = '1';
    w->seq_len++;
}

static void fail(struct logw *w, const struct pod_err *e)
{
    w->last_err = *e;
    w->failing = true;
    w->st.write_errors++;
}

static char *archive_path(const struct logw *w, uint64_t n)
{
    return logw_archive_path(w->dir, w->base, n);
}

/* ---- records ---- */

/* Appends one record to out: ts, the next seq, mark, a then b (the message), newline. */
static void put_record(struct logw *w, const char *ts, size_t ts_len, char mark, const char *a,
                       size_t alen, const char *b, size_t blen)
{
    size_t need = PREFIX_MAX + alen + blen + 1;
    if (w->cap - w->len < need)
        out_reserve(w, need);
    char *p = w->out + w->len;
    /* Fixed-size copies (a few vector moves instead of memcpy calls): ts_len <= 31 and
     * seq_len <= 21, so both stay inside the PREFIX_MAX bytes reserved. */
    if (ts == w->ts)
        memcpy(p, w->ts, sizeof w->ts);
    else
        memcpy(p, ts, ts_len);
    p += ts_len;
    *p++ = ' ';
    memcpy(p, w->seq_str, sizeof w->seq_str);
    p += w->seq_len;
    if (mark)
        *p++ = mark;
    *p++ = ' ';
    if (alen) {
        memcpy(p, a, alen);
        p += alen;
    }
    if (blen) {
        memcpy(p, b, blen);
        p += blen;
    }
    *p++ = '\n';
    w->len = (size_t)(p - w->out);
    next_seq(w);
}

static void emit(struct logw *w, char mark, const char *a, size_t alen, const char *b, size_t blen)
{
    put_record(w, w->ts, w->ts_len, mark, a, alen, b, blen);
    if (mark == '+')
        w->st.partial_lines++;
    else if (mark == '!')
        w->st.notices++;
    else
        w->st.lines++;
}

/* A stream record (mark 0 or '+'): queued, or dropped when the backlog is full. */
static void record(struct logw *w, bool capped, char mark, const char *a, size_t alen,
                   const char *b, size_t blen)
{
    if (capped && (w->dropping || pending(w) + PREFIX_MAX + alen + blen + 1 > w->max_backlog)) {
        if (!w->dropping)
            w->drop_errno = w->last_err.sys_errno;
        w->dropping = true;
        w->drop_bytes += alen + blen + (mark ? 0 : 1);
        w->drop_lines++;
        w->st.dropped_bytes += alen + blen + (mark ? 0 : 1);
        w->st.dropped_lines++;
        next_seq(w); /* the gap in seq shows where lines are missing */
        return;
    }
    emit(w, mark, a, alen, b, blen);
}

/* The common case of split, kept tight: complete lines of at most max_line bytes, nothing
 * carried, nothing being dropped.  The prefix "<ts> <seq> " lives in one small buffer copied
 * with a fixed size and seq is incremented in it; the line is copied with its newline.  Returns
 * the bytes consumed (it stops before a line it cannot take whole). */
static size_t split_fast(struct logw *w, const char *p, const char *end)
{
    char pre[PREFIX_MAX];
    size_t tl = w->ts_len, dl = w->seq_len;
    memcpy(pre, w->ts, tl);
    pre[tl] = ' ';
    char *d = pre + tl + 1; /* the digits of seq */
    memcpy(d, w->seq_str, dl);
    d[dl] = ' ';
    size_t plen = tl + dl + 2;
    const char *start = p;
    uint64_t n = 0;
    while (p < end) {
        size_t avail = (size_t)(end - p);
        const char *nl = memchr(p, '\n', avail < w->max_line + 1 ? avail : w->max_line + 1);
        if (!nl)
            break;
        size_t l = (size_t)(nl - p) + 1;
        if (w->cap - w->len < sizeof pre + l)
            out_reserve(w, sizeof pre + l);
        char *o = w->out + w->len;
        memcpy(o, pre, sizeof pre); /* plen <= 42 < PREFIX_MAX */
        memcpy(o + plen, p, l);
        w->len += plen + l;
        p = nl + 1;
        n++;
        size_t i = dl;
        while (i > 0 && d[i - 1] == '9')
            d[--i] = '0';
        if (i > 0) {
            d[i - 1]++;
        } else { /* 99 -> 100 */
            memmove(d + 1, d, dl + 1);
            d[0] = '1';
            dl++;
            plen++;
        }
    }
    w->seq += n;
    memcpy(w->seq_str, d, dl);
    w->seq_len = dl;
    w->st.lines += n;
    return (size_t)(p - start);
}

/* Splits input into records (see the header comment of logw.h). */
static void split(struct logw *w, const char *p, size_t len, bool capped)
{
    const char *end = p + len;
    if (w->off == w->len)
        w->off = w->len = 0; /* everything was written: start the buffer over */
    while (p < end) {
        if (!capped && w->carry_len == 0) {
            p += split_fast(w, p, end);
            if (p == end)
                break;
        }
        size_t avail = (size_t)(end - p);
        size_t room = w->max_line - w->carry_len; /* message bytes this record can still take */
        size_t scan = avail < room + 1 ? avail : room + 1;
        const char *nl = memchr(p, '\n', scan);
        if (nl) {
            record(w, capped, 0, w->carry, w->carry_len, p, (size_t)(nl - p));
            w->carry_len = 0;
            p = nl + 1;
        } else if (avail > room) {
            record(w, capped, '+', w->carry, w->carry_len, p, room); /* too long: split */
            w->carry_len = 0;
            p += room;
        } else {
            memcpy(w->carry + w->carry_len, p, avail);
            w->carry_len += avail;
            p = end;
        }
    }
}

static void flush_carry(struct logw *w, bool capped)
{
    if (w->carry_len) {
        record(w, capped, '+', w->carry, w->carry_len, NULL, 0);
        w->carry_len = 0;
    }
}

/* Drops the newest whole records beyond max_backlog (counted; reported later). */
static void enforce_cap(struct logw *w)
{
    if (pending(w) <= w->max_backlog)
        return;
    const char *base = w->out + w->off;
    const char *cut = memrchr(base, '\n', w->max_backlog);
    size_t keep = cut ? (size_t)(cut - base) + 1 : 0;
    if (!w->dropping)
        w->drop_errno = w->last_err.sys_errno;
    w->dropping = true;
    /* Count what is cut: per record its message bytes, plus the newline for full lines. */
    const char *r = base + keep, *e = w->out + w->len;
    while (r < e) {
        const char *nl = memchr(r, '\n', (size_t)(e - r));
        struct logw_rec rec;
        uint64_t bytes = 0;
        if (logw_parse_line(r, (size_t)(nl - r), &rec))
            bytes = rec.msg_len + (rec.mark ? 0 : 1);
        w->drop_bytes += bytes;
        w->drop_lines++;
        w->st.dropped_bytes += bytes;
        w->st.dropped_lines++;
        r = nl + 1;
    }
    w->len = w->off + keep;
}

/* ---- recovery (logw_open, and retried until it succeeds) ---- */

/* The last record in buf whose prefix parses; buf_at_start: buf begins a line. */
static bool last_rec(const char *buf, size_t n, bool buf_at_start, struct logw_rec *out)
{
    /* Walk lines backwards; the first line is skipped unless it starts at a line start. */
    size_t e = n;
    while (e > 0) {
        size_t s = e;
        while (s > 0 && buf[s - 1] != '\n')
            s--;
        if (s > 0 || buf_at_start) {
            struct logw_rec rec;
            size_t l = e - s;
            if (l > 0 && buf[s + l - 1] == '\n')
                l--;
            if (logw_parse_line(buf + s, l, &rec)) {
                *out = rec;
                return true;
            }
        }
        if (s == 0)
            break;
        e = s - 1;
    }
    return false;
}

/* What the tail of a file says: its last parseable record, and whether it ends torn (without a
 * newline) and if so whether the torn record's prefix survived. */
struct tail {
    bool have, torn, torn_parsed;
    struct logw_rec last;
};

static int read_tail(struct logw *w, const char *path, int64_t size, struct tail *t,
                     struct pod_err *e)
{
    memset(t, 0, sizeof *t);
    if (size <= 0)
        return 0;
    size_t want = w->max_line + 2 * PREFIX_MAX;
    int64_t off = size > (int64_t)want ? size - (int64_t)want : 0;
    size_t len = (size_t)(size - off), n = 0;
    char *buf = xmalloc(len + 1);
    if (fs_read_at(&w->fs, path, off, buf, len, &n, e) < 0) {
        free(buf);
        return -1;
    }
    t->torn = n > 0 && buf[n - 1] != '\n';
    t->have = last_rec(buf, n, off == 0, &t->last);
    if (t->torn) {
        size_t s = n;
        while (s > 0 && buf[s - 1] != '\n')
            s--;
        struct logw_rec rec;
        t->torn_parsed = logw_parse_line(buf + s, n - s, &rec);
    }
    free(buf); /* t->last.msg pointed into buf: only ts_wall_ns/seq/mark are used */
    t->last.msg = NULL;
    return 0;
}

/* Makes the directory, finds the rotated files, opens <base>.log and learns its size and the
 * last seq.  A current file that does not end in a newline (a crash tore its last record) gets
 * one, plus a notice. */
static int recover(struct logw *w, struct pod_err *e)
{
    if (fs_mkdir_p(&w->fs, w->dir, e) < 0)
        return -1;
    char **names = NULL;
    if (fs_list(&w->fs, w->dir, &names, e) < 0)
        return -1;
    free(w->archives);
    w->archives = NULL;
    w->narchives = 0;
    size_t cnt = pod_strv_len(names);
    w->archives = xcalloc(cnt + 1, sizeof *w->archives);
    for (size_t i = 0; i < cnt; i++) {
        uint64_t n;
        if (logw_archive_number(w->base, names[i], &n))
            w->archives[w->narchives++] = n;
    }
    pod_strv_free(names);
    qsort(w->archives, w->narchives, sizeof *w->archives, logw_cmp_u64);
    if (w->narchives && w->archives[w->narchives - 1] >= w->next_archive)
        w->next_archive = w->archives[w->narchives - 1] + 1;
    w->trim_pending = w->narchives > (size_t)w->max_files;

    if (w->h < 0) {
        int h = fs_open_append(&w->fs, w->cur_path, e);
        if (h < 0)
            return -1;
        w->h = h;
        w->dir_dirty = true; /* it may have been created */
    }
    int64_t size = 0;
    if (fs_stat_size(&w->fs, w->cur_path, &size, e) < 0)
        return -1;

    /* The last seq: from the current file, else from the newest rotated file.  A torn record
     * whose prefix did not survive used one more seq. */
    struct tail cur, arch = {0};
    if (read_tail(w, w->cur_path, size, &cur, e) < 0)
        return -1;
    if (!cur.have && w->narchives) {
        char *ap = archive_path(w, w->archives[w->narchives - 1]);
        int64_t asize = 0;
        int rc = fs_stat_size(&w->fs, ap, &asize, e);
        if (rc == 0)
            rc = read_tail(w, ap, asize, &arch, e);
        free(ap);
        if (rc < 0)
            return -1;
    }
    const struct tail *src = cur.have ? &cur : &arch;
    uint64_t next = src->have ? src->last.seq + 1 : 0;
    next += (uint64_t)(cur.torn && !cur.torn_parsed) + (uint64_t)(arch.torn && !arch.torn_parsed);
    bool torn = cur.torn;
    /* A reopen (the handle died under a live writer, e.g. EIO): the queued records already
     * have their seq and the dropped ones used theirs.  seq never goes back, whatever the file
     * says (a log directory replaced by an empty one); queued records the file already ends
     * with (a write that failed after its bytes landed) are not written twice. */
    uint64_t on_disk = next, keep_seq = w->seq;
    bool reopen = w->reopen;
    if (reopen) {
        uint64_t first = w->seq;
        struct logw_rec fr;
        const char *q = w->out + w->off, *qnl = pending(w) ? memchr(q, '\n', pending(w)) : NULL;
        if (qnl && logw_parse_line(q, (size_t)(qnl - q), &fr))
            first = fr.seq;
        if (first > next)
            next = first;
    }
    int64_t last_ts_wall_ns = src->have ? src->last.ts_wall_ns : 0;
    set_seq(w, next);
    w->cur_size = size;
    w->writeback_mark = size;
    w->recovered = true;

    /* Records queued while recovery failed were numbered from 0: take them out, put the repair
     * of a torn tail first, then queue them again with the right seq. */
    size_t saved_n = pending(w);
    char *saved = saved_n ? xmalloc(saved_n) : NULL;
    if (saved_n)
        memcpy(saved, w->out + w->off, saved_n);
    w->off = w->len = 0;
    if (torn) {
        /* Terminate the torn record and say so, stamped with the last record's time. */
        static const char note[] = "logw: the record before this one was cut short by an "
                                   "unclean shutdown";
        int64_t now_wall_ns = w->ts_wall_ns;
        out_reserve(w, 1);
        w->out[w->len++] = '\n';
        set_ts(w, last_ts_wall_ns);
        emit(w, '!', note, sizeof note - 1, NULL, 0);
        set_ts(w, now_wall_ns);
    }
    for (size_t i = 0; i < saved_n;) {
        const char *r = saved + i;
        const char *nl = memchr(r, '\n', saved_n - i);
        size_t l = (size_t)(nl - r);
        struct logw_rec rec;
        if (logw_parse_line(r, l, &rec) && !(reopen && rec.seq < on_disk))
            put_record(w, r, (size_t)((const char *)memchr(r, ' ', l) - r), rec.mark, rec.msg,
                       rec.msg_len, NULL, 0);
        i += l + 1;
    }
    free(saved);
    if (reopen && w->seq < keep_seq)
        set_seq(w, keep_seq);
    w->reopen = false;
    return 0;
}

/* ---- rotation state machine ---- */

/* Runs one step; -1 (e set) when it failed: the same step runs again on the next attempt. */
static int rot_step(struct logw *w, struct pod_err *e)
{
    switch (w->rot) {
    case ROT_IDLE:
        return 0;
    case ROT_SYNC:
        if (w->dirty && w->sync_rotate) {
            if (fs_fsync(&w->fs, w->h, e) < 0)
                return -1;
            w->dirty = false;
            w->st.syncs++;
        }
        w->rot = ROT_CLOSE;
        return 0;
    case ROT_CLOSE: {
        struct pod_err ce = POD_ERR_ZERO;
        if (fs_close(&w->fs, w->h, &ce) < 0)
            fail(w, &ce); /* the handle is gone either way (close(2)); the data was synced */
        w->h = -1;
        w->rot = ROT_RENAME;
        return 0;
    }
    case ROT_RENAME: {
        char *to = archive_path(w, w->next_archive);
        int rc = fs_rename(&w->fs, w->cur_path, to, e);
        free(to);
        if (rc < 0 && e->code != POD_E_NOTFOUND)
            return -1;
        if (rc == 0) {
            w->archives = xrealloc(w->archives, (w->narchives + 1) * sizeof *w->archives);
            w->archives[w->narchives++] = w->next_archive;
            w->next_archive++;
            if (w->dirty && w->unsynced_from == UINT64_MAX)
                w->unsynced_from = w->archives[w->narchives - 1]; /* ROT_SYNC skipped it */
            w->st.rotations++;
            w->trim_pending = w->narchives > (size_t)w->max_files;
            w->dir_dirty = true;
        }
        w->rot = w->sync_rotate && w->dir_dirty ? ROT_SYNCDIR : ROT_OPEN;
        return 0;
    }
    case ROT_SYNCDIR:
        if (fs_sync_dir(&w->fs, w->dir, e) < 0)
            return -1;
        w->dir_dirty = false;
        w->st.dir_syncs++;
        w->rot = ROT_OPEN;
        return 0;
    case ROT_OPEN: {
        int h = fs_open_append(&w->fs, w->cur_path, e);
        if (h < 0)
            return -1;
        w->h = h;
        w->cur_size = 0;
        w->dirty = false;
        w->writeback_mark = 0;
        w->dir_dirty = true; /* the new name is durable after the next sync_dir */
        w->rot = ROT_IDLE;
        return 0;
    }
    }
    return pod_err_set(e, POD_E_INTERNAL, 0, "logw: bad rotation state %d", (int)w->rot);
}

/* Deletes the oldest rotated files beyond max_files.  Failures are counted, not fatal: false
 * means "try again later". */
static bool trim(struct logw *w)
{
    while (w->narchives > (size_t)w->max_files) {
        struct pod_err e = POD_ERR_ZERO;
        char *p = archive_path(w, w->archives[0]);
        int rc = fs_unlink(&w->fs, p, &e);
        free(p);
        if (rc < 0 && e.code != POD_E_NOTFOUND) {
            fail(w, &e);
            w->failing = false; /* logging itself still works */
            return false;
        }
        memmove(w->archives, w->archives + 1, (w->narchives - 1) * sizeof *w->archives);
        w->narchives--;
        w->dir_dirty = true;
    }
    w->trim_pending = false;
    return true;
}

/* ---- draining ---- */

/* Errors after which the current handle is given up and the file opened again (SPEC 9.5). */
static bool handle_dead(int errnum)
{
    switch (errnum) {
    case EIO:
    case EROFS:
    case ESTALE:
    case ENODEV:
    case ENXIO:
        return true;
    default:
        return false;
    }
}

/* Writes out[] to the disk, rotating as needed.  0 when everything is written. */
static int drain(struct logw *w, int64_t now_wall_ns)
{
    struct pod_err e = POD_ERR_ZERO;
    bool trim_failed = false;
    w->last_try_wall_ns = now_wall_ns;
    if (!w->recovered && recover(w, &e) < 0)
        goto failed;
    for (;;) {
        if (w->rot != ROT_IDLE) {
            if (rot_step(w, &e) < 0)
                goto failed;
            continue;
        }
        if (w->trim_pending && !trim_failed)
            trim_failed = !trim(w); /* after a failure, next drain */
        size_t n = pending(w);
        if (n == 0) {
            if (!w->dropping)
                break;
            /* The backlog is on disk: now report what had to be dropped, in its place. */
            char note[160];
            int k = snprintf(note, sizeof note,
                             "logw: dropped %llu bytes in %llu lines while the disk failed (%s)",
                             (unsigned long long)w->drop_bytes, (unsigned long long)w->drop_lines,
                             w->drop_errno ? strerror(w->drop_errno) : "write error");
            w->dropping = false;
            w->drop_bytes = w->drop_lines = 0;
            emit(w, '!', note, (size_t)k < sizeof note ? (size_t)k : sizeof note - 1, NULL, 0);
            continue;
        }
        const char *p = w->out + w->off;
        int64_t room = w->max_bytes - w->cur_size;
        if ((int64_t)n > room) {
            const char *cut = room > 0 ? memrchr(p, '\n', (size_t)room) : NULL;
            if (cut) {
                n = (size_t)(cut - p) + 1;
            } else if (w->cur_size == 0) {
                n = (size_t)((const char *)memchr(p, '\n', n) - p) + 1; /* bigger than a file */
            } else {
                w->rot = ROT_SYNC;
                continue;
            }
        }
        if (fs_write(&w->fs, w->h, p, n, &e) < 0)
            goto failed;
        w->off += n;
        w->cur_size += (int64_t)n;
        w->dirty = true;
        if (w->writeback_step && w->cur_size - w->writeback_mark >= w->writeback_step) {
            /* A hint (see logw.h): a failure costs nothing but a slower fsync later. */
            struct pod_err we = POD_ERR_ZERO;
            w->writeback_mark = w->cur_size;
            if (fs_writeback(&w->fs, w->h, &we) == 0)
                w->st.writebacks++;
        }
    }
    w->failing = false;
    return 0;
failed:
    fail(w, &e);
    if (e.sys_errno == EBADF || (w->h >= 0 && handle_dead(e.sys_errno))) {
        /* The handle is gone (EBADF: e.g. the simulated machine crashed under a live writer)
         * or its file system died (EIO: a failing disk, an aborted or shut down file system;
         * a log directory that is then replaced, e.g. remounted, is only reached by opening
         * again): close it and start over with recovery on the next try (a rotation then
         * restarts from the beginning).  A failing rotation step after the close (rename,
         * directory sync, open: by path) is retried from the same step instead, which keeps
         * their order.  SPEC 9.5. */
        if (w->h >= 0 && e.sys_errno != EBADF) {
            struct pod_err ce = POD_ERR_ZERO;
            (void)fs_close(&w->fs, w->h, &ce);
        }
        w->h = -1;
        w->rot = ROT_IDLE;
        if (w->recovered)
            w->reopen = true;
        w->recovered = false;
    }
    enforce_cap(w);
    return -1;
}

static int result(struct logw *w, struct pod_err *err)
{
    w->st.backlog_bytes = pending(w);
    if (pending(w) == 0 && !w->failing)
        return 0;
    if (err) {
        *err = w->last_err;
        if (!err->msg[0])
            pod_err_set(err, POD_E_IO, 0, "log writer: backlog waiting for the disk");
    }
    return -1;
}

/* Retry now unless the last attempt failed less than retry_wall_ns ago. */
static bool retry_due(const struct logw *w, int64_t now_wall_ns)
{
    return !w->failing || now_wall_ns < w->last_try_wall_ns ||
           now_wall_ns - w->last_try_wall_ns >= w->retry_wall_ns;
}

/* ---- public API ---- */

static bool valid_base(const char *b)
{
    return b && *b && *b != '.' && !strchr(b, '/') && strlen(b) < 200;
}

int logw_open(const struct logw_cfg *cfg, struct logw **out, struct pod_err *err)
{
    if (!cfg || !cfg->fs.ops || !cfg->dir || !*cfg->dir || !valid_base(cfg->base))
        return pod_err_set(err, POD_E_INVALID, 0, "log writer: bad configuration (dir/base)");
    int64_t max_bytes = cfg->max_bytes ? cfg->max_bytes : LOGW_DEFAULT_MAX_BYTES;
    size_t max_line = cfg->max_line ? cfg->max_line : LOGW_DEFAULT_MAX_LINE;
    if (cfg->max_files < 0 || max_bytes < 0 || cfg->retry_ms < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "log writer: negative limit");
    if (cfg->sync != LOGW_SYNC_ROTATE && cfg->sync != LOGW_SYNC_NONE)
        return pod_err_set(err, POD_E_INVALID, 0, "log writer: bad sync policy %d", (int)cfg->sync);
    if (max_bytes < (int64_t)(max_line + PREFIX_MAX + 1))
        return pod_err_set(err, POD_E_INVALID, 0,
                           "log writer: max_bytes %lld is smaller than one record (max_line %zu "
                           "+ %d)",
                           (long long)max_bytes, max_line, PREFIX_MAX + 1);
    struct logw *w = xcalloc(1, sizeof *w);
    w->fs = cfg->fs;
    w->dir = xstrdup(cfg->dir);
    w->base = xstrdup(cfg->base);
    w->cur_path = xasprintf("%s/%s.log", w->dir, w->base);
    w->max_bytes = max_bytes;
    w->max_files = cfg->max_files ? cfg->max_files : LOGW_DEFAULT_MAX_FILES;
    w->max_line = max_line;
    w->max_backlog = cfg->max_backlog ? cfg->max_backlog : LOGW_DEFAULT_MAX_BACKLOG;
    w->retry_wall_ns = (cfg->retry_ms ? cfg->retry_ms : LOGW_DEFAULT_RETRY_MS) * 1000000;
    w->sync_rotate = cfg->sync == LOGW_SYNC_ROTATE;
    /* sync=none: the rotated files found at start may hold unsynced records too */
    w->unsynced_from = w->sync_rotate ? UINT64_MAX : 0;
    if (w->sync_rotate && cfg->writeback_bytes >= 0)
        w->writeback_step =
            cfg->writeback_bytes ? cfg->writeback_bytes : (max_bytes / 8 > 0 ? max_bytes / 8 : 1);
    w->h = -1;
    w->next_archive = 1;
    w->carry = xmalloc(max_line);
    set_seq(w, 0);
    set_ts(w, 0);
    struct pod_err e = POD_ERR_ZERO;
    if (recover(w, &e) < 0)
        fail(w, &e);
    else if (pending(w))
        (void)drain(w, 0);
    w->st.backlog_bytes = pending(w);
    *out = w;
    return 0;
}

int logw_write(struct logw *w, const void *data, size_t len, int64_t now_wall_ns,
               struct pod_err *err)
{
    set_ts(w, now_wall_ns);
    w->st.bytes_in += len;
    if ((pending(w) || w->failing || w->dropping) && retry_due(w, now_wall_ns))
        (void)drain(w, now_wall_ns);
    const char *p = data;
    size_t left = len;
    while (left) {
        if (w->failing || pending(w)) {
            split(w, p, left, true); /* the disk fails: the rest goes to the bounded backlog */
            break;
        }
        size_t n = left < SLICE ? left : SLICE;
        split(w, p, n, false);
        p += n;
        left -= n;
        (void)drain(w, now_wall_ns);
    }
    return result(w, err);
}

int logw_retry(struct logw *w, int64_t now_wall_ns, struct pod_err *err)
{
    set_ts(w, now_wall_ns);
    if (pending(w) || w->failing || w->dropping || !w->recovered || w->rot != ROT_IDLE)
        (void)drain(w, now_wall_ns);
    return result(w, err);
}

int logw_sync(struct logw *w, struct pod_err *err)
{
    if (w->h < 0 || w->rot != ROT_IDLE)
        return result(w, err);
    struct pod_err e = POD_ERR_ZERO;
    while (w->unsynced_from != UINT64_MAX) {
        /* sync=none: rotated files that were never fsynced (and still exist) */
        size_t i = 0;
        while (i < w->narchives && w->archives[i] < w->unsynced_from)
            i++;
        if (i == w->narchives) {
            w->unsynced_from = UINT64_MAX;
            break;
        }
        char *ap = archive_path(w, w->archives[i]);
        int h = fs_open_append(&w->fs, ap, &e);
        free(ap);
        int rc = h < 0 ? -1 : fs_fsync(&w->fs, h, &e);
        if (h >= 0) {
            struct pod_err ce = POD_ERR_ZERO;
            (void)fs_close(&w->fs, h, &ce);
        }
        if (rc < 0) {
            fail(w, &e);
            return result(w, err);
        }
        w->st.syncs++;
        w->unsynced_from = w->archives[i] + 1;
    }
    if (w->dirty) {
        if (fs_fsync(&w->fs, w->h, &e) < 0) {
            fail(w, &e);
            return result(w, err);
        }
        w->dirty = false;
        w->st.syncs++;
    }
    if (w->dir_dirty) {
        if (fs_sync_dir(&w->fs, w->dir, &e) < 0) {
            fail(w, &e);
            return result(w, err);
        }
        w->dir_dirty = false;
        w->st.dir_syncs++;
    }
    return result(w, err);
}

int logw_eof(struct logw *w, int64_t now_wall_ns, struct pod_err *err)
{
    set_ts(w, now_wall_ns);
    flush_carry(w, w->failing || pending(w));
    (void)drain(w, now_wall_ns);
    return w->sync_rotate ? logw_sync(w, err) : result(w, err);
}

struct logw_stats logw_stats(const struct logw *w)
{
    struct logw_stats s = w->st;
    s.backlog_bytes = pending(w);
    s.failing = w->failing;
    return s;
}

const char *logw_last_error(const struct logw *w)
{
    return w->last_err.msg;
}

struct logw_stats logw_finish(struct logw *w, char *errbuf, size_t errlen)
{
    flush_carry(w, w->failing || pending(w));
    (void)drain(w, w->ts_wall_ns);
    struct pod_err e = POD_ERR_ZERO;
    if (w->h >= 0) {
        if (w->sync_rotate)
            (void)logw_sync(w, &e);
        (void)fs_close(&w->fs, w->h, &e);
    }
    struct logw_stats st = logw_stats(w);
    if (errbuf && errlen) {
        size_t n = strlen(w->last_err.msg);
        if (n >= errlen)
            n = errlen - 1;
        memcpy(errbuf, w->last_err.msg, n);
        errbuf[n] = 0;
    }
    free(w->out);
    free(w->carry);
    free(w->archives);
    free(w->dir);
    free(w->base);
    free(w->cur_path);
    free(w);
    return st;
}

void logw_close(struct logw *w)
{
    if (w)
        (void)logw_finish(w, NULL, 0);
}
