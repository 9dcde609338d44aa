/* SPDX-License-Identifier: MIT */
/* sv_harness.h - helpers for the process-level supervisor tests (test_holder, test_spawn,
 * test_daemon): temporary pod directories, the events file of fake_daemon.h, waiting with a
 * deadline, the identities in .pod.pid, and a last-resort cleanup that kills every process
 * whose cwd is a test's pod directory.  Everything is static: include it from one .c per test
 * binary, after cmocka.h.
 */
#ifndef SV_HARNESS_H
#define SV_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/clk.h"
#include "pod/ident.h"
#include "pod/util.h"

static inline int64_t sv_now(void)
{
    return clk_mono_ms(&clk_real);
}

static inline void sv_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Pod directories made by sv_mkpod and not removed yet (a failed test leaves them). */
static char *sv_dirs[64];

static inline char *sv_mkpod(void)
{
    char *d = xstrdup("/tmp/tdm-sv-XXXXXX");
    if (!mkdtemp(d))
        abort();
    for (size_t i = 0; i < 64; i++)
        if (!sv_dirs[i]) {
            sv_dirs[i] = xstrdup(d);
            break;
        }
    return d;
}

static inline char *sv_read(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name), *t = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file(path, 64u << 20, &t, &len, &err) < 0)
        t = xstrdup("");
    free(path);
    return t;
}

static inline void sv_write(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(path);
}

/* Occurrences of needle in the file. */
static inline int sv_count(const char *dir, const char *name, const char *needle)
{
    char *t = sv_read(dir, name);
    int n = 0;
    for (const char *p = t; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(t);
    return n;
}

/* Waits until needle occurs at least n times in the file; false at the deadline. */
static inline bool sv_wait_count(const char *dir, const char *name, const char *needle, int n,
                                 int64_t timeout_ms)
{
    int64_t end = sv_now() + timeout_ms;
    while (sv_count(dir, name, needle) < n) {
        if (sv_now() >= end)
            return false;
        sv_sleep(5);
    }
    return true;
}

/* The pid recorded for role in .pod.pid (0 when none). */
static inline pid_t sv_pid(const char *dir, const char *role)
{
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct ident v[IDENT_MAX_PROCS];
    size_t n = 0;
    struct pod_err err = POD_ERR_ZERO;
    pid_t p = 0;
    if (dfd >= 0 && ident_read(dfd, ".pod.pid", v, IDENT_MAX_PROCS, &n, &err) == 0) {
        const struct ident *id = ident_find(v, n, role);
        p = id ? id->pid : 0;
    }
    if (dfd >= 0)
        close(dfd);
    return p;
}

/* Waits until role's recorded pid differs from old (and is not 0). */
static inline pid_t sv_wait_new_pid(const char *dir, const char *role, pid_t old,
                                    int64_t timeout_ms)
{
    int64_t end = sv_now() + timeout_ms;
    for (;;) {
        pid_t p = sv_pid(dir, role);
        if (p > 0 && p != old)
            return p;
        if (sv_now() >= end)
            return 0;
        sv_sleep(5);
    }
}

static inline bool sv_lock_held(const char *dir)
{
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    bool held = false;
    struct pod_err err = POD_ERR_ZERO;
    if (dfd >= 0 && ident_lock_held(dfd, ".pod.lock", &held, &err) < 0)
        held = false;
    if (dfd >= 0)
        close(dfd);
    return held;
}

static inline bool sv_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool alive = fgets(buf, sizeof buf, f) != NULL; /* NULL: it was reaped meanwhile */
    fclose(f);
    const char *p = alive ? strrchr(buf, ')') : NULL;
    return p && p[2] != 'Z' && p[2] != 'X';
}

/* The pids (at most max) of the processes whose cwd is dir. */
static inline size_t sv_pids_in(const char *dir, pid_t *out, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        long pid = atol(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        char link[64], cwd[4096];
        snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
        ssize_t len = readlink(link, cwd, sizeof cwd - 1);
        if (len <= 0)
            continue;
        cwd[len] = '\0';
        size_t dl = strlen(dir);
        if (strncmp(cwd, dir, dl) == 0 && (cwd[dl] == '\0' || strcmp(cwd + dl, " (deleted)") == 0))
            out[n++] = (pid_t)pid;
    }
    closedir(d);
    return n;
}

/* Kills every process whose cwd is dir (holder, daemons, their "containers"): all are stopped
 * first, then killed, until none is left - a holder and a daemon killed one after the other
 * would start each other again. */
static inline int sv_kill_all_in(const char *dir)
{
    int killed = 0;
    for (int round = 0; round < 50; round++) {
        pid_t p[256];
        size_t n = sv_pids_in(dir, p, 256);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            (void)kill(p[i], SIGSTOP);
        for (size_t i = 0; i < n; i++)
            killed += kill(p[i], SIGKILL) == 0;
        sv_sleep(20);
    }
    return killed;
}

static inline void sv_forget(const char *dir)
{
    for (size_t i = 0; i < 64; i++)
        if (sv_dirs[i] && strcmp(sv_dirs[i], dir) == 0) {
            free(sv_dirs[i]);
            sv_dirs[i] = NULL;
        }
}

static inline void sv_rm_pod(char *dir)
{
    (void)sv_kill_all_in(dir);
    char *cmd[] = {"rm", "-rf", dir, NULL};
    pid_t p = fork();
    if (p == 0) {
        execvp("rm", cmd);
        _exit(127);
    }
    waitpid(p, NULL, 0);
    sv_forget(dir);
    free(dir);
}

/* A cmocka teardown: whatever a (failed) test left running or lying around goes. */
static inline int sv_cleanup(void **state)
{
    (void)state;
    for (size_t i = 0; i < 64; i++)
        if (sv_dirs[i])
            sv_rm_pod(xstrdup(sv_dirs[i]));
    return 0;
}

/* Sanitizer builds: the holder's and daemon's stderr is /dev/null, so their reports go to
 * files; sv_san_check() prints them and says how many there were. */
static char sv_san_dir[64];

static inline void sv_san_setup(void)
{
    snprintf(sv_san_dir, sizeof sv_san_dir, "/tmp/tdm-san-%ld", (long)getpid());
    (void)mkdir(sv_san_dir, 0700);
    char *a = xasprintf("log_path=%s/asan", sv_san_dir),
         *u = xasprintf("log_path=%s/ubsan", sv_san_dir);
    setenv("ASAN_OPTIONS", a, 0);
    setenv("UBSAN_OPTIONS", u, 0);
    free(a);
    free(u);
}

static inline int sv_san_check(void)
{
    char *cmd = xasprintf("n=$(ls %s | wc -l); cat %s/* 2>/dev/null; rm -rf %s; exit $n",
                          sv_san_dir, sv_san_dir, sv_san_dir);
    int st = system(cmd);
    free(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* VmRSS of pid in kB (0 when unknown). */
static inline long sv_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

#endif
