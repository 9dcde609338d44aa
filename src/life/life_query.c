/* SPDX-License-Identifier: MIT */
/* life_query.c - the actions that talk to a running supervisor (pod/life.h, SPEC.md 7):
 * signal, reload-configs, rerun NAME..., ps, readiness.
 *
 * Names are checked against the spec first: one unknown name and nothing is done (exit 1,
 * the known names on stderr).  These need a live supervisor (exit 1 without one), except
 * `ps`, which shows the status file and `daemon: dead` then, and `readiness`, which is simply
 * not ready (exit 1, nothing printed).  `readiness` prints nothing on stdout, ever.
 */
#include "life_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pod/ctl.h"
#include "pod/drv.h"
#include "pod/util.h"

#define QUERY_TIMEOUT_MS 10000
#define READY_FRESH_S 60 /* a status older than this is not believed (the daemon: every 5 s) */

/* The daemon's answer: its stdout to ours, its stderr as the error (exit 1 or 100). */
static int relay(struct life *l, const struct ctl_reply *r, struct pod_err *err)
{
    if (r->out[0])
        fputs(r->out, l->e->out);
    if (r->code == 0) {
        if (r->err[0])
            fputs(r->err, stderr);
        return 0;
    }
    pod_err_set(err, r->code == POD_EXIT_USAGE ? POD_E_USAGE : POD_E_FAILED, 0, "%s",
                r->err[0] ? r->err : "refused by the pod's daemon");
    size_t n = strlen(err->msg);
    while (n && err->msg[n - 1] == '\n')
        err->msg[--n] = '\0';
    return -1;
}

/* Sends action + names to the live supervisor. */
static int ask_names(struct life *l, const char *action, char *const *names, struct pod_err *err)
{
    if (life_local_facts(l, err) < 0)
        return -1;
    if (!l->f.supervisor)
        return pod_err_set(err, POD_E_FAILED, 0,
                           "Pod %s: its daemon is not running (run or rerun the pod)", l->pod);
    size_t n = pod_strv_len(names);
    char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = (char *)action;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = names[i];
    struct ctl_reply r;
    int rc = life_ask(l, argv, n + 1, QUERY_TIMEOUT_MS, &r, err);
    free(argv);
    if (rc < 0)
        return -1;
    rc = relay(l, &r, err);
    ctl_reply_free(&r);
    return rc;
}

static int do_signal(struct life *l, const struct life_args *a, struct pod_err *err)
{
    if (life_check_names(l->e->spec, a->names, false, err) < 0)
        return -1;
    return ask_names(l, "signal", a->names, err);
}

static int do_reload(struct life *l, const struct life_args *a, struct pod_err *err)
{
    if (life_check_names(l->e->spec, a->names, true, err) < 0)
        return -1;
    return ask_names(l, "reload-configs", a->names, err);
}

int life_rerun_names(struct life *l, char *const *names, struct pod_err *err)
{
    if (life_check_names(l->e->spec, names, false, err) < 0)
        return -1;
    for (size_t i = 0; names[i]; i++)
        pod_log(POD_LOG_INFO, "Cycle container %s", names[i]);
    return ask_names(l, "rerun", names, err);
}

/* ------------------------------------------------------------------ ps, readiness */

static int do_ps(struct life *l, const struct life_args *a, struct pod_err *err)
{
    if (life_local_facts(l, err) < 0)
        return -1;
    char *text = NULL;
    if (l->f.supervisor) {
        char *argv[] = {"status", "json"};
        struct ctl_reply r;
        struct pod_err e2 = POD_ERR_ZERO;
        if (life_ask(l, argv, 2, QUERY_TIMEOUT_MS, &r, &e2) == 0) {
            if (r.code == 0)
                text = life_ps_live(r.out, a->json, (int64_t)time(NULL));
            ctl_reply_free(&r);
        } else {
            pod_log(POD_LOG_WARN, "%s: showing the status file", e2.msg);
        }
    }
    if (!text) {
        size_t len;
        char *st = life_status_text(l, &len);
        text = life_ps_dead(st, l->pod, a->json);
        free(st);
    }
    fputs(text, l->e->out);
    free(text);
    return 0;
}

static int do_readiness(struct life *l, const struct life_args *a, struct pod_err *err)
{
    (void)a;
    if (life_local_facts(l, err) < 0)
        return -1;
    size_t len = 0;
    char *text = l->f.supervisor ? life_status_text(l, &len) : NULL;
    char *ready = text ? drv_status_get(text, len, NULL, "readiness") : NULL;
    char *upd = text ? drv_status_get(text, len, NULL, "updated") : NULL;
    long long u = 0;
    bool fresh =
        upd && pod_parse_int(upd, 0, INT64_MAX, &u) && (long long)time(NULL) - u <= READY_FRESH_S;
    bool yes = ready && strcmp(ready, "1") == 0 && fresh;
    free(ready);
    free(upd);
    free(text);
    if (yes)
        return 0;
    err->code = POD_E_FAILED; /* not ready: exit 1, nothing printed */
    err->msg[0] = '\0';
    pod_log(POD_LOG_DEBUG, "Pod %s is not ready", l->pod);
    return -1;
}

int life_signal(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_signal);
}

int life_reload_configs(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_reload);
}

int life_ps(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_ps);
}

int life_readiness(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_readiness);
}
