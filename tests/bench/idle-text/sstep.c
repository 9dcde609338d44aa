/* SPDX-License-Identifier: MIT */
/* sstep PID SECONDS OUT - single-steps every thread of process PID (ptrace) for SECONDS and
 * writes the distinct instruction addresses it executed to OUT, one hex number per line.
 * A tool of tests/bench/idle-text/gen.sh (x86-64 only), not part of any product or test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HB (1u << 22)
static uint64_t set[HB];
static size_t nset;
static void add(uint64_t a)
{
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) >> 42;
    while (set[h] && set[h] != a)
        h = (h + 1) & (HB - 1);
    if (!set[h]) {
        set[h] = a;
        nset++;
    }
}
static volatile sig_atomic_t stop_now;
static void on_alarm(int s)
{
    (void)s;
    stop_now = 1;
}
int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    pid_t pid = atoi(argv[1]);
    double secs = atof(argv[2]);
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/task", pid);
    DIR *d = opendir(p);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        pid_t t = atoi(e->d_name);
        if (ptrace(PTRACE_SEIZE, t, 0, 0) < 0) {
            perror("seize");
            return 1;
        }
        ptrace(PTRACE_INTERRUPT, t, 0, 0);
        n++;
    }
    closedir(d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long steps = 0;
    alarm((unsigned)secs + 1);
    for (;;) {
        int st;
        pid_t t = waitpid(-1, &st, __WALL);
        if (t < 0 || stop_now)
            break;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            continue;
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, t, 0, &r) == 0)
            add(r.rip);
        steps++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int sig = 0;
        if (WIFSTOPPED(st)) {
            int s = WSTOPSIG(st);
            if (s != SIGTRAP && s != SIGSTOP && (st >> 16) == 0)
                sig = s;
        }
        if ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > secs) {
            ptrace(PTRACE_DETACH, t, 0, sig);
            if (--n == 0)
                break;
            continue;
        }
        ptrace(PTRACE_SINGLESTEP, t, 0, sig);
    }
    FILE *f = fopen(argv[3], "w");
    for (size_t i = 0; i < HB; i++)
        if (set[i])
            fprintf(f, "%lx\n", (unsigned long)set[i]);
    fclose(f);
    fprintf(stderr, "steps %lu unique %zu\n", steps, nset);
    return 0;
}
