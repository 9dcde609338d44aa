/* SPDX-License-Identifier: MIT */
/* clk.h - the clock seam.  Everything that needs "now" takes a struct clk (or a `now` value
 * derived from one); only src/clk/clk_real.c reads the real clock, and nothing sleeps through
 * this interface.  The fake clock (sim) only moves when its owner advances it. */
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

/* A fake clock: starts at mono 0 and wall `wall0_ns`; moves only via clk_fake_set/advance. */
struct clk_fake {
    int64_t mono_ms;
    int64_t wall0_ns;
};
void clk_fake_init(struct clk_fake *f, int64_t wall0_ns);
struct clk clk_fake_clock(struct clk_fake *f);
void clk_fake_advance(struct clk_fake *f, int64_t ms);
void clk_fake_set(struct clk_fake *f, int64_t mono_ms); /* never backwards */

#endif
