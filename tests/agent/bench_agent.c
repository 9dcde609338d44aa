/* SPDX-License-Identifier: MIT */
/* bench_agent.c - cost of one exec probe: through the in-container agent vs `podman exec`
 * (make bench-agent, via tests/agent/podman.sh, which starts the container and its agent).
 *
 *   bench_agent CTR SOCK LABEL
 *
 * Agent path: the daemon's own client (src/agent) on one connection, probe `true`.  Wall: median
 * of 20 timed runs.  CPU: median of 20 of the client's CPU (getrusage) + the agent's own CPU
 * (/proc/PID/schedstat, ns); the probe processes' CPU (the agent's reaped children, clock ticks)
 * is the mean over a block of 200 runs, since ticks are too coarse for one run.
 * podman exec path: `podman exec CTR true`, 20 runs; this process is a child subreaper, so the
 * double-forked conmon, and runc and `true` under it, are reaped here: RUSAGE_CHILDREN counts
 * podman + conmon + runc + true.  Also prints the agent's memory (and its conmon's).
 * Prints which path each row measured.  No thresholds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_sync.h"
#include "pod/proc.h"
#include "pod/util.h"

#define RUNS 20
#define BLOCK 200

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double rusage_ms(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    return pod_read_file(path, 1 << 20, &s, &len, &err) < 0 ? NULL : s;
}

/* The agent's own CPU in ms (schedstat: ns on the CPU). */
static double agent_self_ms(int pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/schedstat", pid);
    char *s = slurp(p);
    double v = s ? (double)strtoull(s, NULL, 10) / 1e6 : 0;
    free(s);
    return v;
}

/* utime+stime+cutime+cstime of pid in ms (clock ticks). */
static double stat_ms(int pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    char *s = slurp(p);
    char *rp = s ? strrchr(s, ')') : NULL;
    double v = 0;
    if (rp) {
        char *f = rp + 2; /* field 3 */
        for (int i = 3; i < 14 && f; i++)
            f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
        for (int i = 0; i < 4 && f; i++) {
            v += (double)strtoull(f, &f, 10);
        }
        v = v * 1000.0 / (double)sysconf(_SC_CLK_TCK);
    }
    free(s);
    return v;
}

static void status_line(int pid, const char *key, char *out, size_t n)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    char *s = slurp(p);
    char *l = s ? strstr(s, key) : NULL;
    snprintf(out, n, "?");
    if (l) {
        l += strlen(key);
        while (*l == ' ' || *l == '\t')
            l++;
        size_t k = strcspn(l, "\n");
        snprintf(out, n, "%.*s", (int)k, l);
    }
    free(s);
}

static int ppid_of(int pid)
{
    char v[32];
    status_line(pid, "PPid:", v, sizeof v);
    return atoi(v);
}

static bool same_link(const char *a, const char *b)
{
    char x[128], y[128];
    ssize_t n = readlink(a, x, sizeof x - 1), m = readlink(b, y, sizeof y - 1);
    return n > 0 && n == m && memcmp(x, y, (size_t)n) == 0;
}

/* The host pid of the agent of the container whose PID 1 is ctr_pid. */
static int find_agent(int ctr_pid)
{
    static const char want[] = "/.podc/agent\0__agent\0/.podc/run/agent.sock";
    char ns1[64];
    snprintf(ns1, sizeof ns1, "/proc/%d/ns/pid", ctr_pid);
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        char p[64], buf[256];
        snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        if (fd >= 0)
            close(fd);
        snprintf(p, sizeof p, "/proc/%d/ns/pid", pid);
        if (n == (ssize_t)sizeof want && memcmp(buf, want, sizeof want) == 0 && same_link(p, ns1))
            found = pid;
    }
    if (d)
        closedir(d);
    return found;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs a podman call; reaps every orphan it left (conmon) so its CPU counts here. */
static int run_podman(char **argv, char **out)
{
    struct proc_opts o;
    proc_opts_init(&o);
    o.argv = argv;
    o.fd_out = out ? PROC_FD_CAPTURE : PROC_FD_NULL;
    struct proc_result r;
    struct pod_err err = POD_ERR_ZERO;
    if (proc_run(&o, 30000, &r, &err) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        return -1;
    }
    double until = now_ms() + 5000;
    while (now_ms() < until) { /* the exec session's conmon ends just after podman */
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0 && errno == ECHILD)
            break;
        if (p == 0)
            usleep(2000);
    }
    if (out)
        *out = pod_steal_ptr(&r.out);
    int code = r.code;
    proc_result_free(&r);
    return code;
}

static bool probe(struct sync *s, uint64_t tag)
{
    char *argv[] = {"true", NULL};
    struct pod_err err = POD_ERR_ZERO;
    size_t n = s->ended;
    if (agent_run(s->c, tag, 5000, argv, &err) < 0 || !sync_wait(s, n + 1, 10000))
        return false;
    return s->st[n % SYNC_MAX] == AGENT_OK && s->code[n % SYNC_MAX] == 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_agent CTR SOCK LABEL\n");
        return 100;
    }
    const char *ctr = argv[1], *label = argv[3];
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    char *pid_s = NULL;
    char *insp[] = {"podman", "inspect", "--format", "{{.State.Pid}}", (char *)ctr, NULL};
    if (run_podman(insp, &pid_s) != 0) {
        fprintf(stderr, "bench_agent: podman inspect %s failed\n", ctr);
        return 1;
    }
    int apid = find_agent(atoi(pid_s));
    free(pid_s);
    if (!apid) {
        fprintf(stderr, "bench_agent: agent of %s not found in /proc\n", ctr);
        return 1;
    }
    struct sync *s = xcalloc(1, sizeof *s);
    sync_init(s, argv[2]);
    struct pod_err err = POD_ERR_ZERO;
    if (agent_connect(s->c, clk_mono_ms(&clk_real) + 5000, &err) < 0 || !sync_wait(s, 0, 6000)) {
        fprintf(stderr, "bench_agent: agent not reachable: %s\n", s->why);
        return 1;
    }
    uint64_t tag = 1;
    for (int i = 0; i < 3; i++)
        if (!probe(s, tag++))
            return 1;
    double wall[RUNS], cpu[RUNS], w0, c0, a0;
    for (int i = 0; i < RUNS; i++) {
        w0 = now_ms();
        c0 = rusage_ms(RUSAGE_SELF);
        a0 = agent_self_ms(apid);
        if (!probe(s, tag++))
            return 1;
        wall[i] = now_ms() - w0;
        cpu[i] = rusage_ms(RUSAGE_SELF) - c0 + agent_self_ms(apid) - a0;
    }
    double aw = median(wall, RUNS), ac = median(cpu, RUNS);
    double st0 = stat_ms(apid), self0 = agent_self_ms(apid), b0 = now_ms();
    double bc0 = rusage_ms(RUSAGE_SELF);
    for (int i = 0; i < BLOCK; i++)
        if (!probe(s, tag++))
            return 1;
    double bw = (now_ms() - b0) / BLOCK, bcl = (rusage_ms(RUSAGE_SELF) - bc0) / BLOCK;
    double bag = (agent_self_ms(apid) - self0) / BLOCK;
    double children = (stat_ms(apid) - st0) / BLOCK - bag; /* ticks: agent + children */
    if (children < 0)
        children = 0;
    char rss[32], anon[32], file[32], crss[32] = "?";
    status_line(apid, "VmRSS:", rss, sizeof rss);
    status_line(apid, "RssAnon:", anon, sizeof anon);
    status_line(apid, "RssFile:", file, sizeof file);
    char pss[32] = "?", p[64];
    snprintf(p, sizeof p, "/proc/%d/smaps_rollup", apid);
    char *sr = slurp(p), *l = sr ? strstr(sr, "Pss:") : NULL;
    if (l)
        snprintf(pss, sizeof pss, "%ld kB", strtol(l + 4, NULL, 10));
    free(sr);
    int cpid = ppid_of(apid);
    if (cpid > 1)
        status_line(cpid, "VmRSS:", crss, sizeof crss);
    sync_fini(s);
    free(s);

    char *ex[] = {"podman", "exec", (char *)ctr, "true", NULL};
    if (run_podman(ex, NULL) != 0) /* warm-up */
        return 1;
    double pw[RUNS], pc[RUNS];
    for (int i = 0; i < RUNS; i++) {
        w0 = now_ms();
        c0 = rusage_ms(RUSAGE_CHILDREN);
        if (run_podman(ex, NULL) != 0)
            return 1;
        pw[i] = now_ms() - w0; /* includes reaping conmon */
        pc[i] = rusage_ms(RUSAGE_CHILDREN) - c0;
    }
    double xw = median(pw, RUNS), xc = median(pc, RUNS);
    printf("%-19s path=agent        wall %6.2f ms  cpu %6.2f ms (client+agent, median of %d)"
           " + probe %.2f ms (mean of %d) = %.2f ms\n",
           label, aw, ac, RUNS, children, BLOCK, ac + children);
    printf("%-19s path=agent        block of %d: wall %.2f ms, client %.2f + agent %.2f + probe"
           " %.2f ms cpu per probe\n",
           label, BLOCK, bw, bcl, bag, children);
    printf("%-19s path=podman-exec  wall %6.2f ms  cpu %6.2f ms (podman+conmon+runc+true, median"
           " of %d)\n",
           label, xw, xc, RUNS);
    printf("%-19s ratio              wall %.0fx  cpu %.0fx  (3 probes / 6 s: agent %.3f %%, podman"
           " exec %.2f %% of a core)\n",
           label, xw / aw, xc / (ac + children), (ac + children) * 3 / 6000 * 100,
           xc * 3 / 6000 * 100);
    printf("%-19s agent memory       VmRSS %s (RssAnon %s, RssFile %s), Pss %s; its exec "
           "session's conmon VmRSS %s\n",
           label, rss, anon, file, pss, crss);
    return 0;
}
