/* SPDX-License-Identifier: MIT */
/* podsim.c - the simulator's command line.
 *
 *   podsim run FILE [--seed N] [--trace text|json]      print the event trace of one run
 *   podsim check [--update] FILE...                     compare with FILE's golden .trace
 *   podsim explore FILE --seeds A..B [--trace text]     random fault schedules + invariants
 *   podsim sweep FILE... [--kinds fail,hang] [--limit M] [--call K] [--trace text|json]
 *                                                       fail / hang the k-th podman call, every k
 *   podsim bench [--hours H]                            simulated hours per wall second
 *
 * The only place in sim/ that prints, reads files, spawns (diff -u) or reads the real clock
 * (bench).  Exit codes: 0 ok, 1 failures/violations, 100 usage, 111 system errors.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/util.h"
#include "scn.h"
#include "simrun.h"

extern char **environ;

static void quiet_sink(void *self, int level, const char *msg)
{
    (void)self;
    (void)level;
    (void)msg;
}

static int usage(void)
{
    fprintf(stderr, "usage: podsim run FILE [--seed N] [--trace text|json] [--dump DIR]\n"
                    "       podsim check [--update] FILE...\n"
                    "       podsim explore FILE --seeds A..B [--trace text|json]\n"
                    "       podsim sweep FILE... [--kinds fail,hang] [--limit M] [--call K] "
                    "[--trace text|json]\n"
                    "       podsim bench [--hours H]\n");
    return POD_EXIT_USAGE;
}

static struct scn *load(const char *file)
{
    char *text = NULL;
    size_t len = 0;
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file(file, SCN_MAX_BYTES, &text, &len, &err) < 0) {
        fprintf(stderr, "podsim: %s\n", err.msg);
        return NULL;
    }
    struct scn *s = NULL;
    if (scn_parse(text, len, file, &s, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    free(text);
    return s;
}

static char *golden_path(const char *file)
{
    size_t n = strlen(file);
    if (n > 4 && strcmp(file + n - 4, ".scn") == 0)
        return xasprintf("%.*s.trace", (int)(n - 4), file);
    return xasprintf("%s.trace", file);
}

static bool parse_seed_range(const char *s, uint64_t *a, uint64_t *b)
{
    const char *dots = strstr(s, "..");
    long long x, y;
    if (!dots) {
        if (!pod_parse_int(s, 0, INT64_MAX, &x))
            return false;
        *a = *b = (uint64_t)x;
        return true;
    }
    char *first = xstrndup(s, (size_t)(dots - s));
    bool ok = pod_parse_int(first, 0, INT64_MAX, &x) && pod_parse_int(dots + 2, 0, INT64_MAX, &y) &&
              y >= x;
    free(first);
    if (ok) {
        *a = (uint64_t)x;
        *b = (uint64_t)y;
    }
    return ok;
}

static int trace_fmt(const char *v, enum sim_trace_fmt *f)
{
    if (strcmp(v, "text") == 0)
        *f = SIM_TRACE_TEXT;
    else if (strcmp(v, "json") == 0)
        *f = SIM_TRACE_JSON;
    else
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ run */

static int cmd_run(int argc, char **argv)
{
    struct sim_opts o = {.fmt = SIM_TRACE_TEXT};
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        long long v;
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (!pod_parse_int(argv[++i], 0, INT64_MAX, &v))
                return usage();
            o.seed_set = true;
            o.seed = (uint64_t)v;
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            if (trace_fmt(argv[++i], &o.fmt) < 0)
                return usage();
        } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            o.dump_dir = argv[++i];
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            return usage();
        }
    }
    if (!file)
        return usage();
    struct scn *s = load(file);
    if (!s)
        return 1;
    struct sim_result res;
    struct pod_err err = POD_ERR_ZERO;
    int rc = 0;
    if (sim_run(s, &o, &res, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        scn_free(s);
        return 1;
    }
    fputs(res.trace, stdout);
    if (res.dump_error) {
        fprintf(stderr, "podsim: --dump %s: %s\n", o.dump_dir, res.dump_error);
        rc = 1;
    }
    if (res.report && *res.report) {
        fputs(res.report, stderr);
        rc = 1;
    }
    sim_result_free(&res);
    scn_free(s);
    return rc;
}

/* ------------------------------------------------------------------ check */

static int run_diff(const char *golden, const char *actual_text)
{
    char tmpl[] = "/tmp/podsim-actual-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror("podsim: mkstemp");
        return -1;
    }
    size_t len = strlen(actual_text);
    const char *p = actual_text;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            break;
        p += w;
        len -= (size_t)w;
    }
    close(fd);
    fflush(stdout);
    char *args[] = {"diff",         "-u", "--label", (char *)golden, "--label", "actual",
                    (char *)golden, tmpl, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "diff", NULL, NULL, args, environ);
    if (rc == 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0) {
        }
    } else {
        fprintf(stderr, "podsim: cannot run diff\n");
    }
    unlink(tmpl);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    bool update = false;
    int passed = 0, failed = 0;
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--update") == 0) {
            update = true;
            continue;
        }
        if (argv[i][0] == '-')
            return usage();
        nfiles++;
    }
    if (nfiles == 0)
        return usage();
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        const char *file = argv[i];
        struct scn *s = load(file);
        if (!s) {
            printf("FAIL %s (does not parse)\n", file);
            failed++;
            continue;
        }
        struct sim_opts o = {.fmt = SIM_TRACE_TEXT};
        struct sim_result res;
        struct pod_err err = POD_ERR_ZERO;
        if (sim_run(s, &o, &res, &err) < 0) {
            printf("FAIL %s\n%s\n", file, err.msg);
            failed++;
            scn_free(s);
            continue;
        }
        char *gp = golden_path(file);
        bool ok = true;
        char *golden = NULL;
        size_t glen = 0;
        struct pod_err e2 = POD_ERR_ZERO;
        if (update) {
            if (pod_write_file_atomic(gp, res.trace, strlen(res.trace), 0644, &e2) < 0) {
                fprintf(stderr, "podsim: %s\n", e2.msg);
                ok = false;
            }
        } else if (pod_read_file(gp, 64u << 20, &golden, &glen, &e2) < 0) {
            printf("FAIL %s: no golden trace (%s); run `podsim check --update %s`\n", file, e2.msg,
                   file);
            ok = false;
        } else if (strcmp(golden, res.trace) != 0) {
            printf("FAIL %s: trace differs from %s\n", file, gp);
            run_diff(gp, res.trace);
            ok = false;
        }
        if (res.report && *res.report) {
            if (ok)
                printf("FAIL %s\n", file);
            fputs(res.report, stdout);
            ok = false;
        }
        if (ok)
            printf("ok   %s%s\n", file, update ? " (golden updated)" : "");
        ok ? passed++ : failed++;
        free(golden);
        free(gp);
        sim_result_free(&res);
        scn_free(s);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ explore */

static int cmd_explore(int argc, char **argv)
{
    const char *file = NULL;
    uint64_t a = 0, b = 99;
    enum sim_trace_fmt fmt = SIM_TRACE_NONE;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
            if (!parse_seed_range(argv[++i], &a, &b))
                return usage();
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            if (trace_fmt(argv[++i], &fmt) < 0)
                return usage();
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (!file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            return usage();
        }
    }
    if (!file)
        return usage();
    struct scn *s = load(file);
    if (!s)
        return 1;
    unsigned passed = 0, failed = 0;
    struct sim_result tot;
    memset(&tot, 0, sizeof tot);
    for (uint64_t seed = a;; seed++) {
        struct sim_opts o = {.explore = true,
                             .explore_seed = seed,
                             .fmt = fmt,
                             .seed_set = true,
                             .seed = s->seed ^ seed};
        struct sim_result res;
        struct pod_err err = POD_ERR_ZERO;
        if (sim_run(s, &o, &res, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            scn_free(s);
            return 1;
        }
        if (fmt != SIM_TRACE_NONE)
            fputs(res.trace, stdout);
        bool bad = res.violations || res.failed_expects;
        if (bad) {
            failed++;
            printf("FAIL seed %llu: %s\n%s", (unsigned long long)seed, res.params, res.report);
            printf("replay: podsim explore %s --seeds %llu --trace text\n", file,
                   (unsigned long long)seed);
        } else {
            passed++;
        }
        tot.steps += res.steps;
        tot.cov_crashes += res.cov_crashes;
        tot.cov_faults += res.cov_faults;
        tot.cov_lost += res.cov_lost;
        tot.cov_dup += res.cov_dup;
        tot.cov_backoff_cap += res.cov_backoff_cap ? 1 : 0;
        tot.cov_gave_up += res.cov_gave_up ? 1 : 0;
        tot.cov_probe_timeout += res.cov_probe_timeout;
        tot.cov_rotations += res.cov_rotations;
        tot.cov_disk_full += res.cov_disk_full;
        tot.cov_rotation_crash += res.cov_rotation_crash;
        tot.cov_signals += res.cov_signals;
        tot.cov_pipe_blocked += res.cov_pipe_blocked;
        sim_result_free(&res);
        if (seed == b)
            break;
    }
    if (!quiet || failed)
        printf("coverage: daemon-crashes=%u faults=%u events-lost=%u events-dup=%u "
               "runs-near-backoff-cap=%u runs-gave-up=%u probe-timeouts=%u rotations=%u "
               "disk-full=%u rotation-crashes=%u signals=%u pipe-blocked=%u steps=%llu\n",
               tot.cov_crashes, tot.cov_faults, tot.cov_lost, tot.cov_dup, tot.cov_backoff_cap,
               tot.cov_gave_up, tot.cov_probe_timeout, tot.cov_rotations, tot.cov_disk_full,
               tot.cov_rotation_crash, tot.cov_signals, tot.cov_pipe_blocked,
               (unsigned long long)tot.steps);
    printf("explore %s seeds %llu..%llu: %u passed, %u failed\n", file, (unsigned long long)a,
           (unsigned long long)b, passed, failed);
    scn_free(s);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ sweep */

/* sqlite's fault simulation on the simulated podman: one clean run counts the podman calls (N);
 * then for every k in 1..N and every kind, a run where the k-th call fails (or hangs) must keep
 * every invariant, converge to the clean run's end state and stop (simrun.h, sim/README.md). */
struct sweep_opts {
    bool kind[2]; /* fail, hang */
    uint64_t limit, call;
    enum sim_trace_fmt fmt;
};

static const enum scn_fault_kind sweep_kinds[2] = {SCN_F_FAIL, SCN_F_HANG};
static const char *const sweep_kind_names[2] = {"fail", "hang"};

struct sweep_tot {
    unsigned bad_runs, runs, violations;
    unsigned long long calls;
};

static int sweep_one(const char *file, const struct sweep_opts *so, struct sweep_tot *tot)
{
    struct scn *s = load(file);
    if (!s)
        return -1;
    struct sim_opts o = {.sweep = true, .fmt = SIM_TRACE_NONE};
    struct sim_result clean;
    struct pod_err err = POD_ERR_ZERO;
    if (sim_run(s, &o, &clean, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        scn_free(s);
        return -1;
    }
    unsigned runs = 1, violations = clean.violations;
    if (clean.violations) {
        tot->bad_runs++;
        printf("FAIL %s without a fault:\n%s", file, clean.report);
    }
    uint64_t n = clean.calls;
    /* --limit M: at most M values of k, spread evenly over 1..N (always 1 and N) */
    uint64_t stride = so->limit && n > so->limit ? (n + so->limit - 1) / so->limit : 1;
    for (uint64_t k = 1; k <= n; k += (k == n || k + stride <= n) ? stride : n - k) {
        if (so->call && k != so->call)
            continue;
        for (int kd = 0; kd < 2; kd++) {
            if (!so->kind[kd])
                continue;
            o.sweep_nth = k;
            o.sweep_kind = sweep_kinds[kd];
            o.sweep_ref = clean.ends;
            o.fmt = so->fmt;
            struct sim_result res;
            if (sim_run(s, &o, &res, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                sim_result_free(&clean);
                scn_free(s);
                return -1;
            }
            runs++;
            if (so->fmt != SIM_TRACE_NONE)
                fputs(res.trace, stdout);
            if (res.violations) {
                violations += res.violations;
                tot->bad_runs++;
                printf("FAIL %s: call %llu (%s at %lld.%03llds) %s:\n%s", file,
                       (unsigned long long)k, res.sweep_call, (long long)(res.sweep_at_ms / 1000),
                       (long long)(res.sweep_at_ms % 1000), sweep_kind_names[kd], res.report);
                printf("replay: podsim sweep %s --call %llu --kinds %s --trace text\n", file,
                       (unsigned long long)k, sweep_kind_names[kd]);
            }
            sim_result_free(&res);
        }
        if (k == n)
            break;
    }
    printf("SWEEP %s calls=%llu runs=%u violations=%u\n", file, (unsigned long long)n, runs,
           violations);
    tot->calls += n;
    tot->runs += runs;
    tot->violations += violations;
    fflush(stdout);
    sim_result_free(&clean);
    scn_free(s);
    return 0;
}

static int cmd_sweep(int argc, char **argv)
{
    struct sweep_opts so = {.kind = {true, true}, .fmt = SIM_TRACE_NONE};
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        long long v;
        if (strcmp(argv[i], "--kinds") == 0 && i + 1 < argc) {
            char *list = xstrdup(argv[++i]), *save = NULL;
            so.kind[0] = so.kind[1] = false;
            bool ok = true;
            for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (strcmp(w, "fail") == 0)
                    so.kind[0] = true;
                else if (strcmp(w, "hang") == 0)
                    so.kind[1] = true;
                else
                    ok = false;
            }
            free(list);
            if (!ok || !(so.kind[0] || so.kind[1]))
                return usage();
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            if (!pod_parse_int(argv[++i], 1, INT64_MAX, &v))
                return usage();
            so.limit = (uint64_t)v;
        } else if (strcmp(argv[i], "--call") == 0 && i + 1 < argc) {
            if (!pod_parse_int(argv[++i], 1, INT64_MAX, &v))
                return usage();
            so.call = (uint64_t)v;
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            if (trace_fmt(argv[++i], &so.fmt) < 0)
                return usage();
        } else if (argv[i][0] == '-') {
            return usage();
        } else {
            nfiles++;
        }
    }
    if (nfiles == 0)
        return usage();
    struct sweep_tot tot = {0};
    unsigned errors = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--kinds") == 0 || strcmp(argv[i], "--limit") == 0 ||
            strcmp(argv[i], "--call") == 0 || strcmp(argv[i], "--trace") == 0) {
            i++;
            continue;
        }
        if (sweep_one(argv[i], &so, &tot) < 0)
            errors++;
    }
    if (nfiles > 1)
        printf("sweep: %d scenarios, calls=%llu runs=%u violations=%u (%u failing runs, %u "
               "errors)\n",
               nfiles, tot.calls, tot.runs, tot.violations, tot.bad_runs, errors);
    return tot.bad_runs || errors ? 1 : 0;
}

/* ------------------------------------------------------------------ bench */

static const char bench_scn[] = "name bench: 5 containers, flapping probes, crash loops, output\n"
                                "seed 1\n"
                                "pod:\n"
                                "  api: 1.0.0-beta2\n"
                                "  podVersion: 1.0.0\n"
                                "  containers:\n"
                                "    - name: web\n"
                                "      image: x\n"
                                "      restart: always\n"
                                "      readinessProbe:\n"
                                "        cmd: [check]\n"
                                "        periodSeconds: 5\n"
                                "      livenessProbe:\n"
                                "        cmd: [check]\n"
                                "        periodSeconds: 10\n"
                                "        failureThreshold: 3\n"
                                "    - name: api\n"
                                "      image: x\n"
                                "      restart: on-failure\n"
                                "      readinessProbe:\n"
                                "        cmd: [check]\n"
                                "        periodSeconds: 2\n"
                                "    - name: worker\n"
                                "      image: x\n"
                                "      restart: always\n"
                                "      restartBackoff:\n"
                                "        maxSeconds: 30\n"
                                "    - name: cron\n"
                                "      image: x\n"
                                "      restart: on-interval:60\n"
                                "    - name: cache\n"
                                "      image: x\n"
                                "      restart: always\n"
                                "      livenessProbe:\n"
                                "        cmd: [check]\n"
                                "        periodSeconds: 3\n"
                                "container web\n"
                                "  probe readiness fail attempts 3..6\n"
                                "  probe readiness fail attempts 20..25\n"
                                "  probe liveness fail attempts 50..60\n"
                                "  stdout 1/s\n"
                                "container api\n"
                                "  probe readiness hang attempts 7..8\n"
                                "  probe readiness fail attempts 30..40\n"
                                "  exit 1 after 47m\n"
                                "container worker\n"
                                "  exit 1 after 90s\n"
                                "  stderr 1/s\n"
                                "container cron\n"
                                "  exit 0 after 5s\n"
                                "container cache\n"
                                "  probe liveness fail attempts 100..101\n";

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_bench(int argc, char **argv)
{
    long long hours = 24;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--hours") == 0 && i + 1 < argc) {
            if (!pod_parse_int(argv[++i], 1, 24 * 30, &hours))
                return usage();
        } else {
            return usage();
        }
    }
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (scn_parse(bench_scn, sizeof bench_scn - 1, "<bench>", &s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return POD_EXIT_INTERNAL;
    }
    struct sim_opts o = {
        .fmt = SIM_TRACE_NONE, .no_checks = true, .run_for_ms = hours * 3600 * 1000};
    struct sim_result res;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (sim_run(s, &o, &res, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        scn_free(s);
        return 1;
    }
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    /* CPU time too: on a loaded machine the wall time measures the neighbours */
    printf("podsim bench: %lld simulated hours (5 containers, flapping probes, crash loops, "
           "output) in %.3f s wall, %.3f s CPU = %.0f simulated hours per wall second, %.0f per "
           "CPU second (%llu steps)\n",
           hours, dt, dc, dt > 0 ? (double)hours / dt : 0.0, dc > 0 ? (double)hours / dc : 0.0,
           (unsigned long long)res.steps);
    sim_result_free(&res);
    scn_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    pod_log_set_sink(quiet_sink, NULL);
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "explore") == 0)
        return cmd_explore(argc - 2, argv + 2);
    if (strcmp(argv[1], "sweep") == 0)
        return cmd_sweep(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0)
        return cmd_bench(argc - 2, argv + 2);
    return usage();
}
