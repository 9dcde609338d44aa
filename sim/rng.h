/* SPDX-License-Identifier: MIT */
/* rng.h - the simulator's deterministic RNG (splitmix64).  Every random choice of a run comes
 * from a generator seeded from the run's seed, so a seed replays a run byte for byte. */
#ifndef POD_SIM_RNG_H
#define POD_SIM_RNG_H

#include <stdint.h>

static inline uint64_t sim_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0). */
static inline uint64_t sim_rng_below(uint64_t *s, uint64_t n)
{
    return sim_rng_next(s) % n;
}

/* A sub-seed for subsystem `k` (TigerBeetle style). */
static inline uint64_t sim_rng_sub(uint64_t seed, uint64_t k)
{
    uint64_t s = seed ^ (k * 0xD1B54A32D192ED03ULL);
    return sim_rng_next(&s);
}

#endif
