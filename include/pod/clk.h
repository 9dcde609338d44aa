/* SPDX-License-Identifier: MIT */
/* clk.h - the clock seam.  Everything that needs "now" takes a struct clk (or a `now` value
 * derived from one); only src/clk/clk_real.c reads the real clock, and nothing sleeps through
 * this interface.  The fake clock of the simulator and the tests (sim/clk_fake.h) only moves
 * when its owner advances it. */
#ifndef POD_CLK_H
#define POD_CLK_H

#include <stdint.h>

struct clk {
    int64_t (*mono_ms)(void *self); /* monotonic milliseconds, arbitrary origin */
    int64_t (*wall_ns)(void *self); /* Unix time in nanoseconds */
    void *self;
};

static inline int64_t clk_mono_ms(const struct clk *c)
{
    return c->mono_ms(c->self);
}

static inline int64_t clk_wall_ns(const struct clk *c)
{
    return c->wall_ns(c->self);
}

/* The real clock (CLOCK_MONOTONIC / CLOCK_REALTIME). */
extern const struct clk clk_real;

#endif
