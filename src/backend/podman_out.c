/* SPDX-License-Identifier: MIT */
/* podman_out.c - the containers' log pipes (see podman_int.h).
 *
 * Each (container, instance, stream) has one pipe whose write end the container holds
 * (`--log-driver passthrough`) and whose non-blocking read end is here (a copy is in the fd
 * holder).  A readable pipe is read once into the stream's buffer (PODMAN_OUT_BUF bytes), which
 * goes out as one OUTPUT event with borrowed data; that pipe is not read again until the next
 * poll_events() call released the buffer (it stays armed in the loop meanwhile, so a read
 * costs no epoll_ctl: only a wake-up while the buffer is still held disarms it), and reading
 * stops while the caller's output_room() says the log pump is full
 * (backend_podman_output_resume restarts it): the container then blocks in write(), nothing is
 * lost.  EOF (every writer gone) gives OUTPUT_EOF and closes the
 * pipe; it is only a hint about the container (a container may close its stdout and run on).
 * A pipe that a read finds full grows to PODMAN_PIPE_BURST and shrinks back when calm
 * (podman_pipe_resize): a flood costs fewer wake-ups and the container blocks less, and idle
 * pipes keep the default size (an unprivileged user's pipe pages are limited, 64 MiB by default).
 */
#include "podman_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/util.h"

#define HEAD_MAX 4096

static bool room(const struct pm *pm)
{
    return !pm->cfg.output_room || pm->cfg.output_room(pm->cfg.room_self);
}

static void set_reading(struct pm *pm, struct stream *s, bool on)
{
    if (s->armed == on)
        return;
    struct pod_err err = POD_ERR_ZERO;
    if (loop_mod(pm->cfg.loop, s->fd, on ? LOOP_IN : 0, &err) < 0)
        pod_log(POD_LOG_WARN, "podman backend: %s", err.msg);
    else
        s->armed = on;
}

static void stream_close(struct pm *pm, struct stream *s)
{
    loop_del(pm->cfg.loop, s->fd);
    close(s->fd);
    if (pm->cfg.drop_fd)
        pm->cfg.drop_fd(pm->cfg.hold_self, s->ctr, s->instance, s->which);
    struct backend_event *e = pm_event(pm, BACKEND_EV_OUTPUT_EOF, s->ctr, s->instance, NULL);
    e->stream = (enum backend_stream)s->which;
    pm_ptr_remove((void **)pm->str, &pm->n_str, s);
    pod_buf_free(&s->head);
    free(s->strip);
    free(s->buf);
    free(s);
}

size_t podman_pipe_resize(size_t now_size, size_t nread, int64_t grown_at_ms, int64_t now_ms)
{
    if (now_size < PODMAN_PIPE_BURST && nread >= PODMAN_PIPE_BUSY)
        return PODMAN_PIPE_BURST;
    if (now_size == PODMAN_PIPE_BURST && nread < PODMAN_PIPE_CALM &&
        now_ms - grown_at_ms >= PODMAN_PIPE_SHRINK_MS)
        return PODMAN_PIPE_DEFAULT;
    return 0;
}

/* After a read of n bytes: grow or shrink the pipe (a refused grow, e.g. over the user's pipe
 * quota, is counted and tried again at the next full read; the pipe works as it is). */
static void pipe_adapt(struct pm *pm, struct stream *s, size_t n)
{
    int64_t now = clk_mono_ms(&pm->cfg.clk);
    size_t want = podman_pipe_resize(s->pipe_size, n, s->grown_at_ms, now);
    if (!want)
        return;
    if (fcntl(s->fd, F_SETPIPE_SZ, (int)want) < 0) {
        if (want == PODMAN_PIPE_BURST)
            pm->st.pipe_grow_refused++;
        return;
    }
    if (want == PODMAN_PIPE_BURST) {
        s->pipe_size = want;
        s->grown_at_ms = now;
        pm->st.pipe_grows++;
    } else {
        s->pipe_size = 0;
        pm->st.pipe_shrinks++;
    }
}

/* One read; returns false when the stream was closed. */
static bool read_once(struct pm *pm, struct stream *s)
{
    if (s->held)
        return true;
    if (!s->buf)
        s->buf = xmalloc(PODMAN_OUT_BUF);
    ssize_t n;
    do
        n = read(s->fd, s->buf, PODMAN_OUT_BUF);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
    if (n <= 0) { /* EOF, or an error that ends the stream all the same */
        stream_close(pm, s);
        return false;
    }
    s->off = 0;
    s->len = (size_t)n;
    pipe_adapt(pm, s, (size_t)n);
    if (s->strip) {
        size_t sl = strlen(s->strip);
        if (s->len >= sl && memcmp(s->buf, s->strip, sl) == 0) {
            s->off = sl;
            s->len -= sl;
            pm->st.replace_lines++;
        }
        free(s->strip);
        s->strip = NULL;
        if (s->len == 0)
            return true;
    }
    if (s->capture_head && s->head.len < HEAD_MAX) {
        size_t k = HEAD_MAX - s->head.len;
        pod_buf_add(&s->head, s->buf + s->off, s->len < k ? s->len : k);
    }
    s->held = true; /* still armed: on_readable disarms it if it fires before the release */
    pm_event_output(pm, s);
    return true;
}

static void on_readable(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct stream *s = arg;
    if (s->held) { /* its buffer is not released yet: streams_release arms it again */
        set_reading(s->pm, s, false);
        return;
    }
    if (!room(s->pm)) { /* the pump filled up since this pipe was armed */
        s->paused = true;
        set_reading(s->pm, s, false);
        return;
    }
    (void)read_once(s->pm, s);
}

struct stream *stream_open(struct pm *pm, size_t ctr, uint64_t instance, int which, int fd,
                           bool hand_to_holder)
{
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    struct stream *s = xcalloc(1, sizeof *s);
    s->pm = pm;
    s->ctr = ctr;
    s->instance = instance;
    s->which = which;
    s->fd = fd;
    if (fcntl(fd, F_GETPIPE_SZ) > PODMAN_PIPE_DEFAULT) { /* adopted: grown by an earlier daemon */
        s->pipe_size = PODMAN_PIPE_BURST;
        s->grown_at_ms = clk_mono_ms(&pm->cfg.clk);
    }
    struct pod_err err = POD_ERR_ZERO;
    bool on = room(pm);
    s->paused = !on;
    s->armed = on;
    if (loop_add(pm->cfg.loop, fd, on ? LOOP_IN : 0, on_readable, s, &err) < 0) {
        pod_log(POD_LOG_ERROR, "podman backend: log pipe of %s: %s", pm->c[ctr].name, err.msg);
        close(fd);
        free(s);
        return NULL;
    }
    pm_ptr_push((void ***)&pm->str, &pm->n_str, &pm->cap_str, s);
    if (hand_to_holder && pm->cfg.hold_fd)
        pm->cfg.hold_fd(pm->cfg.hold_self, ctr, instance, which, fd);
    return s;
}

struct stream *stream_find(struct pm *pm, size_t ctr, uint64_t instance, int which)
{
    for (size_t i = 0; i < pm->n_str; i++) {
        struct stream *s = pm->str[i];
        if (s->ctr == ctr && s->instance == instance && s->which == which)
            return s;
    }
    return NULL;
}

void stream_read_now(struct pm *pm, struct stream *s)
{
    if (!s->held && !s->paused)
        (void)read_once(pm, s);
}

bool streams_need_release(const struct pm *pm)
{
    for (size_t i = 0; i < pm->n_str; i++)
        if (pm->str[i]->delivered)
            return true;
    return false;
}

void streams_release(struct pm *pm)
{
    bool on = room(pm);
    for (size_t i = 0; i < pm->n_str; i++) {
        struct stream *s = pm->str[i];
        if (!s->delivered)
            continue;
        s->delivered = s->held = false;
        s->len = 0;
        s->paused = !on;
        set_reading(pm, s, on);
    }
}

void streams_resume(struct pm *pm)
{
    if (!room(pm))
        return;
    for (size_t i = 0; i < pm->n_str; i++) {
        struct stream *s = pm->str[i];
        if (s->paused && !s->held) {
            s->paused = false;
            set_reading(pm, s, true);
        }
    }
}

void streams_free(struct pm *pm)
{
    for (size_t i = 0; i < pm->n_str; i++) {
        struct stream *s = pm->str[i];
        loop_del(pm->cfg.loop, s->fd);
        close(s->fd); /* the holder keeps its copy */
        pod_buf_free(&s->head);
        free(s->strip);
        free(s->buf);
        free(s);
    }
    free(pm->str);
    pm->str = NULL;
    pm->n_str = pm->cap_str = 0;
}
