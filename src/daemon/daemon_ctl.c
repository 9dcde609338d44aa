/* SPDX-License-Identifier: MIT */
/* daemon_ctl.c - the daemon's answers on the control socket (SPEC.md section 7).
 *
 * Every request is answered at once: the ones that change something once the supervisor has
 * taken the event (stop/kill return before the pod has stopped: the command line then waits
 * for the processes to exit).  Names are checked before anything is done: one unknown name
 * and nothing happens (exit 1, the known names on stderr).  Exit codes: 0 done, 1 refused,
 * 100 a malformed request.
 */
#include "daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pod/util.h"

static void reply(struct ctl_server *s, uint64_t id, int code, const char *out, const char *err)
{
    ctl_server_reply(s, id, code, out, err);
}

/* "known: a b c" for the stderr of a refused request. */
static char *known_names(const struct pod_spec *sp, bool configs)
{
    struct pod_buf b = {0};
    pod_buf_adds(&b, configs ? "known configs:" : "known containers:");
    if (configs) {
        for (size_t i = 0; i < sp->n_volumes; i++)
            if (sp->volumes[i].type == SPEC_VOL_CONFIG)
                pod_buf_printf(&b, " %s", sp->volumes[i].name);
    } else {
        for (size_t i = 0; i < sp->n_containers; i++)
            pod_buf_printf(&b, " %s", sp->containers[i].name);
    }
    return pod_buf_take(&b);
}

static int config_index(const struct pod_spec *sp, const char *name)
{
    for (size_t i = 0; i < sp->n_volumes; i++)
        if (sp->volumes[i].type == SPEC_VOL_CONFIG && strcmp(sp->volumes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Resolves argv[1..argc) to indices; on an unknown name replies 1 and returns NULL. */
static size_t *resolve(struct daemon *d, struct ctl_server *s, uint64_t id, int argc, char **argv,
                       bool configs)
{
    const struct pod_spec *sp = d->cfg->spec;
    size_t *v = xcalloc((size_t)argc, sizeof *v);
    for (int i = 1; i < argc; i++) {
        int k = configs ? config_index(sp, argv[i]) : spec_find_container(sp, argv[i]);
        if (k < 0) {
            char *known = known_names(sp, configs);
            char *msg = xasprintf("unknown %s `%s` (nothing done); %s\n",
                                  configs ? "config" : "container", argv[i], known);
            reply(s, id, 1, "", msg);
            free(msg);
            free(known);
            free(v);
            return NULL;
        }
        v[i - 1] = (size_t)k;
    }
    return v;
}

static void feed(struct daemon *d, enum sup_event_type t, size_t ctr, size_t volume)
{
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.ctr = ctr;
    ev.volume = volume;
    drv_input(d->drv, &ev);
}

static bool started(const struct daemon *d)
{
    enum sup_pod_phase p = drv_sup_status(d->drv)->phase;
    return p == SUP_POD_STARTING || p == SUP_POD_RUNNING;
}

static void do_names(struct daemon *d, struct ctl_server *s, uint64_t id, int argc, char **argv)
{
    bool configs = strcmp(argv[0], "reload-configs") == 0;
    bool rerun = strcmp(argv[0], "rerun") == 0;
    if ((configs || rerun) && argc < 2) {
        reply(s, id, 100, "", "a name is required\n");
        return;
    }
    size_t *v = resolve(d, s, id, argc, argv, configs);
    if (!v)
        return;
    if (rerun && !started(d)) {
        reply(s, id, 1, "", "the pod is not started: nothing rerun\n");
    } else if (configs) {
        for (int i = 0; i < argc - 1; i++)
            feed(d, SUP_EV_RELOAD_CONFIGS, 0, v[i]);
        reply(s, id, 0, "", "");
    } else if (rerun) {
        for (int i = 0; i < argc - 1; i++)
            feed(d, SUP_EV_RERUN, v[i], 0);
        reply(s, id, 0, "", "");
    } else { /* signal */
        if (argc < 2)
            feed(d, SUP_EV_SIGNAL, SIZE_MAX, 0);
        for (int i = 0; i < argc - 1; i++)
            feed(d, SUP_EV_SIGNAL, v[i], 0);
        reply(s, id, 0, "", "");
    }
    free(v);
}

/* ------------------------------------------------------------------ probe results */

static int role_index(const char *word, size_t len)
{
    for (int r = 0; r < DAEMON_PROBE_ROLES; r++) {
        const char *n = sup_probe_role_name((enum sup_probe_role)r);
        if (strlen(n) == len && strncmp(word, n, len) == 0)
            return r;
    }
    return -1;
}

static void seen(struct daemon *d, size_t i, int role, const char *result, int code)
{
    struct daemon_probe_seen *p = &d->probes[i][role];
    snprintf(p->result, sizeof p->result, "%s", result);
    p->code = code;
    p->wall_s = clk_wall_ns(&clk_real) / 1000000000;
    const struct sup_status *st = d->drv ? drv_sup_status(d->drv) : NULL;
    p->instance = st && i < st->n ? st->ctr[i].instance : 0;
}

/* Every trace record of the driver goes to the daemon log as a DEBUG line in the simulator's
 * trace format after `trace ` (monotonic seconds, subject, event, details), so a run on podman
 * can be compared with podsim's (tests/e2e/t_parity.sh; SPACE_LOG_LEVEL=5 shows them).  Then
 * the probe results for `pod ps`: "readiness ok code=0" (probe-done) and "readiness probe timed
 * out; cancelled" (a note). */
void daemon_trace(void *self, int64_t mono_ms, const char *subject, const char *event,
                  const char *details)
{
    struct daemon *d = self;
    if (pod_log_level() >= POD_LOG_DEBUG)
        pod_log(POD_LOG_DEBUG, "trace %6lld.%03lld %-10s %-12s %s", (long long)(mono_ms / 1000),
                (long long)(mono_ms % 1000), subject, event, details);
    /* a fired config burst: "config NAME changed" / "config NAME reload requested" */
    if (strcmp(subject, "pod") == 0 && strcmp(event, "note") == 0 &&
        strncmp(details, "config ", 7) == 0) {
        char name[256];
        if (sscanf(details + 7, "%255s", name) == 1)
            daemon_config_fired(d, name);
        return;
    }
    int i = d->probes ? spec_find_container(d->cfg->spec, subject) : -1;
    if (i < 0)
        return;
    if (strcmp(event, "probe-done") == 0) {
        const char *sp = strchr(details, ' ');
        int r = sp ? role_index(details, (size_t)(sp - details)) : -1;
        char result[8];
        int code = 0;
        if (r >= 0 && sscanf(sp + 1, "%7s code=%d", result, &code) == 2)
            seen(d, (size_t)i, r, result, code);
    } else if (strcmp(event, "note") == 0) {
        const char *t = strstr(details, " probe timed out");
        if (!t)
            return;
        const char *w = t;
        while (w > details && w[-1] != ' ')
            w--;
        int r = role_index(w, (size_t)(t - w));
        if (r >= 0)
            seen(d, (size_t)i, r, "timeout", 0);
    }
}

/* ------------------------------------------------------------------ status */

static json_t *probes_json(const struct daemon *d, size_t i)
{
    json_t *o = json_object();
    for (int r = 0; r < DAEMON_PROBE_ROLES; r++) {
        const struct daemon_probe_seen *p = &d->probes[i][r];
        if (!p->result[0])
            continue;
        json_object_set_new(o, sup_probe_role_name((enum sup_probe_role)r),
                            json_pack("{s:s, s:i, s:I, s:I}", "result", p->result, "code", p->code,
                                      "at", (json_int_t)p->wall_s, "instance",
                                      (json_int_t)p->instance));
    }
    return o;
}

static int64_t epoch_ms_of(int64_t mono_ms)
{
    if (mono_ms <= 0)
        return 0;
    return clk_wall_ns(&clk_real) / 1000000 + (mono_ms - clk_mono_ms(&clk_real));
}

/* The log writers' loss counters of container i's two streams (i = the number of containers:
 * the daemon's own log) into o, as of the log pump's last processed item: since this daemon
 * started (SPEC 9.5; the `!` notices in the files are the durable record).  logLastError: the
 * last error of a failing stream, else of one that failed before (only after an error). */
static void log_counters(const struct daemon *d, size_t i, json_t *o)
{
    uint64_t lines = 0, bytes = 0, errors = 0, backlog = 0;
    bool failing = false;
    char last[sizeof(((struct pod_err *)0)->msg)] = "";
    size_t nstreams = i < d->cfg->spec->n_containers ? 2 : 1;
    for (size_t st = 0; d->sink && st < nstreams; st++) {
        char e[sizeof last];
        struct logw_stats ls = dsink_stats_err(d->sink, i, (int)st, e, sizeof e);
        lines += ls.dropped_lines;
        bytes += ls.dropped_bytes;
        errors += ls.write_errors;
        backlog += ls.backlog_bytes;
        if (e[0] && ls.write_errors && (ls.failing || !last[0]))
            snprintf(last, sizeof last, "%s", e);
        failing = failing || ls.failing;
    }
    json_object_set_new(o, "logDroppedLines", json_integer((json_int_t)lines));
    json_object_set_new(o, "logDroppedBytes", json_integer((json_int_t)bytes));
    json_object_set_new(o, "logWriteErrors", json_integer((json_int_t)errors));
    json_object_set_new(o, "logBacklogBytes", json_integer((json_int_t)backlog));
    json_object_set_new(o, "logFailing", json_boolean(failing));
    if (errors && last[0])
        json_object_set_new(o, "logLastError", json_string(last));
}

/* The last WARN/ERROR about container i (i = the number of containers: the pod) in this
 * daemon's life, with when (SPEC 7.2): what a failing podman call or a failed start was. */
static void last_warning(const struct daemon *d, size_t i, json_t *o)
{
    int64_t at = 0;
    const char *w = d->drv ? drv_last_warning(d->drv, i, &at) : NULL;
    if (!w)
        return;
    json_object_set_new(o, "lastWarning", json_string(w));
    json_object_set_new(o, "lastWarningAt", json_integer((json_int_t)at));
}

static json_t *status_json(const struct daemon *d)
{
    const struct sup_status *st = drv_sup_status(d->drv);
    const struct pod_spec *sp = d->cfg->spec;
    const struct holdc_hello *h = holdc_hello(d->hc);
    char *pod = spec_pod_fullname(sp);
    json_t *o =
        json_pack("{s:s, s:s, s:b, s:b, s:{s:I, s:I, s:I, s:I, s:I}}", "pod", pod, "phase",
                  sup_pod_phase_name(st->phase), "ready", st->ready, "healthy", st->healthy,
                  "daemon", "pid", (json_int_t)getpid(), "holderPid",
                  (json_int_t)holdc_holder_pid(d->hc), "started", (json_int_t)d->started_wall_s,
                  "restarts", (json_int_t)h->respawns, "wakeups", (json_int_t)d->wakeups);
    free(pod);
    json_object_set_new(o, "infraRestarts", json_integer((json_int_t)st->infra_restarts));
    log_counters(d, sp->n_containers, json_object_get(o, "daemon"));
    last_warning(d, sp->n_containers, json_object_get(o, "daemon"));
    json_t *arr = json_array();
    for (size_t i = 0; i < st->n && i < sp->n_containers; i++) {
        const struct sup_ctr_status *c = &st->ctr[i];
        json_t *j =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:b, s:I, s:I, s:b}", "name",
                      sp->containers[i].name, "phase", sup_ctr_phase_name(c->phase), "instance",
                      (json_int_t)c->instance, "startCount", (json_int_t)c->start_count,
                      "restartCount", (json_int_t)c->restart_count, "running", c->running, "ready",
                      c->ready, "live", c->live, "backoffMs", (json_int_t)c->backoff_ms, "failures",
                      (json_int_t)c->consecutive_failures, "gaveUp", c->gave_up);
        if (c->has_exit_code)
            json_object_set_new(j, "exitCode", json_integer(c->exit_code));
        if (c->next_start_mono_ms > 0)
            json_object_set_new(j, "nextStartMs", json_integer(epoch_ms_of(c->next_start_mono_ms)));
        const struct daemon_backend_factory *f = &d->cfg->backend;
        const char *sb = d->have_be && f->standby ? f->standby(f->arg, &d->be, i) : NULL;
        if (sb)
            json_object_set_new(j, "warmStandby", json_string(sb));
        log_counters(d, i, j);
        last_warning(d, i, j);
        if (d->probes)
            json_object_set_new(j, "probes", probes_json(d, i));
        json_array_append_new(arr, j);
    }
    json_object_set_new(o, "containers", arr);
    return o;
}

/* The same as `key: value` lines (the status file's layout). */
static char *status_text(const struct daemon *d)
{
    json_t *o = status_json(d);
    struct pod_buf b = {0};
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (json_is_string(v))
            pod_buf_printf(&b, "%s: %s\n", k, json_string_value(v));
        else if (json_is_boolean(v))
            pod_buf_printf(&b, "%s: %d\n", k, json_is_true(v));
    }
    json_int_t ir = json_integer_value(json_object_get(o, "infraRestarts"));
    if (ir > 0)
        pod_buf_printf(&b, "infraRestarts: %lld\n", (long long)ir);
    json_t *dm = json_object_get(o, "daemon");
    static const char *const keys[][2] = {{"pid", "daemonPid"},
                                          {"holderPid", "holderPid"},
                                          {"started", "daemonStarted"},
                                          {"restarts", "daemonRestarts"},
                                          {"wakeups", "daemonWakeups"},
                                          {"logDroppedLines", "daemonLogDroppedLines"},
                                          {"logDroppedBytes", "daemonLogDroppedBytes"},
                                          {"logWriteErrors", "daemonLogWriteErrors"},
                                          {"logBacklogBytes", "daemonLogBacklogBytes"},
                                          {"logFailing", "daemonLogFailing"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *dv = json_object_get(dm, keys[i][0]);
        pod_buf_printf(&b, "%s: %lld\n", keys[i][1],
                       json_is_boolean(dv) ? (long long)json_is_true(dv)
                                           : (long long)json_integer_value(dv));
    }
    if (json_is_string(json_object_get(dm, "logLastError")))
        pod_buf_printf(&b, "daemonLogLastError: %s\n",
                       json_string_value(json_object_get(dm, "logLastError")));
    pod_buf_adds(&b, "containers:\n");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "containers"), i, c)
    {
        pod_buf_printf(&b, "    - name: %s\n", json_string_value(json_object_get(c, "name")));
        json_object_foreach(c, k, v)
        {
            if (strcmp(k, "name") == 0)
                continue;
            if (json_is_string(v))
                pod_buf_printf(&b, "      %s: %s\n", k, json_string_value(v));
            else if (json_is_boolean(v))
                pod_buf_printf(&b, "      %s: %d\n", k, json_is_true(v));
            else if (json_is_integer(v))
                pod_buf_printf(&b, "      %s: %lld\n", k, (long long)json_integer_value(v));
        }
    }
    json_decref(o);
    return pod_buf_take(&b);
}

static void do_status(struct daemon *d, struct ctl_server *s, uint64_t id, int argc, char **argv)
{
    char *text;
    if (argc > 1 && strcmp(argv[1], "json") == 0) {
        json_t *o = status_json(d);
        char *j = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        text = xasprintf("%s\n", j);
        free(j);
    } else {
        text = status_text(d);
    }
    reply(s, id, 0, text, "");
    free(text);
}

/* ------------------------------------------------------------------ dispatch */

void daemon_on_request(void *arg, struct ctl_server *s, uint64_t id, int argc, char **argv)
{
    struct daemon *d = arg;
    const char *a = argv[0];
    pod_log(POD_LOG_DEBUG, "daemon: request `%s` (%d args)", a, argc - 1);
    if (strcmp(a, "ping") == 0) {
        reply(s, id, 0, "", "");
    } else if (strcmp(a, "status") == 0) {
        do_status(d, s, id, argc, argv);
    } else if (drv_pod_stopped(d->drv)) {
        reply(s, id, 1, "", "the pod's daemon is exiting (the pod stopped)\n");
    } else if (strcmp(a, "start") == 0 || strcmp(a, "stop") == 0 || strcmp(a, "kill") == 0) {
        if (argc > 1) {
            reply(s, id, 100, "", "no arguments expected\n");
            return;
        }
        enum sup_event_type t = strcmp(a, "start") == 0  ? SUP_EV_START_POD
                                : strcmp(a, "stop") == 0 ? SUP_EV_STOP_POD
                                                         : SUP_EV_KILL_POD;
        enum sup_pod_phase ph = drv_sup_status(d->drv)->phase;
        if (t == SUP_EV_START_POD && ph != SUP_POD_CREATED) {
            /* a start of a started pod changes nothing (run is replayed often) */
            char *msg = xasprintf("already %s\n", sup_pod_phase_name(ph));
            reply(s, id, 0, "", msg);
            free(msg);
            return;
        }
        pod_log(POD_LOG_INFO, "daemon: `%s` requested", a);
        daemon_input(d, t);
        reply(s, id, 0, "", "");
    } else if (strcmp(a, "signal") == 0 || strcmp(a, "reload-configs") == 0 ||
               strcmp(a, "rerun") == 0) {
        do_names(d, s, id, argc, argv);
    } else {
        char *msg = xasprintf("unknown request `%s`\n", a);
        reply(s, id, 100, "", msg);
        free(msg);
    }
}
