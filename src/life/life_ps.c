/* SPDX-License-Identifier: MIT */
/* life_ps.c - what `ps` and `ps --json` print (pod/life.h, SPEC.md 7).  Pure: text in, text
 * out.
 *
 * Live (a daemon answered `status json`): the pod's phase, readiness, health and daemon, then
 * per container its phase, instance, counts, backoff and the last result of each probe, as
 * `key: value` lines in the status file's layout, or the daemon's JSON object with
 * "daemon": {"alive": true, ...}.  Dead: the status file as it is, with `daemon: dead` before
 * its container list (`pod: X` / `status: non-existing` without one), or the same as JSON.
 */
#include "pod/life.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pod/util.h"

/* ------------------------------------------------------------------ live */

/* The string member key of o, "" when it is missing or not a string (never NULL into %s). */
static const char *str_of(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void kv_int(struct pod_buf *b, const char *indent, const char *key, json_t *o,
                   const char *jkey)
{
    json_t *v = json_object_get(o, jkey);
    if (json_is_integer(v))
        pod_buf_printf(b, "%s%s: %lld\n", indent, key, (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        pod_buf_printf(b, "%s%s: %d\n", indent, key, json_is_true(v));
}

static void probe_line(struct pod_buf *b, const char *role, json_t *p, int64_t now)
{
    const char *res = json_string_value(json_object_get(p, "result"));
    if (!res)
        return;
    long long at = (long long)json_integer_value(json_object_get(p, "at"));
    long long code = (long long)json_integer_value(json_object_get(p, "code"));
    pod_buf_printf(b, "      %sProbe: %s", role, res);
    if (strcmp(res, "timeout") != 0)
        pod_buf_printf(b, " (code %lld)", code);
    if (at > 0)
        pod_buf_printf(b, ", %lld s ago", now > at ? (long long)(now - at) : 0LL);
    pod_buf_addc(b, '\n');
}

/* The log loss counters (logDroppedLines, ...) of o, only when one is not zero (the disk
 * failed since the daemon started); with a prefix the key is capitalised after it
 * (daemonLogDroppedLines). */
static void log_text(struct pod_buf *b, const char *indent, const char *prefix, json_t *o)
{
    static const char *const keys[][2] = {{"logDroppedLines", "LogDroppedLines"},
                                          {"logDroppedBytes", "LogDroppedBytes"},
                                          {"logWriteErrors", "LogWriteErrors"},
                                          {"logBacklogBytes", "LogBacklogBytes"},
                                          {"logFailing", "LogFailing"}};
    const size_t n = sizeof keys / sizeof keys[0];
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i][0]);
        any = any || json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
    }
    for (size_t i = 0; any && i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s%s", prefix, keys[i][*prefix ? 1 : 0]);
        kv_int(b, indent, key, o, keys[i][0]);
    }
    const char *e = json_string_value(json_object_get(o, "logLastError"));
    if (!any || !e)
        return;
    pod_buf_printf(b, "%s%s%s: ", indent, prefix, *prefix ? "LogLastError" : "logLastError");
    for (const char *p = e; *p; p++)
        pod_buf_addc(b, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
    pod_buf_addc(b, '\n');
}

/* `lastWarning: TEXT (N s ago)` when o has one (a string from the daemon: one line, any
 * control character shown as `?`). */
static void warning_text(struct pod_buf *b, const char *indent, const char *key, json_t *o,
                         int64_t now)
{
    const char *w = json_string_value(json_object_get(o, "lastWarning"));
    if (!w)
        return;
    json_int_t at = json_integer_value(json_object_get(o, "lastWarningAt"));
    pod_buf_printf(b, "%s%s: ", indent, key);
    for (const char *p = w; *p; p++)
        pod_buf_addc(b, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
    if (at > 0)
        pod_buf_printf(b, " (%lld s ago)", now > at ? (long long)(now - at) : 0LL);
    pod_buf_addc(b, '\n');
}

static void ctr_text(struct pod_buf *b, json_t *c, int64_t now)
{
    pod_buf_printf(b, "    - name: %s\n", str_of(c, "name"));
    pod_buf_printf(b, "      phase: %s\n", str_of(c, "phase"));
    static const char *const keys[] = {"instance",   "running",      "ready",      "live",
                                       "startCount", "restartCount", "backoffMs",  "failures",
                                       "gaveUp",     "exitCode",     "nextStartMs"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        kv_int(b, "      ", keys[i], c, keys[i]);
    const char *standby = json_string_value(json_object_get(c, "warmStandby"));
    if (standby)
        pod_buf_printf(b, "      warmStandby: %s\n", standby);
    log_text(b, "      ", "", c);
    warning_text(b, "      ", "lastWarning", c, now);
    json_t *pr = json_object_get(c, "probes");
    static const char *const roles[] = {"startup", "readiness", "liveness"};
    for (size_t i = 0; i < 3; i++)
        probe_line(b, roles[i], json_object_get(pr, roles[i]), now);
}

char *life_ps_live(const char *json, bool as_json, int64_t now_wall_s)
{
    json_t *o = json_loads(json, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    json_t *dm = json_object_get(o, "daemon");
    if (json_is_object(dm))
        json_object_set_new(dm, "alive", json_true());
    if (as_json) {
        char *j = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        char *r = xasprintf("%s\n", j ? j : "{}");
        free(j);
        return r;
    }
    struct pod_buf b = {0};
    pod_buf_printf(&b, "pod: %s\n", str_of(o, "pod"));
    pod_buf_printf(&b, "phase: %s\n", str_of(o, "phase"));
    kv_int(&b, "", "readiness", o, "ready");
    kv_int(&b, "", "healthy", o, "healthy");
    if (json_integer_value(json_object_get(o, "infraRestarts")) > 0)
        kv_int(&b, "", "infraRestarts", o, "infraRestarts");
    pod_buf_adds(&b, "daemon: alive\n");
    kv_int(&b, "", "daemonPid", dm, "pid");
    kv_int(&b, "", "holderPid", dm, "holderPid");
    kv_int(&b, "", "daemonStarted", dm, "started");
    kv_int(&b, "", "daemonRestarts", dm, "restarts");
    log_text(&b, "", "daemon", dm);
    warning_text(&b, "", "lastWarning", dm, now_wall_s);
    pod_buf_adds(&b, "containers:\n");
    json_t *arr = json_object_get(o, "containers");
    for (size_t i = 0; i < json_array_size(arr); i++)
        ctr_text(&b, json_array_get(arr, i), now_wall_s);
    json_decref(o);
    return pod_buf_take(&b);
}

/* ------------------------------------------------------------------ dead */

/* A value as JSON: an integer when it is one, else a string. */
static json_t *value_json(const char *v)
{
    long long n;
    if (pod_parse_int(v, -9007199254740991LL, 9007199254740991LL, &n))
        return json_integer(n);
    return json_string(v);
}

/* "key: value" (leading spaces and "- " skipped) into o. */
static void line_into(json_t *o, const char *line, size_t len)
{
    char *l = xstrndup(line, len);
    char *p = l + strspn(l, " ");
    if (p[0] == '-' && p[1] == ' ')
        p += 2;
    char *colon = strchr(p, ':');
    if (colon) {
        *colon = '\0';
        const char *v = colon[1] == ' ' ? colon + 2 : colon + 1;
        json_object_set_new(o, p, value_json(v));
    }
    free(l);
}

static char *dead_json(const char *text, const char *pod)
{
    json_t *o = json_object(), *ctrs = NULL, *cur = NULL;
    if (!text) {
        json_object_set_new(o, "pod", json_string(pod));
        json_object_set_new(o, "status", json_string("non-existing"));
    }
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, "containers:", 11) == 0) {
            cur = NULL; /* a second list replaces (frees) the first and its entries */
            ctrs = json_array();
            json_object_set_new(o, "containers", ctrs);
        } else if (ctrs && strncmp(p, "    - ", 6) == 0) {
            cur = json_object();
            json_array_append_new(ctrs, cur);
            line_into(cur, p, n);
        } else if (n > 0) {
            line_into(ctrs && cur && p[0] == ' ' ? cur : o, p, n);
        }
        p += n + (nl ? 1 : 0);
    }
    json_object_set_new(o, "daemon", json_pack("{s:b}", "alive", 0));
    char *j = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    char *r = xasprintf("%s\n", j ? j : "{}");
    free(j);
    return r;
}

char *life_ps_dead(const char *status_text, const char *pod, bool as_json)
{
    if (as_json)
        return dead_json(status_text, pod);
    if (!status_text)
        return xasprintf("pod: %s\nstatus: non-existing\ndaemon: dead\n", pod);
    struct pod_buf b = {0};
    const char *c = strstr(status_text, "\ncontainers:");
    size_t head = c ? (size_t)(c - status_text) + 1 : strlen(status_text);
    pod_buf_add(&b, status_text, head);
    if (head && status_text[head - 1] != '\n')
        pod_buf_addc(&b, '\n');
    pod_buf_adds(&b, "daemon: dead\n");
    if (c)
        pod_buf_adds(&b, c + 1);
    return pod_buf_take(&b);
}
