/* SPDX-License-Identifier: MIT */
/* test_emit.c - emit: spec <-> JSON round trip, strict payload reader, portmappings/ingress
 * texts, the pod image (write, probe, damage detection) and the crc32c known answer.
 * Specs are built by hand so that every field holds a non-default value.
 */
#include "pod/emit.h"
#include "pod/util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* If one of these fails, struct pod_spec changed: update src/emit/emit_json.c (both
 * directions), full_spec() and the comparisons below, then the sizes here. */
_Static_assert(sizeof(struct pod_spec) == 128, "pod_spec changed: update emit_json.c");
_Static_assert(sizeof(struct spec_container) == 352, "spec_container changed");
_Static_assert(sizeof(struct spec_probe) == 64, "spec_probe changed");
_Static_assert(sizeof(struct spec_expose) == 48, "spec_expose changed");
_Static_assert(sizeof(struct spec_ingress) == 88, "spec_ingress changed");
_Static_assert(sizeof(struct spec_volume) == 48, "spec_volume changed");
_Static_assert(sizeof(struct spec_backoff) == 20, "spec_backoff changed");

/* ------------------------------------------------------------------ builders */

static char **strv(const char *a, ...)
{
    char **v = NULL;
    va_list ap;
    va_start(ap, a);
    for (const char *s = a; s; s = va_arg(ap, const char *))
        pod_strv_push(&v, s);
    va_end(ap);
    return v;
}

static char **empty_strv(void)
{
    return xcalloc(1, sizeof(char *));
}

static struct spec_kv *kvs(size_t n, const char *const *pairs)
{
    struct spec_kv *kv = xcalloc(n, sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        kv[i].name = xstrdup(pairs[2 * i]);
        kv[i].value = xstrdup(pairs[2 * i + 1]);
    }
    return kv;
}

static void fill_probe(struct spec_probe *p, int base, enum spec_probe_kind kind)
{
    p->kind = kind;
    p->cmd = strv("sh", "-c", "test -e /tmp/ready \"$X\"", NULL);
    p->timeout_s = base + 1;
    p->initial_delay_s = base + 2;
    p->period_s = base + 3;
    p->attempt_timeout_s = base + 4;
    p->success_threshold = base + 5;
    p->failure_threshold = base + 6;
    p->port = base + 7;
    p->host_port = base + 8;
    p->http_path = xasprintf("/health/%d", base);
    p->signal_targets = strv("b", "c", NULL);
}

static struct spec_ingress ingress(const char *proto, int bind, const char *domain, int weight)
{
    struct spec_ingress g = {0};
    g.protocol = xstrdup(proto);
    g.bind = bind;
    g.domain = domain ? xstrdup(domain) : NULL;
    g.weight = weight;
    return g;
}

/* A spec in which every field of every struct holds a distinctive, non-default value. */
static struct pod_spec *full_spec(void)
{
    struct pod_spec *s = xcalloc(1, sizeof *s);
    s->api = xstrdup("1.0.0-beta2");
    s->runtime = SPEC_RUNTIME_EXECUTABLE;
    s->name = xstrdup("mypod");
    s->version = xstrdup("1.2.3-rc.1");
    static const char *const labels[] = {"app", "team-a/x.y", "empty",
                                         "",    "utf8",       "\xc3\xa9t\xc3\xa9 \"q\""};
    s->labels = kvs(3, labels);
    s->n_labels = 3;

    s->n_volumes = 4;
    s->volumes = xcalloc(4, sizeof *s->volumes);
    s->volumes[0] = (struct spec_volume){
        xstrdup("data"), SPEC_VOL_VOLUME, NULL, SPEC_SHARED_POD, false, NULL, 10, 3};
    s->volumes[1] = (struct spec_volume){
        xstrdup("tmp"), SPEC_VOL_RAMDISK, xstrdup("10M"), SPEC_SHARED_NO, false, NULL, 12, 3};
    s->volumes[2] = (struct spec_volume){
        xstrdup("cfg"), SPEC_VOL_CONFIG, NULL, SPEC_SHARED_HOST, true, NULL, 14, 5};
    s->volumes[3] = (struct spec_volume){xstrdup("hostdir"),
                                         SPEC_VOL_HOST,
                                         NULL,
                                         SPEC_SHARED_NO,
                                         false,
                                         xstrdup("/srv/data"),
                                         16,
                                         7};

    s->n_containers = 2;
    s->containers = xcalloc(2, sizeof *s->containers);
    struct spec_container *c = &s->containers[0];
    c->name = xstrdup("first");
    c->kind = SPEC_CTR_SIDECAR;
    c->image = xstrdup("alpine:3.18");
    c->command = strv("sh", "-c", NULL);
    c->args = strv("echo \"$HOME\" && sleep 1000", "", NULL);
    c->working_dir = xstrdup("/opt/files");
    static const char *const env[] = {"WARP", "activated & \\ $x", "Q", "it's"};
    c->env = kvs(2, env);
    c->n_env = 2;
    c->restart = SPEC_RESTART_ON_INTERVAL;
    c->restart_interval_s = 45;
    c->signal_sig = NULL;
    c->signal_cmd = strv("kill", "-HUP", "1", NULL);
    c->n_mounts = 2;
    c->mounts = xcalloc(2, sizeof *c->mounts);
    c->mounts[0] = (struct spec_mount){xstrdup("/mnt/data"), xstrdup("data")};
    c->mounts[1] = (struct spec_mount){xstrdup("/mnt/cfg"), xstrdup("cfg")};
    fill_probe(&c->startup, 10, SPEC_PROBE_EXIT);
    fill_probe(&c->readiness, 20, SPEC_PROBE_HTTP);
    fill_probe(&c->liveness, 30, SPEC_PROBE_TCP);
    c->n_expose = 2;
    c->expose = xcalloc(2, sizeof *c->expose);
    c->expose[0] = (struct spec_expose){80, 8080, xstrdup("0.0.0.0"), 2001, 1024, true, NULL, 0};
    c->expose[0].n_ingress = 2;
    c->expose[0].ingress = xcalloc(2, sizeof(struct spec_ingress));
    c->expose[0].ingress[0] = ingress("https", 4433, "a.com *.b.com", 101);
    c->expose[0].ingress[0].path = xstrdup("/x");
    c->expose[0].ingress[0].path_beg = xstrdup("/ /static/");
    c->expose[0].ingress[0].path_end = xstrdup(".jpg .gif");
    c->expose[0].ingress[0].redirect_location = xstrdup("https://l/");
    c->expose[0].ingress[0].redirect_prefix = xstrdup("https://p/");
    c->expose[0].ingress[0].errorfile = xstrdup("500 /err.http");
    c->expose[0].ingress[1] = ingress("http", 0, NULL, 100);
    c->expose[0].ingress[1].redirect_to_https = true;
    c->expose[1] = (struct spec_expose){81, 0, NULL, 0, 4096, false, NULL, 0};
    c->network_host = true;
    c->stop_timeout_s = 17;
    c->backoff = (struct spec_backoff){1500, 200000, 700, 5, 900};
    c->line = 20;
    c->col = 7;

    c = &s->containers[1];
    c->name = xstrdup("second");
    c->kind = SPEC_CTR_INIT;
    c->image = xstrdup("busybox");
    c->command = empty_strv(); /* an empty list is not the same as no list */
    c->restart = SPEC_RESTART_ON_FAILURE;
    c->signal_sig = xstrdup("HUP");
    c->warm_standby = true; /* (container 0 has it false: the field is left out) */

    s->exec_file = xstrdup("/abs/path/proxy");
    s->n_exec_expose = 1;
    s->exec_expose = xcalloc(1, sizeof *s->exec_expose);
    s->exec_expose[0] = (struct spec_expose){0, 30001, NULL, 61001, 99, false, NULL, 0};
    s->exec_expose[0].n_ingress = 1;
    s->exec_expose[0].ingress = xcalloc(1, sizeof(struct spec_ingress));
    s->exec_expose[0].ingress[0] = ingress("tcp", 5432, "db.example.com", 100);
    s->config_debounce_ms = 1375;     /* milliseconds: configDebounceSeconds 1.375 */
    s->logs.max_bytes = 5000000000LL; /* does not fit in 32 bits */
    s->logs.max_files = 7;
    return s;
}

/* ------------------------------------------------------------------ comparisons */

static void eq_str(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void eq_strv(char **a, char **b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_int_equal(pod_strv_len(a), pod_strv_len(b));
    for (size_t i = 0; a[i]; i++)
        assert_string_equal(a[i], b[i]);
}

static void eq_kvs(const struct spec_kv *a, size_t na, const struct spec_kv *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        eq_str(a[i].name, b[i].name);
        eq_str(a[i].value, b[i].value);
    }
}

static void eq_probe(const struct spec_probe *a, const struct spec_probe *b)
{
    assert_int_equal(a->kind, b->kind);
    eq_strv(a->cmd, b->cmd);
    assert_int_equal(a->timeout_s, b->timeout_s);
    assert_int_equal(a->initial_delay_s, b->initial_delay_s);
    assert_int_equal(a->period_s, b->period_s);
    assert_int_equal(a->attempt_timeout_s, b->attempt_timeout_s);
    assert_int_equal(a->success_threshold, b->success_threshold);
    assert_int_equal(a->failure_threshold, b->failure_threshold);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->host_port, b->host_port);
    eq_str(a->http_path, b->http_path);
    eq_strv(a->signal_targets, b->signal_targets);
}

static void eq_exposes(const struct spec_expose *a, size_t na, const struct spec_expose *b,
                       size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].target_port, b[i].target_port);
        assert_int_equal(a[i].host_port, b[i].host_port);
        eq_str(a[i].host_interface, b[i].host_interface);
        assert_int_equal(a[i].cluster_port, b[i].cluster_port);
        assert_int_equal(a[i].max_conn, b[i].max_conn);
        assert_int_equal(a[i].send_proxy, b[i].send_proxy);
        assert_int_equal(a[i].n_ingress, b[i].n_ingress);
        for (size_t k = 0; k < a[i].n_ingress; k++) {
            const struct spec_ingress *x = &a[i].ingress[k], *y = &b[i].ingress[k];
            eq_str(x->protocol, y->protocol);
            assert_int_equal(x->bind, y->bind);
            eq_str(x->domain, y->domain);
            assert_int_equal(x->weight, y->weight);
            eq_str(x->path, y->path);
            eq_str(x->path_beg, y->path_beg);
            eq_str(x->path_end, y->path_end);
            assert_int_equal(x->redirect_to_https, y->redirect_to_https);
            eq_str(x->redirect_location, y->redirect_location);
            eq_str(x->redirect_prefix, y->redirect_prefix);
            eq_str(x->errorfile, y->errorfile);
        }
    }
}

static void eq_spec(const struct pod_spec *a, const struct pod_spec *b)
{
    eq_str(a->api, b->api);
    assert_int_equal(a->runtime, b->runtime);
    eq_str(a->name, b->name);
    eq_str(a->version, b->version);
    eq_kvs(a->labels, a->n_labels, b->labels, b->n_labels);
    assert_int_equal(a->n_volumes, b->n_volumes);
    for (size_t i = 0; i < a->n_volumes; i++) {
        const struct spec_volume *x = &a->volumes[i], *y = &b->volumes[i];
        eq_str(x->name, y->name);
        assert_int_equal(x->type, y->type);
        eq_str(x->size, y->size);
        assert_int_equal(x->shared, y->shared);
        assert_int_equal(x->encrypted, y->encrypted);
        eq_str(x->bind, y->bind);
        assert_int_equal(x->line, y->line);
        assert_int_equal(x->col, y->col);
    }
    assert_int_equal(a->n_containers, b->n_containers);
    for (size_t i = 0; i < a->n_containers; i++) {
        const struct spec_container *x = &a->containers[i], *y = &b->containers[i];
        eq_str(x->name, y->name);
        assert_int_equal(x->kind, y->kind);
        eq_str(x->image, y->image);
        eq_strv(x->command, y->command);
        eq_strv(x->args, y->args);
        eq_str(x->working_dir, y->working_dir);
        eq_kvs(x->env, x->n_env, y->env, y->n_env);
        assert_int_equal(x->restart, y->restart);
        assert_int_equal(x->restart_interval_s, y->restart_interval_s);
        eq_str(x->signal_sig, y->signal_sig);
        eq_strv(x->signal_cmd, y->signal_cmd);
        assert_int_equal(x->n_mounts, y->n_mounts);
        for (size_t m = 0; m < x->n_mounts; m++) {
            eq_str(x->mounts[m].dest, y->mounts[m].dest);
            eq_str(x->mounts[m].volume, y->mounts[m].volume);
        }
        eq_probe(&x->startup, &y->startup);
        eq_probe(&x->readiness, &y->readiness);
        eq_probe(&x->liveness, &y->liveness);
        eq_exposes(x->expose, x->n_expose, y->expose, y->n_expose);
        assert_int_equal(x->network_host, y->network_host);
        assert_int_equal(x->stop_timeout_s, y->stop_timeout_s);
        assert_int_equal(x->warm_standby, y->warm_standby);
        assert_int_equal(x->backoff.initial_ms, y->backoff.initial_ms);
        assert_int_equal(x->backoff.max_ms, y->backoff.max_ms);
        assert_int_equal(x->backoff.reset_s, y->backoff.reset_s);
        assert_int_equal(x->backoff.give_up_count, y->backoff.give_up_count);
        assert_int_equal(x->backoff.give_up_window_s, y->backoff.give_up_window_s);
        assert_int_equal(x->line, y->line);
        assert_int_equal(x->col, y->col);
    }
    eq_str(a->exec_file, b->exec_file);
    eq_exposes(a->exec_expose, a->n_exec_expose, b->exec_expose, b->n_exec_expose);
    assert_int_equal(a->config_debounce_ms, b->config_debounce_ms);
    assert_true(a->logs.max_bytes == b->logs.max_bytes);
    assert_int_equal(a->logs.max_files, b->logs.max_files);
}

/* ------------------------------------------------------------------ JSON */

/* A pod.yaml's configDebounceSeconds with milliseconds reaches the payload and comes back (the
 * daemon reads the payload, SPEC.md 5/6); the default (0.25 s) too. */
static void test_emit_spec_json__debounce_milliseconds_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int ms;
    } t[] = {{"configDebounceSeconds: 0.125\n", 125}, {"", 250}, {"configDebounceSeconds: 0\n", 0}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        char *yaml = xasprintf("api: 1.0.0-beta2\npodVersion: 1.0.0\n%scontainers:\n"
                               "  - name: web\n    image: nginx\n",
                               t[k].line);
        struct spec_opts so = {.file = "pod.yaml", .pod_name = "demo", .srcdir = "/src"};
        struct spec_diags dg = {0};
        struct pod_spec *s = NULL, *back = NULL;
        assert_int_equal(spec_load(yaml, strlen(yaml), &so, &dg, &s), 0);
        assert_int_equal(s->config_debounce_ms, t[k].ms);
        char *json = emit_spec_json(s);
        char want[64];
        snprintf(want, sizeof want, "\"config_debounce_ms\":%d", t[k].ms);
        assert_non_null(strstr(json, want));
        struct pod_err err = POD_ERR_ZERO;
        assert_int_equal(emit_spec_from_json(json, strlen(json), &back, &err), 0);
        assert_int_equal(back->config_debounce_ms, t[k].ms);
        free(json);
        spec_free(back);
        spec_free(s);
        spec_diags_free(&dg);
        free(yaml);
    }
}

static void test_emit_spec_json__round_trip_every_field(void **state)
{
    (void)state;
    struct pod_spec *s = full_spec();
    char *json = emit_spec_json(s);
    struct pod_spec *back = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_spec_from_json(json, strlen(json), &back, &err), 0);
    eq_spec(s, back);
    /* Canonical: the same spec gives the same bytes. */
    char *again = emit_spec_json(back);
    assert_string_equal(json, again);
    free(again);
    free(json);
    spec_free(back);
    spec_free(s);
}

static void test_emit_spec_json__round_trip_empty_spec(void **state)
{
    (void)state;
    struct pod_spec empty = {0};
    char *json = emit_spec_json(&empty);
    struct pod_spec *back = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_spec_from_json(json, strlen(json), &back, &err), 0);
    eq_spec(&empty, back);
    free(json);
    spec_free(back);
}

/* Replaces the first occurrence of from by to in json (new string). */
static char *edit(const char *json, const char *from, const char *to)
{
    const char *p = strstr(json, from);
    assert_non_null(p);
    return xasprintf("%.*s%s%s", (int)(p - json), json, to, p + strlen(from));
}

static void expect_reject(const char *json, const char *needle)
{
    struct pod_spec *back = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_spec_from_json(json, strlen(json), &back, &err), -1);
    assert_null(back);
    assert_int_equal(err.code, POD_E_CORRUPT);
    if (!strstr(err.msg, needle))
        fail_msg("message `%s` does not mention `%s`", err.msg, needle);
}

static void test_emit_spec_from_json__rejects_foreign_payloads(void **state)
{
    (void)state;
    struct pod_spec *s = full_spec();
    char *json = emit_spec_json(s);
    spec_free(s);
    char *bad;

    bad = edit(json, "\"image\":\"busybox\",", "");
    expect_reject(bad, "containers[1].image: missing field");
    free(bad);
    bad = edit(json, "\"stop_timeout_s\":17,", "\"stop_timeout_s\":17,\"cpus\":2,");
    expect_reject(bad, "containers[0].cpus: unknown field");
    free(bad);
    bad = edit(json, "{", "{\"zzz\":1,");
    expect_reject(bad, "zzz: unknown field");
    free(bad);
    bad = edit(json, "\"payload_format\":1", "\"payload_format\":2");
    expect_reject(bad, "payload format 2 is not supported");
    free(bad);
    bad = edit(json, "\"restart\":\"on-interval\"", "\"restart\":\"sometimes\"");
    expect_reject(bad, "containers[0].restart: unknown value");
    free(bad);
    bad = edit(json, "\"max_files\":7", "\"max_files\":\"7\"");
    expect_reject(bad, "logs.max_files: expected an integer");
    free(bad);
    bad = edit(json, "\"max_conn\":1024", "\"max_conn\":99999999999");
    expect_reject(bad, "containers[0].expose[0].max_conn: integer out of range");
    free(bad);
    bad = edit(json, "\"weight\":101", "\"weight\":101,\"weight\":102");
    expect_reject(bad, "not valid JSON");
    free(bad);
    expect_reject("[1,2]", "expected an object");
    expect_reject("{\"payload_format\":1}", "api: missing field");
    expect_reject(json + 1, "not valid JSON");
    free(json);
}

/* ------------------------------------------------------------------ .conf texts */

static struct pod_spec *expose_spec(void)
{
    struct pod_spec *s = xcalloc(1, sizeof *s);
    s->n_containers = 2;
    s->containers = xcalloc(2, sizeof *s->containers);
    struct spec_container *a = &s->containers[0], *b = &s->containers[1];
    a->n_expose = 3;
    a->expose = xcalloc(3, sizeof *a->expose);
    a->expose[0] = (struct spec_expose){80, 29001, xstrdup("0.0.0.0"), 2001, 4096, false, NULL, 0};
    a->expose[1] = (struct spec_expose){81, 8081, NULL, 0, 4096, false, NULL, 0}; /* no cluster */
    a->expose[2] = (struct spec_expose){82, 0, NULL, 2003, 4096, false, NULL, 0}; /* no host */
    b->n_expose = 1;
    b->expose = xcalloc(1, sizeof *b->expose);
    b->expose[0] = (struct spec_expose){443, 30001, NULL, 61001, 1024, true, NULL, 0};
    return s;
}

static void test_emit_portmappings__definition_order_and_filter(void **state)
{
    (void)state;
    struct pod_spec *s = expose_spec();
    char *t = emit_portmappings(s);
    assert_string_equal(t, "2001:29001:4096:false\n61001:30001:1024:true\n");
    free(t);
    spec_free(s);
}

static void test_emit_portmappings__empty_when_nothing_qualifies(void **state)
{
    (void)state;
    struct pod_spec *s = expose_spec();
    s->containers[0].expose[0].cluster_port = 0;
    s->containers[1].expose[0].host_port = 0;
    char *t = emit_portmappings(s);
    assert_string_equal(t, "");
    free(t);
    char *g = emit_ingress(s);
    assert_string_equal(g, "");
    free(g);
    spec_free(s);
}

static void test_emit_ingress__every_variant(void **state)
{
    (void)state;
    struct pod_spec *s = expose_spec();
    struct spec_expose *x = &s->containers[0].expose[0];
    x->n_ingress = 6;
    x->ingress = xcalloc(6, sizeof *x->ingress);
    x->ingress[0] = ingress("http", 81, "abc.com def.com", 100);
    x->ingress[0].redirect_to_https = true;
    x->ingress[1] = ingress("https", 0, "abc.com", 101);
    x->ingress[1].path_beg = xstrdup("/ /static/");
    x->ingress[1].path_end = xstrdup(".jpg .gif");
    x->ingress[2] = ingress("http", 0, NULL, 100);
    x->ingress[2].path = xstrdup("/exact");
    x->ingress[2].redirect_location = xstrdup("https://example.com/");
    x->ingress[3] = ingress("https", 8443, "*.x.org", 50);
    x->ingress[3].path_beg = xstrdup("/");
    x->ingress[3].redirect_prefix = xstrdup("https://new.x.org");
    x->ingress[4] = ingress("http", 0, "down.com", 100);
    x->ingress[4].path_beg = xstrdup("/");
    x->ingress[4].errorfile = xstrdup("503 /usr/local/etc/haproxy/503.http");
    x->ingress[5] = ingress("tcp", 4433, "aaa.com bbb.com", 100);
    struct spec_expose *y = &s->containers[1].expose[0];
    y->n_ingress = 1;
    y->ingress = xcalloc(1, sizeof *y->ingress);
    y->ingress[0] = ingress("https", 0, "second.com", 100);
    y->ingress[0].path = xstrdup("/api");
    char *t = emit_ingress(s);
    assert_string_equal(t, "bind 81\nprotocol http\nhost abc.com def.com\nweight 100\n"
                           "redirect_to_https true\n"
                           "bind 443\nprotocol https\nhost abc.com\nweight 101\n"
                           "path_beg / /static/\npath_end .jpg .gif\nclusterport 2001\n"
                           "bind 80\nprotocol http\nhost \nweight 100\npath /exact\n"
                           "redirect_location https://example.com/\n"
                           "bind 8443\nprotocol https\nhost *.x.org\nweight 50\npath_beg /\n"
                           "redirect_prefix https://new.x.org\n"
                           "bind 80\nprotocol http\nhost down.com\nweight 100\npath_beg /\n"
                           "errorfile 503 /usr/local/etc/haproxy/503.http\n"
                           "bind 4433\nprotocol tcp\nhost aaa.com bbb.com\nweight 100\n"
                           "clusterport 2001\n"
                           "bind 443\nprotocol https\nhost second.com\nweight 100\npath /api\n"
                           "clusterport 61001\n");
    free(t);
    spec_free(s);
}

static void test_emit_conf__executable_runtime_uses_exec_expose(void **state)
{
    (void)state;
    struct pod_spec *s = full_spec(); /* runtime: executable */
    char *pm = emit_portmappings(s);
    assert_string_equal(pm, "61001:30001:99:false\n");
    char *g = emit_ingress(s);
    assert_string_equal(g, "bind 5432\nprotocol tcp\nhost db.example.com\nweight 100\n"
                           "clusterport 61001\n");
    free(pm);
    free(g);
    spec_free(s);
}

/* ------------------------------------------------------------------ crc32c */

static void test_emit_crc32c__known_answer(void **state)
{
    (void)state;
    assert_int_equal(emit_crc32c("123456789", 9, 0), 0xE3069283u);
    assert_int_equal(emit_crc32c("", 0, 0), 0);
    /* In pieces gives the same as at once. */
    uint32_t c = emit_crc32c("1234", 4, 0);
    assert_int_equal(emit_crc32c("56789", 5, c), 0xE3069283u);
    unsigned char zeros[32] = {0};
    assert_int_equal(emit_crc32c(zeros, sizeof zeros, 0), 0x8A9136AAu); /* RFC 3720 B.4 */
}

/* ------------------------------------------------------------------ image */

struct tmp {
    char dir[64];
    char *elf; /* a copy of this test binary: an ELF file without payload */
    char *img, *copy;
};

static void copy_file(const char *from, const char *to);

static int tmp_setup(void **state)
{
    struct tmp *t = xcalloc(1, sizeof *t);
    strcpy(t->dir, "/tmp/test_emit.XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    t->img = pod_path_join(t->dir, "pod");
    t->copy = pod_path_join(t->dir, "damaged");
    t->elf = pod_path_join(t->dir, "elf");
    /* Through open(): under valgrind stat("/proc/self/exe") describes valgrind itself. */
    copy_file("/proc/self/exe", t->elf);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    unlink(t->img);
    unlink(t->copy);
    unlink(t->elf);
    free(t->elf);
    rmdir(t->dir);
    free(t->img);
    free(t->copy);
    free(t);
    return 0;
}

static off_t file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

static void expect_probe_fails(const char *path, const char *needle)
{
    enum emit_image_kind kind = EMIT_IMAGE_PLAIN;
    char *payload = NULL;
    size_t len = 0;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_probe(path, &kind, &payload, &len, &err), -1);
    assert_null(payload);
    assert_int_equal(err.code, POD_E_CORRUPT);
    if (!strstr(err.msg, needle))
        fail_msg("message `%s` does not mention `%s`", err.msg, needle);
}

static void copy_file(const char *from, const char *to)
{
    char *data;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(pod_read_file(from, 1u << 30, &data, &len, &err), 0);
    assert_int_equal(pod_write_file_atomic(to, data, len, 0755, &err), 0);
    free(data);
}

static void test_emit_image__plain_elf_is_plain(void **state)
{
    struct tmp *t = *state;
    enum emit_image_kind kind = EMIT_IMAGE_POD;
    char *payload = NULL;
    size_t len = 0;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_probe(t->elf, &kind, &payload, &len, &err), 0);
    assert_int_equal(kind, EMIT_IMAGE_PLAIN);
    assert_null(payload);
}

static void test_emit_image__write_then_probe(void **state)
{
    struct tmp *t = *state;
    const char payload[] = "{\"hello\":\"pod\"}";
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_write(t->elf, payload, strlen(payload), t->img, &err), 0);
    struct stat st;
    assert_int_equal(stat(t->img, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(st.st_size, file_size(t->elf) + (off_t)strlen(payload) + 32);

    enum emit_image_kind kind = EMIT_IMAGE_PLAIN;
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(emit_image_probe(t->img, &kind, &got, &len, &err), 0);
    assert_int_equal(kind, EMIT_IMAGE_POD);
    assert_int_equal(len, strlen(payload));
    assert_string_equal(got, payload);
    free(got);

    /* An image written from a pod image carries only the new payload. */
    const char second[] = "[2]";
    assert_int_equal(emit_image_write(t->img, second, 3, t->copy, &err), 0);
    assert_int_equal(file_size(t->copy), file_size(t->elf) + 3 + 32);
    assert_int_equal(emit_image_probe(t->copy, &kind, &got, &len, &err), 0);
    assert_string_equal(got, "[2]");
    free(got);
}

static void test_emit_image__truncation_is_detected(void **state)
{
    struct tmp *t = *state;
    const char payload[] = "{\"a\":[1,2,3],\"b\":\"truncate me\"}";
    size_t plen = strlen(payload);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_write(t->elf, payload, plen, t->img, &err), 0);
    off_t full = file_size(t->img);
    for (size_t k = 1; k < plen + 32; k++) {
        copy_file(t->img, t->copy);
        assert_int_equal(truncate(t->copy, full - (off_t)k), 0);
        expect_probe_fails(t->copy, "damaged pod executable");
    }
    /* Cut to exactly the ELF size: that is a plain podc again, not a damaged pod. */
    copy_file(t->img, t->copy);
    assert_int_equal(truncate(t->copy, full - (off_t)(plen + 32)), 0);
    enum emit_image_kind kind = EMIT_IMAGE_POD;
    char *got = NULL;
    size_t len;
    assert_int_equal(emit_image_probe(t->copy, &kind, &got, &len, &err), 0);
    assert_int_equal(kind, EMIT_IMAGE_PLAIN);
    /* Into the ELF image itself. */
    assert_int_equal(truncate(t->copy, full - (off_t)(plen + 32) - 1), 0);
    expect_probe_fails(t->copy, "truncated");
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void test_emit_image__flipped_bytes_are_detected(void **state)
{
    struct tmp *t = *state;
    const char payload[] = "{\"name\":\"flip\"}";
    size_t plen = strlen(payload);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_write(t->elf, payload, plen, t->img, &err), 0);
    off_t full = file_size(t->img);
    off_t start = full - (off_t)(plen + 32);
    for (size_t k = 0; k < plen; k++) {
        copy_file(t->img, t->copy);
        flip_byte(t->copy, start + (off_t)k);
        expect_probe_fails(t->copy, "checksum mismatch");
    }
    for (size_t k = 0; k < 32; k++) {
        copy_file(t->img, t->copy);
        flip_byte(t->copy, full - 32 + (off_t)k);
        expect_probe_fails(t->copy, "damaged pod executable");
    }
}

static void test_emit_image__not_elf(void **state)
{
    struct tmp *t = *state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(t->copy, "#!/bin/sh\necho hi\n", 18, 0755, &err), 0);
    expect_probe_fails(t->copy, "not an ELF executable (too short)");
    char script[200];
    memset(script, '#', sizeof script);
    assert_int_equal(pod_write_file_atomic(t->copy, script, sizeof script, 0755, &err), 0);
    expect_probe_fails(t->copy, "not a 64-bit little-endian ELF");
    assert_int_equal(emit_image_write(t->copy, "x", 1, t->img, &err), -1);
    assert_int_equal(err.code, POD_E_CORRUPT);
}

static void test_emit_image__write_into_missing_dir_fails(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(emit_image_write("/proc/self/exe", "x", 1, "/nonexistent/dir/pod", &err), -1);
    assert_int_equal(err.code, POD_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/pod"));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_emit_spec_json__round_trip_every_field),
        cmocka_unit_test(test_emit_spec_json__debounce_milliseconds_round_trip),
        cmocka_unit_test(test_emit_spec_json__round_trip_empty_spec),
        cmocka_unit_test(test_emit_spec_from_json__rejects_foreign_payloads),
        cmocka_unit_test(test_emit_portmappings__definition_order_and_filter),
        cmocka_unit_test(test_emit_portmappings__empty_when_nothing_qualifies),
        cmocka_unit_test(test_emit_ingress__every_variant),
        cmocka_unit_test(test_emit_conf__executable_runtime_uses_exec_expose),
        cmocka_unit_test(test_emit_crc32c__known_answer),
        cmocka_unit_test_setup_teardown(test_emit_image__plain_elf_is_plain, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_emit_image__write_then_probe, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_emit_image__truncation_is_detected, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_emit_image__flipped_bytes_are_detected, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_emit_image__not_elf, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_emit_image__write_into_missing_dir_fails),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
