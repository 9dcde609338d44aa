/* SPDX-License-Identifier: MIT */
/* clk_fake.c - the fake clock (clk_fake.h): time is a number its owner moves.  No I/O. */
#include "clk_fake.h"

static int64_t fake_mono_ms(void *self)
{
    return ((struct clk_fake *)self)->mono_ms;
}

static int64_t fake_wall_ns(void *self)
{
    const struct clk_fake *f = self;
    return f->wall0_ns + f->mono_ms * 1000000;
}

void clk_fake_init(struct clk_fake *f, int64_t wall0_ns)
{
    f->mono_ms = 0;
    f->wall0_ns = wall0_ns;
}

struct clk clk_fake_clock(struct clk_fake *f)
{
    struct clk c = {fake_mono_ms, fake_wall_ns, f};
    return c;
}

void clk_fake_advance(struct clk_fake *f, int64_t ms)
{
    if (ms > 0)
        f->mono_ms += ms;
}

void clk_fake_set(struct clk_fake *f, int64_t mono_ms)
{
    if (mono_ms > f->mono_ms)
        f->mono_ms = mono_ms;
}
