/* SPDX-License-Identifier: MIT */
/* podman_args.c - podman command lines as argv arrays (see pod/podman.h, SPEC.md 7.8).
 *
 * Pure: no I/O, no environment, no clock.  Every user string (image, env, command, args,
 * labels, paths) is exactly one argv element, so no shell and no word splitting ever touches
 * it.  Where podman itself would parse a string (`-v SRC:DST:OPTS`, `--entrypoint` JSON, an
 * image that could look like an option), the builder refuses what podman would misread.
 */
#include "pod/podman.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/util.h"

static const char *podman_bin(const struct podman_argv_ctx *c)
{
    return c->podman && c->podman[0] ? c->podman : "podman";
}

static char **argv_new(const struct podman_argv_ctx *c)
{
    char **v = xcalloc(1, sizeof *v);
    pod_strv_push(&v, podman_bin(c));
    return v;
}

static void push2(char ***v, const char *a, const char *b)
{
    pod_strv_push(v, a);
    pod_strv_push(v, b);
}

static void pushf(char ***v, const char *fmt, ...) POD_PRINTF(2, 3);

static void pushf(char ***v, const char *fmt, ...)
{
    struct pod_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    pod_strv_push(v, b.data ? b.data : "");
    pod_buf_free(&b);
}

static char **fail(char **v, struct pod_err *err, const char *fmt, const char *what)
{
    pod_strv_free(v);
    pod_err_set(err, POD_E_INVALID, 0, fmt, what);
    return NULL;
}

static bool has_interface(const char *ip)
{
    return ip && ip[0] && strcmp(ip, "0.0.0.0") != 0;
}

/* A name or image podman would take for an option, or that is empty. */
static bool bad_operand(const char *s)
{
    return !s || !s[0] || s[0] == '-';
}

/* ------------------------------------------------------------------ pod */

static void push_pod_label(char ***v, const struct pod_spec *s)
{
    pushf(v, "%s=%s-%s", PODMAN_LABEL_POD, s->name, s->version);
}

char **podman_argv_pod_create(const struct podman_argv_ctx *c, struct pod_err *err)
{
    (void)err;
    const struct pod_spec *s = c->spec;
    char **v = argv_new(c);
    push2(&v, "pod", "create");
    pod_strv_push(&v, "--name");
    pushf(&v, "%s-%s", s->name, s->version);
    pod_strv_push(&v, "--label");
    push_pod_label(&v, s);
    for (size_t i = 0; i < s->n_labels; i++) {
        pod_strv_push(&v, "--label");
        pushf(&v, "%s=%s", s->labels[i].name, s->labels[i].value);
    }
    for (size_t i = 0; i < s->n_containers; i++) {
        const struct spec_container *k = &s->containers[i];
        if (k->network_host)
            continue;
        for (size_t j = 0; j < k->n_expose; j++) {
            const struct spec_expose *e = &k->expose[j];
            if (e->host_port <= 0)
                continue;
            const char *ip = e->host_interface && e->host_interface[0]   ? e->host_interface
                             : c->host_interface && c->host_interface[0] ? c->host_interface
                                                                         : NULL;
            pod_strv_push(&v, "-p");
            if (ip)
                pushf(&v, "%s:%d:%d", ip, e->host_port, e->target_port);
            else
                pushf(&v, "%d:%d", e->host_port, e->target_port);
        }
    }
    if (has_interface(c->host_interface))
        pushf(&v, "--add-host=proxy:%s", c->host_interface);
    return v;
}

char **podman_argv_pod_rm(const struct podman_argv_ctx *c, struct pod_err *err)
{
    (void)err;
    char **v = argv_new(c);
    push2(&v, "pod", "rm");
    push2(&v, "-f", "-i");
    pushf(&v, "%s-%s", c->spec->name, c->spec->version);
    return v;
}

char **podman_argv_pod_stop(const struct podman_argv_ctx *c, int timeout_s, struct pod_err *err)
{
    (void)err;
    char **v = argv_new(c);
    push2(&v, "pod", "stop");
    pod_strv_push(&v, "-i");
    pod_strv_push(&v, "-t");
    pushf(&v, "%d", timeout_s < 0 ? 0 : timeout_s);
    pushf(&v, "%s-%s", c->spec->name, c->spec->version);
    return v;
}

char **podman_argv_pod_exists(const struct podman_argv_ctx *c, struct pod_err *err)
{
    (void)err;
    char **v = argv_new(c);
    push2(&v, "pod", "exists");
    pushf(&v, "%s-%s", c->spec->name, c->spec->version);
    return v;
}

/* ------------------------------------------------------------------ run */

/* A bind source in the pod directory (`config/<name>`, `ramdisk/<name>`,
 * `.<b>.run/<ctr>`) must not be or pass
 * through a symbolic link: podman would follow it and mount whatever it names (/etc, another
 * pod's directory) into the container (SPEC 7.5.1).  Checked every time the argv is built, so
 * a link that a sync put there after the pod started is refused too.  A pod directory that
 * cannot be opened is left to podman (the argv tests build argv for paths that do not exist). */
static int beneath_ok(const char *pod_dir, const char *top, const char *name, struct pod_err *err)
{
    int dfd = pod_dir ? open(pod_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd < 0)
        return 0;
    bool exists;
    char *rel = xasprintf("%s/%s", top, name);
    int rc = pod_check_beneath(dfd, top, S_IFDIR, &exists, err);
    if (rc == 0)
        rc = pod_check_beneath(dfd, rel, S_IFDIR, &exists, err);
    free(rel);
    close(dfd);
    return rc;
}

/* `-v` words per volume type; NULL (err set) when the mount cannot be expressed. */
static char *mount_word(const struct podman_argv_ctx *c, const struct spec_mount *m,
                        struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    const struct spec_volume *vol = spec_find_volume(s, m->volume);
    if (!vol) {
        pod_err_set(err, POD_E_INVALID, 0, "mount of unknown volume `%s`", m->volume);
        return NULL;
    }
    char *src = NULL;
    const char *opts = "z,rw";
    switch (vol->type) {
    case SPEC_VOL_VOLUME:
        src = spec_volume_fullname(s, vol);
        break;
    case SPEC_VOL_RAMDISK:
        src = xasprintf("%s/ramdisk/%s", c->pod_dir, vol->name);
        break;
    case SPEC_VOL_CONFIG:
        src = xasprintf("%s/config/%s", c->pod_dir, vol->name);
        opts = "z,ro";
        break;
    case SPEC_VOL_HOST:
        src = xstrdup(vol->bind ? vol->bind : "");
        opts = "z,rw,dev";
        break;
    }
    if (!src[0] || strchr(src, ':') || strchr(src, ',') || !m->dest || m->dest[0] != '/' ||
        strchr(m->dest, ':') || strchr(m->dest, ',')) {
        pod_err_set(err, POD_E_INVALID, 0,
                    "mount `%s` -> `%s`: podman -v cannot express a path with `:` or `,`", src,
                    m->dest ? m->dest : "");
        free(src);
        return NULL;
    }
    if ((vol->type == SPEC_VOL_CONFIG || vol->type == SPEC_VOL_RAMDISK) &&
        beneath_ok(c->pod_dir, vol->type == SPEC_VOL_CONFIG ? "config" : "ramdisk", vol->name,
                   err) < 0) {
        free(src);
        return NULL;
    }
    char *w = xasprintf("%s:%s:%s", src, m->dest, opts);
    free(src);
    return w;
}

static char *entrypoint_json(char *const *cmd, struct pod_err *err)
{
    json_t *a = json_array();
    for (char *const *p = cmd; *p; p++) {
        json_t *s = json_string(*p);
        if (!s) {
            json_decref(a);
            pod_err_set(err, POD_E_INVALID, 0, "command: not valid UTF-8");
            return NULL;
        }
        json_array_append_new(a, s);
    }
    char *j = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!j)
        pod_err_set(err, POD_E_NOMEM, 0, "command: cannot encode");
    return j;
}

static int push_mounts(char ***v, const struct podman_argv_ctx *c, size_t ctr, struct pod_err *err)
{
    const struct spec_container *k = &c->spec->containers[ctr];
    for (size_t i = 0; i < k->n_mounts; i++) {
        char *w = mount_word(c, &k->mounts[i], err);
        if (!w)
            return -1;
        push2(v, "-v", w);
        free(w);
    }
    if (c->exe_path && podman_ctr_needs_agent(c->spec, ctr)) {
        if (strchr(c->exe_path, ':') || strchr(c->exe_path, ',') || !c->run_dir ||
            strchr(c->run_dir, ':') || strchr(c->run_dir, ','))
            return pod_err_set(err, POD_E_INVALID, 0,
                               "agent mounts: podman -v cannot express a path with `:` or `,`");
        /* `.<b>.run/<ctr>` is bind-mounted read-write: a link there (a sync while the pod
         * runs) would give the container whatever it names */
        if (beneath_ok(c->pod_dir, pod_basename(c->run_dir), k->name, err) < 0)
            return -1;
        pod_strv_push(v, "-v");
        pushf(v, "%s:%s:ro", c->exe_path, PODMAN_AGENT_PATH);
        pod_strv_push(v, "-v");
        pushf(v, "%s/%s:%s:z,rw", c->run_dir, k->name, PODMAN_AGENT_RUN);
    }
    return 0;
}

/* `run -d` of instance, or (standby) `create` of the warm standby that will be instance. */
static char **run_like(const struct podman_argv_ctx *c, size_t ctr, uint64_t instance, bool standby,
                       struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    if (ctr >= s->n_containers) {
        pod_err_set(err, POD_E_INVALID, 0, "no container %zu", ctr);
        return NULL;
    }
    const struct spec_container *k = &s->containers[ctr];
    if (bad_operand(k->image))
        return fail(NULL, err, "invalid image `%s`", k->image ? k->image : "");
    char **v = argv_new(c);
    if (standby)
        pod_strv_push(&v, "create");
    else
        push2(&v, "run", "-d");
    push2(&v, "--replace", "--pull=never");
    pod_strv_push(&v, "--name");
    pushf(&v, "%s-%s-%s%s", k->name, s->name, s->version, standby ? PODMAN_STANDBY_SUFFIX : "");
    if (k->network_host) {
        push2(&v, "--network", "host");
        if (has_interface(c->host_interface))
            pushf(&v, "--add-host=proxy:%s", c->host_interface);
    } else {
        pod_strv_push(&v, "--pod");
        pushf(&v, "%s-%s", s->name, s->version);
    }
    push2(&v, "--restart=no", "--log-driver");
    pod_strv_push(&v, "passthrough");
    pod_strv_push(&v, "--stop-timeout");
    pushf(&v, "%d", k->stop_timeout_s > 0 ? k->stop_timeout_s : 0);
    pod_strv_push(&v, "--label");
    push_pod_label(&v, s);
    pod_strv_push(&v, "--label");
    pushf(&v, "%s=%s", PODMAN_LABEL_CONTAINER, k->name);
    pod_strv_push(&v, "--label");
    pushf(&v, "%s=%llu", PODMAN_LABEL_INSTANCE, (unsigned long long)instance);
    if (standby)
        push2(&v, "--label", PODMAN_LABEL_STANDBY "=1");
    for (size_t i = 0; i < k->n_env; i++) {
        pod_strv_push(&v, "-e");
        pushf(&v, "%s=%s", k->env[i].name, k->env[i].value ? k->env[i].value : "");
    }
    if (push_mounts(&v, c, ctr, err) < 0) {
        pod_strv_free(v);
        return NULL;
    }
    if (k->working_dir)
        push2(&v, "--workdir", k->working_dir);
    if (k->command && k->command[0]) {
        char *j = entrypoint_json(k->command, err);
        if (!j) {
            pod_strv_free(v);
            return NULL;
        }
        push2(&v, "--entrypoint", j);
        free(j);
    }
    push2(&v, "--", k->image);
    for (char **a = k->args; a && *a; a++)
        pod_strv_push(&v, *a);
    return v;
}

char **podman_argv_run(const struct podman_argv_ctx *c, size_t ctr, uint64_t instance,
                       struct pod_err *err)
{
    return run_like(c, ctr, instance, false, err);
}

char **podman_argv_standby_create(const struct podman_argv_ctx *c, size_t ctr, uint64_t instance,
                                  struct pod_err *err)
{
    return run_like(c, ctr, instance, true, err);
}

/* ------------------------------------------------------------------ containers */

static char **ctr_verb(const struct podman_argv_ctx *c, const char *verb, const char *name,
                       struct pod_err *err)
{
    if (bad_operand(name))
        return fail(NULL, err, "invalid container name `%s`", name ? name : "");
    char **v = argv_new(c);
    pod_strv_push(&v, verb);
    return v;
}

char **podman_argv_stop(const struct podman_argv_ctx *c, const char *name, int timeout_s,
                        struct pod_err *err)
{
    char **v = ctr_verb(c, "stop", name, err);
    if (!v)
        return NULL;
    pod_strv_push(&v, "-t");
    pushf(&v, "%d", timeout_s > 0 ? timeout_s : 0);
    pod_strv_push(&v, name);
    return v;
}

char **podman_argv_kill(const struct podman_argv_ctx *c, const char *name, int sig,
                        struct pod_err *err)
{
    if (sig <= 0 || sig >= 65) {
        pod_err_set(err, POD_E_INVALID, 0, "invalid signal %d", sig);
        return NULL;
    }
    char **v = ctr_verb(c, "kill", name, err);
    if (!v)
        return NULL;
    pod_strv_push(&v, "--signal");
    pushf(&v, "%d", sig);
    pod_strv_push(&v, name);
    return v;
}

char **podman_argv_rm(const struct podman_argv_ctx *c, const char *name, struct pod_err *err)
{
    char **v = ctr_verb(c, "rm", name, err);
    if (!v)
        return NULL;
    push2(&v, "-f", "-t");
    pod_strv_push(&v, "0");
    pod_strv_push(&v, name);
    return v;
}

/* `init NAME` and `start NAME` (the warm standby, SPEC 7.8.2). */
char **podman_argv_verb1(const struct podman_argv_ctx *c, const char *verb, const char *name,
                         struct pod_err *err)
{
    char **v = ctr_verb(c, verb, name, err);
    if (!v)
        return NULL;
    pod_strv_push(&v, name);
    return v;
}

char **podman_argv_rename(const struct podman_argv_ctx *c, const char *name, const char *to,
                          struct pod_err *err)
{
    if (bad_operand(to))
        return fail(NULL, err, "invalid container name `%s`", to ? to : "");
    char **v = ctr_verb(c, "rename", name, err);
    if (!v)
        return NULL;
    push2(&v, name, to);
    return v;
}

char **podman_argv_inspect(const struct podman_argv_ctx *c, const char *name, struct pod_err *err)
{
    char **v = ctr_verb(c, "container", name, err);
    if (!v)
        return NULL;
    pod_strv_push(&v, "inspect");
    push2(&v, "--format", "json");
    pod_strv_push(&v, name);
    return v;
}

char **podman_argv_wait(const struct podman_argv_ctx *c, const char *name, struct pod_err *err)
{
    char **v = ctr_verb(c, "wait", name, err);
    if (!v)
        return NULL;
    pod_strv_push(&v, name);
    return v;
}

char **podman_argv_infra_ps(const struct podman_argv_ctx *c, struct pod_err *err)
{
    (void)err;
    char **v = argv_new(c);
    push2(&v, "ps", "-a");
    pod_strv_push(&v, "--filter");
    pushf(&v, "pod=%s-%s", c->spec->name, c->spec->version);
    push2(&v, "--format", "json");
    return v;
}

char **podman_argv_ps(const struct podman_argv_ctx *c, struct pod_err *err)
{
    (void)err;
    char **v = argv_new(c);
    push2(&v, "ps", "-a");
    pod_strv_push(&v, "--filter");
    pushf(&v, "label=%s=%s-%s", PODMAN_LABEL_POD, c->spec->name, c->spec->version);
    pod_strv_push(&v, "--filter");
    pushf(&v, "label=%s", PODMAN_LABEL_CONTAINER);
    push2(&v, "--format", "json");
    return v;
}

char **podman_argv_exec(const struct podman_argv_ctx *c, const char *name, uint64_t tag,
                        char *const *argv, struct pod_err *err)
{
    if (!argv || !argv[0] || !argv[0][0])
        return fail(NULL, err, "exec: empty command%s", "");
    char **v = ctr_verb(c, "exec", name, err);
    if (!v)
        return NULL;
    if (tag) {
        pod_strv_push(&v, "-e");
        pushf(&v, "%s=%llu", PODMAN_PROBE_TAG_ENV, (unsigned long long)tag);
    }
    pod_strv_push(&v, name);
    for (char *const *a = argv; *a; a++)
        pod_strv_push(&v, *a);
    return v;
}

/* ------------------------------------------------------------------ images, volumes */

char **podman_argv_pull(const struct podman_argv_ctx *c, const char *image, struct pod_err *err)
{
    if (bad_operand(image))
        return fail(NULL, err, "invalid image `%s`", image ? image : "");
    char **v = argv_new(c);
    push2(&v, "pull", "--");
    pod_strv_push(&v, image);
    return v;
}

char **podman_argv_image_exists(const struct podman_argv_ctx *c, const char *image,
                                struct pod_err *err)
{
    if (bad_operand(image))
        return fail(NULL, err, "invalid image `%s`", image ? image : "");
    char **v = argv_new(c);
    push2(&v, "image", "exists");
    push2(&v, "--", image);
    return v;
}

static char **volume_verb(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                          const char *verb, struct pod_err *err)
{
    if (!vol || vol->type != SPEC_VOL_VOLUME)
        return fail(NULL, err, "not a podman volume%s", "");
    char *name = spec_volume_fullname(c->spec, vol);
    if (bad_operand(name)) {
        char **r = fail(NULL, err, "invalid volume name `%s`", name);
        free(name);
        return r;
    }
    char **v = argv_new(c);
    push2(&v, "volume", verb);
    if (strcmp(verb, "create") == 0) {
        pod_strv_push(&v, "--label");
        push_pod_label(&v, c->spec);
    } else if (strcmp(verb, "inspect") == 0) {
        push2(&v, "--format", "json");
    }
    pod_strv_push(&v, name);
    free(name);
    return v;
}

char **podman_argv_volume_create(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                 struct pod_err *err)
{
    return volume_verb(c, vol, "create", err);
}

char **podman_argv_volume_exists(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                 struct pod_err *err)
{
    return volume_verb(c, vol, "exists", err);
}

char **podman_argv_volume_inspect(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                                  struct pod_err *err)
{
    return volume_verb(c, vol, "inspect", err);
}

char **podman_argv_volume_rm(const struct podman_argv_ctx *c, const struct spec_volume *vol,
                             struct pod_err *err)
{
    return volume_verb(c, vol, "rm", err);
}

/* ------------------------------------------------------------------ helpers */

const char *podman_probe_host(const struct pod_spec *spec, size_t ctr, int host_port,
                              const char *host_interface)
{
    if (ctr < spec->n_containers) {
        const struct spec_container *k = &spec->containers[ctr];
        for (size_t j = 0; j < k->n_expose; j++) {
            const struct spec_expose *e = &k->expose[j];
            if (e->host_port != host_port)
                continue;
            if (has_interface(e->host_interface))
                return e->host_interface;
            if (e->host_interface && e->host_interface[0])
                return "127.0.0.1"; /* 0.0.0.0: every interface, loopback included */
            if (!k->network_host && has_interface(host_interface))
                return host_interface;
            break;
        }
    }
    return "127.0.0.1";
}

bool podman_ctr_needs_agent(const struct pod_spec *spec, size_t ctr)
{
    if (ctr >= spec->n_containers)
        return false;
    const struct spec_container *k = &spec->containers[ctr];
    return k->signal_cmd || k->startup.kind == SPEC_PROBE_EXEC ||
           k->readiness.kind == SPEC_PROBE_EXEC || k->liveness.kind == SPEC_PROBE_EXEC;
}
