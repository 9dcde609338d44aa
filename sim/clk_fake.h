/* SPDX-License-Identifier: MIT */
/* clk_fake.h - the fake clock behind the clock seam (pod/clk.h), for the simulator and the
 * tests: it starts at mono 0 and wall `wall0_ns` and moves only when its owner sets or advances
 * it (never backwards).  Built into libpodsim.a, never into libpod.a.  Ownership: the caller
 * owns struct clk_fake; a struct clk from clk_fake_clock borrows it. */
#ifndef POD_SIM_CLK_FAKE_H
#define POD_SIM_CLK_FAKE_H

#include <stdint.h>

#include "pod/clk.h"

struct clk_fake {
    int64_t mono_ms;
    int64_t wall0_ns;
};
void clk_fake_init(struct clk_fake *f, int64_t wall0_ns);
struct clk clk_fake_clock(struct clk_fake *f);
void clk_fake_advance(struct clk_fake *f, int64_t ms);
void clk_fake_set(struct clk_fake *f, int64_t mono_ms); /* never backwards */

#endif
