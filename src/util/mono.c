/* mono.c - the monotonic clock in milliseconds, for modules without the clk seam (proc, life)
 * and for deadlines that are never simulated (the control socket, spawning the holder). */
#include <time.h>

#include "pod/util.h"

int64_t pod_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
