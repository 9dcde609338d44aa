/* SPDX-License-Identifier: MIT */
/* shell.c - `pod shell` (pod/rt.h, SPEC.md 7): `podman exec -i[t] CTR sh|bash` or exactly the
 * given command (its argument boundaries kept: no `sh -c` joining, B14), then exec() of
 * podman, so its exit code, signals and terminal are the caller's.  Accepts sns's form too:
 * the container as the first word (`shell web -b ls -la`).  An empty command word is a usage
 * error (100), not a podman call. */
#include "pod/rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/util.h"

/* The command: word and everything after it, as given. */
static void take_command(struct rt_shell_opts *o, const char *word, struct rt_getopt *g)
{
    pod_strv_push(&o->cmd, word);
    for (; g->i < g->argc; g->i++)
        pod_strv_push(&o->cmd, g->argv[g->i]);
}

int rt_shell_parse(const struct pod_spec *s, int argc, char **argv, struct rt_shell_opts *o,
                   struct pod_err *err)
{
    static const struct rt_optdef defs[] = {{'c', "container", true}, {'b', "bash", false}, {0}};
    memset(o, 0, sizeof *o);
    struct rt_getopt g = {.argc = argc, .argv = argv, .defs = defs};
    bool named = false; /* -c given, or the first word was the container */
    for (;;) {
        int k = rt_getopt_next(&g, err);
        if (k == RT_OPT_END)
            break;
        if (k == RT_OPT_ERROR)
            goto fail;
        if (k == RT_OPT_DASHDASH) {
            if (g.i < g.argc)
                take_command(o, g.argv[g.i++], &g);
            break;
        }
        if (k == RT_OPT_WORD && !named && !o->cmd &&
            (!g.arg[0] || spec_find_container(s, g.arg) >= 0)) {
            named = true;
            free(o->container);
            o->container = g.arg[0] ? xstrdup(g.arg) : NULL;
        } else if (k == RT_OPT_WORD) {
            take_command(o, g.arg, &g);
            break;
        } else if (k == 0) {
            named = true;
            free(o->container);
            o->container = g.arg[0] ? xstrdup(g.arg) : NULL;
        } else {
            o->bash = true;
        }
    }
    if (o->cmd && !o->cmd[0][0]) { /* nothing could run it: refused before podman (SPEC 7.3) */
        pod_err_set(err, POD_E_USAGE, 0,
                    "empty command word (an empty argument where the command "
                    "starts)");
        goto fail;
    }
    if (o->container && spec_find_container(s, o->container) < 0) {
        pod_err_set(err, POD_E_NOTFOUND, 0, "Container %s does not exist in this pod",
                    o->container);
        goto fail;
    }
    return 0;
fail:
    rt_shell_opts_free(o);
    return -1;
}

void rt_shell_opts_free(struct rt_shell_opts *o)
{
    free(o->container);
    pod_strv_free(o->cmd);
    memset(o, 0, sizeof *o);
}

/* Whether podman says container name runs (an inspect; any failure: no). */
static bool ctr_runs(const struct rt_ctx *c, const char *name)
{
    struct podman_argv_ctx a;
    rt_argv_ctx(c, &a);
    struct pod_err err = POD_ERR_ZERO;
    char **argv = podman_argv_inspect(&a, name, &err);
    struct proc_result r;
    if (!argv || rt_podman_run(c, argv, RT_PODMAN_SHORT_MS, &r, &err) < 0) {
        pod_strv_free(argv);
        return false;
    }
    pod_strv_free(argv);
    struct podman_ctr_info in;
    bool found = false;
    bool runs = r.exited && r.code == 0 &&
                podman_parse_inspect(r.out, r.out_len, &in, &found, &err) == 0 && found &&
                in.state == PODMAN_ST_RUNNING;
    if (found)
        podman_ctr_info_clear(&in);
    proc_result_free(&r);
    return runs;
}

/* The container the shell enters: <full>, except for a warm container in the moment after a
 * start from its standby (SPEC 7.8.2) when <full> is exited or gone and the instance still
 * runs as <full>-standby until its rename: then that one.  Two inspects at most, only for
 * warm containers whose <full> does not run. */
static char *shell_target(const struct rt_ctx *c, size_t idx)
{
    char *full = spec_container_fullname(c->spec, idx);
    if (!spec_container_warm(&c->spec->containers[idx]) || ctr_runs(c, full))
        return full;
    char *sb = xasprintf("%s" PODMAN_STANDBY_SUFFIX, full);
    if (!ctr_runs(c, sb)) {
        free(sb);
        return full;
    }
    pod_log(POD_LOG_DEBUG, "shell: %s runs as %s (not renamed yet)", full, sb);
    free(full);
    return sb;
}

char **rt_shell_argv(const struct rt_ctx *c, const struct rt_shell_opts *o, bool tty,
                     struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    int idx = o->container ? spec_find_container(s, o->container) : (int)s->n_containers - 1;
    if (idx < 0) {
        pod_err_set(err, POD_E_NOTFOUND, 0, "the pod has no container");
        return NULL;
    }
    char *full = shell_target(c, (size_t)idx);
    char *shell[] = {o->bash ? "bash" : "sh", NULL};
    struct podman_argv_ctx a;
    rt_argv_ctx(c, &a);
    char **ex = podman_argv_exec(&a, full, 0, o->cmd ? o->cmd : shell, err);
    free(full);
    if (!ex)
        return NULL;
    /* podman exec -i [-t] NAME ... */
    char **v = NULL;
    pod_strv_push(&v, ex[0]);
    pod_strv_push(&v, ex[1]);
    pod_strv_push(&v, "-i");
    if (tty)
        pod_strv_push(&v, "-t");
    for (size_t i = 2; ex[i]; i++)
        pod_strv_push(&v, ex[i]);
    pod_strv_free(ex);
    return v;
}

int rt_action_shell(const struct rt_ctx *c, const char *action, int argc, char **argv, FILE *out)
{
    (void)out;
    struct rt_shell_opts o;
    struct pod_err err = POD_ERR_ZERO;
    if (rt_shell_parse(c->spec, argc, argv, &o, &err) < 0) {
        if (err.code == POD_E_USAGE)
            pod_log(POD_LOG_ERROR, "%s: %s (see `pod help`)", action, err.msg);
        else
            pod_log(POD_LOG_ERROR, "%s", err.msg);
        return pod_err_exit_code(&err);
    }
    char **v = rt_shell_argv(c, &o, isatty(0) && isatty(1), &err);
    rt_shell_opts_free(&o);
    if (!v) {
        pod_log(POD_LOG_ERROR, "%s: %s", action, err.msg);
        return pod_err_exit_code(&err);
    }
    char **env = proc_env_stripped(NULL);
    fflush(stdout);
    fflush(stderr);
    int e = 0;
    if (chdir(c->pod_dir) < 0) /* rootless podman needs a cwd it can enter */
        e = errno;
    else
        execvpe(v[0], v, env);
    e = e ? e : errno;
    pod_log(POD_LOG_ERROR, "%s: cannot run %s: %s", action, v[0], strerror(e));
    pod_strv_free(v);
    pod_strv_free(env);
    return POD_EXIT_SYSTEM;
}
