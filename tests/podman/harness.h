/* SPDX-License-Identifier: MIT */
/* harness.h - the harness of the real-podman backend test (test_backend_podman.c): a real loop,
 * the backend's events recorded (output appended per container/stream), waits with deadlines,
 * a stand-in for the fd holder, synchronous podman calls of the test itself, cleanup. */
#ifndef TBE_HARNESS_H
#define TBE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pod/backend.h"
#include "pod/loop.h"
#include "pod/podman.h"
#include "pod/spec.h"
#include "pod/util.h"

#define IMAGE "localhost/podtest:1"
#define PULL_IMAGE "localhost/tbe-pulled:1"
enum { C_OUT, C_SIG, C_WEB, C_QUIET, C_PULL, C_CHAT, C_FLOOD, C_WARM, C_N };

struct rec {
    struct backend_event ev;
    int64_t mono_ms, wall_ns;
};

struct held {
    size_t ctr;
    uint64_t instance;
    int stream, fd;
};

struct t {
    struct loop *loop;
    struct pod_spec *spec;
    struct backend be;
    struct rec *ev;
    size_t n, cap;
    struct pod_buf out[C_N][2];
    int eofs[C_N][2];
    bool room;
    struct held held[64];
    size_t n_held;
    char dir[64], modefile[128], fake[128], exe[512], run_dir[128];
    char pod[64];
    int port, closed_port;
};

struct want {
    size_t from;
    enum backend_event_type type;
    size_t ctr;
    uint64_t instance, tag;
};

struct out_want {
    size_t ctr;
    int stream;
    const char *text;
};

extern int failures;
extern struct t *g; /* for cleanup at a signal */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

typedef bool pred_fn(struct t *t, const void *arg);

int64_t now_ms(void);
void hold_fd(void *self, size_t ctr, uint64_t instance, int stream, int fd);
void drop_fd(void *self, size_t ctr, uint64_t instance, int stream);
bool room(void *self);
void drain(struct t *t);
bool pump(struct t *t, int64_t timeout_ms, pred_fn *pred, const void *arg);
const struct rec *find_ev(const struct t *t, const struct want *w);
bool pred_ev(struct t *t, const void *arg);
const struct rec *wait_ev(struct t *t, size_t from, enum backend_event_type type, size_t ctr,
                          uint64_t instance, int64_t timeout_ms);
bool pred_out(struct t *t, const void *arg);
bool wait_out(struct t *t, size_t ctr, int stream, const char *text, int64_t timeout_ms);
size_t mark(const struct t *t);
int sh_podman(char **out, const char *fmt, ...) POD_PRINTF(2, 3);
void set_mode(struct t *t, const char *mode);
int free_port(void);
void cleanup(void);
void on_signal(int sig);
bool podman_usable(char *why, size_t cap);
void backend_up(struct t *t, const char *podman, int64_t max_call_ms);
bool pred_listed(struct t *t, const void *arg);
struct backend_ctr_state inspect_op(struct t *t, size_t ctr);
bool podman_inspect(struct t *t, size_t ctr, struct podman_ctr_info *in);
const struct rec *probe(struct t *t, const struct backend_probe_req *req, int64_t wait_ms);
bool in_container(struct t *t, size_t ctr, const char *what);
bool pred_armed(struct t *t, const void *arg);
bool pred_calls(struct t *t, const void *arg);
bool pred_eof2(struct t *t, const void *arg);

#endif
