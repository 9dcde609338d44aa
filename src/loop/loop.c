/* SPDX-License-Identifier: MIT */
/* loop.c - epoll dispatch (see pod/loop.h).
 *
 * Registrations live in a table indexed by fd; epoll's data carries the fd and a generation
 * number, so an event that was already fetched for a registration deleted (or replaced) by an
 * earlier callback of the same batch is recognised and dropped.
 */
#include "pod/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "pod/util.h"

#define BATCH 64

struct reg {
    loop_fn *fn;
    void *arg;
    uint32_t gen; /* 0 = free */
    unsigned events;
};

struct loop {
    int epfd;
    struct reg *regs; /* indexed by fd */
    size_t cap;
    uint32_t next_gen;
};

struct loop *loop_new(struct pod_err *err)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        pod_err_set(err, POD_E_IO, errno, "epoll_create1");
        return NULL;
    }
    struct loop *l = xcalloc(1, sizeof *l);
    l->epfd = epfd;
    l->next_gen = 1;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l->regs);
    free(l);
}

static uint32_t ep_events(unsigned ev)
{
    return ((ev & LOOP_IN) ? EPOLLIN : 0u) | ((ev & LOOP_OUT) ? EPOLLOUT : 0u);
}

static uint64_t ep_data(int fd, uint32_t gen)
{
    return ((uint64_t)gen << 32) | (uint32_t)fd;
}

bool loop_has(const struct loop *l, int fd)
{
    return fd >= 0 && (size_t)fd < l->cap && l->regs[fd].gen != 0;
}

int loop_add(struct loop *l, int fd, unsigned events, loop_fn *fn, void *arg, struct pod_err *err)
{
    if (fd < 0 || !fn)
        return pod_err_set(err, POD_E_INVALID, 0, "loop_add: bad fd %d", fd);
    if (loop_has(l, fd))
        return pod_err_set(err, POD_E_INVALID, 0, "loop_add: fd %d registered twice", fd);
    if ((size_t)fd >= l->cap) {
        size_t nc = l->cap ? l->cap : 64;
        while (nc <= (size_t)fd)
            nc *= 2;
        l->regs = xrealloc(l->regs, nc * sizeof *l->regs);
        memset(l->regs + l->cap, 0, (nc - l->cap) * sizeof *l->regs);
        l->cap = nc;
    }
    uint32_t gen = l->next_gen++;
    if (l->next_gen == 0)
        l->next_gen = 1;
    struct epoll_event ev = {.events = ep_events(events), .data.u64 = ep_data(fd, gen)};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return pod_err_set(err, POD_E_IO, errno, "epoll_ctl add fd %d", fd);
    l->regs[fd] = (struct reg){fn, arg, gen, events};
    return 0;
}

int loop_mod(struct loop *l, int fd, unsigned events, struct pod_err *err)
{
    if (!loop_has(l, fd))
        return pod_err_set(err, POD_E_INVALID, 0, "loop_mod: fd %d not registered", fd);
    struct reg *r = &l->regs[fd];
    if (r->events == events)
        return 0;
    struct epoll_event ev = {.events = ep_events(events), .data.u64 = ep_data(fd, r->gen)};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return pod_err_set(err, POD_E_IO, errno, "epoll_ctl mod fd %d", fd);
    r->events = events;
    return 0;
}

void loop_del(struct loop *l, int fd)
{
    if (!loop_has(l, fd))
        return;
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&l->regs[fd], 0, sizeof l->regs[fd]);
}

int loop_run_once(struct loop *l, const struct clk *clk, int64_t deadline_mono_ms,
                  struct pod_err *err)
{
    int timeout = -1;
    if (deadline_mono_ms != INT64_MAX) {
        int64_t left = deadline_mono_ms - clk_mono_ms(clk);
        timeout = left <= 0 ? 0 : (left > 3600000 ? 3600000 : (int)left);
    }
    struct epoll_event evs[BATCH];
    int n = epoll_wait(l->epfd, evs, BATCH, timeout);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return pod_err_set(err, POD_E_IO, errno, "epoll_wait");
    }
    int called = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if (!loop_has(l, fd) || l->regs[fd].gen != gen)
            continue; /* deleted or replaced by an earlier callback of this batch */
        unsigned ev = 0;
        if (evs[i].events & EPOLLIN)
            ev |= LOOP_IN;
        if (evs[i].events & EPOLLOUT)
            ev |= LOOP_OUT;
        if (evs[i].events & (EPOLLHUP | EPOLLRDHUP))
            ev |= LOOP_HUP;
        if (evs[i].events & EPOLLERR)
            ev |= LOOP_ERR;
        struct reg r = l->regs[fd];
        r.fn(r.arg, fd, ev);
        called++;
    }
    return called;
}
