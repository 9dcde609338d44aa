/* SPDX-License-Identifier: MIT */
/* spec_validate_expose.c - the validator's `expose[]` and `ingress[]` (SPEC.md 4.5, 4.6): ports
 * of podman containers, of containers with network: host and of runtime: executable, cluster
 * ports, host ports unique across the pod, and the ingress rules of each exposed port.
 * PURE: no I/O headers.
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const expose_keys[] = {"targetPort", "hostPort",  "hostInterface", "clusterPort",
                                          "maxConn",    "sendProxy", "ingress",       NULL};

static const char *const ingress_keys[] = {
    "protocol",  "bind",    "domain",          "weight",           "path",
    "pathBeg",   "pathEnd", "redirectToHttps", "redirectLocation", "redirectPrefix",
    "errorfile", NULL};

/* ------------------------------------------------------------------ value checks */

static bool valid_ipv4(const char *s)
{
    for (int part = 0; part < 4; part++) {
        int val = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            val = val * 10 + (*s - '0');
            if (++digits > 3)
                return false;
            s++;
        }
        if (digits == 0 || val > 255)
            return false;
        if (part < 3) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

static bool valid_domain_word(const char *w, size_t n)
{
    size_t i = 0;
    if (n >= 2 && w[0] == '*' && w[1] == '.')
        i = 2;
    if (i == n)
        return false;
    bool label_start = true;
    for (; i < n; i++) {
        char c = w[i];
        if (c == '.') {
            if (label_start || w[i - 1] == '-')
                return false;
            label_start = true;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_') {
            label_start = false;
        } else if (c == '-') {
            if (label_start)
                return false;
        } else {
            return false;
        }
    }
    return !label_start && w[n - 1] != '-';
}

/* The space-separated word lists of an ingress rule. */
enum word_kind {
    WORDS_DOMAIN, /* host names, optionally starting with *. */
    WORDS_PATH,   /* path, pathBeg: each starts with / */
    WORDS_ANY,    /* pathEnd: anything printable */
};

/* Checks each space-separated word; returns the first bad word (new string) or NULL. */
static char *bad_word(const char *s, enum word_kind kind)
{
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        bool ok = kind == WORDS_DOMAIN ? valid_domain_word(p, n)
                  : kind == WORDS_PATH ? p[0] == '/'
                                       : true;
        if (!ok)
            return xstrndup(p, n);
        p = e;
    }
    return NULL;
}

/* ------------------------------------------------------------------ ingress */

struct rule_ctx {
    struct spec_expose *e; /* the expose entry the rules belong to */
    bool podman;           /* a podman container (targetPort exists) */
};

/* domain, path, pathBeg, pathEnd */
static void v_words(struct vctx *v, const struct snode *it, const char *ip, struct spec_ingress *r)
{
    static const char *const messages[] = {
        [WORDS_DOMAIN] = ("invalid domain `%s` (space-separated host names, optionally "
                          "starting with *.)"),
        [WORDS_PATH] = "invalid path `%s` (space-separated paths, each starting with /)",
        [WORDS_ANY] = "invalid path ending `%s`",
    };
    const struct {
        const char *key;
        char **dst;
        enum word_kind kind;
    } words[] = {{"domain", &r->domain, WORDS_DOMAIN},
                 {"path", &r->path, WORDS_PATH},
                 {"pathBeg", &r->path_beg, WORDS_PATH},
                 {"pathEnd", &r->path_end, WORDS_ANY}};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        const struct snode *wn = val_str(v, it, ip, words[w].key, false, words[w].dst);
        if (!wn)
            continue;
        const char *text = *words[w].dst;
        char *bad = val_has_ctl(text, false) ? xstrdup("") : bad_word(text, words[w].kind);
        if (bad || !text[strspn(text, " ")])
            ERR_KEY(v, wn, ip, words[w].key, messages[words[w].kind], bad ? bad : "");
        free(bad);
    }
}

/* errorfile: "CODE PATH", an HTTP status 200-599 and an absolute path. */
static bool valid_errorfile(const char *x)
{
    long long code = 0;
    char num[4] = {0};
    if (strlen(x) <= 5 || x[3] != ' ')
        return false;
    memcpy(num, x, 3);
    return pod_parse_int(num, 200, 599, &code) && x[4] == '/' && !val_has_space(x + 4);
}

/* redirectToHttps, redirectLocation, redirectPrefix, errorfile (at most one); returns how many
 * there are. */
static int v_redirects(struct vctx *v, const struct snode *it, const char *ip,
                       struct spec_ingress *r)
{
    val_bool(v, it, ip, "redirectToHttps", &r->redirect_to_https);
    const struct snode *rl = val_str(v, it, ip, "redirectLocation", false, &r->redirect_location);
    const struct snode *rp = val_str(v, it, ip, "redirectPrefix", false, &r->redirect_prefix);
    const struct snode *ef = val_str(v, it, ip, "errorfile", false, &r->errorfile);
    if (rl && (val_has_space(r->redirect_location) || !*r->redirect_location))
        ERR_KEY(v, rl, ip, "redirectLocation", "must be a URL without spaces");
    if (rp && (val_has_space(r->redirect_prefix) || !*r->redirect_prefix))
        ERR_KEY(v, rp, ip, "redirectPrefix", "must be a URL without spaces");
    if (ef && !valid_errorfile(r->errorfile))
        ERR_KEY(v, ef, ip, "errorfile",
                "expected `CODE PATH` (HTTP status 200-599 and an absolute file path), got `%s`",
                r->errorfile);
    int n = (r->redirect_to_https ? 1 : 0) + (rl ? 1 : 0) + (rp ? 1 : 0) + (ef ? 1 : 0);
    if (n > 1)
        ERR(v, it, ip,
            "redirectToHttps, redirectLocation, redirectPrefix and errorfile are mutually "
            "exclusive");
    return n;
}

/* What a rule may combine with its protocol, and what a rule that routes to the backend (no
 * redirect) needs. */
static void v_rule_combinations(struct vctx *v, const struct snode *it, const char *ip,
                                const struct spec_ingress *r, int n_redirects,
                                const struct rule_ctx *rc)
{
    bool http = r->protocol && !strcmp(r->protocol, "http");
    bool https = r->protocol && !strcmp(r->protocol, "https");
    bool tcp = r->protocol && !strcmp(r->protocol, "tcp");
    bool has_path = val_get(it, "path") != NULL;
    bool has_beg_end = val_get(it, "pathBeg") || val_get(it, "pathEnd");
    if (has_path && has_beg_end)
        ERR(v, val_key_node(it, "path"), ip, "`path` cannot be combined with pathBeg/pathEnd");
    if (tcp) {
        static const char *const forbidden[] = {
            "path",           "pathBeg",   "pathEnd", "redirectToHttps", "redirectLocation",
            "redirectPrefix", "errorfile", NULL};
        for (const char *const *f = forbidden; *f; f++)
            if (snode_get(it, *f))
                ERR(v, val_key_node(it, *f), ip, "`%s` is not allowed for protocol tcp", *f);
    }
    if (https && r->redirect_to_https)
        ERR(v, val_key_node(it, "redirectToHttps"), ip,
            "redirectToHttps is not allowed for protocol https");
    bool routed = n_redirects == 0;
    if ((http || https) && routed && !has_path && !has_beg_end)
        ERR(v, it, ip,
            "an http/https rule that routes to the backend needs path, pathBeg or pathEnd "
            "(or one of redirectToHttps, redirectLocation, redirectPrefix, errorfile)");
    if (routed && (http || https || tcp) && (!rc->e->host_port || !rc->e->cluster_port))
        ERR(v, it, ip,
            "a rule that routes to the backend requires %shostPort and clusterPort on "
            "this expose entry",
            rc->podman ? "targetPort, " : "");
}

static void v_rule(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    struct rule_ctx *rc = self;
    val_check_keys(v, it, ip, ingress_keys);
    struct spec_ingress r;
    spec_defaults_ingress(&r);
    const struct snode *pn = val_str(v, it, ip, "protocol", true, &r.protocol);
    bool tcp = pn && !strcmp(r.protocol, "tcp");
    if (pn && !tcp && strcmp(r.protocol, "http") && strcmp(r.protocol, "https"))
        ERR_KEY(v, pn, ip, "protocol", "expected http|https|tcp, got `%s`", r.protocol);
    val_int(v, it, ip, "bind", 1, 65535, tcp, &r.bind);
    val_int(v, it, ip, "weight", 0, 1000000, false, &r.weight);
    v_words(v, it, ip, &r);
    int n_redirects = v_redirects(v, it, ip, &r);
    v_rule_combinations(v, it, ip, &r, n_redirects, rc);
    rc->e->ingress[rc->e->n_ingress++] = r;
}

static void v_ingress(struct vctx *v, const struct snode *en, const char *ep, struct spec_expose *e,
                      bool podman)
{
    const struct snode *l = val_seq(v, en, ep, "ingress", "ingress rules");
    if (!l)
        return;
    e->ingress = xcalloc(l->n, sizeof *e->ingress);
    struct rule_ctx rc = {e, podman};
    val_each_mapping(v, l, ep, "ingress", "an ingress rule mapping", v_rule, &rc);
}

/* ------------------------------------------------------------------ expose */

struct expose_list {
    enum expose_ctx ctx;
    struct spec_expose *out;
    size_t *n_out;
};

/* targetPort, hostPort, hostInterface as the context allows them; returns whether hostPort
 * was given and valid. */
static bool v_ports(struct vctx *v, const struct snode *it, const char *ip, enum expose_ctx ctx,
                    struct spec_expose *e)
{
    if (ctx == EXPOSE_EXEC) {
        if (snode_get(it, "targetPort"))
            ERR(v, val_key_node(it, "targetPort"), ip,
                "`targetPort` is not allowed with runtime: executable (there are no "
                "containers; hostPort is the port the executable listens on)");
        if (snode_get(it, "hostInterface"))
            ERR(v, val_key_node(it, "hostInterface"), ip,
                "`hostInterface` is not allowed with runtime: executable");
    } else {
        val_int(v, it, ip, "targetPort", 1, 65535, false, &e->target_port);
    }
    bool host_port_ok = val_int(v, it, ip, "hostPort", 1, 65535, false, &e->host_port);
    if (ctx == EXPOSE_PODMAN) {
        const struct snode *hi = val_str(v, it, ip, "hostInterface", false, &e->host_interface);
        if (hi && !valid_ipv4(e->host_interface))
            ERR_KEY(v, hi, ip, "hostInterface",
                    "expected an IPv4 address such as 0.0.0.0, got `%s`", e->host_interface);
        if (e->host_port && !e->target_port && !snode_get(it, "targetPort"))
            ERR(v, val_key_node(it, "hostPort"), ip, "hostPort requires targetPort");
    } else if (ctx == EXPOSE_HOSTNET) {
        if (snode_get(it, "hostInterface"))
            WARN(v, val_key_node(it, "hostInterface"), ip,
                 "`hostInterface` has no effect with network: host");
        if (e->target_port && e->host_port && e->target_port != e->host_port)
            ERR(v, val_key_node(it, "hostPort"), ip,
                "with network: host the container binds the host port itself: targetPort "
                "and hostPort must be equal");
        if (!e->host_port)
            e->host_port = e->target_port;
        e->target_port = e->host_port;
    }
    return host_port_ok;
}

/* clusterPort: 1024-65535 outside 30000-32767, and only with a hostPort. */
static void v_cluster_port(struct vctx *v, const struct snode *it, const char *ip,
                           struct spec_expose *e)
{
    if (!val_int(v, it, ip, "clusterPort", 1024, 65535, false, &e->cluster_port))
        return;
    if (e->cluster_port >= 30000 && e->cluster_port <= 32767)
        ERR_KEY(v, val_get(it, "clusterPort"), ip, "clusterPort",
                "clusterPort must not be in 30000-32767 (reserved), got %d", e->cluster_port);
    if (!e->host_port && !snode_get(it, "hostPort"))
        ERR(v, val_key_node(it, "clusterPort"), ip, "clusterPort requires hostPort");
}

/* Host ports are unique across the pod, unless bound to different explicit addresses. */
static void v_host_port_unique(struct vctx *v, const struct snode *it, const char *ip,
                               const struct spec_expose *e)
{
    const struct snode *hn = val_get(it, "hostPort") ? val_get(it, "hostPort") : it;
    for (size_t k = 0; k < v->n_hostports; k++) {
        const struct hostport *h = &v->hostports[k];
        if (h->port != e->host_port)
            continue;
        bool distinct = h->iface && e->host_interface && strcmp(h->iface, "0.0.0.0") &&
                        strcmp(e->host_interface, "0.0.0.0") && strcmp(h->iface, e->host_interface);
        if (!distinct) {
            ERR_KEY(v, hn, ip, "hostPort", "hostPort %d is already used (line %d)", e->host_port,
                    h->line);
            break;
        }
    }
    v->hostports = xrealloc(v->hostports, (v->n_hostports + 1) * sizeof *v->hostports);
    v->hostports[v->n_hostports++] = (struct hostport){e->host_port, e->host_interface, hn->line};
}

static void v_expose_item(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    struct expose_list *el = self;
    val_check_keys(v, it, ip, expose_keys);
    struct spec_expose *e = &el->out[*el->n_out];
    spec_defaults_expose(e);
    bool host_port_ok = v_ports(v, it, ip, el->ctx, e);
    v_cluster_port(v, it, ip, e);
    val_int(v, it, ip, "maxConn", 1, 1000000, false, &e->max_conn);
    val_bool(v, it, ip, "sendProxy", &e->send_proxy);
    v_ingress(v, it, ip, e, el->ctx == EXPOSE_PODMAN);
    if (host_port_ok || (el->ctx == EXPOSE_HOSTNET && e->host_port))
        v_host_port_unique(v, it, ip, e);
    (*el->n_out)++;
}

void val_expose(struct vctx *v, const struct snode *map, const char *path, enum expose_ctx ctx,
                struct spec_expose **out, size_t *n_out)
{
    const struct snode *l = val_seq(v, map, path, "expose", "expose mappings");
    if (!l)
        return;
    *out = xcalloc(l->n, sizeof **out);
    struct expose_list el = {ctx, *out, n_out};
    val_each_mapping(v, l, path, "expose", "an expose mapping", v_expose_item, &el);
}
