/* SPDX-License-Identifier: MIT */
/* pod.c - the compiled pod's command line (the Pod API, SPEC.md section 7): the action table,
 * dispatch, and the actions that need no runtime: `help`, `version`, `info` and
 * `create-ramdisks -l`.  The actions that drive podman arrive with the runtime issue; until
 * then they answer "not available in this build" (exit 111) instead of pretending to work.
 * An action is one row of `actions` (name, other spellings, synopsis, help, handler); `help`
 * prints the table.
 *
 * The pod directory is the directory of the executable (self_path), never the cwd: the pod
 * must work when run as `sh -c "/abs/path/pod info"` from `/` or from an unreadable directory.
 * `help`, `version` and `info` need no podman, write no files and read nothing but the
 * embedded spec.  Output goes to stdout, diagnostics to stderr (pod_log).
 */
#include "cli.h"
#include "pod/daemon.h"
#include "pod/life.h"
#include "pod/rt.h"
#include "pod/util.h"
#include "pod/version.h"

#include <stdlib.h>
#include <string.h>

struct action_ctx {
    const struct pod_spec *spec;
    const char *self_path;
    char *pod_dir; /* directory of self_path */
    int argc;      /* arguments after the action */
    char **argv;
};

/* Runs an action; returns the exit code.  action is the name as invoked (for messages). */
typedef int action_fn(struct action_ctx *ctx, const char *action);

static action_fn act_help, act_version, act_info, act_create_ramdisks, act_unavailable;
static action_fn act_download, act_logs, act_create_volumes, act_purge, act_shell;
static action_fn act_life;

struct action {
    const char *name;
    action_fn *run;
    bool takes_args;        /* false: any argument is a usage error */
    const char *aliases[3]; /* other spellings (NULL-terminated) */
    const char *synopsis;   /* arguments after the name; '\n' continues on an aligned line */
    const char *help;       /* one or more lines ('\n'-separated) */
};

/* One row per action, in the order `help` lists them. */
/* clang-format off */
static const struct action actions[] = {
    {"help",            act_help,            false, {"-h", "--help"}, "",
     "Show this help text."},
    {"version",         act_version,         false, {"-V", "--version"}, "",
     "Show the API version, the runtime version and the pod version."},
    {"info",            act_info,            false, {0}, "",
     "Show the static configuration of the pod (no podman needed, writes no files)."},
    {"ps",              act_life,            true,  {0}, "[--json]",
     "Show the live status of the pod and its containers (--json: as JSON)."},
    {"readiness",       act_life,            true,  {0}, "",
     "Exit 0 if the pod is ready (every readiness probe passed), 1 otherwise."},
    {"download",        act_download,        true,  {0}, "[-f|--force]",
     "Pull the images of all containers; with -f pull even images that exist."},
    {"create",          act_life,            true,  {0}, "[--host-interface=IP]",
     "Create the pod, its supervisor daemon and volumes (idempotent)."},
    {"start",           act_life,            true,  {0}, "",
     "Start a created pod."},
    {"stop",            act_life,            true,  {0}, "",
     "Stop the pod and all containers gracefully."},
    {"kill",            act_life,            true,  {0}, "",
     "Kill the pod and all containers."},
    {"run",             act_life,            true,  {0}, "[--host-interface=IP]",
     "Create and start the pod if necessary, so that all containers run (idempotent)."},
    {"rerun",           act_life,            true,  {0},
     "[--host-interface=IP] [-k|--kill] [container...]",
     "Remove and run the whole pod again, or cycle only the given containers.\n"
     "-k kills instead of stopping (not valid with container names)."},
    {"signal",          act_life,            true,  {0}, "[container...]",
     "Signal the given containers, or all containers that define a signal."},
    {"logs",            act_logs,            true,  {0},
     "[container...] [-p|--daemon-process] [-t|--timestamp=TS] [-l|--limit=N]\n"
     "[-s|--streams=stdout,stderr] [-d|--details=ts,age,name,stream,none]",
     "Show the logs of the given containers (default all) and/or the pod daemon."},
    {"create-volumes",  act_create_volumes,  true,  {0}, "",
     "Create the volumes used by the pod."},
    {"create-ramdisks", act_create_ramdisks, true,  {0}, "[-l|--list] [-d|--delete]",
     "Create (as root) or delete (-d, as root) the pod's ramdisks; -l lists them as name:size."},
    {"reload-configs",  act_life,            true,  {0}, "config [config...]",
     "Signal the containers that mount the given configs."},
    {"rm",              act_life,            true,  {0}, "[-k|--kill]",
     "Stop (or kill) and remove the pod and its containers; volumes are kept."},
    {"purge",           act_purge,           true,  {0}, "",
     "Remove this version's own volumes (shared: no) once the pod is removed."},
    {"shell",           act_shell,           true,  {0},
     "[-c|--container=NAME | NAME] [-b|--bash] [-- command...]",
     "Open a shell, or run a command, inside a container."},
};
/* clang-format on */

#define N_ACTIONS (sizeof actions / sizeof actions[0])

/* ------------------------------------------------------------------ help */

/* Prints text, starting every line after the first with indent spaces. */
static void print_lines(const char *text, int indent)
{
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("%.*s\n", n, p);
        if (!nl)
            return;
        p = nl + 1;
        printf("%*s", indent, "");
    }
}

static int act_help(struct action_ctx *ctx, const char *action)
{
    (void)ctx;
    (void)action;
    fputs("Usage:\n", stdout);
    for (size_t i = 0; i < N_ACTIONS; i++) {
        const struct action *a = &actions[i];
        printf("    %s", a->name);
        for (const char *const *al = a->aliases; *al; al++)
            printf(", %s", *al);
        if (*a->synopsis) {
            printf(" ");
            print_lines(a->synopsis, 4 + (int)strlen(a->name) + 1);
        } else {
            printf("\n");
        }
        printf("        ");
        print_lines(a->help, 8);
    }
    return POD_EXIT_OK;
}

/* ------------------------------------------------------------------ version */

static int act_version(struct action_ctx *ctx, const char *action)
{
    (void)action;
    printf("api %s\nruntime %s\npodVersion %s\n", PODC_API_VERSION, POD_RUNTIME_VERSION,
           ctx->spec->version ? ctx->spec->version : "");
    return POD_EXIT_OK;
}

/* ------------------------------------------------------------------ info */

/* Appends word to b, separated from what is there by one space. */
static void add_word(struct pod_buf *b, const char *word)
{
    if (b->len)
        pod_buf_addc(b, ' ');
    pod_buf_adds(b, word);
}

/* "key: value" without a trailing space when the value is empty. */
static void print_kv(const char *indent, const char *key, const char *value)
{
    if (value && *value)
        printf("%s%s: %s\n", indent, key, value);
    else
        printf("%s%s:\n", indent, key);
}

/* The -v argument podman gets for one mount (original-podc-behaviour.md §2.4). */
static char *mount_arg(const struct pod_spec *s, const struct spec_mount *m)
{
    const struct spec_volume *v = spec_find_volume(s, m->volume);
    if (!v)
        return xasprintf("%s:%s", m->volume, m->dest); /* the validator rejects this */
    switch (v->type) {
    case SPEC_VOL_RAMDISK:
        return xasprintf("./ramdisk/%s:%s:z,rw", v->name, m->dest);
    case SPEC_VOL_CONFIG:
        return xasprintf("./config/%s:%s:z,ro", v->name, m->dest);
    case SPEC_VOL_HOST:
        return xasprintf("%s:%s:z,rw,dev", v->bind ? v->bind : "", m->dest);
    case SPEC_VOL_VOLUME:
    default: {
        char *full = spec_volume_fullname(s, v);
        char *r = xasprintf("%s:%s:z,rw", full, m->dest);
        free(full);
        return r;
    }
    }
}

static int act_info(struct action_ctx *ctx, const char *action)
{
    (void)action;
    const struct pod_spec *s = ctx->spec;
    struct pod_buf b = {0};

    char *full = spec_pod_fullname(s);
    print_kv("", "pod", full);
    free(full);
    print_kv("", "podVersion", s->version);

    for (size_t c = 0; c < s->n_containers; c++)
        for (size_t i = 0; i < s->containers[c].n_expose; i++)
            if (s->containers[c].expose[i].host_port > 0)
                pod_buf_printf(&b, "%s%d", b.len ? " " : "", s->containers[c].expose[i].host_port);
    print_kv("", "hostPorts", b.data);
    pod_buf_free(&b);

    for (size_t i = 0; i < s->n_labels; i++)
        pod_buf_printf(&b, "%s%s=%s", b.len ? " " : "", s->labels[i].name,
                       s->labels[i].value ? s->labels[i].value : "");
    print_kv("", "labels", b.data);
    pod_buf_free(&b);

    for (size_t i = 0; i < s->n_volumes; i++)
        if (s->volumes[i].type == SPEC_VOL_VOLUME) {
            char *vf = spec_volume_fullname(s, &s->volumes[i]);
            add_word(&b, vf);
            free(vf);
        }
    print_kv("", "volumes", b.data);
    pod_buf_free(&b);

    for (size_t i = 0; i < s->n_volumes; i++)
        if (s->volumes[i].type == SPEC_VOL_RAMDISK)
            pod_buf_printf(&b, "%s%s:%s", b.len ? " " : "", s->volumes[i].name,
                           s->volumes[i].size ? s->volumes[i].size : "");
    print_kv("", "ramdisks", b.data);
    pod_buf_free(&b);

    printf("containers:\n");
    for (size_t c = 0; c < s->n_containers; c++) {
        const struct spec_container *ct = &s->containers[c];
        print_kv("    - ", "name", ct->name);
        char *cf = spec_container_fullname(s, c);
        print_kv("      ", "container", cf);
        free(cf);
        print_kv("      ", "image", ct->image);

        for (size_t m = 0; m < ct->n_mounts; m++) {
            const struct spec_volume *v = spec_find_volume(s, ct->mounts[m].volume);
            if (v && v->type == SPEC_VOL_CONFIG)
                add_word(&b, v->name);
        }
        print_kv("      ", "configs", b.data);
        pod_buf_free(&b);

        if (ct->restart == SPEC_RESTART_ON_INTERVAL)
            pod_buf_printf(&b, "on-interval:%d", ct->restart_interval_s);
        else
            pod_buf_adds(&b, spec_restart_name(ct->restart));
        print_kv("      ", "restart", b.data);
        pod_buf_free(&b);

        for (size_t m = 0; m < ct->n_mounts; m++) {
            char *arg = mount_arg(s, &ct->mounts[m]);
            add_word(&b, arg); /* space separated: the original lost the separators (B8) */
            free(arg);
        }
        print_kv("      ", "mounts", b.data);
        pod_buf_free(&b);

        for (size_t i = 0; i < ct->n_expose; i++) {
            const struct spec_expose *x = &ct->expose[i];
            if (x->host_port <= 0)
                continue;
            if (x->host_interface && *x->host_interface)
                pod_buf_printf(&b, "%s%s:%d:%d", b.len ? " " : "", x->host_interface, x->host_port,
                               x->target_port);
            else
                pod_buf_printf(&b, "%s%d:%d", b.len ? " " : "", x->host_port, x->target_port);
        }
        print_kv("      ", "ports", b.data);
        pod_buf_free(&b);

        print_kv("      ", "network", ct->network_host ? "host" : "");
    }
    return POD_EXIT_OK;
}

/* ------------------------------------------------------------------ rt actions */

/* download, create-volumes, create-ramdisks, purge, logs, shell: src/rt (pod/rt.h). */
static int run_rt(struct action_ctx *ctx, const char *action, rt_action_fn *fn)
{
    struct rt_ctx c = {.spec = ctx->spec, .pod_dir = ctx->pod_dir};
    return fn(&c, action, ctx->argc, ctx->argv, stdout);
}

static int act_download(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_download);
}

static int act_create_volumes(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_create_volumes);
}

static int act_create_ramdisks(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_create_ramdisks);
}

static int act_purge(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_purge);
}

static int act_logs(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_logs);
}

static int act_shell(struct action_ctx *ctx, const char *action)
{
    return run_rt(ctx, action, rt_action_shell);
}

/* ------------------------------------------------------------------ lifecycle actions */

/* create, start, run, rerun, stop, kill, rm, signal, reload-configs, ps, readiness:
 * src/life (pod/life.h). */
static int act_life(struct action_ctx *ctx, const char *action)
{
    static const struct {
        const char *name;
        life_action_fn *fn;
    } fns[] = {{"create", life_create},
               {"start", life_start},
               {"run", life_run},
               {"rerun", life_rerun},
               {"stop", life_stop},
               {"kill", life_kill},
               {"rm", life_rm},
               {"signal", life_signal},
               {"ps", life_ps},
               {"reload-configs", life_reload_configs},
               {"readiness", life_readiness}};
    struct life_env e = {.spec = ctx->spec,
                         .exe = ctx->self_path,
                         .dir = ctx->pod_dir,
                         .name = pod_basename(ctx->self_path),
                         .out = stdout};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(fns[i].name, action) == 0)
            return fns[i].fn(&e, action, ctx->argc, ctx->argv);
    return act_unavailable(ctx, action);
}

/* ------------------------------------------------------------------ not yet available */

static int act_unavailable(struct action_ctx *ctx, const char *action)
{
    (void)ctx;
    pod_log(POD_LOG_ERROR,
            "%s: not available in this build: the podman runtime arrives with the runtime issue",
            action);
    return POD_EXIT_SYSTEM;
}

/* ------------------------------------------------------------------ dispatch */

static const struct action *find_action(const char *name)
{
    for (size_t i = 0; i < N_ACTIONS; i++) {
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
        for (const char *const *al = actions[i].aliases; *al; al++)
            if (strcmp(*al, name) == 0)
                return &actions[i];
    }
    return NULL;
}

/* Each action's own command-line parser (what it runs first), nothing else. */
static int parse_action(const struct action *act, const char *name, int argc, char **argv,
                        const struct pod_spec *spec, struct pod_err *err)
{
    int rc = 0;
    if (act->run == act_life) {
        struct life_args a;
        if (life_parse(name, argc, argv, &a, err) < 0)
            return -1;
        if (a.names)
            rc = life_check_names(spec, a.names, strcmp(name, "reload-configs") == 0, err);
        life_args_free(&a);
    } else if (act->run == act_logs) {
        struct rt_logs_opts o;
        if (rt_logs_parse(argc, argv, &o, err) < 0)
            return -1;
        for (char **c = o.containers; c && *c && rc == 0; c++)
            if (spec_find_container(spec, *c) < 0)
                rc = pod_err_set(err, POD_E_NOTFOUND, 0, "Container %s does not exist", *c);
        rt_logs_opts_free(&o);
    } else if (act->run == act_shell) {
        struct rt_shell_opts o;
        rc = rt_shell_parse(spec, argc, argv, &o, err);
        if (rc == 0) {
            struct rt_ctx c = {.spec = spec, .pod_dir = "/pod", .podman = "podman"};
            char **v = rt_shell_argv(&c, &o, false, err);
            rc = v ? 0 : -1;
            pod_strv_free(v);
            rt_shell_opts_free(&o);
        }
    } else if (act->run != act_help && act->run != act_version && act->run != act_info) {
        bool flags[2];
        rc = rt_flags_parse(name, argc, argv, flags, err);
    }
    return rc;
}

int pod_parse_args(int argc, char **argv, const struct pod_spec *spec, struct pod_err *err)
{
    const char *name = argc > 1 ? argv[1] : "help";
    if (strcmp(name, "__daemon") == 0) {
        struct daemon_cfg cfg;
        return daemon_parse_args(argc, argv, &cfg, err);
    }
    const struct action *act = find_action(name);
    if (!act)
        return pod_err_set(err, POD_E_USAGE, 0, "Unknown command: %s", name);
    int n = argc > 1 ? argc - 2 : 0;
    char **rest = argc > 1 ? argv + 2 : argv + argc;
    if (!act->takes_args && n > 0)
        return pod_err_set(err, POD_E_USAGE, 0, "%s: unexpected argument '%s'", name, rest[0]);
    return parse_action(act, name, n, rest, spec, err);
}

int pod_main(int argc, char **argv, const char *self_path, const struct pod_spec *spec)
{
    pod_log_init_from_env(POD_LOG_INFO);
    const char *name = argc > 1 ? argv[1] : "help";
    const struct action *act = find_action(name);
    if (!act) {
        pod_log(POD_LOG_ERROR, "Unknown command: %s", name);
        return POD_EXIT_USAGE;
    }
    struct action_ctx ctx = {
        .spec = spec,
        .self_path = self_path,
        .pod_dir = pod_dirname(self_path),
        .argc = argc > 1 ? argc - 2 : 0,
        .argv = argc > 1 ? argv + 2 : argv + argc,
    };
    int rc;
    if (!act->takes_args && ctx.argc > 0) {
        pod_log(POD_LOG_ERROR, "%s: unexpected argument '%s' (see `%s help`)", name, ctx.argv[0],
                pod_basename(self_path));
        rc = POD_EXIT_USAGE;
    } else {
        rc = act->run(&ctx, name);
    }
    if (fflush(stdout) != 0 && rc == POD_EXIT_OK)
        rc = POD_EXIT_SYSTEM; /* stdout closed or full: the answer was not delivered */
    free(ctx.pod_dir);
    return rc;
}
