/* SPDX-License-Identifier: MIT */
/* spec_validate_containers.c - the validator's `containers[]` (SPEC.md 4.3 and the per
 * container extensions of section 5): name, image, command/args, workingDir, env, restart,
 * signal, mounts, network and kind, stopTimeout, restartBackoff, and the rules of each kind.
 * Probes and expose have files of their own.  PURE: no I/O headers.
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const container_keys[] = {
    "name",    "image",   "command", "args",         "workingDir",     "env",
    "restart", "signal",  "mounts",  "startupProbe", "readinessProbe", "livenessProbe",
    "expose",  "network", "kind",    "stopTimeout",  "restartBackoff", "warmStandby",
    NULL};

static const char *const linux_signals[] = {
    "HUP",    "INT",  "QUIT",  "ILL",  "TRAP", "ABRT", "IOT",  "BUS",    "FPE",
    "KILL",   "USR1", "SEGV",  "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",
    "CLD",    "CONT", "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU",   "XFSZ",
    "VTALRM", "PROF", "WINCH", "IO",   "POLL", "PWR",  "SYS",  NULL};

/* Normalises a signal name (case-insensitive, optional SIG prefix); new string or NULL. */
static char *norm_signal(const char *s)
{
    char buf[16];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    const char *b = buf;
    if (strncmp(b, "SIG", 3) == 0)
        b += 3;
    for (const char *const *p = linux_signals; *p; p++)
        if (strcmp(*p, b) == 0)
            return xstrdup(b);
    return NULL;
}

static bool valid_image(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 4096)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '/' || c == ':' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ restart, backoff */

static void v_restart(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    char *r = NULL;
    const struct snode *rn = val_str(v, cn, cp, "restart", false, &r);
    if (!rn)
        return;
    long long x;
    if (!strcmp(r, "always"))
        c->restart = SPEC_RESTART_ALWAYS;
    else if (!strcmp(r, "on-config"))
        c->restart = SPEC_RESTART_ON_CONFIG;
    else if (!strcmp(r, "on-failure"))
        c->restart = SPEC_RESTART_ON_FAILURE;
    else if (!strcmp(r, "never"))
        c->restart = SPEC_RESTART_NEVER;
    else if (strncmp(r, "on-interval:", 12) != 0)
        ERR_KEY(v, rn, cp, "restart",
                "expected always|on-config|on-interval:SECONDS|on-failure|never, got `%s`", r);
    else if (!pod_parse_int(r + 12, 1, 31536000, &x))
        ERR_KEY(v, rn, cp, "restart",
                "on-interval needs seconds from 1 to 31536000, e.g. on-interval:60");
    else {
        c->restart = SPEC_RESTART_ON_INTERVAL;
        c->restart_interval_s = (int)x;
    }
    free(r);
}

/* Extension restartBackoff, in seconds in the pod.yaml, in milliseconds in the model. */
static void v_backoff(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    struct spec_backoff *b = &c->backoff;
    int initial_s = b->initial_ms / 1000, max_s = b->max_ms / 1000;
    const struct snode *bn = val_map(v, cn, cp, "restartBackoff");
    if (bn) {
        char *backoff_path = val_path_key(cp, "restartBackoff");
        static const char *const known[] = {"initialSeconds", "maxSeconds",          "resetSeconds",
                                            "giveUpCount",    "giveUpWindowSeconds", NULL};
        val_check_keys(v, bn, backoff_path, known);
        val_int(v, bn, backoff_path, "initialSeconds", 0, 3600, false, &initial_s);
        val_int(v, bn, backoff_path, "maxSeconds", 1, 86400, false, &max_s);
        val_int(v, bn, backoff_path, "resetSeconds", 1, 86400, false, &b->reset_s);
        val_int(v, bn, backoff_path, "giveUpCount", 0, 1000000, false, &b->give_up_count);
        val_int(v, bn, backoff_path, "giveUpWindowSeconds", 1, 86400, false, &b->give_up_window_s);
        if (max_s < initial_s)
            ERR(v, bn, backoff_path, "maxSeconds (%d) must not be smaller than initialSeconds (%d)",
                max_s, initial_s);
        free(backoff_path);
    }
    b->initial_ms = initial_s * 1000;
    b->max_ms = max_s * 1000;
}

/* ------------------------------------------------------------------ signal */

struct signal_list {
    struct spec_container *c;
    const struct snode *first; /* the item that defined the signal */
};

/* sig: NAME */
static void v_signal_sig(struct vctx *v, const struct snode *it, const char *ip,
                         struct spec_container *c)
{
    char *name = NULL;
    if (val_str(v, it, ip, "sig", false, &name)) {
        c->signal_sig = norm_signal(name);
        if (!c->signal_sig)
            ERR_KEY(v, val_get(it, "sig"), ip, "sig",
                    "unknown signal `%s` (use a Linux signal name such as HUP, USR1, TERM, "
                    "with or without SIG)",
                    name);
    }
    free(name);
}

/* cmd: [...] */
static void v_signal_cmd(struct vctx *v, const struct snode *it, const char *ip,
                         struct spec_container *c)
{
    const struct snode *cmd = val_get(it, "cmd");
    if (!val_strv(v, it, ip, "cmd", &c->signal_cmd) && cmd->type == SNODE_SEQ)
        ERR_KEY(v, cmd, ip, "cmd", "must not be empty");
}

static void v_signal_item(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    struct signal_list *sl = self;
    static const char *const known[] = {"sig", "cmd", NULL};
    val_check_keys(v, it, ip, known);
    const struct snode *sig = val_get(it, "sig"), *cmd = val_get(it, "cmd");
    if ((sig || cmd) && sl->first) {
        ERR(v, it, ip,
            "only one signal can be defined (sig and cmd are mutually exclusive; first at "
            "line %d)",
            sl->first->line);
        return;
    }
    if (sig || cmd)
        sl->first = it;
    if (sig && cmd)
        ERR(v, it, ip, "sig and cmd are mutually exclusive");
    else if (sig)
        v_signal_sig(v, it, ip, sl->c);
    else if (cmd)
        v_signal_cmd(v, it, ip, sl->c);
    else
        ERR(v, it, ip, "expected `sig: NAME` or `cmd: [...]`");
}

static void v_signal(struct vctx *v, const struct snode *cn, const char *cp,
                     struct spec_container *c)
{
    const struct snode *l = val_seq(v, cn, cp, "signal", "`sig: NAME` or `cmd: [...]` items");
    if (!l)
        return;
    struct signal_list sl = {c, NULL};
    val_each_mapping(v, l, cp, "signal", "`sig: NAME` or `cmd: [...]`", v_signal_item, &sl);
}

/* ------------------------------------------------------------------ mounts */

/* dest: absolute, no podman separators, not mounted twice in this container. */
static bool v_mount_dest(struct vctx *v, const struct snode *dn, const char *ip,
                         const struct spec_container *c, const char *dest)
{
    const char *why = val_bad_mount_path(dest, true);
    if (why) {
        ERR_KEY(v, dn, ip, "dest", "%s", why);
        return false;
    }
    bool ok = true;
    for (size_t j = 0; j < c->n_mounts; j++)
        if (!strcmp(c->mounts[j].dest, dest)) {
            ERR_KEY(v, dn, ip, "dest", "`%s` is mounted twice in this container", dest);
            ok = false;
        }
    return ok;
}

static void v_mount(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    struct spec_container *c = self;
    static const char *const known[] = {"dest", "volume", NULL};
    val_check_keys(v, it, ip, known);
    struct spec_mount m = {0};
    const struct snode *dn = val_str(v, it, ip, "dest", true, &m.dest);
    const struct snode *vn = val_str(v, it, ip, "volume", true, &m.volume);
    bool ok = dn && vn;
    if (dn && !v_mount_dest(v, dn, ip, c, m.dest))
        ok = false;
    if (vn && !spec_find_volume(v->s, m.volume)) {
        ERR_KEY(v, vn, ip, "volume", "no volume named `%s` is declared under volumes", m.volume);
        ok = false;
    }
    if (ok) {
        c->mounts[c->n_mounts++] = m;
    } else {
        free(m.dest);
        free(m.volume);
    }
}

static void v_mounts(struct vctx *v, const struct snode *cn, const char *cp,
                     struct spec_container *c)
{
    const struct snode *l = val_seq(v, cn, cp, "mounts", "`dest`/`volume` mappings");
    if (!l)
        return;
    c->mounts = xcalloc(l->n, sizeof *c->mounts);
    val_each_mapping(v, l, cp, "mounts", "a mapping with dest and volume", v_mount, c);
}

/* ------------------------------------------------------------------ one container */

/* name: the name rule, unique in the pod (earlier containers only). */
static void v_name(struct vctx *v, const struct snode *cn, const char *cp, struct spec_container *c)
{
    const struct snode *nn = val_str(v, cn, cp, "name", true, &c->name);
    if (!nn)
        return;
    if (!spec_valid_name(c->name))
        ERR_KEY(v, nn, cp, "name",
                "invalid container name `%s` (lowercase letters, digits and _, starting with a "
                "letter, not ending with _)",
                c->name);
    else if (spec_find_container(v->s, c->name) >= 0)
        ERR_KEY(v, nn, cp, "name", "duplicate container name `%s`", c->name);
}

/* Extension kind: main | init | sidecar. */
static void v_kind(struct vctx *v, const struct snode *cn, const char *cp, struct spec_container *c)
{
    static const struct val_choice kinds[] = {
        {"main", SPEC_CTR_MAIN}, {"init", SPEC_CTR_INIT}, {"sidecar", SPEC_CTR_SIDECAR}};
    int kind;
    if (val_choice(v, cn, cp, "kind", false, kinds, 3, &kind))
        c->kind = (enum spec_ctr_kind)kind;
}

/* image, command, args, workingDir */
static void v_process(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    const struct snode *in = val_str(v, cn, cp, "image", true, &c->image);
    if (in && !valid_image(c->image))
        ERR_KEY(v, in, cp, "image",
                "invalid image `%s` (letters, digits and . _ / : @ -, starting with a letter or "
                "digit)",
                c->image);
    val_strv(v, cn, cp, "command", &c->command);
    val_strv(v, cn, cp, "args", &c->args);
    const struct snode *wn = val_str(v, cn, cp, "workingDir", false, &c->working_dir);
    if (wn && c->working_dir[0] != '/')
        ERR_KEY(v, wn, cp, "workingDir", "must be an absolute path");
}

static void v_network(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    char *net = NULL;
    const struct snode *netn = val_str(v, cn, cp, "network", false, &net);
    if (netn) {
        if (!strcmp(net, "host"))
            c->network_host = true;
        else
            ERR_KEY(v, netn, cp, "network",
                    "expected host (or omit it for the default network), got `%s`", net);
    }
    free(net);
}

/* An init container runs to completion (restart never|on-failure, no probes, no expose); a
 * sidecar runs for the pod's lifetime (no startupProbe.exit). */
static void v_kind_rules(struct vctx *v, const struct snode *cn, const char *cp,
                         const struct spec_container *c)
{
    if (c->kind == SPEC_CTR_INIT) {
        if (c->restart != SPEC_RESTART_NEVER && c->restart != SPEC_RESTART_ON_FAILURE)
            ERR_KEY(v, val_get(cn, "restart"), cp, "restart",
                    "an init container runs to completion: restart must be never or on-failure");
        static const char *const no_init[] = {"startupProbe", "readinessProbe", "livenessProbe",
                                              "expose", NULL};
        for (const char *const *k = no_init; *k; k++)
            if (val_get(cn, *k))
                ERR(v, val_key_node(cn, *k), cp, "`%s` is not allowed on an init container", *k);
    } else if (c->kind == SPEC_CTR_SIDECAR && c->startup.kind == SPEC_PROBE_EXIT) {
        ERR(v, val_key_node(val_get(cn, "startupProbe"), "exit"), cp,
            "a sidecar runs for the pod's lifetime: startupProbe.exit: true is not allowed");
    }
}

static void v_container(struct vctx *v, const struct snode *cn, const char *cp,
                        struct spec_container *c)
{
    spec_defaults_container(c);
    val_check_keys(v, cn, cp, container_keys);
    c->line = cn->line;
    c->col = cn->col;
    v_name(v, cn, cp, c);
    v_kind(v, cn, cp, c);
    v_process(v, cn, cp, c);
    val_kvlist(v, cn, cp, "env", false, &c->env, &c->n_env);
    v_restart(v, cn, cp, c);
    v_signal(v, cn, cp, c);
    v_mounts(v, cn, cp, c);
    v_network(v, cn, cp, c);
    val_expose(v, cn, cp, c->network_host ? EXPOSE_HOSTNET : EXPOSE_PODMAN, &c->expose,
               &c->n_expose);
    val_probe(v, cn, cp, PROBE_STARTUP, c, &c->startup);
    val_probe(v, cn, cp, PROBE_READINESS, c, &c->readiness);
    val_probe(v, cn, cp, PROBE_LIVENESS, c, &c->liveness);
    val_int(v, cn, cp, "stopTimeout", 0, 3600, false, &c->stop_timeout_s);
    val_bool(v, cn, cp, "warmStandby", &c->warm_standby);
    v_backoff(v, cn, cp, c);
    v_kind_rules(v, cn, cp, c);
}

static void v_container_item(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    (void)self;
    struct pod_spec *s = v->s;
    /* count it after validating it, so that the duplicate-name check sees earlier ones only */
    v_container(v, it, ip, &s->containers[s->n_containers]);
    s->n_containers++;
}

void val_containers(struct vctx *v, const struct snode *root)
{
    const struct snode *l = val_seq(v, root, "", "containers", "container mappings");
    if (!l) {
        if (!val_get(root, "containers"))
            ERR(v, snode_get(root, "containers") ? val_key_node(root, "containers") : root,
                "containers", "a podman pod needs at least one container");
        return;
    }
    if (l->n == 0)
        ERR(v, l, "containers", "a podman pod needs at least one container");
    v->s->containers = xcalloc(l->n ? l->n : 1, sizeof *v->s->containers);
    val_each_mapping(v, l, "", "containers", "a container mapping", v_container_item, NULL);
}
