/* SPDX-License-Identifier: MIT */
/* fuzz_agent_client.c - libFuzzer target for the daemon's agent client (src/agent/agent_client.c):
 * the bytes an agent - inside a container, so possibly hostile - sends back.  Input: byte 0 =
 * requests in flight (0-7), byte 1 = which of them are cancelled after the first chunk, then the
 * agent's stream, written in chunks.  Whatever the bytes: no crash, no leak, every request ends
 * exactly once (with a valid state and code), and the connection is reported lost exactly once
 * when the stream ends.
 * Seed corpus: tests/fuzz/agent_client_corpus/ (well-formed exchanges, split frames, garbage).
 */
#include "../../sim/clk_fake.h"
#include "pod/agent.h"
#include "pod/util.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

struct seen {
    unsigned ended[8];
    unsigned lost;
};

static void on_done(void *arg, uint64_t tag, int code, enum agent_state st)
{
    struct seen *s = arg;
    if (tag < 1 || tag > 8 || s->ended[tag - 1]++ != 0)
        abort(); /* an unknown tag reported, or a request ended twice */
    if (st == AGENT_OK ? code < 0 || code > 255 : st == AGENT_ERROR ? code < 0 : code != -1)
        abort();
}

static void on_lost(void *arg, const char *why)
{
    (void)why;
    ((struct seen *)arg)->lost++;
}

static void pump(struct loop *l, struct agent_client *c, const struct clk *clk)
{
    struct pod_err err = POD_ERR_ZERO;
    for (int i = 0; i < 4; i++) {
        (void)loop_run_once(l, clk, clk_mono_ms(clk), &err);
        if (agent_next_deadline(c) <= clk_mono_ms(clk))
            agent_handle_deadline(c);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 2)
        return 0;
    struct clk_fake fake;
    clk_fake_init(&fake, 0);
    struct clk clk = clk_fake_clock(&fake);
    struct pod_err err = POD_ERR_ZERO;
    struct loop *l = loop_new(&err);
    struct seen s = {{0}, 0};
    struct agent_client_cbs cbs = {on_done, NULL, on_lost, &s};
    struct agent_client *c = agent_client_new(l, &clk, "/nonexistent/agent.sock", &cbs);
    int sv[2];
    if (!l || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    if (agent_client_adopt_fd(c, sv[0], 1000000, &err) < 0)
        abort();
    unsigned n = data[0] % 8, cancel = data[1];
    char *argv[] = {"sh", "-c", "exit 3", NULL};
    for (unsigned i = 0; i < n; i++)
        if (agent_run(c, i + 1, 1000, argv, &err) < 0)
            abort();
    size_t off = 2;
    bool cancelled = false;
    while (off < size) {
        size_t chunk = 1 + data[off] % 64;
        off++;
        if (chunk > size - off)
            chunk = size - off;
        if (chunk && send(sv[1], data + off, chunk, MSG_NOSIGNAL) != (ssize_t)chunk)
            break; /* the client has dropped this agent already */
        off += chunk;
        pump(l, c, &clk);
        if (!cancelled) {
            for (unsigned i = 0; i < n; i++)
                if (cancel & (1u << i))
                    (void)!agent_cancel(c, i + 1, &err); /* may have ended already */
            cancelled = true;
        }
    }
    close(sv[1]); /* the agent goes away */
    pump(l, c, &clk);
    clk_fake_advance(&fake, 1000000); /* any deadline left */
    pump(l, c, &clk);
    for (unsigned i = 0; i < n; i++)
        if (s.ended[i] != 1)
            abort();
    if (s.lost != 1 || agent_conn_state(c) != AGENT_CONN_DOWN)
        abort();
    agent_client_free(c);
    loop_free(l);
    return 0;
}
