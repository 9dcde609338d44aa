/* SPDX-License-Identifier: MIT */
/* status.c - the two files the driver writes (SPEC.md 10.2): `.pod.status` (what the cluster
 * daemon and `pod status` read: rendered from the supervisor's status) and `.pod.state` (the
 * persisted supervisor state a restarted daemon restores).  Rendering, the hashes that say
 * whether a file must be rewritten, the atomic write (tmp + fsync + rename through the fs
 * seam), the retry of a failed write with a bounded backoff, and the parser every reader of
 * `.pod.status` can use (drv_status_check, drv_status_get).
 *
 * Must not: decide anything about containers (it only shows sup_status), read the real clock
 * (cfg.clk), print (pod_log and the trace only), touch files other than through cfg.fs.
 */
#include "drv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ rendering */

/* The original podc's word for the pod phase (stopping shows running). */
static const char *status_word(enum sup_pod_phase p)
{
    switch (p) {
    case SUP_POD_CREATED:
        return "created";
    case SUP_POD_STARTING:
        return "starting";
    case SUP_POD_RUNNING:
    case SUP_POD_STOPPING:
        return "running";
    case SUP_POD_EXITED:
        return "exited";
    }
    return "unknown";
}

/* Appends one formatted line: one vsnprintf per line (pod_buf_printf measures first), the
 * status is rendered often. */
static void add_line(struct pod_buf *b, const char *fmt, ...) POD_PRINTF(2, 3);

static void add_line(struct pod_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line) {
        pod_buf_add(b, line, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    pod_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static void render_pod(struct drv *d, struct pod_buf *b, int64_t now_wall_s)
{
    const struct pod_spec *s = d->spec;
    const struct sup_status *st = sup_status(d->sup);
    char *full = spec_pod_fullname(s);
    add_line(b, "pod: %s\n", full);
    free(full);
    add_line(b, "podVersion: %s\n", s->version ? s->version : "");
    pod_buf_adds(b, "hostPorts:");
    for (size_t i = 0; i < s->n_containers; i++)
        for (size_t k = 0; k < s->containers[i].n_expose; k++)
            if (s->containers[i].expose[k].host_port)
                add_line(b, " %d", s->containers[i].expose[k].host_port);
    pod_buf_addc(b, '\n');
    add_line(b, "created: %lld\n", (long long)d->created_wall_s);
    if (d->started_wall_s)
        add_line(b, "started: %lld\n", (long long)d->started_wall_s);
    else
        pod_buf_adds(b, "started:\n");
    add_line(b, "updated: %lld\n", (long long)now_wall_s);
    add_line(b, "status: %s\n", status_word(st->phase));
    add_line(b, "phase: %s\n", sup_pod_phase_name(st->phase));
    if (d->cfg.pid && st->phase != SUP_POD_EXITED)
        add_line(b, "pid: %ld\n", d->cfg.pid);
    else
        pod_buf_adds(b, "pid:\n");
    add_line(b, "readiness: %d\n", st->ready ? 1 : 0);
    add_line(b, "healthy: %d\n", st->healthy ? 1 : 0);
    if (st->infra_restarts)
        add_line(b, "infraRestarts: %u\n", st->infra_restarts);
}

static void render_ctr(struct drv *d, struct pod_buf *b, size_t i, int64_t now_wall_ms)
{
    const struct spec_container *c = &d->spec->containers[i];
    const struct sup_ctr_status *cs = &sup_status(d->sup)->ctr[i];
    char *full = spec_container_fullname(d->spec, i);
    add_line(b, "    - name: %s\n", c->name);
    add_line(b, "      container: %s\n", full);
    free(full);
    add_line(b, "      image: %s\n", c->image ? c->image : "");
    if (c->restart == SPEC_RESTART_ON_INTERVAL)
        add_line(b, "      restart: on-interval:%d\n", c->restart_interval_s);
    else
        add_line(b, "      restart: %s\n", spec_restart_name(c->restart));
    add_line(b, "      kind: %s\n", spec_ctr_kind_name(c->kind));
    add_line(b, "      startCount: %u\n", cs->start_count);
    add_line(b, "      restartCount: %u\n", cs->restart_count);
    add_line(b, "      status: %s\n", sup_ctr_phase_name(cs->phase));
    add_line(b, "      instance: %llu\n", (unsigned long long)cs->instance);
    add_line(b, "      running: %d\n", cs->running ? 1 : 0);
    add_line(b, "      ready: %d\n", cs->ready ? 1 : 0);
    add_line(b, "      live: %d\n", cs->live ? 1 : 0);
    if (cs->has_exit_code && !cs->running)
        add_line(b, "      exitCode: %d\n", cs->exit_code);
    add_line(b, "      backoffMs: %lld\n", (long long)cs->backoff_ms);
    if (cs->next_start_mono_ms > 0) {
        /* the wall time of the next start (stable between rewrites, unlike "in N ms") */
        int64_t at = now_wall_ms + (cs->next_start_mono_ms - drv_now_mono_ms(d));
        add_line(b, "      nextStartMs: %lld\n", (long long)at);
    }
    add_line(b, "      failures: %u\n", cs->consecutive_failures);
    add_line(b, "      gaveUp: %d\n", cs->gave_up ? 1 : 0);
}

static char *render_status(struct drv *d)
{
    struct pod_buf b = {0};
    int64_t now_wall_ns = clk_wall_ns(&d->cfg.clk);
    pod_buf_reserve(&b, 512 + 640 * d->spec->n_containers);
    render_pod(d, &b, now_wall_ns / 1000000000);
    pod_buf_adds(&b, "containers:\n");
    for (size_t i = 0; i < d->spec->n_containers && i < sup_status(d->sup)->n; i++)
        render_ctr(d, &b, i, now_wall_ns / 1000000);
    return pod_buf_take(&b);
}

/* Rewrites the `updated:` value of an unchanged status text (no re-rendering). */
static char *patch_updated(const char *old, int64_t now_wall_s)
{
    const char *u = strstr(old, "\nupdated: ");
    const char *e = u ? strchr(u + 1, '\n') : NULL;
    if (!e)
        return NULL;
    return xasprintf("%.*s\nupdated: %lld%s", (int)(u - old), old, (long long)now_wall_s, e);
}

static char *render_state(struct drv *d)
{
    char *sup_text = sup_save(d->sup);
    char *out =
        xasprintf("{\"created\":%lld,\"started\":%lld,\"sup\":%s}\n", (long long)d->created_wall_s,
                  (long long)d->started_wall_s, sup_text && *sup_text ? sup_text : "null");
    free(sup_text);
    return out;
}

/* ------------------------------------------------------------------ what changed */

#define HASH_INIT 1469598103934665603ULL
#define MIX(h, v) ((h) = ((h) ^ (uint64_t)(v)) * 1099511628211ULL) /* FNV-1a */

/* A hash of everything .pod.status shows except the time (`updated:`): equal hashes, equal
 * files, so an unchanged status is skipped without rendering it. */
static uint64_t status_hash(const struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    uint64_t h = HASH_INIT;
    MIX(h, st->phase);
    MIX(h, st->ready);
    MIX(h, st->healthy);
    MIX(h, st->infra_restarts);
    MIX(h, d->started_wall_s);
    MIX(h, d->created_wall_s);
    for (size_t i = 0; i < st->n; i++) {
        const struct sup_ctr_status *c = &st->ctr[i];
        bool exit_shown = c->has_exit_code && !c->running;
        MIX(h, c->phase);
        MIX(h, c->instance);
        MIX(h, c->start_count);
        MIX(h, c->restart_count);
        MIX(h, (c->running << 0) | (c->ready << 1) | (c->live << 2) | (exit_shown << 3) |
                   (c->gave_up << 4));
        MIX(h, exit_shown ? c->exit_code : 0);
        MIX(h, c->backoff_ms);
        MIX(h, c->next_start_mono_ms);
        MIX(h, c->consecutive_failures);
    }
    return h;
}

/* A hash of what .pod.state holds (readiness flapping does not rewrite it). */
static uint64_t state_hash(const struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    uint64_t h = HASH_INIT;
    MIX(h, st->phase);
    MIX(h, st->infra_restarts);
    MIX(h, d->started_wall_s);
    for (size_t i = 0; i < st->n; i++) {
        const struct sup_ctr_status *c = &st->ctr[i];
        MIX(h, c->instance);
        MIX(h, c->start_count);
        MIX(h, c->restart_count);
        MIX(h, c->has_exit_code);
        MIX(h, c->exit_code);
        MIX(h, c->backoff_ms);
        MIX(h, c->consecutive_failures);
        MIX(h, c->gave_up);
        MIX(h, c->started); /* startup completed: the place in the order was passed */
        MIX(h, c->rerun);   /* a scheduled re-run keeps the pod ready (SPEC.md 8.6) */
        MIX(h, c->phase == SUP_CTR_FAILED);
    }
    return h;
}

/* ------------------------------------------------------------------ writing */

/* tmp + fsync + rename through the seam.  With sync_dir the rename is made durable too (a sync
 * of the pod directory): fs_real's rename does not sync the directory itself (SPEC.md 10.2). */
static int write_atomic(struct drv *d, const char *path, const char *tmp, const char *data,
                        bool sync_dir, struct pod_err *err)
{
    const struct fs *fs = &d->cfg.fs;
    struct pod_err ignored = POD_ERR_ZERO;
    (void)fs_unlink(fs, tmp, &ignored);
    int h = fs_open_append(fs, tmp, err);
    if (h < 0)
        return -1;
    if (fs_write(fs, h, data, strlen(data), err) < 0 || fs_fsync(fs, h, err) < 0) {
        (void)fs_close(fs, h, &ignored);
        (void)fs_unlink(fs, tmp, &ignored);
        return -1;
    }
    if (fs_close(fs, h, err) < 0)
        return -1;
    if (fs_rename(fs, tmp, path, err) < 0)
        return -1;
    return sync_dir ? fs_sync_dir(fs, d->cfg.dir, err) : 0;
}

/* Bookkeeping after a write of file: a failure arms the retry timer (unless armed: a write made
 * for a change does not push a due retry back) and doubles the next delay up to
 * DRV_WRITE_RETRY_MAX_MS; the first failure and the recovery are traced and logged once each,
 * not every failed retry. */
static void write_result(struct drv *d, struct write_retry *retry, const char *file, int rc,
                         const struct pod_err *err)
{
    int64_t now = drv_now_mono_ms(d);
    if (rc == 0) {
        if (retry->failing) {
            drv_trace(d, "pod", "write-recovered", "%s after %llu failed writes", file,
                      (unsigned long long)retry->failures);
            pod_log(POD_LOG_INFO, "%s written again after %llu failed writes", file,
                    (unsigned long long)retry->failures);
        }
        memset(retry, 0, sizeof *retry);
        retry->retry_at_mono_ms = INT64_MAX;
        retry->tried_at_mono_ms = now;
        return;
    }
    retry->tried_at_mono_ms = now;
    retry->failures++;
    if (retry->delay_ms <= 0)
        retry->delay_ms = DRV_WRITE_RETRY_MS;
    bool first = !retry->failing;
    retry->failing = true;
    int64_t delay = retry->delay_ms;
    if (retry->retry_at_mono_ms == INT64_MAX) {
        retry->retry_at_mono_ms = now + delay;
        retry->delay_ms = delay * 2 < DRV_WRITE_RETRY_MAX_MS ? delay * 2 : DRV_WRITE_RETRY_MAX_MS;
    }
    if (first)
        drv_trace(d, "pod", "write-failing", "%s: %s; retry in %lldms", file, err->msg,
                  (long long)delay);
    /* a write for a change may fail while the retry is already due (drv_flush_status): 0 ms */
    int64_t left = retry->retry_at_mono_ms > now ? retry->retry_at_mono_ms - now : 0;
    pod_log(first ? POD_LOG_WARN : POD_LOG_DEBUG, "could not write %s/%s: %s (retry in %lld ms)",
            d->cfg.dir, file, err->msg, (long long)left);
}

/* Writes .pod.state (synced directory) holding what `hash` hashes; a failure is retried by its
 * timer. */
static void write_state(struct drv *d, uint64_t hash)
{
    struct drv_files *f = &d->files;
    struct pod_err err = POD_ERR_ZERO;
    f->state_hash = hash;
    char *text = render_state(d);
    int rc = write_atomic(d, f->state_path, f->state_tmp, text, true, &err);
    free(text);
    write_result(d, &f->state_retry, f->state_name, rc, &err);
}

/* Retries a failed .pod.state write now (its timer, or .pod.status recovered): disarms the
 * timer and writes the current state, which also covers any change made meanwhile. */
static void retry_state(struct drv *d)
{
    d->files.state_retry.retry_at_mono_ms = INT64_MAX;
    write_state(d, state_hash(d));
}

/* Writes .pod.status (text, taken) showing what `hash` hashes. */
static void write_status(struct drv *d, char *text, uint64_t hash)
{
    struct drv_files *f = &d->files;
    struct pod_err err = POD_ERR_ZERO;
    bool was_failing = f->status_retry.failing;
    int rc = write_atomic(d, f->status_path, f->status_tmp, text, false, &err);
    free(f->status_text);
    f->status_text = NULL; /* after a failure: rendered afresh by the retry or the refresh */
    f->status_hash = hash;
    if (rc == 0)
        f->status_text = text;
    else
        free(text);
    write_result(d, &f->status_retry, f->status_name, rc, &err);
    /* .pod.status recovered: the disk takes writes again, so a failing .pod.state is brought
     * up to date now rather than at its retry (up to 30 s later).  Only on that recovery: when
     * .pod.status never failed, the state's own failure (e.g. its directory sync) keeps its
     * backoff instead of an attempt at every 5 s refresh.  Not twice in the same ms. */
    if (rc == 0 && was_failing && f->state_retry.failing &&
        f->state_retry.tried_at_mono_ms != drv_now_mono_ms(d))
        retry_state(d);
    f->refresh_at_mono_ms = drv_now_mono_ms(d) + d->cfg.status_refresh_ms;
}

void drv_files_write(struct drv *d, bool refresh, bool force)
{
    struct drv_files *f = &d->files;
    /* .pod.state first: some of what it holds is not shown in .pod.status (the re-run
     * marker, `started`), so a change of only that must not wait for the next refresh */
    uint64_t state_h = state_hash(d);
    if (force || state_h != f->state_hash)
        write_state(d, state_h); /* a failed write is retried by its timer */
    f->dirty = false;
    uint64_t status_h = status_hash(d);
    bool changed = !f->status_text || status_h != f->status_hash;
    if (!changed && !refresh && !force)
        return;
    char *text = NULL;
    if (!changed && !force) /* only `updated:` advances */
        text = patch_updated(f->status_text, clk_wall_ns(&d->cfg.clk) / 1000000000);
    if (!text)
        text = render_status(d);
    write_status(d, text, status_h);
}

void drv_files_due(struct drv *d, int64_t now_mono_ms)
{
    struct drv_files *f = &d->files;
    if (f->state_retry.retry_at_mono_ms <= now_mono_ms)
        retry_state(d);
    bool status_retry = f->status_retry.retry_at_mono_ms <= now_mono_ms;
    if (status_retry)
        f->status_retry.retry_at_mono_ms = INT64_MAX;
    if (status_retry || f->refresh_at_mono_ms <= now_mono_ms)
        drv_files_write(d, true, false);
    else if (f->dirty)
        drv_files_write(d, false, false);
}

int64_t drv_files_next_deadline(const struct drv *d)
{
    const struct drv_files *f = &d->files;
    int64_t m = f->refresh_at_mono_ms;
    if (f->state_retry.retry_at_mono_ms < m)
        m = f->state_retry.retry_at_mono_ms;
    if (f->status_retry.retry_at_mono_ms < m)
        m = f->status_retry.retry_at_mono_ms;
    return m;
}

void drv_files_init(struct drv *d)
{
    struct drv_files *f = &d->files;
    memset(f, 0, sizeof *f);
    f->status_name = d->cfg.status_file ? d->cfg.status_file : DRV_STATUS_FILE;
    f->state_name = d->cfg.state_file ? d->cfg.state_file : DRV_STATE_FILE;
    f->status_path = pod_path_join(d->cfg.dir, f->status_name);
    f->status_tmp = xasprintf("%s.tmp", f->status_path);
    f->state_path = pod_path_join(d->cfg.dir, f->state_name);
    f->state_tmp = xasprintf("%s.tmp", f->state_path);
    f->state_retry.retry_at_mono_ms = f->status_retry.retry_at_mono_ms = INT64_MAX;
    f->state_retry.tried_at_mono_ms = f->status_retry.tried_at_mono_ms = -1;
    f->refresh_at_mono_ms = drv_now_mono_ms(d);
    f->dirty = true;
}

void drv_files_free(struct drv_files *f)
{
    free(f->status_path);
    free(f->status_tmp);
    free(f->state_path);
    free(f->state_tmp);
    free(f->status_text);
}

void drv_flush_status(struct drv *d)
{
    drv_files_write(d, true, true);
}

/* ------------------------------------------------------------------ parsing */

static bool is_key(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Splits "key: value" / "key:"; returns false when the line is not of that form. */
static bool split_kv(const char *p, size_t n, size_t *klen, const char **v, size_t *vlen)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || !is_key(p, (size_t)(colon - p)))
        return false;
    *klen = (size_t)(colon - p);
    size_t rest = n - *klen - 1;
    if (rest == 0) {
        *v = colon + 1;
        *vlen = 0;
        return true;
    }
    if (colon[1] != ' ')
        return false;
    *v = colon + 2;
    *vlen = rest - 1;
    return true;
}

static bool is_num(const char *v, size_t n)
{
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

static const char *const required_keys[] = {"pod", "updated", "status", "readiness"};
#define N_REQUIRED (sizeof required_keys / sizeof required_keys[0])

/* One `key: value` line of the pod part: notes a required key, checks the numeric ones. */
static int check_pod_line(const char *p, size_t kl, const char *v, size_t vl, int line,
                          bool have[N_REQUIRED], struct pod_err *err)
{
    for (size_t k = 0; k < N_REQUIRED; k++) {
        if (strlen(required_keys[k]) != kl || memcmp(p, required_keys[k], kl) != 0)
            continue;
        have[k] = true;
        if ((k == 1 || k == 3) && !is_num(v, vl))
            return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: `%s` not a number", line,
                               required_keys[k]);
        if (k == 3 && !(vl == 1 && (v[0] == '0' || v[0] == '1')))
            return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: readiness not 0|1", line);
    }
    return 0;
}

/* One line of the `containers:` list; *in_entry says whether an entry has begun. */
static int check_ctr_line(const char *p, size_t n, int line, bool *in_entry, struct pod_err *err)
{
    size_t kl, vl;
    const char *v;
    if (n > 6 && memcmp(p, "    - ", 6) == 0) {
        if (!split_kv(p + 6, n - 6, &kl, &v, &vl) || kl != 4 || memcmp(p + 6, "name", 4) || vl == 0)
            return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: expected `    - name: X`", line);
        *in_entry = true;
        return 0;
    }
    if (*in_entry && n > 6 && memcmp(p, "      ", 6) == 0 && split_kv(p + 6, n - 6, &kl, &v, &vl))
        return 0;
    return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: malformed container line", line);
}

int drv_status_check(const char *text, size_t len, struct pod_err *err)
{
    bool have[N_REQUIRED] = {false};
    bool in_ctrs = false, in_entry = false;
    int line = 0;
    size_t pos = 0;
    if (len == 0 || text[len - 1] != '\n')
        return pod_err_set(err, POD_E_CORRUPT, 0, "status: empty or not newline-terminated");
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = (size_t)(nl - p);
        pos += n + 1;
        line++;
        size_t kl, vl;
        const char *v;
        if (in_ctrs) {
            if (check_ctr_line(p, n, line, &in_entry, err) < 0)
                return -1;
            continue;
        }
        if (!split_kv(p, n, &kl, &v, &vl))
            return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: expected `key: value`", line);
        if (kl == 10 && memcmp(p, "containers", 10) == 0 && vl == 0)
            in_ctrs = true;
        else if (check_pod_line(p, kl, v, vl, line, have, err) < 0)
            return -1;
    }
    for (size_t k = 0; k < N_REQUIRED; k++)
        if (!have[k])
            return pod_err_set(err, POD_E_CORRUPT, 0, "status: missing `%s:`", required_keys[k]);
    return 0;
}

char *drv_status_get(const char *text, size_t len, const char *ctr, const char *key)
{
    bool in_ctrs = false, in_want = false;
    size_t pos = 0, klen = strlen(key);
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + 1;
        size_t kl, vl;
        const char *v;
        if (!in_ctrs) {
            if (!split_kv(p, n, &kl, &v, &vl))
                continue;
            if (kl == 10 && memcmp(p, "containers", 10) == 0 && vl == 0) {
                in_ctrs = true;
                continue;
            }
            if (!ctr && kl == klen && memcmp(p, key, kl) == 0)
                return xstrndup(v, vl);
            continue;
        }
        if (!ctr)
            return NULL;
        if (n > 6 && memcmp(p, "    - ", 6) == 0) {
            in_want = split_kv(p + 6, n - 6, &kl, &v, &vl) && vl == strlen(ctr) &&
                      memcmp(v, ctr, vl) == 0;
            if (in_want && klen == 4 && strcmp(key, "name") == 0)
                return xstrndup(v, vl);
            continue;
        }
        if (in_want && n > 6 && split_kv(p + 6, n - 6, &kl, &v, &vl) && kl == klen &&
            memcmp(p + 6, key, kl) == 0)
            return xstrndup(v, vl);
    }
    return NULL;
}
