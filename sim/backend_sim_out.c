/* SPDX-License-Identifier: MIT */
/* backend_sim_out.c - the simulated containers' output (see backend_sim.h): numbered lines
 * generated lazily from each instance's rate, written into a 64 KiB pipe that blocks the writer
 * while no daemon reads (fd holder) or fails with EPIPE (direct), and handed to the daemon on the
 * flush grid as BACKEND_EV_OUTPUT / _EOF; every line is accounted for (struct sim_out_acct). */
#include "backend_sim_int.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ lines */

size_t sim_line_text(char *buf, size_t cap, const char *ctr, int stream, uint64_t instance,
                     uint64_t seq, unsigned bytes)
{
    int n = snprintf(buf, cap, "%s %s i%llu n%06llu ", ctr, stream ? "stderr" : "stdout",
                     (unsigned long long)instance, (unsigned long long)seq);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < cap ? (size_t)n : cap - 1;
    size_t want = bytes > 1 ? bytes - 1 : 0; /* without the newline */
    while (len < want && len + 1 < cap) {
        buf[len] = (char)('a' + (seq + len) % 26);
        len++;
    }
    buf[len] = 0;
    return len;
}

bool sim_line_parse(const char *msg, size_t len, const char *ctr, int stream, uint64_t *instance,
                    uint64_t *seq)
{
    char pre[96];
    int n = snprintf(pre, sizeof pre, "%s %s i", ctr, stream ? "stderr" : "stdout");
    if (n < 0 || (size_t)n >= sizeof pre || len < (size_t)n || memcmp(msg, pre, (size_t)n) != 0)
        return false;
    size_t i = (size_t)n;
    uint64_t a = 0, s = 0;
    if (i >= len || msg[i] < '0' || msg[i] > '9')
        return false;
    while (i < len && msg[i] >= '0' && msg[i] <= '9')
        a = a * 10 + (uint64_t)(msg[i++] - '0');
    if (i + 2 > len || msg[i] != ' ' || msg[i + 1] != 'n')
        return false;
    i += 2;
    if (i >= len || msg[i] < '0' || msg[i] > '9')
        return false;
    while (i < len && msg[i] >= '0' && msg[i] <= '9')
        s = s * 10 + (uint64_t)(msg[i++] - '0');
    *instance = a;
    *seq = s;
    return true;
}

/* ------------------------------------------------------------------ output */

struct sim_out_acct *bsim_acct(struct backend_sim *b, size_t ctr, int s)
{
    return &b->c[ctr].acct[s][b->c[ctr].out[s].acct];
}

void bsim_gen_reset(struct backend_sim *b, size_t ctr, uint64_t instance)
{
    struct sctr *c = &b->c[ctr];
    for (int s = 0; s < 2; s++) {
        struct gen *g = &c->out[s];
        const struct scn_rule *r = bsim_rule(b, ctr, SCN_R_OUTPUT, s, instance, 0);
        memset(g, 0, sizeof *g);
        g->per_s = r ? r->per_s : 0;
        g->bytes = r ? r->bytes : 32;
        g->base_ms = now_ms(b);
        g->base_k = 1;
        if (c->n_acct[s] == c->cap_acct[s]) {
            c->cap_acct[s] = c->cap_acct[s] ? c->cap_acct[s] * 2 : 8;
            c->acct[s] = xrealloc(c->acct[s], c->cap_acct[s] * sizeof *c->acct[s]);
        }
        g->acct = c->n_acct[s]++;
        memset(&c->acct[s][g->acct], 0, sizeof c->acct[s][g->acct]);
        c->acct[s][g->acct].instance = instance;
        /* Direct mode: a container started while no daemon reads has no reader at all. */
        g->orphaned = b->scn->output_direct && !b->daemon_up;
    }
}

static int64_t line_time(const struct gen *g, uint64_t k)
{
    return g->base_ms + (int64_t)((k - g->base_k) * 1000 / g->per_s);
}

static bool readable(const struct backend_sim *b, const struct gen *g)
{
    return b->daemon_up && !g->orphaned;
}

/* Writes the instance's lines due up to time t. */
void bsim_gen_until(struct backend_sim *b, size_t ctr, int64_t t)
{
    struct sctr *c = &b->c[ctr];
    if (c->st != CS_RUNNING)
        return;
    for (int s = 0; s < 2; s++) {
        struct gen *g = &c->out[s];
        if (g->per_s == 0 || g->blocked)
            continue;
        for (;;) {
            uint64_t k = g->emitted + 1;
            int64_t lt = line_time(g, k);
            if (lt > t)
                break;
            struct sim_out_acct *a = bsim_acct(b, ctr, s);
            if (!readable(b, g) && b->scn->output_direct) {
                g->emitted++;
                a->emitted++;
                a->epipe++;
                b->cnt.epipe_lines++;
                continue;
            }
            if (!b->daemon_up && (g->pending + 1) * g->bytes > SIM_PIPE_CAPACITY) {
                g->blocked = true;
                g->blocked_since = lt;
                b->cnt.pipe_blocked++;
                bsim_trace(b, c->name, "pipe-full", "%s blocked instance=%llu",
                           s ? "stderr" : "stdout", (unsigned long long)c->instance);
                break;
            }
            if (g->pending == 0)
                g->first_pending_ms = lt;
            g->emitted++;
            g->pending++;
            a->emitted++;
        }
    }
}

/* Queues OUTPUT (len bytes of data) or, with data NULL, OUTPUT_EOF of ctr's stream s. */
static void push_output(struct backend_sim *b, size_t ctr, uint64_t instance, int s,
                        const char *data, size_t len)
{
    struct backend_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = data ? BACKEND_EV_OUTPUT : BACKEND_EV_OUTPUT_EOF;
    ev.ctr = ctr;
    ev.instance = instance;
    ev.stream = s ? BACKEND_STDERR : BACKEND_STDOUT;
    ev.len = len;
    bsim_q_push(b, &ev, data);
}

/* Hands pending pipe content to the daemon (all of it when force or the flush time came). */
void bsim_deliver(struct backend_sim *b, size_t ctr, bool force)
{
    struct sctr *c = &b->c[ctr];
    int64_t t = now_ms(b);
    for (int s = 0; s < 2; s++) {
        struct gen *g = &c->out[s];
        if (!readable(b, g)) {
            if (b->scn->output_direct && (g->pending || g->partial_pending)) {
                /* direct mode: the reader is gone, the pipe content is lost */
                struct sim_out_acct *a = bsim_acct(b, ctr, s);
                a->epipe += g->pending;
                b->cnt.epipe_lines += (unsigned)g->pending;
                g->pending = 0;
                g->partial_pending = false;
            }
            continue;
        }
        int64_t flush = b->scn->output_flush_ms;
        bool due = g->pending &&
                   (force || g->eof_pending || t >= (g->first_pending_ms / flush + 1) * flush ||
                    g->pending * g->bytes >= SIM_PIPE_CAPACITY);
        if (due || (g->eof_pending && g->partial_pending)) {
            struct pod_buf buf = {0};
            uint64_t first = g->emitted - g->pending + 1;
            char line[70000];
            struct sim_out_acct *a = bsim_acct(b, ctr, s);
            for (uint64_t k = first; k <= g->emitted; k++) {
                size_t n = sim_line_text(line, sizeof line, c->name, s, a->instance, k, g->bytes);
                pod_buf_add(&buf, line, n);
                pod_buf_addc(&buf, '\n');
                if (buf.len >= SIM_PIPE_CAPACITY || k == g->emitted) {
                    push_output(b, ctr, a->instance, s, buf.data, buf.len);
                    buf.len = 0;
                }
            }
            a->delivered += g->pending;
            g->pending = 0;
            if (g->eof_pending && g->partial_pending) {
                size_t n =
                    sim_line_text(line, sizeof line, c->name, s, a->instance, g->emitted + 1, 40);
                push_output(b, ctr, a->instance, s, line, n);
                g->partial_pending = false;
                a->partial = true;
            }
            pod_buf_free(&buf);
            if (g->blocked) {
                a->blocked_ms += t - g->blocked_since;
                g->blocked = false;
                g->base_ms = t;
                g->base_k = g->emitted + 1;
                bsim_trace(b, c->name, "pipe-drained", "%s instance=%llu", s ? "stderr" : "stdout",
                           (unsigned long long)a->instance);
            }
        }
        if (g->eof_pending && !g->pending && !g->partial_pending) {
            push_output(b, ctr, bsim_acct(b, ctr, s)->instance, s, NULL, 0); /* EOF */
            g->eof_pending = false;
        }
    }
}

int64_t bsim_gen_deadline(const struct backend_sim *b, size_t ctr)
{
    const struct sctr *c = &b->c[ctr];
    int64_t d = INT64_MAX;
    for (int s = 0; s < 2; s++) {
        const struct gen *g = &c->out[s];
        bool rd = readable(b, g);
        if (rd && (g->eof_pending || g->partial_pending))
            return now_ms(b);
        if (rd && g->pending) {
            int64_t flush = b->scn->output_flush_ms;
            int64_t f = (g->first_pending_ms / flush + 1) * flush;
            if (g->pending * g->bytes >= SIM_PIPE_CAPACITY)
                f = now_ms(b);
            d = f < d ? f : d;
        }
        if (c->st == CS_RUNNING && g->per_s && !g->blocked) {
            int64_t lt = line_time(g, g->emitted + 1);
            if (rd) {
                int64_t flush = b->scn->output_flush_ms;
                lt = g->pending ? lt : (lt / flush + 1) * flush;
            }
            d = lt < d ? lt : d;
        }
    }
    return d;
}

const struct sim_out_acct *backend_sim_out(const struct backend_sim *b, size_t ctr, int stream,
                                           size_t *n)
{
    if (ctr >= b->n || stream < 0 || stream > 1) {
        *n = 0;
        return NULL;
    }
    *n = b->c[ctr].n_acct[stream];
    return b->c[ctr].acct[stream];
}
