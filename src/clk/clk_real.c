/* SPDX-License-Identifier: MIT */
/* clk_real.c - the real clock (CLOCK_MONOTONIC, CLOCK_REALTIME): the only place that reads the
 * time.  The fake clock is a test double and lives in sim/clk_fake.c. */
#include "pod/clk.h"

#include <time.h>

static int64_t real_mono_ms(void *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_wall_ns(void *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const struct clk clk_real = {real_mono_ms, real_wall_ns, 0};
