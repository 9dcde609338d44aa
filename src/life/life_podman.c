/* SPDX-License-Identifier: MIT */
/* life_podman.c - podman from the lifecycle actions (see life_int.h): what exists, creating
 * and removing the podman pod, stopping containers directly when no supervisor can, and the
 * host-port check.  Every call: an argv from pod/podman.h through rt_podman_run (deadline, the
 * pod directory as cwd); several stops at once run as parallel children. */
#include "life_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/proc.h"
#include "pod/util.h"

/* Runs argv (freed here); 0 with *ok = exit 0, -1 when podman could not be run. */
static int call(struct life *l, char **argv, int64_t timeout_ms, bool *ok, char *why, size_t cap,
                struct proc_result *keep, struct pod_err *err)
{
    if (!argv) { /* the builder refused (err says why) */
        err->code = POD_E_FAILED;
        return -1;
    }
    struct proc_result r;
    int rc = rt_podman_run(&l->rc, argv, timeout_ms, &r, err);
    pod_strv_free(argv);
    if (rc < 0) {
        pod_err_wrap(err, "cannot run podman");
        return -1;
    }
    *ok = r.exited && r.code == 0 && !r.timed_out;
    if (why)
        rt_podman_why(&r, why, cap);
    if (keep)
        *keep = r;
    else
        proc_result_free(&r);
    return 0;
}

/* ------------------------------------------------------------------ facts */

int life_list(struct life *l, struct podman_ctr_info **v, size_t *n, struct pod_err *err)
{
    bool ok;
    char why[200];
    struct proc_result r;
    if (call(l, podman_argv_ps(&l->ac, err), RT_PODMAN_SHORT_MS, &ok, why, sizeof why, &r, err) < 0)
        return -1;
    int rc = 0;
    if (!ok)
        rc = pod_err_set(err, POD_E_FAILED, 0, "podman ps: %s", why);
    else if (podman_parse_ps(r.out, r.out_len, v, n, err) < 0)
        rc = pod_err_wrap(err, "podman ps");
    proc_result_free(&r);
    return rc;
}

int life_podman_facts(struct life *l, struct pod_err *err)
{
    bool ok;
    char why[200];
    struct proc_result r;
    if (call(l, podman_argv_pod_exists(&l->ac, err), RT_PODMAN_SHORT_MS, &ok, why, sizeof why, &r,
             err) < 0)
        return -1;
    bool answered = r.exited && (r.code == 0 || r.code == 1);
    proc_result_free(&r);
    if (!answered)
        return pod_err_set(err, POD_E_FAILED, 0, "podman pod exists: %s", why);
    l->f.pod_exists = ok;
    struct podman_ctr_info *v = NULL;
    size_t n = 0;
    if (life_list(l, &v, &n, err) < 0)
        return -1;
    l->f.containers = (int)n;
    l->f.running = 0;
    for (size_t i = 0; i < n; i++)
        l->f.running += v[i].state == PODMAN_ST_RUNNING;
    podman_ctr_infos_free(v, n);
    return 0;
}

/* ------------------------------------------------------------------ the pod */

int life_pod_create(struct life *l, const char *host_if, struct pod_err *err)
{
    struct podman_argv_ctx ac = l->ac;
    ac.host_interface = host_if && host_if[0] ? host_if : NULL;
    bool ok;
    char why[200];
    if (call(l, podman_argv_pod_create(&ac, err), RT_PODMAN_SHORT_MS * 2, &ok, why, sizeof why,
             NULL, err) < 0)
        return -1;
    if (!ok)
        return pod_err_set(err, POD_E_FAILED, 0, "Pod %s could not be created: %s", l->pod, why);
    pod_log(POD_LOG_OK, "Pod %s created", l->pod);
    return 0;
}

static int stop_budget_s(const struct pod_spec *s)
{
    int t = 0;
    for (size_t i = 0; i < s->n_containers; i++)
        if (s->containers[i].stop_timeout_s > t)
            t = s->containers[i].stop_timeout_s;
    return t;
}

int life_destroy(struct life *l, struct pod_err *err)
{
    bool ok;
    char why[200];
    int64_t t = (int64_t)stop_budget_s(l->e->spec) * 1000 + RT_PODMAN_SHORT_MS * 2;
    if (call(l, podman_argv_pod_rm(&l->ac, err), t, &ok, why, sizeof why, NULL, err) < 0)
        return -1;
    if (!ok)
        return pod_err_set(err, POD_E_FAILED, 0, "Pod %s could not be destroyed: %s", l->pod, why);
    bool outside = false; /* network: host containers are not in the pod */
    for (size_t i = 0; i < l->e->spec->n_containers; i++)
        outside |= l->e->spec->containers[i].network_host;
    if (!outside)
        return 0;
    struct podman_ctr_info *v = NULL;
    size_t n = 0;
    if (life_list(l, &v, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = call(l, podman_argv_rm(&l->ac, v[i].name, err), t, &ok, why, sizeof why, NULL, err);
        if (rc == 0 && !ok)
            rc = pod_err_set(err, POD_E_FAILED, 0, "Container %s could not be removed: %s",
                             v[i].name, why);
    }
    podman_ctr_infos_free(v, n);
    return rc;
}

int life_pod_stop(struct life *l, struct pod_err *err)
{
    bool ok;
    char why[200];
    if (call(l, podman_argv_pod_stop(&l->ac, 0, err), RT_PODMAN_SHORT_MS, &ok, why, sizeof why,
             NULL, err) < 0)
        return -1;
    if (!ok && !strstr(why, "no such pod")) /* gone meanwhile: nothing to stop */
        return pod_err_set(err, POD_E_FAILED, 0, "Pod %s could not be stopped: %s", l->pod, why);
    return 0;
}

/* ------------------------------------------------------------------ direct stops */

/* Runs every argv of v at once and waits for all, at most timeout_ms (then kills them).
 * Returns how many did not exit 0. */
static size_t run_parallel(struct life *l, char ***v, size_t n, int64_t timeout_ms)
{
    struct proc **p = xcalloc(n ? n : 1, sizeof *p);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct proc_opts o;
        proc_opts_init(&o);
        o.argv = v[i];
        o.cwd = l->e->dir;
        o.new_session = true;
        o.strip_preload = true;
        struct pod_err err = POD_ERR_ZERO;
        if (proc_spawn(&o, &p[i], &err) < 0) {
            pod_log(POD_LOG_WARN, "%s", err.msg);
            p[i] = NULL;
            bad++;
        }
    }
    int64_t deadline = pod_mono_ms() + timeout_ms;
    for (size_t i = 0; i < n; i++) {
        while (p[i] && !proc_exited(p[i])) {
            int64_t left = deadline - pod_mono_ms();
            if (left <= 0) {
                (void)proc_kill(p[i], SIGKILL);
                left = 1000;
            }
            struct pollfd pf = {.fd = proc_pidfd(p[i]), .events = POLLIN};
            (void)poll(&pf, 1, left > 1000 ? 1000 : (int)left);
            int st;
            if (proc_reap(p[i], &st))
                bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        proc_free(p[i]);
    }
    free(p);
    return bad;
}

int life_stop_direct(struct life *l, bool kill, struct pod_err *err)
{
    struct podman_ctr_info *v = NULL;
    size_t n = 0;
    if (life_list(l, &v, &n, err) < 0)
        return -1;
    char ***argvs = xcalloc(n ? n : 1, sizeof *argvs);
    size_t k = 0;
    int t = stop_budget_s(l->e->spec);
    for (size_t i = 0; i < n; i++) {
        if (v[i].state == PODMAN_ST_CREATED) {
            /* never run: a dead daemon's `podman run` of it may still be in flight; removed, so
             * that it cannot start after the stop (`rm -f` makes that run fail; SPEC 8.8) */
            pod_log(POD_LOG_INFO, "Remove container %s: created, never run (no supervisor)",
                    v[i].name);
            argvs[k] = podman_argv_rm(&l->ac, v[i].name, err);
        } else if (v[i].state == PODMAN_ST_RUNNING) {
            pod_log(POD_LOG_INFO, "%s container %s (no supervisor)", kill ? "Kill" : "Stop",
                    v[i].name);
            argvs[k] = kill ? podman_argv_kill(&l->ac, v[i].name, 9, err)
                            : podman_argv_stop(&l->ac, v[i].name, t, err);
        }
        if (argvs[k])
            k++;
    }
    size_t bad = run_parallel(l, argvs, k, (int64_t)t * 1000 + RT_PODMAN_SHORT_MS);
    for (size_t i = 0; i < k; i++)
        pod_strv_free(argvs[i]);
    free(argvs);
    podman_ctr_infos_free(v, n);
    if (bad)
        return pod_err_set(err, POD_E_FAILED, 0, "%zu container(s) of pod %s could not be %s", bad,
                           l->pod, kill ? "killed" : "stopped");
    return 0;
}

/* ------------------------------------------------------------------ conmon */

/* A conmon process of this pod: podman runs in the pod directory, and the conmon it leaves for
 * each container, the infra container and each exec session keeps that cwd. */
static bool our_conmon(const char *pid, const char *dir)
{
    char path[64], comm[32] = "", cwd[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool is = fgets(comm, sizeof comm, f) && strcmp(comm, "conmon\n") == 0;
    fclose(f);
    if (!is)
        return false;
    snprintf(path, sizeof path, "/proc/%s/cwd", pid);
    ssize_t n = readlink(path, cwd, sizeof cwd - 1);
    if (n <= 0)
        return false;
    cwd[n] = '\0';
    return strcmp(cwd, dir) == 0;
}

void life_wait_conmons(const struct life *l, int64_t timeout_ms)
{
    int64_t deadline = pod_mono_ms() + timeout_ms;
    for (;;) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int fd = -1;
        while (d && fd < 0 && (de = readdir(d))) {
            long long pid;
            if (pod_parse_int(de->d_name, 2, INT_MAX, &pid) && our_conmon(de->d_name, l->e->dir))
                fd = pod_pidfd_open((pid_t)pid);
        }
        if (d)
            closedir(d);
        if (fd < 0)
            return; /* none left */
        int64_t left = deadline - pod_mono_ms();
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
        close(fd);
        if (r <= 0) {
            pod_log(POD_LOG_WARN, "Pod %s: a conmon process of it is still running", l->pod);
            return;
        }
    }
}

/* ------------------------------------------------------------------ host ports */

/* 1 busy, 0 free (or cannot be told: e.g. a privileged port for a user). */
static int port_busy(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    return rc < 0 && e == EADDRINUSE;
}

int life_ports_check(const struct life *l, const char *host_if, struct pod_err *err)
{
    const struct pod_spec *s = l->e->spec;
    for (size_t i = 0; i < s->n_containers; i++)
        for (size_t j = 0; j < s->containers[i].n_expose; j++) {
            const struct spec_expose *x = &s->containers[i].expose[j];
            if (x->host_port <= 0)
                continue;
            const char *ip = x->host_interface && x->host_interface[0] ? x->host_interface
                             : host_if && host_if[0]                   ? host_if
                                                                       : "0.0.0.0";
            if (port_busy(ip, x->host_port))
                return pod_err_set(err, POD_E_FAILED, 0,
                                   "Host port %d is busy, can't create the pod %s", x->host_port,
                                   l->pod);
        }
    return 0;
}
