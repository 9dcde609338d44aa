/* SPDX-License-Identifier: MIT */
/* bench_logw.c - log writer throughput vs `cat`, in the same run (make bench).
 *
 *   bench_logw [-d DIR] [-m MB] [-r ROUNDS] [-l LINE_BYTES] [-o VARIANT,...] [-b READ_KiB]
 *              [-w WRITEBACK_KiB] [-k MAX_FILES] [-p PIPE_KiB] [-n PUMP_BUFS] [-B PUMP_KiB]
 *
 * A child process writes MB megabytes of LINE_BYTES-byte lines (default 200 MB of 100-byte
 * lines) into a pipe, in 64 KiB writes.  Each variant reads the same bytes from such a pipe:
 *  - cat: `cat` (posix_spawn, stdin = the pipe, stdout = DIR/cat.out);
 *  - none: pod's log path (SPEC.md 9.9): this thread reads the pipe into log pump buffers
 *    (default 8 x 64 KiB; -n, -B), stamped with the real wall clock per read, and the pump's
 *    writer thread runs logw into DIR/log, 10 MiB x 5 rotation (old files deleted),
 *    logw_cfg.sync = LOGW_SYNC_NONE (no fsync at all: the durability of cat), then eof + close;
 *  - inline: the same logw run inline in the reading thread (as the simulator runs it), reading
 *    READ_KiB chunks (default 128, cat's read size);
 *  - catsync: cat, then one fsync of its output (its CPU time counted for cat);
 *  - rotate: as none with the default LOGW_SYNC_ROTATE (fsync + directory sync per rotation,
 *    early writeback every WRITEBACK_KiB, default logw's max_bytes / 8; fsync at eof);
 *  - rotate-nowb: rotate without early writeback (not run by default).
 * Each run is timed from the producer's start to the consumer's end (wall) and by the
 * consumer's CPU time (user + system of cat, or of this process: all its threads); the
 * variants are interleaved in every round, each after a sync(2) (untimed) so that no run pays
 * for the write-back of the previous one's dirty pages.  Printed: best and median of the rounds,
 * and the per-round ratio (cat's time / logw's time in the same round: the least noisy measure on a
 * shared machine).  MB/s are input megabytes (10^6 bytes) per second.  The headline is the
 * issue's target: pod's log path (none) incl. timestamps and rotation vs cat, same durability,
 * >= 80 % throughput, judged on the median per-round ratio; no threshold is enforced (exit 0).
 */
#include "pod/clk.h"
#include "pod/fs.h"
#include "pod/logpump.h"
#include "pod/logw.h"
#include "pod/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHUNK ((size_t)64 * 1024)
/* The consumer's read size: cat's (coreutils 9.1 reads 128 KiB); set by -b. */
static size_t rd_size = 128 * 1024;
/* logw_cfg.writeback_bytes of the sync=rotate variant (0: logw's default); set by -w. */
static int64_t wb_bytes = 0;
/* logw_cfg.max_files (0: the default, 5); set by -k (e.g. -k 1000: no deletions). */
static int keep_files = 0;
/* The log pump's pool: buffers and their size (0: the pump's defaults, 8 x 64 KiB); -n, -B. */
static size_t pump_bufs = 0, pump_buf_size = 0;
/* Pipe capacity for both sides (F_SETPIPE_SZ; 0: the system default, 64 KiB); set by -p. */
static int pipe_size = 0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One block of lines that the producer repeats; its size is a multiple of the line length. */
static char *make_block(size_t line, size_t *len)
{
    size_t lines = (1024 * 1024) / line;
    char *b = xmalloc(lines * line);
    for (size_t i = 0; i < lines; i++) {
        char *l = b + i * line;
        int n = snprintf(l, line, "%08zu ", i);
        for (size_t j = (size_t)n; j < line - 1; j++)
            l[j] = (char)('a' + (i + j) % 26);
        l[line - 1] = '\n';
    }
    *len = lines * line;
    return b;
}

/* Forks a producer writing total bytes (whole blocks) to a new pipe; returns the read end. */
static int producer(const char *block, size_t blen, size_t total, pid_t *pid)
{
    int p[2];
    if (pipe(p) < 0) {
        perror("pipe");
        exit(111);
    }
    if (pipe_size && fcntl(p[0], F_SETPIPE_SZ, pipe_size) < 0) {
        perror("F_SETPIPE_SZ");
        exit(111);
    }
    *pid = fork();
    if (*pid < 0) {
        perror("fork");
        exit(111);
    }
    if (*pid == 0) {
        close(p[0]);
        size_t sent = 0;
        while (sent < total) {
            for (size_t off = 0; off < blen && sent < total; off += CHUNK) {
                size_t n = blen - off < CHUNK ? blen - off : CHUNK;
                const char *q = block + off;
                while (n) {
                    ssize_t w = write(p[1], q, n);
                    if (w < 0) {
                        if (errno == EINTR)
                            continue;
                        _exit(1);
                    }
                    q += w;
                    n -= (size_t)w;
                    sent += (size_t)w;
                }
            }
        }
        _exit(0);
    }
    close(p[1]);
    return p[0];
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Waits for pid; returns its CPU time (user + system). */
static double reap(pid_t pid)
{
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_logw: child failed (%d)\n", st);
        exit(1);
    }
    return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

struct res {
    double wall, cpu; /* seconds; cpu: the consumer's user + system time */
    double user;      /* the consumer's user time (logw variants only) */
};

static double self_user(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv_s(ru.ru_utime);
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = pod_path_join(dir, de->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

static struct res run_cat(const char *dir, const char *block, size_t blen, size_t total, bool sync)
{
    char *out = pod_path_join(dir, "cat.out");
    unlink(out);
    double t0 = now_s();
    pid_t prod;
    int rfd = producer(block, blen, total, &prod);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, rfd, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *argv[] = {"cat", NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "cat", &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench_logw: cannot run cat\n");
        exit(111);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(rfd);
    struct res r;
    r.cpu = reap(pid);
    if (sync) { /* cat, then one fsync of its output: the same durability as logw at eof */
        double c0 = self_cpu();
        int fd = open(out, O_WRONLY);
        if (fd < 0 || fsync(fd) < 0) {
            perror("fsync");
            exit(111);
        }
        close(fd);
        r.cpu += self_cpu() - c0; /* the fsync's CPU time counts for cat's side */
    }
    r.wall = now_s() - t0;
    reap(prod);
    struct stat st;
    if (stat(out, &st) < 0 || (size_t)st.st_size != total) {
        fprintf(stderr, "bench_logw: cat copied %lld of %zu bytes\n", (long long)st.st_size, total);
        exit(1);
    }
    unlink(out);
    free(out);
    return r;
}

/* One logw run.  pump: the daemon's path (pod/logpump.h) - this thread reads the pipe into pump
 * buffers stamped with the read time, the pump's writer thread runs logw; otherwise logw runs
 * inline in the reading thread (as the simulator runs it). */
static struct res run_logw(const char *dir, const char *block, size_t blen, size_t total,
                           enum logw_sync sync, int64_t writeback, bool pump,
                           struct logw_stats *st_out)
{
    char *logdir = pod_path_join(dir, "log");
    rm_dir_files(logdir);
    struct logw_cfg cfg = {.fs = fs_real(),
                           .dir = logdir,
                           .base = "bench-pod-1.0.0-stdout",
                           .sync = sync,
                           .writeback_bytes = writeback,
                           .max_files = keep_files};
    struct logw *w = NULL;
    struct logpump *lp = NULL;
    int id = -1;
    struct pod_err e = POD_ERR_ZERO;
    char *buf = xmalloc(rd_size);
    struct res r;
    double t0 = now_s(), c0 = self_cpu(), u0 = self_user();
    pid_t prod;
    int rfd = producer(block, blen, total, &prod);
    if (logw_open(&cfg, &w, &e) < 0) {
        fprintf(stderr, "bench_logw: %s\n", e.msg);
        exit(111);
    }
    if (pump) {
        struct logpump_cfg pc = {.nbufs = pump_bufs, .buf_size = pump_buf_size};
        if (logpump_new(&pc, &lp, &e) < 0) {
            fprintf(stderr, "bench_logw: %s\n", e.msg);
            exit(111);
        }
        id = logpump_attach(lp, w);
    }
    for (;;) {
        char *b = pump ? logpump_reserve_wait(lp) : buf;
        ssize_t n = read(rfd, b, pump ? logpump_buf_size(lp) : rd_size);
        if (n < 0 && errno == EINTR) {
            if (pump)
                logpump_submit(lp, id, b, 0, 0);
            continue;
        }
        if (n < 0) {
            perror("read");
            exit(111);
        }
        if (pump) {
            logpump_submit(lp, id, b, (size_t)n, clk_wall_ns(&clk_real));
            if (n == 0)
                break;
            continue;
        }
        if (n == 0)
            break;
        if (logw_write(w, b, (size_t)n, clk_wall_ns(&clk_real), &e) < 0) {
            fprintf(stderr, "bench_logw: logw_write: %s\n", e.msg);
            exit(1);
        }
    }
    if (pump) {
        char msg[512];
        logpump_eof(lp, id, clk_wall_ns(&clk_real));
        logpump_flush(lp);
        *st_out = logpump_stats(lp, id, msg, sizeof msg);
        if (msg[0]) {
            fprintf(stderr, "bench_logw: log pump: %s\n", msg);
            exit(1);
        }
        logpump_close(lp); /* closes w */
    } else {
        if (logw_eof(w, clk_wall_ns(&clk_real), &e) < 0) {
            fprintf(stderr, "bench_logw: logw_eof: %s\n", e.msg);
            exit(1);
        }
        *st_out = logw_stats(w);
        logw_close(w);
    }
    r.wall = now_s() - t0;
    r.cpu = self_cpu() - c0;
    r.user = self_user() - u0;
    close(rfd);
    reap(prod);
    if (st_out->bytes_in != total || st_out->dropped_bytes || st_out->write_errors) {
        fprintf(stderr, "bench_logw: logw took %llu of %zu bytes (errors %llu)\n",
                (unsigned long long)st_out->bytes_in, total,
                (unsigned long long)st_out->write_errors);
        exit(1);
    }
    rm_dir_files(logdir);
    rmdir(logdir);
    free(logdir);
    free(buf);
    return r;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { V_CAT, V_NONE, V_INLINE, V_CATSYNC, V_ROTATE, V_ROTATE_NOWB, NV };

static const char *const vname[NV] = {"cat", "none", "inline", "catsync", "rotate", "rotate-nowb"};
static const char *const vwhat[NV] = {
    "cat (pipe -> file, no fsync)",
    "pod: logw sync=none via the log pump",
    "logw sync=none inline (one thread)",
    "cat + one fsync of its output at the end",
    "pod: logw sync=rotate (default) via the pump",
    "logw sync=rotate via the pump, no writeback",
};

static struct res run(int v, const char *dir, const char *block, size_t blen, size_t total,
                      struct logw_stats *st)
{
    switch (v) {
    case V_CAT:
        return run_cat(dir, block, blen, total, false);
    case V_NONE:
        return run_logw(dir, block, blen, total, LOGW_SYNC_NONE, 0, true, st);
    case V_INLINE:
        return run_logw(dir, block, blen, total, LOGW_SYNC_NONE, 0, false, st);
    case V_CATSYNC:
        return run_cat(dir, block, blen, total, true);
    case V_ROTATE:
        return run_logw(dir, block, blen, total, LOGW_SYNC_ROTATE, wb_bytes, true, st);
    default:
        return run_logw(dir, block, blen, total, LOGW_SYNC_ROTATE, -1, true, st);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_logw [-d DIR] [-m MB] [-r ROUNDS] [-l LINE_BYTES] "
                    "[-o VARIANT,...] [-b READ_KiB] [-w WRITEBACK_KiB] [-k MAX_FILES] [-p "
                    "PIPE_KiB] [-n PUMP_BUFS] [-B PUMP_KiB]\n  variants: cat none inline "
                    "catsync rotate rotate-nowb "
                    "(default: cat,none,inline,catsync,rotate)\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long mb = 200, rounds = 3, line = 100;
    bool on[NV] = {true, true, true, true, true, false};
    int opt;
    while ((opt = getopt(argc, argv, "d:m:r:l:o:b:w:k:p:n:B:")) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'm':
            mb = atol(optarg);
            break;
        case 'r':
            rounds = atol(optarg);
            break;
        case 'l':
            line = atol(optarg);
            break;
        case 'b':
            rd_size = (size_t)atol(optarg) * 1024;
            if (rd_size < 1024 || rd_size > 16 * 1024 * 1024) {
                usage();
                return 100;
            }
            break;
        case 'p':
            pipe_size = atoi(optarg) * 1024;
            break;
        case 'k':
            keep_files = atoi(optarg);
            break;
        case 'n':
            pump_bufs = (size_t)atol(optarg);
            break;
        case 'B':
            pump_buf_size = (size_t)atol(optarg) * 1024;
            break;
        case 'w':
            wb_bytes = (int64_t)atol(optarg) * 1024;
            break;
        case 'o': {
            memset(on, 0, sizeof on);
            char *list = xstrdup(optarg), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int v = 0;
                while (v < NV && strcmp(t, vname[v]) != 0)
                    v++;
                if (v == NV) {
                    usage();
                    return 100;
                }
                on[v] = true;
            }
            free(list);
            break;
        }
        default:
            usage();
            return 100;
        }
    }
    if (mb < 1 || rounds < 1 || rounds > 50 || line < 2 || line > 65536)
        return 100;
    char tmpl[] = "/tmp/bench_logw.XXXXXX";
    bool own_dir = !dir;
    if (own_dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 111;
    }
    mkdir(dir, 0755);
    signal(SIGPIPE, SIG_IGN);
    size_t blen;
    char *block = make_block((size_t)line, &blen);
    size_t total = ((size_t)mb * 1000000 / blen + 1) * blen; /* whole blocks */
    double *tw[NV], *tc[NV];
    for (int i = 0; i < NV; i++) {
        tw[i] = xcalloc((size_t)rounds, sizeof *tw[i]);
        tc[i] = xcalloc((size_t)rounds, sizeof *tc[i]);
    }
    struct logw_stats st[NV];
    memset(st, 0, sizeof st);
    double usum[NV] = {0}, csum[NV] = {0};
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < NV; i++) { /* interleaved: load changes hit every variant alike */
            if (!on[i])
                continue;
            /* Start every run from the same state: the dirty pages of the previous run written
             * back now, not by the kernel's flusher threads during this run. */
            sync();
            struct res x = run(i, dir, block, blen, total, &st[i]);
            tw[i][r] = x.wall;
            tc[i][r] = x.cpu;
            usum[i] += x.user;
            csum[i] += x.cpu;
        }
    }
    /* Per-round ratios (cat's time / logw's time of the same round): the two runs of a round are
     * seconds apart, so load changes on a shared machine hit both alike. */
    double *rr_none = xcalloc((size_t)rounds, sizeof *rr_none);
    double *rr_inline = xcalloc((size_t)rounds, sizeof *rr_inline);
    for (long r = 0; r < rounds; r++) {
        rr_none[r] = tw[V_NONE][r] > 0 ? tw[V_CAT][r] / tw[V_NONE][r] : 0;
        rr_inline[r] = tw[V_INLINE][r] > 0 ? tw[V_CAT][r] / tw[V_INLINE][r] : 0;
    }
    qsort(rr_none, (size_t)rounds, sizeof *rr_none, cmp_d);
    qsort(rr_inline, (size_t)rounds, sizeof *rr_inline, cmp_d);
    double mbytes = (double)total / 1e6, best[NV] = {0}, med[NV] = {0}, cbest[NV] = {0},
           cmed[NV] = {0};
    for (int i = 0; i < NV; i++) {
        if (!on[i])
            continue;
        qsort(tw[i], (size_t)rounds, sizeof *tw[i], cmp_d);
        qsort(tc[i], (size_t)rounds, sizeof *tc[i], cmp_d);
        best[i] = mbytes / tw[i][0];
        med[i] = mbytes / tw[i][rounds / 2];
        cbest[i] = mbytes / tc[i][0];
        cmed[i] = mbytes / tc[i][rounds / 2];
    }
    printf("input: %.0f MB of %ld-byte lines from a pipe (64 KiB writes), %ld rounds, dir %s\n",
           mbytes, line, rounds, dir);
    printf("logw: wall-clock timestamp per chunk (records are ~30 bytes longer than the lines), "
           "10 MiB x 5 rotation incl. deleting old files\n");
    printf("%-48s %10s %10s %10s %10s\n", "MB/s of input", "wall best", "wall med", "CPU best",
           "CPU med");
    for (int i = 0; i < NV; i++) {
        if (!on[i])
            continue;
        printf("%-48s %10.1f %10.1f %10.1f %10.1f", vwhat[i], best[i], med[i], cbest[i], cmed[i]);
        if (i != V_CAT && i != V_CATSYNC)
            printf("   (user %.0f %% of CPU; %llu rotations, %llu fsyncs, %llu dir syncs, %llu "
                   "writebacks)",
                   csum[i] > 0 ? 100.0 * usum[i] / csum[i] : 0.0,
                   (unsigned long long)st[i].rotations, (unsigned long long)st[i].syncs,
                   (unsigned long long)st[i].dir_syncs, (unsigned long long)st[i].writebacks);
        printf("\n");
    }
    printf("(CPU: MB per CPU second of the consumer - cat, or this process reading the pipe and "
           "running logw)\n");
    if (on[V_CAT] && on[V_NONE])
        printf("TARGET (issue 4, >= 80 %%): pod's log path (logw sync=none via the log pump) incl. "
               "timestamps and rotation vs cat, same durability (no fsync):\n"
               "    throughput per round (same-round cat time / pod time): median %.0f %%, range "
               "%.0f-%.0f %% -> %s\n"
               "    wall %.0f %% (best), %.0f %% (median); CPU %.0f %% (best), %.0f %% (median)\n",
               100.0 * rr_none[rounds / 2], 100.0 * rr_none[0], 100.0 * rr_none[rounds - 1],
               rr_none[rounds / 2] >= 0.8 ? "met" : "NOT met", 100.0 * best[V_NONE] / best[V_CAT],
               100.0 * med[V_NONE] / med[V_CAT], 100.0 * cbest[V_NONE] / cbest[V_CAT],
               100.0 * cmed[V_NONE] / cmed[V_CAT]);
    if (on[V_CAT] && on[V_INLINE])
        printf("logw inline (one thread, as the simulator runs it) vs cat: wall %.0f %% (best); "
               "CPU %.0f %% (best); per round: median %.0f %%, range %.0f-%.0f %%\n",
               100.0 * best[V_INLINE] / best[V_CAT], 100.0 * cbest[V_INLINE] / cbest[V_CAT],
               100.0 * rr_inline[rounds / 2], 100.0 * rr_inline[0], 100.0 * rr_inline[rounds - 1]);
    if (on[V_CATSYNC] && on[V_ROTATE])
        printf("logw default (sync=rotate) vs cat + final fsync: wall %.0f %% (best), %.0f %% "
               "(median); CPU %.0f %% (best)\n",
               100.0 * best[V_ROTATE] / best[V_CATSYNC], 100.0 * med[V_ROTATE] / med[V_CATSYNC],
               100.0 * cbest[V_ROTATE] / cbest[V_CATSYNC]);
    if (on[V_CAT] && on[V_ROTATE])
        printf("logw default (sync=rotate) vs plain cat:         wall %.0f %% (best), %.0f %% "
               "(median)\n",
               100.0 * best[V_ROTATE] / best[V_CAT], 100.0 * med[V_ROTATE] / med[V_CAT]);
    printf("load average: %s", "");
    FILE *la = fopen("/proc/loadavg", "r");
    char lbuf[64] = "?\n";
    if (la) {
        if (!fgets(lbuf, sizeof lbuf, la))
            strcpy(lbuf, "?\n");
        fclose(la);
    }
    fputs(lbuf, stdout);
    free(rr_none);
    free(rr_inline);
    for (int i = 0; i < NV; i++) {
        free(tw[i]);
        free(tc[i]);
    }
    if (own_dir)
        rmdir(dir);
    free(block);
    return 0;
}
