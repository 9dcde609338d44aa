/* SPDX-License-Identifier: MIT */
/* podman_json.c - parsers of podman's JSON output (see pod/podman.h, SPEC.md 11.x).
 *
 * Pure: text in, records out.  podman's output is treated as untrusted input: a size limit
 * and a nesting limit are checked before jansson sees it, every field is type-checked, and a
 * missing or mistyped field reads as "unknown", never as a crash.  Timestamps are parsed with
 * their own numeric offset (podman writes the local zone of whichever process recorded them).
 */
#include "pod/podman.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

/* ------------------------------------------------------------------ time */

static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int podman_parse_time(const char *s, int64_t *wall_ns)
{
    int Y, M, D, h, mi, sec;
    if (!s || strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
        s[7] != '-' || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n >= 9)
                return -1;
            frac = frac * 10 + (*p - '0');
        }
        if (n == 0)
            return -1;
        for (; n < 9; n++)
            frac *= 10;
    }
    int off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - off_s;
    if (secs >= INT64_MAX / 1000000000 - 1)
        return -1; /* after 2262: no int64 ns (a date no podman reports) */
    *wall_ns = secs <= 0 ? 0 : secs * 1000000000 + frac;
    return 0;
}

int podman_parse_wait(const char *out, int *code)
{
    long long v;
    char buf[32];
    size_t n = out ? strcspn(out, "\r\n") : 0;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, out, n);
    buf[n] = 0;
    if (!pod_parse_int(buf, -1000, 1000, &v))
        return -1;
    *code = (int)v;
    return 0;
}

void podman_error_line(const char *text, size_t len, char *buf, size_t cap)
{
    const char *best = NULL, *last = NULL;
    size_t best_n = 0, last_n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        const char *l = text + i;
        size_t n = j - i;
        while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            n--;
        while (n && (*l == ' ' || *l == '\t')) {
            l++;
            n--;
        }
        if (n) {
            last = l;
            last_n = n;
            if (n >= 7 && memcmp(l, "Error: ", 7) == 0) {
                best = l;
                best_n = n;
            }
        }
        i = j + 1;
    }
    if (!best) {
        best = last;
        best_n = last_n;
    }
    if (cap == 0)
        return;
    size_t k = 0;
    for (size_t i = 0; best && i < best_n && k + 1 < cap; i++) {
        unsigned char ch = (unsigned char)best[i];
        buf[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    buf[k] = 0;
}

/* ------------------------------------------------------------------ JSON helpers */

/* Size and nesting limits before jansson sees the text. */
static int check_limits(const char *s, size_t len, struct pod_err *err)
{
    if (len > PODMAN_JSON_MAX_BYTES)
        return pod_err_set(err, POD_E_INVALID, 0, "podman JSON: %zu bytes (limit %u)", len,
                           PODMAN_JSON_MAX_BYTES);
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > PODMAN_JSON_MAX_DEPTH)
                return pod_err_set(err, POD_E_INVALID, 0, "podman JSON: nested too deeply");
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

static json_t *load(const char *s, size_t len, struct pod_err *err)
{
    if (check_limits(s, len, err) < 0)
        return NULL;
    json_error_t je;
    json_t *root = json_loadb(s, len, 0, &je);
    if (!root)
        pod_err_set(err, POD_E_INVALID, 0, "podman JSON: %s (line %d)", je.text, je.line);
    return root;
}

static char *dup_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? xstrdup(v) : NULL;
}

static long long get_int(json_t *o, const char *key, long long def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static int clamp_int(long long v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : (int)v);
}

static enum podman_state state_of(const char *st)
{
    if (!st)
        return PODMAN_ST_UNKNOWN;
    if (!strcmp(st, "running") || !strcmp(st, "paused"))
        return PODMAN_ST_RUNNING;
    if (!strcmp(st, "exited") || !strcmp(st, "stopped"))
        return PODMAN_ST_EXITED;
    if (!strcmp(st, "created") || !strcmp(st, "configured") || !strcmp(st, "initialized"))
        return PODMAN_ST_CREATED;
    return PODMAN_ST_OTHER;
}

static void labels_of(json_t *labels, struct podman_ctr_info *i)
{
    if (!json_is_object(labels))
        return;
    i->ctr_label = dup_str(labels, PODMAN_LABEL_CONTAINER);
    i->pod_label = dup_str(labels, PODMAN_LABEL_POD);
    const char *inst = json_string_value(json_object_get(labels, PODMAN_LABEL_INSTANCE));
    long long v;
    if (inst && pod_parse_int(inst, 1, INT64_MAX, &v))
        i->instance = (uint64_t)v;
}

static int64_t time_field(json_t *o, const char *key)
{
    int64_t ns = 0;
    const char *s = json_string_value(json_object_get(o, key));
    if (s && podman_parse_time(s, &ns) < 0)
        ns = 0;
    return ns;
}

void podman_ctr_info_clear(struct podman_ctr_info *i)
{
    if (!i)
        return;
    free(i->id);
    free(i->name);
    free(i->ctr_label);
    free(i->pod_label);
    memset(i, 0, sizeof *i);
}

void podman_ctr_infos_free(struct podman_ctr_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        podman_ctr_info_clear(&v[i]);
    free(v);
}

/* ------------------------------------------------------------------ inspect */

int podman_parse_inspect(const char *json, size_t len, struct podman_ctr_info *out, bool *found,
                         struct pod_err *err)
{
    memset(out, 0, sizeof *out);
    *found = false;
    json_t *root = load(json, len, err);
    if (!root)
        return -1;
    int rc = -1;
    if (!json_is_array(root) || json_array_size(root) > 1) {
        pod_err_set(err, POD_E_INVALID, 0, "podman inspect: expected an array of one");
        goto out;
    }
    if (json_array_size(root) == 0) {
        rc = 0;
        goto out;
    }
    json_t *o = json_array_get(root, 0);
    json_t *st = json_object_get(o, "State");
    out->id = dup_str(o, "Id");
    out->name = dup_str(o, "Name");
    if (!json_is_object(o) || !json_is_object(st) || !out->id || !out->name) {
        podman_ctr_info_clear(out);
        pod_err_set(err, POD_E_INVALID, 0, "podman inspect: no Id, Name or State");
        goto out;
    }
    json_t *running = json_object_get(st, "Running");
    out->state = json_is_true(running) ? PODMAN_ST_RUNNING
                                       : state_of(json_string_value(json_object_get(st, "Status")));
    if (json_is_false(running) && out->state == PODMAN_ST_RUNNING)
        out->state = PODMAN_ST_OTHER; /* "running" status without a process: in transition */
    out->exit_code = clamp_int(get_int(st, "ExitCode", 0), -1, 255);
    out->pid = clamp_int(get_int(st, "Pid", 0), 0, 1 << 30);
    out->conmon_pid = clamp_int(get_int(st, "ConmonPid", 0), 0, 1 << 30);
    out->started_wall_ns = time_field(st, "StartedAt");
    out->finished_wall_ns = time_field(st, "FinishedAt");
    labels_of(json_object_get(json_object_get(o, "Config"), "Labels"), out);
    *found = true;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------ ps */

static int64_t unix_s(json_t *o, const char *key)
{
    long long v = get_int(o, key, 0);
    return v <= 0 || v > INT64_MAX / 1000000000 ? 0 : (int64_t)v * 1000000000;
}

static bool ps_entry(json_t *o, struct podman_ctr_info *i)
{
    if (!json_is_object(o))
        return false;
    i->id = dup_str(o, "Id");
    json_t *names = json_object_get(o, "Names");
    const char *n0 = json_is_array(names) ? json_string_value(json_array_get(names, 0)) : NULL;
    i->name = n0 ? xstrdup(n0) : NULL;
    if (!i->id || !i->name) {
        podman_ctr_info_clear(i);
        return false;
    }
    i->state = state_of(json_string_value(json_object_get(o, "State")));
    i->exit_code = clamp_int(get_int(o, "ExitCode", 0), -1, 255);
    i->pid = clamp_int(get_int(o, "Pid", 0), 0, 1 << 30);
    i->is_infra = json_is_true(json_object_get(o, "IsInfra"));
    i->started_wall_ns = unix_s(o, "StartedAt");
    i->finished_wall_ns = i->state == PODMAN_ST_EXITED ? unix_s(o, "ExitedAt") : 0;
    labels_of(json_object_get(o, "Labels"), i);
    return true;
}

int podman_parse_ps(const char *json, size_t len, struct podman_ctr_info **out, size_t *n,
                    struct pod_err *err)
{
    *out = NULL;
    *n = 0;
    json_t *root = load(json, len, err);
    if (!root)
        return -1;
    if (!json_is_array(root) || json_array_size(root) > PODMAN_PS_MAX_ENTRIES) {
        json_decref(root);
        return pod_err_set(err, POD_E_INVALID, 0, "podman ps: expected an array");
    }
    size_t cnt = json_array_size(root);
    struct podman_ctr_info *v = xcalloc(cnt ? cnt : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++)
        if (ps_entry(json_array_get(root, i), &v[k]))
            k++;
    json_decref(root);
    *out = v;
    *n = k;
    return 0;
}
