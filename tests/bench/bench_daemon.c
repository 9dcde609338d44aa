/* SPDX-License-Identifier: MIT */
/* bench_daemon.c - what an idle supervisor costs: RSS/PSS (and peak) of the holder and the
 * daemon, and the daemon's wake-ups per minute, for a pod whose one container is idle, and
 * again after that container wrote N MB of log lines.  Linked statically like the pod
 * executable (this binary is its own `__holder` and, with the fake backend of
 * tests/fake_backend.h, its own `__daemon`).  A measurement, not a test: nothing is asserted.
 *
 *   bench_daemon [idle-seconds [log-MB]]      defaults 30 and 20
 */
#include "../fake_backend.h"
#include "../sv_harness.h"

#include "pod/ctl.h"
#include "pod/holder.h"
#include "pod/spawn.h"

#include <jansson.h>

static const char *const spec_text =
    "api: 1.0.0-beta2\n"
    "podVersion: 1.0.0\n"
    "containers:\n"
    "  - name: web\n"
    "    image: busybox\n"
    "    restart: always\n"
    "    command: [/bin/sh, -c, 'while [ ! -e go ]; do sleep 0.2; done; "
    "head -c $(cat go) /dev/zero | tr \"\\\\0\" \"x\" | fold -w 99; exec sleep 100000']\n";

static int bench_daemon_main(int argc, char **argv)
{
    struct daemon_cfg cfg;
    struct pod_err err = POD_ERR_ZERO;
    if (daemon_parse_args(argc, argv, &cfg, &err) < 0)
        return 100;
    struct spec_opts o = {.file = "spec.yaml", .pod_name = "tdm", .check_files = false};
    struct spec_diags dg;
    memset(&dg, 0, sizeof dg);
    struct pod_spec *spec = NULL;
    int rc = spec_load(spec_text, strlen(spec_text), &o, &dg, &spec);
    spec_diags_free(&dg);
    if (rc < 0)
        return 101;
    cfg.spec = spec;
    cfg.backend = fake_factory;
    rc = daemon_run(&cfg);
    spec_free(spec);
    return rc;
}

static long long wakeups(const char *dir)
{
    char *argv[] = {"status", "json"};
    struct ctl_reply r;
    struct pod_err err = POD_ERR_ZERO;
    if (ctl_call(dir, ".pod.sock", argv, 2, 5000, &r, &err) < 0)
        return -1;
    json_t *j = json_loads(r.out, 0, NULL);
    long long v = json_integer_value(json_object_get(json_object_get(j, "daemon"), "wakeups"));
    json_decref(j);
    ctl_reply_free(&r);
    return v;
}

/* "Key:  N kB" from a /proc file of pid. */
static long kb(pid_t pid, const char *file, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0)
            v = atol(line + n);
    if (f)
        fclose(f);
    return v;
}

/* Bytes in the container's stdout log files (rotated ones included). */
static long long log_bytes(const char *dir)
{
    char *ld = xasprintf("%s/log", dir);
    DIR *d = opendir(ld);
    long long sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        struct stat sb;
        if (strncmp(e->d_name, "web-tdm-1.0.0-stdout.log", 24) == 0 &&
            fstatat(dirfd(d), e->d_name, &sb, 0) == 0)
            sum += sb.st_size;
    }
    if (d)
        closedir(d);
    free(ld);
    return sum;
}

static void report(const char *when, const char *dir)
{
    pid_t d = sv_pid(dir, "daemon"), h = sv_pid(dir, "holder");
    long dr = kb(d, "status", "VmRSS:"), hr = kb(h, "status", "VmRSS:");
    long dp = kb(d, "smaps_rollup", "Pss:"), hp = kb(h, "smaps_rollup", "Pss:");
    printf("%-22s daemon RSS %5ld kB (PSS %5ld, peak %5ld)  holder RSS %5ld kB (PSS %5ld, "
           "peak %5ld)  sum RSS %5ld kB\n",
           when, dr, dp, kb(d, "status", "VmHWM:"), hr, hp, kb(h, "status", "VmHWM:"), dr + hr);
}

static void idle_wakeups(const char *dir, int secs)
{
    long long w0 = wakeups(dir);
    sv_sleep(secs * 1000);
    long long w1 = wakeups(dir), w2 = wakeups(dir);
    long long idle = (w1 - w0) - (w2 - w1);
    printf("idle %d s: %lld wake-ups of the daemon's loop (%.1f per minute)\n", secs, idle,
           (double)idle * 60.0 / secs);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "__holder") == 0)
        return holder_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "__daemon") == 0)
        return bench_daemon_main(argc, argv);
    int secs = argc > 1 ? atoi(argv[1]) : 30, mb = argc > 2 ? atoi(argv[2]) : 20;
    signal(SIGPIPE, SIG_IGN);
    char *dir = sv_mkpod();
    struct spawn_cfg c = {.dir = dir, .name = "pod"};
    bool started;
    struct pod_err err = POD_ERR_ZERO;
    char *argv_start[] = {"start"};
    struct ctl_reply r;
    if (spawn_supervisor(&c, &started, &err) < 0 ||
        ctl_call(dir, ".pod.sock", argv_start, 1, 5000, &r, &err) < 0) {
        fprintf(stderr, "bench_daemon: %s\n", err.msg);
        sv_rm_pod(dir);
        return 1;
    }
    ctl_reply_free(&r);
    sv_wait_count(dir, ".pod.status", "readiness: 1", 1, 10000);
    sv_sleep(2000);
    report("idle, no output yet:", dir);
    idle_wakeups(dir, secs);
    char go[32];
    snprintf(go, sizeof go, "%d", mb << 20);
    int64_t t0 = sv_now();
    sv_write(dir, "go", go);
    for (int i = 0; i < 1200 && log_bytes(dir) < (long long)mb << 20; i++)
        sv_sleep(50); /* the writer has it all (records are longer than the raw lines) */
    printf("%d MB of log lines written in %.1f s\n", mb, (double)(sv_now() - t0) / 1000.0);
    sv_sleep(2000);
    report("idle, after the output:", dir);
    bool was;
    if (spawn_stop(dir, "pod", false, 20000, &was, &err) < 0)
        fprintf(stderr, "bench_daemon: stop: %s\n", err.msg);
    sv_rm_pod(dir);
    return 0;
}
