/* SPDX-License-Identifier: MIT */
/* test_dsink.c - the daemon's log sink (src/daemon/dsink.c) on a real log pump over fs_mem and
 * a fake clock: a lone write goes to the pump at the end of its loop round; the writes of a
 * burst share one pump buffer (one item, so one writer wake-up) until it is DSINK_HOLD_MS old
 * or half full; dsink_next_deadline says when a held buffer is due; nothing is lost and the
 * order holds (line and byte counts after the pump closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/clk_fake.h"
#include "../sim/fs_mem.h"
#include "pod/dsink.h"
#include "pod/logpump.h"
#include "pod/spec.h"
#include "pod/util.h"

#define T0 ((int64_t)1795386838000000000)

static const char *const spec_one = "api: 1.0.0-beta2\n"
                                    "podVersion: 1.0.0\n"
                                    "containers:\n"
                                    "  - name: web\n"
                                    "    image: busybox\n"
                                    "    command: [sleep, '1000']\n";

struct fx {
    struct clk_fake cf;
    struct clk clk;
    struct fs_mem *mem;
    struct pod_spec *spec;
    struct logpump *pump;
    struct dsink *sink;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    clk_fake_init(&f->cf, T0);
    f->clk = clk_fake_clock(&f->cf);
    f->mem = fs_mem_new();
    struct spec_opts o = {.file = "spec.yaml", .pod_name = "tds", .check_files = false};
    struct spec_diags dg;
    memset(&dg, 0, sizeof dg);
    assert_int_equal(spec_load(spec_one, strlen(spec_one), &o, &dg, &f->spec), 0);
    spec_diags_free(&dg);
    struct pod_err err = POD_ERR_ZERO;
    struct logpump_cfg pc = {.clk = &f->clk};
    assert_int_equal(logpump_new(&pc, &f->pump, &err), 0);
    struct dsink_cfg c = {
        .pump = f->pump, .spec = f->spec, .dir = "/pod", .fs = fs_mem_fs(f->mem), .clk = &f->clk};
    assert_int_equal(dsink_new(&c, &f->sink, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    dsink_free(f->sink);
    logpump_close(f->pump);
    spec_free(f->spec);
    fs_mem_free(f->mem);
    free(f);
    return 0;
}

/* 100 bytes: 99 characters and the newline */
static const char line100[] = "012345678901234567890123456789012345678901234567890123456789"
                              "012345678901234567890123456789012345678\n";

_Static_assert(sizeof line100 == 101, "a 100-byte line");

static int64_t now(struct fx *f)
{
    return clk_mono_ms(&f->clk);
}

static uint64_t queued(struct fx *f)
{
    return logpump_queued(f->pump);
}

/* A lone write is not held; the burst behind it shares one buffer until it is old enough. */
static void test_dsink__burst_shares_one_buffer(void **state)
{
    struct fx *f = *state;
    uint64_t q0 = queued(f);
    dsink_write(f->sink, 0, 0, line100, 100, T0);
    dsink_round_end(f->sink, now(f));
    assert_int_equal(queued(f) - q0, 1); /* a lone write: at once */
    assert_int_equal(dsink_next_deadline(f->sink), INT64_MAX);

    /* a burst: 20 loop rounds of one pipe read each, within DSINK_HOLD_MS */
    for (int i = 0; i < 20; i++) {
        dsink_write(f->sink, 0, 0, line100, 100, T0);
        dsink_round_end(f->sink, now(f));
    }
    assert_int_equal(queued(f) - q0, 1);
    int64_t due = dsink_next_deadline(f->sink);
    assert_true(due > now(f) && due <= now(f) + 2);
    clk_fake_advance(&f->cf, due - now(f));
    dsink_round_end(f->sink, now(f));
    assert_int_equal(queued(f) - q0, 2); /* 20 reads, one item */
    assert_int_equal(dsink_next_deadline(f->sink), INT64_MAX);

    logpump_flush(f->pump);
    struct logw_stats st = dsink_stats(f->sink, 0, 0);
    assert_int_equal(st.lines, 21);
    assert_int_equal(st.bytes_in, 2100);
}

/* In a burst, a buffer half full goes at the end of the round without waiting. */
static void test_dsink__half_full_goes_at_once(void **state)
{
    struct fx *f = *state;
    uint64_t q0 = queued(f);
    dsink_write(f->sink, 0, 1, line100, 100, T0);
    dsink_round_end(f->sink, now(f));
    size_t half = LOGPUMP_DEFAULT_BUF_SIZE / 2, n = 0;
    while (n + 100 <= half) {
        dsink_write(f->sink, 0, 1, line100, 100, T0);
        n += 100;
    }
    dsink_round_end(f->sink, now(f));
    assert_int_equal(queued(f) - q0, 1); /* just under half: held */
    dsink_write(f->sink, 0, 1, line100, 100, T0);
    dsink_round_end(f->sink, now(f));
    assert_int_equal(queued(f) - q0, 2);
    logpump_flush(f->pump);
    assert_int_equal(dsink_stats(f->sink, 0, 1).lines, n / 100 + 2);
}

/* A write more than DSINK_SAME_TIME_NS after the held buffer's first gets its own buffer (its
 * own time stamp); dsink_flush submits what is held at once. */
static void test_dsink__later_read_and_flush(void **state)
{
    struct fx *f = *state;
    uint64_t q0 = queued(f);
    dsink_write(f->sink, 0, 0, line100, 100, T0);
    dsink_round_end(f->sink, now(f));
    dsink_write(f->sink, 0, 0, line100, 100, T0);
    dsink_round_end(f->sink, now(f));
    assert_int_equal(queued(f) - q0, 1);
    dsink_write(f->sink, 0, 0, line100, 100, T0 + 2000000); /* 2 ms later (wall) */
    assert_int_equal(queued(f) - q0, 2);                    /* the held one went */
    dsink_flush(f->sink);
    assert_int_equal(queued(f) - q0, 3);
    logpump_flush(f->pump);
    assert_int_equal(dsink_stats(f->sink, 0, 0).lines, 3);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test_setup_teardown(test_dsink__burst_shares_one_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsink__half_full_goes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsink__later_read_and_flush, setup, teardown),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
