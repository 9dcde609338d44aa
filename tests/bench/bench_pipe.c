/* SPDX-License-Identifier: MIT */
/* bench_pipe.c - the "bare passthrough pipe" reader of tests/bench/runtime_logs.sh (make bench).
 *
 *   podman run --log-driver passthrough IMAGE CMD | bench_pipe OUT
 *
 * Copies stdin to OUT like `cat` (128 KiB reads, coreutils cat's size; no fsync: the
 * durability of cat and of pod's default log path between rotations) and prints
 * "FIRST LAST BYTES" on stdout: the wall-clock times (seconds, 9 decimals) of the first and of
 * the last read that returned data, and the byte count.  The daemon's log pump stamps every
 * record with the wall time of the read that ended it (SPEC 9.2), so the first and the last
 * record of a captured stream give the same window for pod's log path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define RD_SIZE ((size_t)128 * 1024)

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_pipe OUT < input\n");
        return 100;
    }
    int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *buf = malloc(RD_SIZE);
    if (out < 0 || buf == NULL) {
        perror("bench_pipe");
        return 111;
    }
    double first = 0, last = 0;
    long long bytes = 0;
    for (;;) {
        ssize_t r = read(0, buf, RD_SIZE);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("bench_pipe: read");
            return 111;
        }
        if (r == 0)
            break;
        last = wall_s();
        if (bytes == 0)
            first = last;
        bytes += r;
        if (write_all(out, buf, (size_t)r) < 0) {
            perror("bench_pipe: write");
            return 111;
        }
    }
    if (close(out) < 0) {
        perror("bench_pipe: close");
        return 111;
    }
    printf("%.9f %.9f %lld\n", first, last, bytes);
    free(buf);
    return 0;
}
