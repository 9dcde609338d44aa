/* SPDX-License-Identifier: MIT */
/* test_loop.c - the daemon's epoll dispatch (src/loop): readiness, deadlines, and registrations
 * deleted or replaced by a callback of the same batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "pod/loop.h"

struct hit {
    struct loop *l;
    int calls;
    unsigned last_events;
    int del_fd; /* a callback deletes this fd (and closes it) */
};

static void on_fd(void *arg, int fd, unsigned events)
{
    struct hit *h = arg;
    char c;
    if (events & LOOP_IN)
        (void)!read(fd, &c, 1);
    h->calls++;
    h->last_events = events;
    if (h->del_fd >= 0) {
        loop_del(h->l, h->del_fd);
        h->del_fd = -1;
    }
}

static void test_loop__ready_fd_calls_back(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct loop *l = loop_new(&err);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct hit h = {l, 0, 0, -1};
    assert_int_equal(loop_add(l, p[0], LOOP_IN, on_fd, &h, &err), 0);
    assert_int_equal(loop_add(l, p[0], LOOP_IN, on_fd, &h, &err), -1); /* twice */
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, &clk_real, INT64_MAX, &err), 1);
    assert_int_equal(h.calls, 1);
    assert_true(h.last_events & LOOP_IN);
    /* quiet registration: not called although readable */
    assert_int_equal(loop_mod(l, p[0], 0, &err), 0);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(loop_run_once(l, &clk_real, clk_mono_ms(&clk_real), &err), 0);
    assert_int_equal(h.calls, 1);
    loop_del(l, p[0]);
    assert_false(loop_has(l, p[0]));
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void test_loop__deadline_ends_the_wait(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct loop *l = loop_new(&err);
    int64_t t0 = clk_mono_ms(&clk_real);
    assert_int_equal(loop_run_once(l, &clk_real, t0 + 50, &err), 0);
    int64_t took = clk_mono_ms(&clk_real) - t0;
    assert_true(took >= 49 && took < 1000);
    /* a deadline in the past does not block */
    t0 = clk_mono_ms(&clk_real);
    assert_int_equal(loop_run_once(l, &clk_real, t0 - 10, &err), 0);
    assert_true(clk_mono_ms(&clk_real) - t0 < 20);
    loop_free(l);
}

static void test_loop__deleted_in_batch_is_not_called(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct loop *l = loop_new(&err);
    int a[2], b[2];
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    struct hit ha = {l, 0, 0, -1}, hb = {l, 0, 0, -1};
    assert_int_equal(loop_add(l, a[0], LOOP_IN, on_fd, &ha, &err), 0);
    assert_int_equal(loop_add(l, b[0], LOOP_IN, on_fd, &hb, &err), 0);
    /* whichever callback runs first deletes the other registration */
    ha.del_fd = b[0];
    hb.del_fd = a[0];
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    assert_int_equal(loop_run_once(l, &clk_real, INT64_MAX, &err), 1);
    assert_int_equal(ha.calls + hb.calls, 1);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    loop_free(l);
}

static void test_loop__hangup_reported(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct loop *l = loop_new(&err);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct hit h = {l, 0, 0, -1};
    assert_int_equal(loop_add(l, p[0], LOOP_IN, on_fd, &h, &err), 0);
    close(p[1]);
    assert_int_equal(loop_run_once(l, &clk_real, INT64_MAX, &err), 1);
    assert_true(h.last_events & LOOP_HUP);
    loop_del(l, p[0]);
    close(p[0]);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_loop__ready_fd_calls_back),
        cmocka_unit_test(test_loop__deadline_ends_the_wait),
        cmocka_unit_test(test_loop__deleted_in_batch_is_not_called),
        cmocka_unit_test(test_loop__hangup_reported),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
