/* SPDX-License-Identifier: MIT */
/* logs_merge.c - `pod logs` reading the log files back (pod/rt.h, SPEC.md 9.3): one cursor per
 * selected stream over its files (rotated ones by N, then the current one), a k-way merge by
 * (timestamp, seq, cursor order), `+` records re-joined, the columns of -d, the -t filter and
 * the -l limit.  Streaming: each cursor holds one read buffer; a line longer than the buffer
 * is passed through in pieces.  The files are opened once (a rotation while we read renames
 * them under us, which an open fd does not notice) and read up to the size they had then, so
 * the two passes of `-l -N` (count, then show) see the same records.  Never writes a file. */
#include "pod/rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/util.h"

#define RD_BUF 32768
#define OPEN_TRIES 5

static const char *const stream_names[2] = {"stdout", "stderr"};

struct lfile {
    int fd;
    int64_t size; /* read up to here (the size when opened) */
};

struct cursor {
    const struct rt_logs_src *src;
    int stream;
    size_t order;
    struct lfile *files;
    size_t n_files, fi;
    int64_t pos; /* next read offset in files[fi] */
    char *buf;
    size_t bstart, bend;
    /* the head line */
    bool has, is_rec, more;
    int64_t ts;
    uint64_t seq;
    char mark;
    const char *msg;
    size_t msg_len, consumed;
    int64_t last_ts; /* key of the last record: a line that is not one inherits it */
    uint64_t last_seq;
    int rd_errno;
};

/* ------------------------------------------------------------------ opening */

static void close_files(struct lfile *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].fd >= 0)
            close(f[i].fd);
    free(f);
}

static bool same_names(char **a, char **b)
{
    size_t n = pod_strv_len(a);
    if (n != pod_strv_len(b))
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

/* Lists and opens base's files; retried when a rotation renamed them in between. */
static int open_stream(int dfd, const char *dir, const char *base, struct lfile **out, size_t *n,
                       struct pod_err *err)
{
    struct fs fs = fs_real();
    for (int attempt = 0;; attempt++) {
        char **paths = NULL, **again = NULL;
        if (logw_files(&fs, dir, base, &paths, err) < 0)
            return -1;
        size_t cnt = pod_strv_len(paths), k = 0;
        struct lfile *f = xcalloc(cnt + 1, sizeof *f);
        for (size_t i = 0; i < cnt; i++) {
            /* beneath log/'s descriptor, no link followed, no FIFO waited on (SPEC 7.5.1) */
            int fd = openat(dfd, pod_basename(paths[i]),
                            O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
            struct stat st;
            if (fd < 0 && errno == ENOENT)
                continue; /* deleted by retention meanwhile */
            if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
                close(fd);
                close_files(f, k);
                pod_strv_free(paths);
                return pod_err_set(err, POD_E_FAILED, 0,
                                   "`log/%s` in the pod directory is a %s, not a regular file: "
                                   "refused",
                                   pod_basename(paths[i]), pod_file_kind(st.st_mode));
            }
            if (fd < 0 && errno == ELOOP) {
                close_files(f, k);
                pod_err_set(err, POD_E_FAILED, 0,
                            "`log/%s` in the pod directory is a symbolic link: refused (not "
                            "followed)",
                            pod_basename(paths[i]));
                pod_strv_free(paths);
                return -1;
            }
            if (fd < 0 || fstat(fd, &st) < 0) {
                pod_err_set(err, POD_E_IO, errno, "open `%s`", paths[i]);
                if (fd >= 0)
                    close(fd);
                close_files(f, k);
                pod_strv_free(paths);
                return -1;
            }
            f[k++] = (struct lfile){.fd = fd, .size = st.st_size};
        }
        bool stable = logw_files(&fs, dir, base, &again, err) == 0 && same_names(paths, again);
        pod_strv_free(paths);
        pod_strv_free(again);
        if (stable || attempt + 1 >= OPEN_TRIES) {
            *out = f;
            *n = k;
            return 0;
        }
        close_files(f, k);
    }
}

/* ------------------------------------------------------------------ reading lines */

static void cursor_rewind(struct cursor *c)
{
    c->fi = 0;
    c->pos = 0;
    c->bstart = c->bend = 0;
    c->has = c->more = false;
    c->last_ts = 0;
    c->last_seq = 0;
}

/* Reads more of the current file into the buffer (after compacting); 0 at its end. */
static ssize_t fill(struct cursor *c)
{
    const struct lfile *f = &c->files[c->fi];
    if (c->bstart > 0) {
        memmove(c->buf, c->buf + c->bstart, c->bend - c->bstart);
        c->bend -= c->bstart;
        c->bstart = 0;
    }
    size_t room = RD_BUF - c->bend;
    if (f->size - c->pos < (int64_t)room)
        room = (size_t)(f->size - c->pos);
    if (room == 0)
        return 0;
    ssize_t n;
    do {
        n = pread(f->fd, c->buf + c->bend, room, c->pos);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        c->rd_errno = errno;
    if (n <= 0)
        return 0; /* an error or a shorter file than stat said: its end */
    c->bend += (size_t)n;
    c->pos += n;
    return n;
}

static void set_head(struct cursor *c, const char *line, size_t len)
{
    struct logw_rec r;
    c->has = true;
    c->is_rec = logw_parse_line(line, len, &r);
    if (c->is_rec) {
        c->ts = c->last_ts = r.ts_wall_ns;
        c->seq = c->last_seq = r.seq;
        c->mark = r.mark;
        c->msg = r.msg;
        c->msg_len = r.msg_len;
    } else { /* shown as is, where it is in its stream */
        c->ts = c->last_ts;
        c->seq = c->last_seq;
        c->mark = 0;
        c->msg = line;
        c->msg_len = len;
    }
}

/* Makes the next line of the stream the head (c->has false at the stream's end). */
static void read_line(struct cursor *c)
{
    c->has = c->more = false;
    while (c->fi < c->n_files) {
        char *s = c->buf + c->bstart;
        size_t avail = c->bend - c->bstart;
        char *nl = memchr(s, '\n', avail);
        if (nl) {
            c->consumed = (size_t)(nl - s) + 1;
            set_head(c, s, (size_t)(nl - s));
            return;
        }
        if (avail == RD_BUF) { /* longer than the buffer: passed through in pieces */
            c->consumed = avail;
            c->more = true;
            set_head(c, s, avail);
            return;
        }
        if (fill(c) > 0)
            continue;
        if (avail > 0) { /* the file ends without a newline */
            c->consumed = avail;
            set_head(c, s, avail);
            return;
        }
        c->fi++;
        c->pos = 0;
        c->bstart = c->bend = 0;
    }
}

/* ------------------------------------------------------------------ writing */

struct out {
    FILE *f; /* NULL: counting only */
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->f && n)
        fwrite(p, 1, n, o->f);
}

/* Writes the head's message and the rest of a line longer than the buffer; drops the line
 * from the buffer. */
static void pass_message(struct cursor *c, struct out *o)
{
    put(o, c->msg, c->msg_len);
    c->bstart += c->consumed;
    while (c->more) {
        c->bstart = c->bend = 0;
        if (fill(c) == 0) {
            c->more = false; /* the line ends with the file */
            break;
        }
        char *nl = memchr(c->buf, '\n', c->bend);
        size_t n = nl ? (size_t)(nl - c->buf) : c->bend;
        put(o, c->buf, n);
        c->bstart = nl ? n + 1 : c->bend;
        c->more = !nl;
    }
}

static void put_columns(const struct rt_logs_req *r, const struct cursor *c, struct out *o)
{
    if (!o->f)
        return;
    for (int i = 0; i < r->n_cols; i++) {
        switch (r->cols[i]) {
        case RT_COL_TS:
            fprintf(o->f, "%lld.%09lld ", (long long)(c->ts / 1000000000),
                    (long long)(c->ts % 1000000000));
            break;
        case RT_COL_AGE:
            fprintf(o->f, "%lld ", (long long)((r->now_wall_ns - c->ts) / 1000000000));
            break;
        case RT_COL_NAME:
            fprintf(o->f, "%s ", c->src->name);
            break;
        case RT_COL_STREAM:
            fprintf(o->f, "%s ", stream_names[c->stream]);
            break;
        default:
            break;
        }
    }
}

/* Writes (or skips) the logical line at c's head: a `+` record continues with the next
 * records of its stream until an unmarked one.  Leaves the next line as the head. */
static void emit_line(const struct rt_logs_req *r, struct cursor *c, struct out *o)
{
    put_columns(r, c, o);
    if (c->mark == '!')
        put(o, "! ", 2);
    bool cont = c->is_rec && c->mark == '+';
    pass_message(c, o);
    read_line(c);
    while (cont && c->has && c->is_rec && c->mark != '!') {
        cont = c->mark == '+';
        pass_message(c, o);
        read_line(c);
    }
    put(o, "\n", 1);
}

static bool before(const struct cursor *a, const struct cursor *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts;
    if (a->seq != b->seq)
        return a->seq < b->seq;
    return a->order < b->order;
}

/* One pass over everything: shows the matching lines after the first `skip`, at most `max`
 * (< 0: no limit); returns how many lines matched. */
static long long merge_pass(const struct rt_logs_req *r, struct cursor *cs, size_t n, FILE *f,
                            long long skip, long long max)
{
    long long matched = 0, shown = 0;
    for (size_t i = 0; i < n; i++) {
        cursor_rewind(&cs[i]);
        read_line(&cs[i]);
    }
    for (;;) {
        struct cursor *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (cs[i].has && (!best || before(&cs[i], best)))
                best = &cs[i];
        if (!best || (max >= 0 && shown >= max))
            break;
        bool match = best->ts >= r->since_ns;
        struct out o = {.f = match && f && matched >= skip ? f : NULL};
        if (o.f)
            shown++;
        if (match)
            matched++;
        emit_line(r, best, &o);
    }
    return matched;
}

/* ------------------------------------------------------------------ the whole */

static void free_cursors(struct cursor *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        close_files(cs[i].files, cs[i].n_files);
        free(cs[i].buf);
    }
    free(cs);
}

int rt_logs_write(const struct rt_logs_req *r, FILE *out, struct pod_err *err)
{
    struct cursor *cs = xcalloc(r->n_srcs * 2 + 1, sizeof *cs);
    size_t n = 0;
    /* no log/ yet: nothing to show; a link there is refused, not followed (SPEC 7.5.1) */
    int dfd = open(r->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    bool have_dir = dfd >= 0;
    struct stat st;
    if (dfd < 0 && lstat(r->log_dir, &st) == 0) {
        free(cs);
        if (S_ISLNK(st.st_mode))
            return pod_err_set(err, POD_E_FAILED, 0,
                               "`log` in the pod directory is a symbolic link: refused (not "
                               "followed)");
        return pod_err_set(err, POD_E_FAILED, 0,
                           "`log` in the pod directory is a %s, not a directory: refused",
                           pod_file_kind(st.st_mode));
    }
    for (size_t i = 0; have_dir && i < r->n_srcs; i++) {
        for (int s = 0; s < 2; s++) {
            if (!r->streams[s])
                continue;
            struct cursor *c = &cs[n];
            *c = (struct cursor){.src = &r->srcs[i], .stream = s, .order = n};
            char *base = xasprintf("%s-%s", r->srcs[i].prefix, stream_names[s]);
            int rc = open_stream(dfd, r->log_dir, base, &c->files, &c->n_files, err);
            free(base);
            if (rc < 0) {
                close(dfd);
                free_cursors(cs, n);
                return -1;
            }
            c->buf = c->n_files ? xmalloc(RD_BUF) : NULL;
            n++;
        }
    }
    long long skip = 0, max = r->limit > 0 ? r->limit : -1;
    if (r->limit < 0) {
        long long total = merge_pass(r, cs, n, NULL, 0, -1);
        skip = total + r->limit > 0 ? total + r->limit : 0;
    }
    merge_pass(r, cs, n, out, skip, max);
    if (dfd >= 0)
        close(dfd);
    int rd_errno = 0;
    for (size_t i = 0; i < n && !rd_errno; i++)
        rd_errno = cs[i].rd_errno;
    free_cursors(cs, n);
    if (out && ferror(out))
        return pod_err_set(err, POD_E_IO, errno, "write the logs");
    if (rd_errno)
        return pod_err_set(err, POD_E_IO, rd_errno, "read `%s`", r->log_dir);
    return 0;
}
