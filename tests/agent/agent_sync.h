/* SPDX-License-Identifier: MIT */
/* agent_sync.h - test/bench helper: drives an agent client on its own loop until a condition
 * holds (the daemon drives it from its main loop instead).  Header-only, for tests/agent/. */
#ifndef POD_TESTS_AGENT_SYNC_H
#define POD_TESTS_AGENT_SYNC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/agent.h"
#include "pod/loop.h"

#define SYNC_MAX 4096

struct sync {
    struct loop *loop;
    struct agent_client *c;
    size_t ended, lost_calls, ready_calls;
    uint64_t tag[SYNC_MAX];
    int code[SYNC_MAX];
    enum agent_state st[SYNC_MAX];
    char why[200];
};

static void sync_done(void *arg, uint64_t tag, int code, enum agent_state st)
{
    struct sync *s = arg;
    if (s->ended < SYNC_MAX) {
        s->tag[s->ended] = tag;
        s->code[s->ended] = code;
        s->st[s->ended] = st;
    }
    s->ended++;
}

static void sync_ready(void *arg)
{
    ((struct sync *)arg)->ready_calls++;
}

static void sync_lost(void *arg, const char *why)
{
    struct sync *s = arg;
    s->lost_calls++;
    snprintf(s->why, sizeof s->why, "%s", why);
}

static inline void sync_init(struct sync *s, const char *sock)
{
    memset(s, 0, sizeof *s);
    struct pod_err err = POD_ERR_ZERO;
    s->loop = loop_new(&err);
    if (!s->loop) {
        fprintf(stderr, "loop_new: %s\n", err.msg);
        exit(111);
    }
    struct agent_client_cbs cbs = {sync_done, sync_ready, sync_lost, s};
    s->c = agent_client_new(s->loop, &clk_real, sock, &cbs);
}

static inline void sync_fini(struct sync *s)
{
    agent_client_free(s->c);
    loop_free(s->loop);
}

/* One turn of the loop, waiting at most until `until`. */
static inline void sync_turn(struct sync *s, int64_t until)
{
    struct pod_err err = POD_ERR_ZERO;
    int64_t d = agent_next_deadline(s->c);
    (void)loop_run_once(s->loop, &clk_real, d < until ? d : until, &err);
    if (agent_next_deadline(s->c) <= clk_mono_ms(&clk_real))
        agent_handle_deadline(s->c);
}

/* Turns until `ended` reaches n (or READY when n == 0), a loss, or `ms` passed. */
static inline bool sync_wait(struct sync *s, size_t n, int64_t ms)
{
    int64_t until = clk_mono_ms(&clk_real) + ms;
    size_t lost0 = s->lost_calls;
    while (clk_mono_ms(&clk_real) < until && s->lost_calls == lost0) {
        if (n ? s->ended >= n : agent_conn_state(s->c) == AGENT_CONN_READY)
            return true;
        sync_turn(s, until);
    }
    return n ? s->ended >= n : agent_conn_state(s->c) == AGENT_CONN_READY;
}

#endif
