/* SPDX-License-Identifier: MIT */
/* spec_validate_probes.c - the validator's probes (SPEC.md 4.4 and the per probe extensions of
 * section 5): startupProbe, readinessProbe, livenessProbe with their timing knobs, the kind of
 * check (exit, cmd, tcpSocket, httpGet) and startupProbe.signal.  The defaults are in place
 * before (spec_defaults_container).  PURE: no I/O headers.
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const probe_names[] = {"startupProbe", "readinessProbe", "livenessProbe"};

static const char *const probe_keys[] = {"timeout",
                                         "exit",
                                         "cmd",
                                         "signal",
                                         "tcpSocket",
                                         "httpGet",
                                         "initialDelaySeconds",
                                         "periodSeconds",
                                         "timeoutSeconds",
                                         "successThreshold",
                                         "failureThreshold",
                                         NULL};

/* timeout, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold,
 * failureThreshold */
static void v_timing(struct vctx *v, const struct snode *pn, const char *pp, enum probe_which which,
                     struct spec_probe *p)
{
    val_int(v, pn, pp, "timeout", 1, 86400, false, &p->timeout_s);
    val_int(v, pn, pp, "initialDelaySeconds", 0, 86400, false, &p->initial_delay_s);
    val_int(v, pn, pp, "periodSeconds", 1, 86400, false, &p->period_s);
    p->attempt_timeout_s = p->timeout_s;
    val_int(v, pn, pp, "timeoutSeconds", 1, 86400, false, &p->attempt_timeout_s);
    if (val_int(v, pn, pp, "successThreshold", 1, 1000, false, &p->success_threshold) &&
        which != PROBE_READINESS && p->success_threshold != 1)
        ERR_KEY(v, val_get(pn, "successThreshold"), pp, "successThreshold", "must be 1 for %s",
                probe_names[which]);
    val_int(v, pn, pp, "failureThreshold", 1, 1000, false, &p->failure_threshold);
}

/* tcpSocket.port / httpGet.port: an exposed targetPort of this container with a hostPort, the
 * port the probe connects to from the host (with network: host, the port itself). */
static void v_net_port(struct vctx *v, const struct snode *net, const char *np,
                       const struct spec_container *c, struct spec_probe *p)
{
    if (!val_int(v, net, np, "port", 1, 65535, true, &p->port))
        return;
    if (c->network_host) {
        p->host_port = p->port;
        return;
    }
    for (size_t i = 0; i < c->n_expose; i++)
        if (c->expose[i].target_port == p->port && c->expose[i].host_port) {
            p->host_port = c->expose[i].host_port;
            break;
        }
    if (!p->host_port)
        ERR_KEY(v, val_get(net, "port"), np, "port",
                "port %d is not an exposed targetPort of this container with a hostPort (the "
                "probe connects from the host)",
                p->port);
}

/* httpGet.path (reported under np, the path of the tcpSocket/httpGet mapping read). */
static void v_http_path(struct vctx *v, const struct snode *http, const char *np,
                        struct spec_probe *p)
{
    const struct snode *hp = val_str(v, http, np, "path", false, &p->http_path);
    if (!hp) {
        if (!p->http_path)
            p->http_path = xstrdup(spec_default_http_path);
    } else if (p->http_path[0] != '/' || val_has_space(p->http_path)) {
        ERR_KEY(v, hp, np, "path", "must start with / and contain no spaces");
    }
}

/* The check: exit (startup only), cmd, tcpSocket or httpGet; exactly one (readiness and
 * liveness need one). */
static void v_check(struct vctx *v, const struct snode *pn, const char *pp, enum probe_which which,
                    const struct spec_container *c, struct spec_probe *p)
{
    int kinds = 0;
    bool exit_flag = false;
    if (which == PROBE_STARTUP && val_bool(v, pn, pp, "exit", &exit_flag) && exit_flag) {
        p->kind = SPEC_PROBE_EXIT;
        kinds++;
    }
    if (val_get(pn, "cmd")) {
        if (val_strv(v, pn, pp, "cmd", &p->cmd))
            p->kind = SPEC_PROBE_EXEC;
        else if (val_get(pn, "cmd")->type == SNODE_SEQ)
            ERR_KEY(v, val_get(pn, "cmd"), pp, "cmd", "must not be empty");
        kinds++;
    }
    const struct snode *tcp = val_map(v, pn, pp, "tcpSocket");
    const struct snode *http = val_map(v, pn, pp, "httpGet");
    if (tcp) {
        kinds++;
        p->kind = SPEC_PROBE_TCP;
    }
    if (http) {
        kinds++;
        p->kind = SPEC_PROBE_HTTP;
    }
    if (kinds > 1)
        ERR(v, pn, pp, "exit, cmd, tcpSocket and httpGet are mutually exclusive");
    if (tcp || http) {
        static const char *const port_keys[] = {"port", NULL};
        static const char *const http_keys[] = {"port", "path", NULL};
        char *np = val_path_key(pp, tcp ? "tcpSocket" : "httpGet");
        val_check_keys(v, tcp ? tcp : http, np, tcp ? port_keys : http_keys);
        v_net_port(v, tcp ? tcp : http, np, c, p);
        if (http)
            v_http_path(v, http, np, p);
        free(np);
    }
    if (which != PROBE_STARTUP && kinds == 0)
        ERR(v, pn, pp, "%s needs cmd (or the extensions tcpSocket/httpGet)", probe_names[which]);
}

/* Is name the name of a container of the pod (as written; validated or not)? */
static bool names_container(const struct snode *root, const char *name)
{
    const struct snode *cl = val_get(root, "containers");
    for (size_t k = 0; cl && cl->type == SNODE_SEQ && k < cl->n; k++) {
        const struct snode *other = val_get(cl->items[k], "name");
        if (other && other->type == SNODE_SCALAR && !strcmp(other->value, name))
            return true;
    }
    return false;
}

static void v_signal_target(struct vctx *v, const struct snode *it, const char *ip, void *self)
{
    struct spec_probe *p = self;
    static const char *const known[] = {"container", NULL};
    val_check_keys(v, it, ip, known);
    char *name = NULL;
    const struct snode *nn = val_str(v, it, ip, "container", true, &name);
    if (!nn)
        return;
    if (!names_container(v->root, name))
        ERR_KEY(v, nn, ip, "container", "no container named `%s` in this pod", name);
    else if (pod_strv_contains(p->signal_targets, name))
        val_diag_key(v, SPEC_SEV_WARNING, nn, ip, "container", "container `%s` is listed twice",
                     name);
    else
        pod_strv_push(&p->signal_targets, name);
    free(name);
}

/* startupProbe.signal: the containers to signal once this one has started. */
static void v_signal_targets(struct vctx *v, const struct snode *pn, const char *pp,
                             struct spec_probe *p)
{
    const struct snode *sl = val_seq(v, pn, pp, "signal", "`container: name` mappings");
    if (!sl)
        return;
    val_each_mapping(v, sl, pp, "signal", "`container: name`", v_signal_target, p);
}

void val_probe(struct vctx *v, const struct snode *cn, const char *cpath, enum probe_which which,
               const struct spec_container *c, struct spec_probe *p)
{
    const char *key = probe_names[which];
    const struct snode *pn = val_map(v, cn, cpath, key);
    if (!pn)
        return;
    char *pp = val_path_key(cpath, key);
    val_check_keys(v, pn, pp, probe_keys);
    if (which != PROBE_STARTUP) {
        if (snode_get(pn, "exit"))
            ERR(v, val_key_node(pn, "exit"), pp, "`exit` is only allowed in startupProbe");
        if (snode_get(pn, "signal"))
            ERR(v, val_key_node(pn, "signal"), pp, "`signal` is only allowed in startupProbe");
    }
    v_timing(v, pn, pp, which, p);
    v_check(v, pn, pp, which, c, p);
    if (which == PROBE_STARTUP)
        v_signal_targets(v, pn, pp, p);
    free(pp);
}
