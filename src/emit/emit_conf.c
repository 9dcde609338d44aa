/* SPDX-License-Identifier: MIT */
/* emit_conf.c - the texts of <out>.portmappings.conf and <out>.ingress.conf (formats of
 * SPEC.md "Output files", read by sns and simplenetesd).  Pure: builds strings, no I/O.
 * An empty string means "this file must not exist" (podc then removes a stale one).
 */
#include "pod/emit.h"
#include "pod/util.h"

#include <string.h>

/* Calls fn for every expose entry of the pod in definition order: the containers' entries
 * (podman runtime; host-network containers included) or executable.expose. */
typedef void expose_fn(struct pod_buf *b, const struct spec_expose *x);

static void each_expose(const struct pod_spec *s, struct pod_buf *b, expose_fn *fn)
{
    if (s->runtime == SPEC_RUNTIME_EXECUTABLE) {
        for (size_t i = 0; i < s->n_exec_expose; i++)
            fn(b, &s->exec_expose[i]);
        return;
    }
    for (size_t c = 0; c < s->n_containers; c++)
        for (size_t i = 0; i < s->containers[c].n_expose; i++)
            fn(b, &s->containers[c].expose[i]);
}

static void portmapping_line(struct pod_buf *b, const struct spec_expose *x)
{
    if (x->host_port <= 0 || x->cluster_port <= 0)
        return;
    pod_buf_printf(b, "%d:%d:%d:%s\n", x->cluster_port, x->host_port, x->max_conn,
                   x->send_proxy ? "true" : "false");
}

char *emit_portmappings(const struct pod_spec *s)
{
    struct pod_buf b = {0};
    each_expose(s, &b, portmapping_line);
    return pod_buf_take(&b);
}

static void ingress_rules(struct pod_buf *b, const struct spec_expose *x)
{
    for (size_t i = 0; i < x->n_ingress; i++) {
        const struct spec_ingress *g = &x->ingress[i];
        const char *proto = g->protocol ? g->protocol : "http";
        int bind = g->bind;
        if (bind <= 0)
            bind = strcmp(proto, "https") == 0 ? 443 : 80;
        pod_buf_printf(b, "bind %d\nprotocol %s\n", bind, proto);
        /* The original writes "host " even without domains; sns ignores an empty key. */
        pod_buf_printf(b, "host %s\n", g->domain ? g->domain : "");
        pod_buf_printf(b, "weight %d\n", g->weight);
        if (g->path)
            pod_buf_printf(b, "path %s\n", g->path);
        if (g->path_beg)
            pod_buf_printf(b, "path_beg %s\n", g->path_beg);
        if (g->path_end)
            pod_buf_printf(b, "path_end %s\n", g->path_end);
        if (g->redirect_to_https)
            pod_buf_adds(b, "redirect_to_https true\n");
        else if (g->redirect_location)
            pod_buf_printf(b, "redirect_location %s\n", g->redirect_location);
        else if (g->redirect_prefix)
            pod_buf_printf(b, "redirect_prefix %s\n", g->redirect_prefix);
        else if (g->errorfile)
            pod_buf_printf(b, "errorfile %s\n", g->errorfile);
        else
            pod_buf_printf(b, "clusterport %d\n", x->cluster_port);
    }
}

char *emit_ingress(const struct pod_spec *s)
{
    struct pod_buf b = {0};
    each_expose(s, &b, ingress_rules);
    return pod_buf_take(&b);
}
