/* SPDX-License-Identifier: MIT */
/* daemon_podman.c - the production backend of the daemon: the podman backend (src/backend)
 * wired to the daemon (SPEC.md 7, "The podman backend" and "The exec agent").
 *
 * At creation: the run directory `.<b>.run` (0700) with one 0777 subdirectory per container
 * that gets the agent, the host interface the command line stored in `.<b>.hostif` (create,
 * run, rerun --host-interface), the pod executable's path for the agent mount, and the exec
 * strategy (daemon_agent.c).  Hooks: a new log pipe's read end goes to the fd holder under
 * `<ctr>/<instance>/stdout|stderr`, and is dropped there at EOF; reading the pipes pauses
 * while the log pump is full and resumes when it has room; pipes the holder hands back after a
 * restart are given to the backend by the same key.
 * Ownership: struct dpm is the exec strategy's self; the backend frees it (exec.ops->free).
 */
#include "pod/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_agent.h"
#include "pod/holder.h"
#include "pod/podman.h"
#include "pod/util.h"

#define HOLDER_KEY_SIZE (HOLDER_KEY_MAX + 1)

struct dpm {
    const struct daemon_env *env;
    struct backend *be;
    struct dagent *agent;
    char *run_dir, *exe, *host_if;
};

/* ------------------------------------------------------------------ the host interface */

int daemon_hostif_read(const char *dir, const char *name, char **out, struct pod_err *err)
{
    *out = NULL;
    char *file = xasprintf(".%s.hostif", name);
    char *text = NULL;
    size_t len = 0;
    struct pod_err e2 = POD_ERR_ZERO;
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 ? pod_err_set(&e2, POD_E_IO, errno, "open %s", dir)
                     : pod_read_file_at(dfd, file, 256, &text, &len, &e2);
    if (dfd >= 0)
        close(dfd);
    free(file);
    if (rc < 0 || !text) {
        free(text);
        if (rc == 0 || e2.code == POD_E_NOTFOUND)
            return 0;
        *err = e2;
        return -1;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    if (!daemon_hostif_valid(text)) {
        pod_err_set(err, POD_E_CORRUPT, 0, ".%s.hostif: not an IPv4 address: `%s`", name, text);
        free(text);
        return -1;
    }
    if (len == 0)
        free(text);
    else
        *out = text;
    return 0;
}

bool daemon_hostif_valid(const char *s)
{
    if (!*s)
        return true; /* none */
    int parts = 0;
    for (const char *p = s;;) {
        long long v;
        char num[4];
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 3)
            return false;
        memcpy(num, p, n);
        num[n] = '\0';
        if (!pod_parse_int(num, 0, 255, &v) || (n > 1 && num[0] == '0'))
            return false;
        parts++;
        p += n;
        if (*p == '\0')
            return parts == 4;
        if (*p != '.' || parts == 4)
            return false;
        p++;
    }
}

/* ------------------------------------------------------------------ hooks */

static void key_of(char *key, size_t cap, const struct pod_spec *s, size_t ctr, uint64_t inst,
                   int stream)
{
    snprintf(key, cap, "%s/%llu/%s", s->containers[ctr].name, (unsigned long long)inst,
             stream == BACKEND_STDERR ? "stderr" : "stdout");
}

static void hook_hold(void *self, size_t ctr, uint64_t inst, int stream, int fd)
{
    struct dpm *m = self;
    char key[HOLDER_KEY_SIZE];
    key_of(key, sizeof key, m->env->spec, ctr, inst, stream);
    m->env->hold(m->env->self, key, fd);
}

static void hook_drop(void *self, size_t ctr, uint64_t inst, int stream)
{
    struct dpm *m = self;
    char key[HOLDER_KEY_SIZE];
    key_of(key, sizeof key, m->env->spec, ctr, inst, stream);
    m->env->unhold(m->env->self, key);
}

static bool hook_room(void *self)
{
    struct dpm *m = self;
    return m->env->output_room(m->env->self);
}

static void room_back(void *arg)
{
    struct dpm *m = arg;
    if (m->be && m->be->self)
        backend_podman_output_resume(m->be);
}

/* The exec strategy: forwards to the agent; free releases the whole struct dpm. */
static int x_start(void *self, const struct backend_probe_req *req, const char *ctr_name,
                   struct pod_err *err)
{
    (void)ctr_name;
    return dagent_start(((struct dpm *)self)->agent, req, err);
}

static void x_done(void *arg, uint64_t tag, enum backend_result r, int code, const char *msg)
{
    struct dpm *m = arg;
    if (m->be && m->be->self) /* NULL until backend_podman_new returned */
        backend_podman_exec_done(m->be, tag, r, code, msg);
}

static int x_cancel(void *self, uint64_t tag, struct pod_err *err)
{
    return dagent_cancel(((struct dpm *)self)->agent, tag, err);
}

static void x_instance(void *self, size_t ctr, uint64_t instance, int pid, const char *id)
{
    dagent_instance(((struct dpm *)self)->agent, ctr, instance, pid, id);
}

static int64_t x_next_deadline(void *self)
{
    return dagent_next_deadline(((struct dpm *)self)->agent);
}

static void x_tick(void *self)
{
    dagent_tick(((struct dpm *)self)->agent);
}

static void x_free(void *self)
{
    struct dpm *m = self;
    dagent_free(m->agent);
    free(m->run_dir);
    free(m->exe);
    free(m->host_if);
    free(m);
}

static const struct podman_exec_ops dpm_exec_ops = {x_start,         x_cancel, x_instance,
                                                    x_next_deadline, x_tick,   x_free};

/* ------------------------------------------------------------------ the factory */

/* mkdir (when missing) of rel beneath dirfd, no link followed, then fchmod to mode. */
static int run_dir_at(int dirfd, const char *rel, unsigned mode, struct pod_err *err)
{
    if (pod_mkdir_beneath(dirfd, rel, mode, err) < 0)
        return -1;
    int fd = pod_open_beneath(dirfd, rel, O_RDONLY | O_DIRECTORY, 0, err);
    if (fd < 0)
        return -1;
    int rc = fchmod(fd, (mode_t)mode) < 0 ? pod_err_set(err, POD_E_IO, errno, "chmod %s", rel) : 0;
    close(fd);
    return rc;
}

/* `.<b>.run` (0700) and a 0777 directory per container that gets the agent: the container's
 * user may be anyone, and it is reachable only through the bind mount.  Made beneath the pod
 * directory's fd: a link in the way is refused, never chmod'ed through (SPEC 7.5.1). */
static int make_run_dirs(const struct daemon_env *env, struct pod_err *err)
{
    const struct pod_spec *s = env->spec;
    char *rd = xasprintf(".%s.run", env->name);
    int rc = run_dir_at(env->dirfd, rd, 0700, err);
    for (size_t i = 0; rc == 0 && i < s->n_containers; i++) {
        if (!podman_ctr_needs_agent(s, i))
            continue;
        char *d = xasprintf("%s/%s", rd, s->containers[i].name);
        rc = run_dir_at(env->dirfd, d, 0777, err);
        free(d);
    }
    free(rd);
    return rc;
}

static char *own_exe(const struct daemon_env *env)
{
    if (env->exe && env->exe[0] == '/')
        return xstrdup(env->exe);
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

static bool mountable(const char *p)
{
    return p && p[0] == '/' && !strchr(p, ':') && !strchr(p, ',');
}

static int pm_create(void *arg, const struct daemon_env *env, struct backend *out,
                     struct pod_err *err)
{
    (void)arg;
    memset(out, 0, sizeof *out);
    struct dpm *m = xcalloc(1, sizeof *m);
    m->env = env;
    m->be = out;
    char *rd = xasprintf(".%s.run", env->name);
    m->run_dir = pod_path_join(env->dir, rd);
    free(rd);
    m->exe = own_exe(env);
    if (daemon_hostif_read(env->dir, env->name, &m->host_if, err) < 0 ||
        make_run_dirs(env, err) < 0) {
        x_free(m);
        return -1;
    }
    bool agent = mountable(m->exe) && mountable(m->run_dir);
    if (!agent)
        pod_log(POD_LOG_WARN, "no exec agent: the pod's path cannot be bind-mounted (`:` or `,`)");
    const char *pe = getenv("POD_PODMAN");
    struct dagent_cfg ac = {.loop = env->loop,
                            .clk = env->clk,
                            .spec = env->spec,
                            .pod_dir = env->dir,
                            .run_dir = m->run_dir,
                            .beneath = true,
                            .pod_dirfd = env->dirfd,
                            .podman = pe && pe[0] ? pe : "podman",
                            .enabled = agent,
                            .done = x_done,
                            .done_arg = m};
    m->agent = dagent_new(&ac);
    struct podman_cfg c;
    memset(&c, 0, sizeof c);
    c.spec = env->spec;
    c.loop = env->loop;
    c.clk = *env->clk;
    c.pod_dir = env->dir;
    c.exe_path = agent ? m->exe : NULL;
    c.run_dir = m->run_dir;
    c.host_interface = m->host_if;
    c.hold_fd = hook_hold;
    c.drop_fd = hook_drop;
    c.hold_self = m;
    c.output_room = hook_room;
    c.room_self = m;
    c.exec = (struct podman_exec_strategy){&dpm_exec_ops, m};
    if (backend_podman_new(&c, out, err) < 0) {
        x_free(m);
        return -1;
    }
    env->on_room(env->self, room_back, m);
    if (m->host_if)
        pod_log(POD_LOG_DEBUG, "daemon: host interface %s", m->host_if);
    return 0;
}

/* "<ctr>/<instance>/stdout|stderr" -> the backend; -1 when the key names nothing of ours. */
static int pm_adopt(void *arg, const struct daemon_env *env, struct backend *b, const char *key,
                    int fd)
{
    (void)arg;
    const char *s1 = strchr(key, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2 || !b->self || (size_t)(s1 - key) >= HOLDER_KEY_SIZE || s2 - s1 - 1 > 20)
        return -1;
    char name[HOLDER_KEY_SIZE], num[24];
    memcpy(name, key, (size_t)(s1 - key));
    name[s1 - key] = '\0';
    memcpy(num, s1 + 1, (size_t)(s2 - s1 - 1));
    num[s2 - s1 - 1] = '\0';
    int ctr = spec_find_container(env->spec, name);
    long long inst;
    int stream = strcmp(s2 + 1, "stdout") == 0   ? BACKEND_STDOUT
                 : strcmp(s2 + 1, "stderr") == 0 ? BACKEND_STDERR
                                                 : -1;
    if (ctr < 0 || stream < 0 || !pod_parse_int(num, 1, INT64_MAX, &inst))
        return -1;
    backend_podman_adopt_pipe(b, (size_t)ctr, (uint64_t)inst, stream, fd);
    return 0;
}

static void pm_destroy(void *arg, struct backend *b)
{
    (void)arg;
    backend_podman_free(b);
}

static const char *pm_standby(void *arg, const struct backend *b, size_t ctr)
{
    (void)arg;
    return b->self ? backend_podman_standby(b, ctr) : NULL;
}

const struct daemon_backend_factory daemon_podman_factory = {
    .create = pm_create, .adopt_fd = pm_adopt, .destroy = pm_destroy, .standby = pm_standby};
