/* SPDX-License-Identifier: MIT */
/* spec_model.c - the plain-data side of the spec module: diagnostics, the line map, spec_free,
 * enum names, derived names, look-ups and the canonical dump.
 *
 * Pure: no I/O.  Every string in the model is owned by the struct holding it.
 */
#include "pod/spec.h"
#include "pod/util.h"
#include "spec_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ diagnostics */

static void diag_vadd(struct spec_diags *d, const char *file, enum spec_sev sev, int line, int col,
                      const char *path, const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    struct spec_diag *dg = &d->v[d->n++];
    memset(dg, 0, sizeof *dg);
    dg->sev = sev;
    dg->line = line;
    dg->col = col;
    dg->path = xstrdup(path ? path : "");
    dg->file = file ? xstrdup(file) : NULL;
    struct pod_buf b = {0};
    pod_buf_vprintf(&b, fmt, ap);
    dg->msg = pod_buf_take(&b);
    if (sev == SPEC_SEV_ERROR)
        d->n_errors++;
    else
        d->n_warnings++;
}

void spec_diag_vadd(struct spec_diags *d, enum spec_sev sev, int line, int col, const char *path,
                    const char *fmt, va_list ap)
{
    diag_vadd(d, NULL, sev, line, col, path, fmt, ap);
}

void spec_diag_add(struct spec_diags *d, enum spec_sev sev, int line, int col, const char *path,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, NULL, sev, line, col, path, fmt, ap);
    va_end(ap);
}

void spec_diag_add_file(struct spec_diags *d, const char *file, enum spec_sev sev, int line,
                        int col, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, file, sev, line, col, path, fmt, ap);
    va_end(ap);
}

static int diag_before(const struct spec_diag *a, const struct spec_diag *b)
{
    int fa = a->file != NULL, fb = b->file != NULL;
    if (fa != fb)
        return fa > fb;
    if (fa)
        return 0; /* other files keep their order */
    if (a->line != b->line)
        return a->line < b->line;
    return a->col < b->col;
}

void spec_diags_sort(struct spec_diags *d)
{
    /* insertion sort: stable, and diagnostic lists are short */
    for (size_t i = 1; i < d->n; i++) {
        struct spec_diag t = d->v[i];
        size_t j = i;
        while (j > 0 && diag_before(&t, &d->v[j - 1])) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = t;
    }
}

/* Is there an error about the spec's own file on line among the first n diagnostics? */
static bool error_on_line(const struct spec_diags *d, size_t n, int line)
{
    for (size_t i = 0; line > 0 && i < n; i++)
        if (d->v[i].sev == SPEC_SEV_ERROR && !d->v[i].file && d->v[i].line == line)
            return true;
    return false;
}

static void diag_release(struct spec_diag *dg)
{
    free(dg->path);
    free(dg->msg);
    free(dg->file);
}

void spec_diags_drop_followups(struct spec_diags *d, size_t from)
{
    size_t kept = from;
    for (size_t i = from; i < d->n; i++) {
        struct spec_diag *dg = &d->v[i];
        if (!error_on_line(d, from, dg->line)) {
            d->v[kept++] = *dg;
            continue;
        }
        if (dg->sev == SPEC_SEV_ERROR)
            d->n_errors--;
        else
            d->n_warnings--;
        diag_release(dg);
    }
    d->n = kept;
}

char *spec_diag_format(const char *file, const struct spec_diag *dg)
{
    struct pod_buf b = {0};
    const char *f = dg->file ? dg->file : (file ? file : "pod.yaml");
    if (dg->line > 0)
        pod_buf_printf(&b, "%s:%d:%d: ", f, dg->line, dg->col);
    else
        pod_buf_printf(&b, "%s: ", f);
    pod_buf_adds(&b, dg->sev == SPEC_SEV_ERROR ? "error: " : "warning: ");
    if (dg->path && *dg->path)
        pod_buf_printf(&b, "%s: ", dg->path);
    pod_buf_adds(&b, dg->msg ? dg->msg : "");
    return pod_buf_take(&b);
}

void spec_diags_free(struct spec_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        diag_release(&d->v[i]);
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ line map */

struct map_span {
    int out_col, src_col;
    bool literal;
};

struct map_line {
    int src_line;
    struct map_span *spans; /* NULL = columns unchanged */
    size_t n_spans, cap_spans;
};

struct spec_line_map {
    struct map_line *lines;
    size_t n, cap;
};

struct spec_line_map *spec_line_map_new(void)
{
    return xcalloc(1, sizeof(struct spec_line_map));
}

void spec_line_map_free(struct spec_line_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->lines[i].spans);
    free(m->lines);
    free(m);
}

void spec_line_map_add_line(struct spec_line_map *m, int src_line)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->lines = xrealloc(m->lines, m->cap * sizeof *m->lines);
    }
    struct map_line *l = &m->lines[m->n++];
    memset(l, 0, sizeof *l);
    l->src_line = src_line;
}

void spec_line_map_add_span(struct spec_line_map *m, int out_col, int src_col, bool literal)
{
    if (m->n == 0)
        spec_line_map_add_line(m, 1);
    struct map_line *l = &m->lines[m->n - 1];
    if (l->n_spans == l->cap_spans) {
        l->cap_spans = l->cap_spans ? l->cap_spans * 2 : 4;
        l->spans = xrealloc(l->spans, l->cap_spans * sizeof *l->spans);
    }
    l->spans[l->n_spans++] = (struct map_span){out_col, src_col, literal};
}

void spec_map_pos(const struct spec_line_map *m, int line, int col, int *src_line, int *src_col)
{
    *src_line = line;
    *src_col = col;
    if (!m || line <= 0)
        return;
    if (m->n == 0)
        return;
    if ((size_t)line > m->n) {
        /* past the end (e.g. end-of-input marks): continue after the last line */
        *src_line = m->lines[m->n - 1].src_line + (line - (int)m->n);
        return;
    }
    const struct map_line *l = &m->lines[line - 1];
    *src_line = l->src_line;
    /* the last span starting at or before col (binary search: a line may hold many
     * substitutions) */
    size_t lo = 0, hi = l->n_spans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->spans[mid].out_col <= col)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return;
    const struct map_span *sp = &l->spans[lo - 1];
    *src_col = sp->literal ? sp->src_col + (col - sp->out_col) : sp->src_col;
}

/* ------------------------------------------------------------------ free */

static void kv_free(struct spec_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static void probe_free(struct spec_probe *p)
{
    pod_strv_free(p->cmd);
    free(p->http_path);
    pod_strv_free(p->signal_targets);
}

static void expose_free(struct spec_expose *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].host_interface);
        for (size_t j = 0; j < e[i].n_ingress; j++) {
            struct spec_ingress *r = &e[i].ingress[j];
            free(r->protocol);
            free(r->domain);
            free(r->path);
            free(r->path_beg);
            free(r->path_end);
            free(r->redirect_location);
            free(r->redirect_prefix);
            free(r->errorfile);
        }
        free(e[i].ingress);
    }
    free(e);
}

void spec_free(struct pod_spec *s)
{
    if (!s)
        return;
    free(s->api);
    free(s->name);
    free(s->version);
    kv_free(s->labels, s->n_labels);
    for (size_t i = 0; i < s->n_volumes; i++) {
        free(s->volumes[i].name);
        free(s->volumes[i].size);
        free(s->volumes[i].bind);
    }
    free(s->volumes);
    for (size_t i = 0; i < s->n_containers; i++) {
        struct spec_container *c = &s->containers[i];
        free(c->name);
        free(c->image);
        pod_strv_free(c->command);
        pod_strv_free(c->args);
        free(c->working_dir);
        kv_free(c->env, c->n_env);
        free(c->signal_sig);
        pod_strv_free(c->signal_cmd);
        for (size_t j = 0; j < c->n_mounts; j++) {
            free(c->mounts[j].dest);
            free(c->mounts[j].volume);
        }
        free(c->mounts);
        probe_free(&c->startup);
        probe_free(&c->readiness);
        probe_free(&c->liveness);
        expose_free(c->expose, c->n_expose);
    }
    free(s->containers);
    free(s->exec_file);
    expose_free(s->exec_expose, s->n_exec_expose);
    free(s);
}

/* ------------------------------------------------------------------ names */

const char *spec_restart_name(enum spec_restart r)
{
    switch (r) {
    case SPEC_RESTART_NEVER:
        return "never";
    case SPEC_RESTART_ALWAYS:
        return "always";
    case SPEC_RESTART_ON_CONFIG:
        return "on-config";
    case SPEC_RESTART_ON_INTERVAL:
        return "on-interval";
    case SPEC_RESTART_ON_FAILURE:
        return "on-failure";
    }
    return "?";
}

const char *spec_vol_type_name(enum spec_vol_type t)
{
    switch (t) {
    case SPEC_VOL_VOLUME:
        return "volume";
    case SPEC_VOL_RAMDISK:
        return "ramdisk";
    case SPEC_VOL_CONFIG:
        return "config";
    case SPEC_VOL_HOST:
        return "host";
    }
    return "?";
}

const char *spec_shared_name(enum spec_shared s)
{
    switch (s) {
    case SPEC_SHARED_NO:
        return "no";
    case SPEC_SHARED_POD:
        return "pod";
    case SPEC_SHARED_HOST:
        return "host";
    }
    return "?";
}

const char *spec_ctr_kind_name(enum spec_ctr_kind k)
{
    switch (k) {
    case SPEC_CTR_MAIN:
        return "main";
    case SPEC_CTR_INIT:
        return "init";
    case SPEC_CTR_SIDECAR:
        return "sidecar";
    }
    return "?";
}

const char *spec_probe_kind_name(enum spec_probe_kind k)
{
    switch (k) {
    case SPEC_PROBE_NONE:
        return "none";
    case SPEC_PROBE_EXEC:
        return "exec";
    case SPEC_PROBE_EXIT:
        return "exit";
    case SPEC_PROBE_TCP:
        return "tcp";
    case SPEC_PROBE_HTTP:
        return "http";
    }
    return "?";
}

char *spec_pod_fullname(const struct pod_spec *s)
{
    return xasprintf("%s-%s", s->name ? s->name : "", s->version ? s->version : "");
}

char *spec_container_fullname(const struct pod_spec *s, size_t i)
{
    const char *c = i < s->n_containers && s->containers[i].name ? s->containers[i].name : "";
    return xasprintf("%s-%s-%s", c, s->name ? s->name : "", s->version ? s->version : "");
}

bool spec_container_warm(const struct spec_container *c)
{
    return c->warm_standby && c->restart != SPEC_RESTART_NEVER && !c->network_host;
}

char *spec_volume_fullname(const struct pod_spec *s, const struct spec_volume *v)
{
    const char *n = v->name ? v->name : "";
    if (v->type != SPEC_VOL_VOLUME)
        return xstrdup(n);
    switch (v->shared) {
    case SPEC_SHARED_POD:
        return xasprintf("%s-%s", n, s->name ? s->name : "");
    case SPEC_SHARED_HOST:
        return xstrdup(n);
    case SPEC_SHARED_NO:
        break;
    }
    return xasprintf("%s-%s-%s", n, s->name ? s->name : "", s->version ? s->version : "");
}

const struct spec_volume *spec_find_volume(const struct pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        if (s->volumes[i].name && strcmp(s->volumes[i].name, name) == 0)
            return &s->volumes[i];
    return NULL;
}

int spec_find_container(const struct pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_containers; i++)
        if (s->containers[i].name && strcmp(s->containers[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool spec_valid_name(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = strlen(s);
    for (size_t i = 1; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '_')
            return false;
    return is_lower_alnum(s[n - 1]);
}

/* ------------------------------------------------------------------ dump */

static void dump_str(struct pod_buf *b, const char *key, const char *v)
{
    if (!v)
        return;
    pod_buf_printf(b, "%s: ", key);
    /* quote so that leading/trailing spaces and control characters stay visible */
    pod_buf_addc(b, '"');
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            pod_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            pod_buf_adds(b, "\\n");
        else if (c == '\t')
            pod_buf_adds(b, "\\t");
        else if (c < 0x20 || c == 0x7f)
            pod_buf_printf(b, "\\x%02x", c);
        else
            pod_buf_addc(b, (char)c);
    }
    pod_buf_adds(b, "\"\n");
}

static void dump_strv(struct pod_buf *b, const char *key, char *const *v)
{
    if (!v)
        return;
    if (!*v) {
        pod_buf_printf(b, "%s: []\n", key);
        return;
    }
    for (size_t i = 0; v[i]; i++) {
        char k[256];
        snprintf(k, sizeof k, "%s[%zu]", key, i);
        dump_str(b, k, v[i]);
    }
}

static void dump_expose(struct pod_buf *b, const char *pfx, const struct spec_expose *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[200], k[300];
        snprintf(p, sizeof p, "%s[%zu]", pfx, i);
        if (e[i].target_port)
            pod_buf_printf(b, "%s.targetPort: %d\n", p, e[i].target_port);
        if (e[i].host_port)
            pod_buf_printf(b, "%s.hostPort: %d\n", p, e[i].host_port);
        snprintf(k, sizeof k, "%s.hostInterface", p);
        dump_str(b, k, e[i].host_interface);
        if (e[i].cluster_port)
            pod_buf_printf(b, "%s.clusterPort: %d\n", p, e[i].cluster_port);
        pod_buf_printf(b, "%s.maxConn: %d\n", p, e[i].max_conn);
        pod_buf_printf(b, "%s.sendProxy: %s\n", p, e[i].send_proxy ? "true" : "false");
        for (size_t j = 0; j < e[i].n_ingress; j++) {
            const struct spec_ingress *r = &e[i].ingress[j];
            char q[260];
            snprintf(q, sizeof q, "%s.ingress[%zu]", p, j);
            snprintf(k, sizeof k, "%s.protocol", q);
            dump_str(b, k, r->protocol);
            pod_buf_printf(b, "%s.bind: %d\n", q, r->bind);
            snprintf(k, sizeof k, "%s.domain", q);
            dump_str(b, k, r->domain);
            pod_buf_printf(b, "%s.weight: %d\n", q, r->weight);
            snprintf(k, sizeof k, "%s.path", q);
            dump_str(b, k, r->path);
            snprintf(k, sizeof k, "%s.pathBeg", q);
            dump_str(b, k, r->path_beg);
            snprintf(k, sizeof k, "%s.pathEnd", q);
            dump_str(b, k, r->path_end);
            if (r->redirect_to_https)
                pod_buf_printf(b, "%s.redirectToHttps: true\n", q);
            snprintf(k, sizeof k, "%s.redirectLocation", q);
            dump_str(b, k, r->redirect_location);
            snprintf(k, sizeof k, "%s.redirectPrefix", q);
            dump_str(b, k, r->redirect_prefix);
            snprintf(k, sizeof k, "%s.errorfile", q);
            dump_str(b, k, r->errorfile);
        }
    }
}

static void dump_probe(struct pod_buf *b, const char *pfx, const struct spec_probe *p)
{
    char k[300];
    pod_buf_printf(b, "%s.kind: %s\n", pfx, spec_probe_kind_name(p->kind));
    snprintf(k, sizeof k, "%s.cmd", pfx);
    dump_strv(b, k, p->cmd);
    if (p->kind == SPEC_PROBE_TCP || p->kind == SPEC_PROBE_HTTP)
        pod_buf_printf(b, "%s.port: %d -> hostPort %d\n", pfx, p->port, p->host_port);
    snprintf(k, sizeof k, "%s.httpPath", pfx);
    dump_str(b, k, p->http_path);
    pod_buf_printf(b,
                   "%s.timing: timeout=%d initialDelay=%d period=%d attemptTimeout=%d "
                   "success=%d failure=%d\n",
                   pfx, p->timeout_s, p->initial_delay_s, p->period_s, p->attempt_timeout_s,
                   p->success_threshold, p->failure_threshold);
    snprintf(k, sizeof k, "%s.signal", pfx);
    dump_strv(b, k, p->signal_targets);
}

char *spec_dump(const struct pod_spec *s)
{
    struct pod_buf b = {0};
    dump_str(&b, "api", s->api);
    pod_buf_printf(&b, "runtime: %s\n",
                   s->runtime == SPEC_RUNTIME_EXECUTABLE ? "executable" : "podman");
    dump_str(&b, "name", s->name);
    dump_str(&b, "podVersion", s->version);
    for (size_t i = 0; i < s->n_labels; i++) {
        char k[64];
        snprintf(k, sizeof k, "labels[%zu].%s", i, s->labels[i].name);
        dump_str(&b, k, s->labels[i].value);
    }
    pod_buf_printf(&b, "configDebounceMs: %d\n", s->config_debounce_ms);
    pod_buf_printf(&b, "logs: maxBytes=%lld maxFiles=%d\n", (long long)s->logs.max_bytes,
                   s->logs.max_files);
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct spec_volume *v = &s->volumes[i];
        char *full = spec_volume_fullname(s, v);
        pod_buf_printf(&b, "volumes[%zu]: %s type=%s fullname=%s", i, v->name,
                       spec_vol_type_name(v->type), full);
        free(full);
        if (v->type == SPEC_VOL_RAMDISK)
            pod_buf_printf(&b, " size=%s", v->size);
        if (v->type == SPEC_VOL_VOLUME)
            pod_buf_printf(&b, " shared=%s", spec_shared_name(v->shared));
        if (v->type == SPEC_VOL_HOST)
            pod_buf_printf(&b, " bind=%s", v->bind);
        pod_buf_addc(&b, '\n');
    }
    for (size_t i = 0; i < s->n_containers; i++) {
        const struct spec_container *c = &s->containers[i];
        char p[64], k[200];
        snprintf(p, sizeof p, "containers[%zu]", i);
        char *full = spec_container_fullname(s, i);
        pod_buf_printf(&b, "%s: %s fullname=%s kind=%s\n", p, c->name, full,
                       spec_ctr_kind_name(c->kind));
        free(full);
        snprintf(k, sizeof k, "%s.image", p);
        dump_str(&b, k, c->image);
        snprintf(k, sizeof k, "%s.command", p);
        dump_strv(&b, k, c->command);
        snprintf(k, sizeof k, "%s.args", p);
        dump_strv(&b, k, c->args);
        snprintf(k, sizeof k, "%s.workingDir", p);
        dump_str(&b, k, c->working_dir);
        for (size_t j = 0; j < c->n_env; j++) {
            snprintf(k, sizeof k, "%s.env.%s", p, c->env[j].name);
            dump_str(&b, k, c->env[j].value);
        }
        pod_buf_printf(&b, "%s.restart: %s", p, spec_restart_name(c->restart));
        if (c->restart == SPEC_RESTART_ON_INTERVAL)
            pod_buf_printf(&b, ":%d", c->restart_interval_s);
        pod_buf_addc(&b, '\n');
        snprintf(k, sizeof k, "%s.signal.sig", p);
        dump_str(&b, k, c->signal_sig);
        snprintf(k, sizeof k, "%s.signal.cmd", p);
        dump_strv(&b, k, c->signal_cmd);
        for (size_t j = 0; j < c->n_mounts; j++)
            pod_buf_printf(&b, "%s.mounts[%zu]: %s <- %s\n", p, j, c->mounts[j].dest,
                           c->mounts[j].volume);
        if (c->startup.kind != SPEC_PROBE_NONE || c->startup.signal_targets) {
            snprintf(k, sizeof k, "%s.startupProbe", p);
            dump_probe(&b, k, &c->startup);
        }
        if (c->readiness.kind != SPEC_PROBE_NONE) {
            snprintf(k, sizeof k, "%s.readinessProbe", p);
            dump_probe(&b, k, &c->readiness);
        }
        if (c->liveness.kind != SPEC_PROBE_NONE) {
            snprintf(k, sizeof k, "%s.livenessProbe", p);
            dump_probe(&b, k, &c->liveness);
        }
        snprintf(k, sizeof k, "%s.expose", p);
        dump_expose(&b, k, c->expose, c->n_expose);
        if (c->network_host)
            pod_buf_printf(&b, "%s.network: host\n", p);
        pod_buf_printf(&b, "%s.stopTimeout: %d\n", p, c->stop_timeout_s);
        if (c->warm_standby)
            pod_buf_printf(&b, "%s.warmStandby: true\n", p);
        pod_buf_printf(&b,
                       "%s.restartBackoff: initialMs=%d maxMs=%d resetS=%d giveUpCount=%d "
                       "giveUpWindowS=%d\n",
                       p, c->backoff.initial_ms, c->backoff.max_ms, c->backoff.reset_s,
                       c->backoff.give_up_count, c->backoff.give_up_window_s);
    }
    dump_str(&b, "executable.file", s->exec_file);
    dump_expose(&b, "executable.expose", s->exec_expose, s->n_exec_expose);
    return pod_buf_take(&b);
}
