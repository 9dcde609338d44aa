/* SPDX-License-Identifier: MIT */
/* emit_json.c - struct pod_spec <-> canonical JSON (the payload embedded in a pod executable).
 *
 * Every field of the model is written, with the C field name as the key, sorted keys and no
 * whitespace, so the same spec always gives the same bytes.  The reader is strict: a missing
 * field, a field of the wrong type, an unknown field or another payload format version is an
 * error naming the field (a pod built by another podc version must not run half-understood).
 * When struct pod_spec changes, both directions here and tests/test_emit.c change with it.
 * Pure: no I/O.  Every json_t has one owner and is released on every path.
 */
#include "pod/emit.h"
#include "pod/util.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PAYLOAD_FORMAT 1

/* ------------------------------------------------------------------ enum names */

struct enum_name {
    int value;
    const char *name;
};

static const struct enum_name runtime_names[] = {
    {SPEC_RUNTIME_PODMAN, "podman"}, {SPEC_RUNTIME_EXECUTABLE, "executable"}, {0, NULL}};
static const struct enum_name vol_type_names[] = {{SPEC_VOL_VOLUME, "volume"},
                                                  {SPEC_VOL_RAMDISK, "ramdisk"},
                                                  {SPEC_VOL_CONFIG, "config"},
                                                  {SPEC_VOL_HOST, "host"},
                                                  {0, NULL}};
static const struct enum_name shared_names[] = {
    {SPEC_SHARED_NO, "no"}, {SPEC_SHARED_POD, "pod"}, {SPEC_SHARED_HOST, "host"}, {0, NULL}};
static const struct enum_name restart_names[] = {
    {SPEC_RESTART_NEVER, "never"},           {SPEC_RESTART_ALWAYS, "always"},
    {SPEC_RESTART_ON_CONFIG, "on-config"},   {SPEC_RESTART_ON_INTERVAL, "on-interval"},
    {SPEC_RESTART_ON_FAILURE, "on-failure"}, {0, NULL}};
static const struct enum_name kind_names[] = {
    {SPEC_CTR_MAIN, "main"}, {SPEC_CTR_INIT, "init"}, {SPEC_CTR_SIDECAR, "sidecar"}, {0, NULL}};
static const struct enum_name probe_names[] = {{SPEC_PROBE_NONE, "none"}, {SPEC_PROBE_EXEC, "exec"},
                                               {SPEC_PROBE_EXIT, "exit"}, {SPEC_PROBE_TCP, "tcp"},
                                               {SPEC_PROBE_HTTP, "http"}, {0, NULL}};

static json_t *j_enum(const struct enum_name *t, int v)
{
    for (; t->name; t++)
        if (t->value == v)
            return json_string(t->name);
    return json_integer(v); /* out of range: the reader rejects it */
}

/* ================================================================== writer */

static json_t *j_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (!j) /* not UTF-8: libyaml only produces UTF-8, so this cannot come from a pod.yaml */
        j = json_string_nocheck(s);
    return j;
}

static json_t *j_strv(char *const *v)
{
    if (!v)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; v[i]; i++)
        json_array_append_new(a, j_str(v[i]));
    return a;
}

static json_t *j_kvs(const struct spec_kv *kv, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:o,s:o}", "name", j_str(kv[i].name), "value", j_str(kv[i].value)));
    return a;
}

#define SET(o, k, v) json_object_set_new_nocheck((o), (k), (v))

static json_t *j_ingress(const struct spec_ingress *g)
{
    json_t *o = json_object();
    SET(o, "protocol", j_str(g->protocol));
    SET(o, "bind", json_integer(g->bind));
    SET(o, "domain", j_str(g->domain));
    SET(o, "weight", json_integer(g->weight));
    SET(o, "path", j_str(g->path));
    SET(o, "path_beg", j_str(g->path_beg));
    SET(o, "path_end", j_str(g->path_end));
    SET(o, "redirect_to_https", json_boolean(g->redirect_to_https));
    SET(o, "redirect_location", j_str(g->redirect_location));
    SET(o, "redirect_prefix", j_str(g->redirect_prefix));
    SET(o, "errorfile", j_str(g->errorfile));
    return o;
}

static json_t *j_exposes(const struct spec_expose *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        SET(o, "target_port", json_integer(x[i].target_port));
        SET(o, "host_port", json_integer(x[i].host_port));
        SET(o, "host_interface", j_str(x[i].host_interface));
        SET(o, "cluster_port", json_integer(x[i].cluster_port));
        SET(o, "max_conn", json_integer(x[i].max_conn));
        SET(o, "send_proxy", json_boolean(x[i].send_proxy));
        json_t *ga = json_array();
        for (size_t k = 0; k < x[i].n_ingress; k++)
            json_array_append_new(ga, j_ingress(&x[i].ingress[k]));
        SET(o, "ingress", ga);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *j_probe(const struct spec_probe *p)
{
    json_t *o = json_object();
    SET(o, "kind", j_enum(probe_names, p->kind));
    SET(o, "cmd", j_strv(p->cmd));
    SET(o, "timeout_s", json_integer(p->timeout_s));
    SET(o, "initial_delay_s", json_integer(p->initial_delay_s));
    SET(o, "period_s", json_integer(p->period_s));
    SET(o, "attempt_timeout_s", json_integer(p->attempt_timeout_s));
    SET(o, "success_threshold", json_integer(p->success_threshold));
    SET(o, "failure_threshold", json_integer(p->failure_threshold));
    SET(o, "port", json_integer(p->port));
    SET(o, "host_port", json_integer(p->host_port));
    SET(o, "http_path", j_str(p->http_path));
    SET(o, "signal_targets", j_strv(p->signal_targets));
    return o;
}

static json_t *j_container(const struct spec_container *c)
{
    json_t *o = json_object();
    SET(o, "name", j_str(c->name));
    SET(o, "kind", j_enum(kind_names, c->kind));
    SET(o, "image", j_str(c->image));
    SET(o, "command", j_strv(c->command));
    SET(o, "args", j_strv(c->args));
    SET(o, "working_dir", j_str(c->working_dir));
    SET(o, "env", j_kvs(c->env, c->n_env));
    SET(o, "restart", j_enum(restart_names, c->restart));
    SET(o, "restart_interval_s", json_integer(c->restart_interval_s));
    SET(o, "signal_sig", j_str(c->signal_sig));
    SET(o, "signal_cmd", j_strv(c->signal_cmd));
    json_t *ma = json_array();
    for (size_t i = 0; i < c->n_mounts; i++)
        json_array_append_new(ma, json_pack("{s:o,s:o}", "dest", j_str(c->mounts[i].dest), "volume",
                                            j_str(c->mounts[i].volume)));
    SET(o, "mounts", ma);
    SET(o, "startup", j_probe(&c->startup));
    SET(o, "readiness", j_probe(&c->readiness));
    SET(o, "liveness", j_probe(&c->liveness));
    SET(o, "expose", j_exposes(c->expose, c->n_expose));
    SET(o, "network_host", json_boolean(c->network_host));
    SET(o, "stop_timeout_s", json_integer(c->stop_timeout_s));
    if (c->warm_standby) /* (absent: false; payloads without it stay as they were) */
        SET(o, "warm_standby", json_true());
    json_t *b = json_object();
    SET(b, "initial_ms", json_integer(c->backoff.initial_ms));
    SET(b, "max_ms", json_integer(c->backoff.max_ms));
    SET(b, "reset_s", json_integer(c->backoff.reset_s));
    SET(b, "give_up_count", json_integer(c->backoff.give_up_count));
    SET(b, "give_up_window_s", json_integer(c->backoff.give_up_window_s));
    SET(o, "backoff", b);
    SET(o, "line", json_integer(c->line));
    SET(o, "col", json_integer(c->col));
    return o;
}

char *emit_spec_json(const struct pod_spec *s)
{
    json_t *o = json_object();
    SET(o, "payload_format", json_integer(PAYLOAD_FORMAT));
    SET(o, "api", j_str(s->api));
    SET(o, "runtime", j_enum(runtime_names, s->runtime));
    SET(o, "name", j_str(s->name));
    SET(o, "version", j_str(s->version));
    SET(o, "labels", j_kvs(s->labels, s->n_labels));
    json_t *va = json_array();
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct spec_volume *v = &s->volumes[i];
        json_t *vo = json_object();
        SET(vo, "name", j_str(v->name));
        SET(vo, "type", j_enum(vol_type_names, v->type));
        SET(vo, "size", j_str(v->size));
        SET(vo, "shared", j_enum(shared_names, v->shared));
        SET(vo, "encrypted", json_boolean(v->encrypted));
        SET(vo, "bind", j_str(v->bind));
        SET(vo, "line", json_integer(v->line));
        SET(vo, "col", json_integer(v->col));
        json_array_append_new(va, vo);
    }
    SET(o, "volumes", va);
    json_t *ca = json_array();
    for (size_t i = 0; i < s->n_containers; i++)
        json_array_append_new(ca, j_container(&s->containers[i]));
    SET(o, "containers", ca);
    SET(o, "exec_file", j_str(s->exec_file));
    SET(o, "exec_expose", j_exposes(s->exec_expose, s->n_exec_expose));
    SET(o, "config_debounce_ms", json_integer(s->config_debounce_ms));
    json_t *lo = json_object();
    SET(lo, "max_bytes", json_integer(s->logs.max_bytes));
    SET(lo, "max_files", json_integer(s->logs.max_files));
    SET(o, "logs", lo);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!txt) {
        fputs("fatal: out of memory (json_dumps)\n", stderr);
        abort();
    }
    char *r = xstrdup(txt);
    free(txt);
    return r;
}

/* ================================================================== reader */

/* The reader walks one object at a time; `used` counts the fields taken so that leftovers
 * (unknown fields) are detected.  The first problem sets err and makes every later call a
 * no-op, so the decoding code reads straight through without checks after each field. */
struct dec {
    struct pod_err *err;
    bool failed;
};

struct obj {
    json_t *o;
    char path[200];
    size_t used;
    const char *taken[40]; /* keys read so far (every object of the model has fewer) */
};

static void fail(struct dec *d, const char *path, const char *key, const char *what)
{
    if (d->failed)
        return;
    d->failed = true;
    pod_err_set(d->err, POD_E_CORRUPT, 0, "pod payload: %s%s%s: %s", path, *path ? "." : "", key,
                what);
}

static json_t *take(struct dec *d, struct obj *ob, const char *key)
{
    if (d->failed)
        return NULL;
    json_t *v = json_object_get(ob->o, key);
    if (!v) {
        fail(d, ob->path, key, "missing field (payload from a different podc version?)");
        return NULL;
    }
    if (ob->used < sizeof ob->taken / sizeof ob->taken[0])
        ob->taken[ob->used] = key;
    ob->used++;
    return v;
}

static void path_cat(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf), k = strlen(s);
    if (n + k >= cap)
        k = cap - 1 - n;
    memcpy(buf + n, s, k);
    buf[n + k] = '\0';
}

static void open_obj(struct dec *d, json_t *v, const char *path, struct obj *ob)
{
    ob->o = v;
    ob->used = 0;
    ob->path[0] = '\0';
    path_cat(ob->path, sizeof ob->path, path);
    if (!d->failed && !json_is_object(v)) {
        d->failed = true;
        pod_err_set(d->err, POD_E_CORRUPT, 0, "pod payload: %s: expected an object",
                    *path ? path : "(top)");
    }
}

static void close_obj(struct dec *d, struct obj *ob)
{
    if (d->failed || json_object_size(ob->o) == ob->used)
        return;
    const char *key;
    json_t *v;
    json_object_foreach(ob->o, key, v)
    {
        (void)v;
        bool known = false;
        for (size_t i = 0; i < ob->used && !known; i++)
            known = strcmp(ob->taken[i], key) == 0;
        if (!known) {
            fail(d, ob->path, key, "unknown field (payload from a different podc version?)");
            return;
        }
    }
}

static char *get_str(struct dec *d, struct obj *ob, const char *key)
{
    json_t *v = take(d, ob, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        fail(d, ob->path, key, "expected a string or null");
        return NULL;
    }
    return xstrndup(json_string_value(v), json_string_length(v));
}

static long long get_num(struct dec *d, struct obj *ob, const char *key, long long min,
                         long long max)
{
    json_t *v = take(d, ob, key);
    if (!v)
        return 0;
    if (!json_is_integer(v)) {
        fail(d, ob->path, key, "expected an integer");
        return 0;
    }
    long long n = json_integer_value(v);
    if (n < min || n > max) {
        fail(d, ob->path, key, "integer out of range");
        return 0;
    }
    return n;
}

static int get_int(struct dec *d, struct obj *ob, const char *key)
{
    return (int)get_num(d, ob, key, INT_MIN, INT_MAX);
}

static bool get_bool(struct dec *d, struct obj *ob, const char *key)
{
    json_t *v = take(d, ob, key);
    if (!v)
        return false;
    if (!json_is_boolean(v)) {
        fail(d, ob->path, key, "expected true or false");
        return false;
    }
    return json_is_true(v);
}

static int get_enum(struct dec *d, struct obj *ob, const char *key, const struct enum_name *t)
{
    json_t *v = take(d, ob, key);
    if (!v)
        return 0;
    if (json_is_string(v))
        for (; t->name; t++)
            if (strcmp(t->name, json_string_value(v)) == 0)
                return t->value;
    fail(d, ob->path, key, "unknown value");
    return 0;
}

static char **get_strv(struct dec *d, struct obj *ob, const char *key)
{
    json_t *v = take(d, ob, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        fail(d, ob->path, key, "expected an array of strings or null");
        return NULL;
    }
    size_t n = json_array_size(v);
    char **r = xcalloc(n + 1, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            fail(d, ob->path, key, "expected an array of strings");
            pod_strv_free(r);
            return NULL;
        }
        r[i] = xstrndup(json_string_value(e), json_string_length(e));
    }
    return r;
}

/* Returns the array under key (borrowed) and its size; NULL (and *n = 0) on error. */
static json_t *get_arr(struct dec *d, struct obj *ob, const char *key, size_t *n)
{
    *n = 0;
    json_t *v = take(d, ob, key);
    if (!v)
        return NULL;
    if (!json_is_array(v)) {
        fail(d, ob->path, key, "expected an array");
        return NULL;
    }
    *n = json_array_size(v);
    return v;
}

static void sub_path(char *buf, size_t cap, const struct obj *ob, const char *key, long idx)
{
    /* A path longer than the buffer is cut: it only decorates messages. */
    buf[0] = '\0';
    path_cat(buf, cap, ob->path);
    if (*ob->path)
        path_cat(buf, cap, ".");
    path_cat(buf, cap, key);
    if (idx >= 0) {
        char ib[32];
        snprintf(ib, sizeof ib, "[%ld]", idx);
        path_cat(buf, cap, ib);
    }
}

static struct spec_kv *get_kvs(struct dec *d, struct obj *ob, const char *key, size_t *n_out)
{
    size_t n;
    json_t *a = get_arr(d, ob, key, &n);
    *n_out = 0;
    if (!a || !n)
        return NULL;
    struct spec_kv *kv = xcalloc(n, sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        char p[200];
        struct obj e;
        sub_path(p, sizeof p, ob, key, (long)i);
        open_obj(d, json_array_get(a, i), p, &e);
        kv[i].name = get_str(d, &e, "name");
        kv[i].value = get_str(d, &e, "value");
        close_obj(d, &e);
    }
    *n_out = n; /* even on failure: spec_free releases what was filled */
    return kv;
}

static void get_ingress(struct dec *d, struct obj *e, struct spec_ingress *g)
{
    g->protocol = get_str(d, e, "protocol");
    g->bind = get_int(d, e, "bind");
    g->domain = get_str(d, e, "domain");
    g->weight = get_int(d, e, "weight");
    g->path = get_str(d, e, "path");
    g->path_beg = get_str(d, e, "path_beg");
    g->path_end = get_str(d, e, "path_end");
    g->redirect_to_https = get_bool(d, e, "redirect_to_https");
    g->redirect_location = get_str(d, e, "redirect_location");
    g->redirect_prefix = get_str(d, e, "redirect_prefix");
    g->errorfile = get_str(d, e, "errorfile");
}

static struct spec_expose *get_exposes(struct dec *d, struct obj *ob, const char *key,
                                       size_t *n_out)
{
    size_t n;
    json_t *a = get_arr(d, ob, key, &n);
    *n_out = 0;
    if (!a || !n)
        return NULL;
    struct spec_expose *x = xcalloc(n, sizeof *x);
    *n_out = n;
    for (size_t i = 0; i < n && !d->failed; i++) {
        char p[200];
        struct obj e;
        sub_path(p, sizeof p, ob, key, (long)i);
        open_obj(d, json_array_get(a, i), p, &e);
        x[i].target_port = get_int(d, &e, "target_port");
        x[i].host_port = get_int(d, &e, "host_port");
        x[i].host_interface = get_str(d, &e, "host_interface");
        x[i].cluster_port = get_int(d, &e, "cluster_port");
        x[i].max_conn = get_int(d, &e, "max_conn");
        x[i].send_proxy = get_bool(d, &e, "send_proxy");
        size_t ng;
        json_t *ga = get_arr(d, &e, "ingress", &ng);
        if (ga && ng) {
            x[i].ingress = xcalloc(ng, sizeof *x[i].ingress);
            x[i].n_ingress = ng;
            for (size_t k = 0; k < ng && !d->failed; k++) {
                char gp[200];
                struct obj ge;
                sub_path(gp, sizeof gp, &e, "ingress", (long)k);
                open_obj(d, json_array_get(ga, k), gp, &ge);
                get_ingress(d, &ge, &x[i].ingress[k]);
                close_obj(d, &ge);
            }
        }
        close_obj(d, &e);
    }
    return x;
}

static void get_probe(struct dec *d, struct obj *ob, const char *key, struct spec_probe *p)
{
    char path[200];
    struct obj e;
    sub_path(path, sizeof path, ob, key, -1);
    json_t *v = take(d, ob, key);
    if (!v)
        return;
    open_obj(d, v, path, &e);
    p->kind = get_enum(d, &e, "kind", probe_names);
    p->cmd = get_strv(d, &e, "cmd");
    p->timeout_s = get_int(d, &e, "timeout_s");
    p->initial_delay_s = get_int(d, &e, "initial_delay_s");
    p->period_s = get_int(d, &e, "period_s");
    p->attempt_timeout_s = get_int(d, &e, "attempt_timeout_s");
    p->success_threshold = get_int(d, &e, "success_threshold");
    p->failure_threshold = get_int(d, &e, "failure_threshold");
    p->port = get_int(d, &e, "port");
    p->host_port = get_int(d, &e, "host_port");
    p->http_path = get_str(d, &e, "http_path");
    p->signal_targets = get_strv(d, &e, "signal_targets");
    close_obj(d, &e);
}

static void get_container(struct dec *d, struct obj *e, struct spec_container *c)
{
    c->name = get_str(d, e, "name");
    c->kind = get_enum(d, e, "kind", kind_names);
    c->image = get_str(d, e, "image");
    c->command = get_strv(d, e, "command");
    c->args = get_strv(d, e, "args");
    c->working_dir = get_str(d, e, "working_dir");
    c->env = get_kvs(d, e, "env", &c->n_env);
    c->restart = get_enum(d, e, "restart", restart_names);
    c->restart_interval_s = get_int(d, e, "restart_interval_s");
    c->signal_sig = get_str(d, e, "signal_sig");
    c->signal_cmd = get_strv(d, e, "signal_cmd");
    size_t nm;
    json_t *ma = get_arr(d, e, "mounts", &nm);
    if (ma && nm) {
        c->mounts = xcalloc(nm, sizeof *c->mounts);
        c->n_mounts = nm;
        for (size_t i = 0; i < nm && !d->failed; i++) {
            char p[200];
            struct obj me;
            sub_path(p, sizeof p, e, "mounts", (long)i);
            open_obj(d, json_array_get(ma, i), p, &me);
            c->mounts[i].dest = get_str(d, &me, "dest");
            c->mounts[i].volume = get_str(d, &me, "volume");
            close_obj(d, &me);
        }
    }
    get_probe(d, e, "startup", &c->startup);
    get_probe(d, e, "readiness", &c->readiness);
    get_probe(d, e, "liveness", &c->liveness);
    c->expose = get_exposes(d, e, "expose", &c->n_expose);
    c->network_host = get_bool(d, e, "network_host");
    c->stop_timeout_s = get_int(d, e, "stop_timeout_s");
    if (json_object_get(e->o, "warm_standby")) /* optional: written only when true */
        c->warm_standby = get_bool(d, e, "warm_standby");
    json_t *bv = take(d, e, "backoff");
    if (bv) {
        char p[200];
        struct obj be;
        sub_path(p, sizeof p, e, "backoff", -1);
        open_obj(d, bv, p, &be);
        c->backoff.initial_ms = get_int(d, &be, "initial_ms");
        c->backoff.max_ms = get_int(d, &be, "max_ms");
        c->backoff.reset_s = get_int(d, &be, "reset_s");
        c->backoff.give_up_count = get_int(d, &be, "give_up_count");
        c->backoff.give_up_window_s = get_int(d, &be, "give_up_window_s");
        close_obj(d, &be);
    }
    c->line = get_int(d, e, "line");
    c->col = get_int(d, e, "col");
}

int emit_spec_from_json(const char *json, size_t len, struct pod_spec **out, struct pod_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pod_err_set(err, POD_E_CORRUPT, 0, "pod payload is not valid JSON: line %d: %s",
                           jerr.line, jerr.text);
    struct dec d = {err, false};
    struct obj top;
    open_obj(&d, root, "", &top);
    long long fmt = get_num(&d, &top, "payload_format", 0, INT_MAX);
    if (!d.failed && fmt != PAYLOAD_FORMAT) {
        json_decref(root);
        return pod_err_set(err, POD_E_CORRUPT, 0,
                           "pod payload format %lld is not supported by this runtime (expects "
                           "%d): recompile the pod with this podc",
                           fmt, PAYLOAD_FORMAT);
    }
    struct pod_spec *s = xcalloc(1, sizeof *s);
    s->api = get_str(&d, &top, "api");
    s->runtime = get_enum(&d, &top, "runtime", runtime_names);
    s->name = get_str(&d, &top, "name");
    s->version = get_str(&d, &top, "version");
    s->labels = get_kvs(&d, &top, "labels", &s->n_labels);
    size_t nv;
    json_t *va = get_arr(&d, &top, "volumes", &nv);
    if (va && nv) {
        s->volumes = xcalloc(nv, sizeof *s->volumes);
        s->n_volumes = nv;
        for (size_t i = 0; i < nv && !d.failed; i++) {
            char p[200];
            struct obj e;
            struct spec_volume *v = &s->volumes[i];
            sub_path(p, sizeof p, &top, "volumes", (long)i);
            open_obj(&d, json_array_get(va, i), p, &e);
            v->name = get_str(&d, &e, "name");
            v->type = get_enum(&d, &e, "type", vol_type_names);
            v->size = get_str(&d, &e, "size");
            v->shared = get_enum(&d, &e, "shared", shared_names);
            v->encrypted = get_bool(&d, &e, "encrypted");
            v->bind = get_str(&d, &e, "bind");
            v->line = get_int(&d, &e, "line");
            v->col = get_int(&d, &e, "col");
            close_obj(&d, &e);
        }
    }
    size_t nc;
    json_t *ca = get_arr(&d, &top, "containers", &nc);
    if (ca && nc) {
        s->containers = xcalloc(nc, sizeof *s->containers);
        s->n_containers = nc;
        for (size_t i = 0; i < nc && !d.failed; i++) {
            char p[200];
            struct obj e;
            sub_path(p, sizeof p, &top, "containers", (long)i);
            open_obj(&d, json_array_get(ca, i), p, &e);
            get_container(&d, &e, &s->containers[i]);
            close_obj(&d, &e);
        }
    }
    s->exec_file = get_str(&d, &top, "exec_file");
    s->exec_expose = get_exposes(&d, &top, "exec_expose", &s->n_exec_expose);
    s->config_debounce_ms = get_int(&d, &top, "config_debounce_ms");
    json_t *lv = take(&d, &top, "logs");
    if (lv) {
        struct obj le;
        open_obj(&d, lv, "logs", &le);
        s->logs.max_bytes = get_num(&d, &le, "max_bytes", 0, LLONG_MAX);
        s->logs.max_files = get_int(&d, &le, "max_files");
        close_obj(&d, &le);
    }
    close_obj(&d, &top);
    json_decref(root);
    if (d.failed) {
        spec_free(s);
        return -1;
    }
    *out = s;
    return 0;
}
