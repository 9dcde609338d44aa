/* SPDX-License-Identifier: MIT */
/* run_conformance.c - pod-conformance: does an executable implement the Pod API well enough
 * for simplenetesd and sns to drive it?
 *
 * Runs the corpus (conformance/cases/ *.case) against fresh copies of the pod, invoking it as
 * simplenetesd does (`sh -c "<abs path> <args>"`, a foreign cwd, USER/HOME/SPACE_LOG_LEVEL),
 * with a deadline on every step, and cleans up everything the pod started after every case.
 * Prints one line per case and `N passed, N failed[, N skipped]`; exits non-zero iff a MUST
 * case failed.  The contract it checks is pod-api-contract.md section 5; SPEC.md section 11
 * and conformance/README.md document the runner.
 */
#include "conformance.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CF_CASES_DIR
#define CF_CASES_DIR "conformance/cases"
#endif

#define EXIT_MUST_FAILED 1
#define EXIT_USAGE 100
#define EXIT_SYSTEM 111
#define EXIT_INTERRUPTED 130
#define NOBODY_ID 65534
#define STATUS_MAX_AGE_S 600 /* simplenetesd ignores an older `updated:` */
#define CLEANUP_TIMEOUT_S 30

enum result_kind { RES_OK, RES_FAIL, RES_SKIP };

struct options {
    const char *pod;
    const char *cases_dir;
    enum cf_tier level;
    const char *filter_src;
    regex_t filter;
    bool force, json, keep, strict, verbose, list;
    double status_wait_s;
    const char *container;
    const char *expect_file;
    char **env_extra;
};

/* What every case of one run shares. */
struct suite {
    const struct options *opt;
    char *tmp_root;
    bool is_root;
    uid_t nobody_uid;
    gid_t nobody_gid;
    bool portmappings;
    const char *exe_name;
};

/* One case being executed. */
struct case_run {
    const struct suite *s;
    const struct cf_case *c;
    char *dir, *pod_dir, *exe, *cwd, *status_path;
    bool drop;
    char **envp;
    bool ran_lifecycle; /* a step may have started something: clean up with `rm` */
    long long updated;
    bool have_updated;
};

struct result {
    const struct cf_case *c;
    enum cf_tier tier;
    enum result_kind kind;
    char reason[1536];
    double seconds;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Characters a path may hold when pasted unquoted into `sh -c` (simplenetesd does so). */
static bool shell_safe_path(const char *p)
{
    if (!*p)
        return false;
    for (const char *c = p; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("._/+-@:,=%", *c)))
            return false;
    return true;
}

/* Pod output quoted in a reason: printable ASCII only (keeps lines and JSON intact). */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

static const char *first_line(const char *s, char *buf, size_t len)
{
    while (*s == '\n')
        s++;
    size_t n = strcspn(s, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    sanitize(buf);
    return buf;
}

static const char *last_line(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n')
        n--;
    size_t b = n;
    while (b && s[b - 1] != '\n')
        b--;
    size_t l = n - b < len ? n - b : len - 1;
    memcpy(buf, s + b, l);
    buf[l] = '\0';
    sanitize(buf);
    return buf;
}

static char *substitute(const char *args, const char *container)
{
    struct pod_buf b = {0};
    for (const char *c = args; *c;) {
        if (strncmp(c, "${CONTAINER}", 12) == 0) {
            pod_buf_adds(&b, container);
            c += 12;
        } else {
            pod_buf_addc(&b, *c++);
        }
    }
    return pod_buf_take(&b);
}

/* `key: value` with exactly one space, as simplenetesd's `cut -d' ' -f2` needs. */
static const char *status_value(const char *text, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ':' && l[kl + 1] == ' ') {
            const char *v = l + kl + 2;
            size_t n = strcspn(v, "\n");
            if (n >= len)
                n = len - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return NULL;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Parses `.NAME.status`; 0 with *updated set, or -1 with why. */
static int read_status(const char *path, long long *updated, char *why, size_t why_len)
{
    char *text = cf_read_file(path, 1 << 20);
    if (!text) {
        snprintf(why, why_len, "`%s` is missing", pod_basename(path));
        return -1;
    }
    char v[64];
    int rc = -1;
    if (!status_value(text, "readiness", v, sizeof(v)))
        snprintf(why, why_len, "`%s` has no `readiness: ` line", pod_basename(path));
    else if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        snprintf(why, why_len, "`readiness: %s` is not 0 or 1", v);
    else if (!status_value(text, "updated", v, sizeof(v)))
        snprintf(why, why_len, "`%s` has no `updated: ` line", pod_basename(path));
    else if (!all_digits(v))
        snprintf(why, why_len, "`updated: %s` is not an epoch in seconds", v);
    else {
        long long u = atoll(v);
        long long now = (long long)time(NULL);
        if (u < now - STATUS_MAX_AGE_S || u > now + STATUS_MAX_AGE_S)
            snprintf(why, why_len,
                     "`updated: %s` is %lld s away from now (simplenetesd needs "
                     "it within %d s)",
                     v, u - now, STATUS_MAX_AGE_S);
        else {
            *updated = u;
            rc = 0;
        }
    }
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* steps                                                               */
/* ------------------------------------------------------------------ */

static int step_fail(char *why, size_t len, const char *fmt, ...) POD_PRINTF(3, 4);
static int step_fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

static bool same_proc(const struct cf_proc *a, const struct cf_proc *b)
{
    return a->pid == b->pid && a->start == b->start;
}

/* Every process in a that is not in b, described. */
static size_t proc_minus(const struct cf_proc *a, size_t na, const struct cf_proc *b, size_t nb,
                         char *buf, size_t len)
{
    struct cf_proc *d = xmalloc((na ? na : 1) * sizeof(*d));
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++)
            found = same_proc(&a[i], &b[j]);
        if (!found)
            d[k++] = a[i];
    }
    cf_describe_procs(d, k, 4, buf, len);
    free(d);
    return k;
}

static void make_invocation(struct case_run *r, const char *cmd, double timeout_s, double eof_s,
                            struct cf_invocation *inv)
{
    memset(inv, 0, sizeof(*inv));
    inv->cmd = cmd;
    inv->cwd = r->cwd;
    inv->chmod_cwd = r->c->cwd == CF_CWD_UNREADABLE;
    inv->envp = r->envp;
    inv->drop = r->drop;
    inv->uid = r->s->nobody_uid;
    inv->gid = r->s->nobody_gid;
    inv->timeout_s = timeout_s;
    inv->eof_s = eof_s;
    if (inv->chmod_cwd)
        chmod(r->cwd, 0700); /* the child enters it, then makes it mode 000 */
}

static int check_stdout(const struct cf_step *st, const char *out, char *why, size_t len)
{
    char line[160];
    if (st->out == CF_OUT_EMPTY && *out)
        return step_fail(why, len, "printed on stdout (must print nothing): `%s`",
                         first_line(out, line, sizeof(line)));
    if (st->out != CF_OUT_TOKENS && st->out != CF_OUT_LINES)
        return 0;
    const char *seps = st->out == CF_OUT_TOKENS ? " \t\n" : "\n";
    char *copy = xstrdup(out);
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(copy, seps, &save); t && rc == 0;
         t = strtok_r(NULL, seps, &save))
        if (regexec(&st->out_rx, t, 0, NULL, 0) != 0) {
            sanitize(t);
            rc = step_fail(why, len, "stdout %s `%.100s` does not match /%s/",
                           st->out == CF_OUT_TOKENS ? "token" : "line", t, st->out_re);
        }
    free(copy);
    return rc;
}

static int run_invoke(struct case_run *r, const struct cf_step *st, char *why, size_t len)
{
    const struct options *o = r->s->opt;
    char *args = substitute(st->args, o->container);
    char *cmd = xasprintf("%s %s", r->exe, args);
    if (strncmp(args, "run", 3) == 0 || strncmp(args, "rerun", 5) == 0 ||
        strncmp(args, "start", 5) == 0 || strncmp(args, "create", 6) == 0)
        r->ran_lifecycle = true;
    char *pod_before = st->unchanged_pod ? cf_manifest(r->pod_dir) : NULL;
    if (st->unchanged_cwd)
        chmod(r->cwd, 0755);
    char *cwd_before = st->unchanged_cwd ? cf_manifest(r->cwd) : NULL;
    struct cf_proc *det_before = NULL;
    size_t ndet_before = st->procs == CF_PROCS_SAME ? cf_detached(&det_before) : 0;

    struct cf_invocation inv;
    make_invocation(r, cmd, st->timeout_s, st->eof_s, &inv);
    struct cf_outcome out;
    char msg[256];
    int rc = 0;
    if (cf_invoke(&inv, &out, msg, sizeof(msg)) < 0) {
        rc = step_fail(why, len, "could not start: %s", msg);
        goto done;
    }
    char errl[160];
    last_line(out.err.data ? out.err.data : "", errl, sizeof(errl));
    const char *out_text = out.out.data ? out.out.data : "";
    if (out.timed_out) {
        rc = step_fail(why, len, "did not exit within %g s (killed)%s%s%s", st->timeout_s,
                       *errl ? "; last stderr line: `" : "", errl, *errl ? "`" : "");
        goto done;
    }
    int code = WIFEXITED(out.status) ? WEXITSTATUS(out.status) : 128 + WTERMSIG(out.status);
    if (!out.eof) {
        rc = step_fail(why, len,
                       "exited (%d) but its stdout/stderr pipe was still open %g s later%s%s: a "
                       "process it left behind holds the caller's pipe (simplenetesd would wait "
                       "forever)",
                       code, st->eof_s, *out.holder ? ", held by " : "", out.holder);
        goto done;
    }
    if (WIFSIGNALED(out.status)) {
        rc = step_fail(why, len, "killed by signal %d", WTERMSIG(out.status));
        goto done;
    }
    if ((st->exit == CF_EXIT_ZERO && code != 0) || (st->exit == CF_EXIT_NONZERO && code == 0)) {
        rc = step_fail(why, len, "exited with %d, expected %s%s%s%s", code,
                       st->exit == CF_EXIT_ZERO ? "0" : "non-zero",
                       *errl ? "; last stderr line: `" : "", errl, *errl ? "`" : "");
        goto done;
    }
    if (check_stdout(st, out_text, why, len) < 0) {
        rc = -1;
        goto done;
    }
    if (st->procs == CF_PROCS_SAME) {
        struct cf_proc *now;
        size_t nnow = cf_detached(&now);
        char d[400];
        if (proc_minus(now, nnow, det_before, ndet_before, d, sizeof(d)))
            rc = step_fail(why, len, "started another detached process: %s", d);
        else if (proc_minus(det_before, ndet_before, now, nnow, d, sizeof(d)))
            rc = step_fail(why, len, "replaced or stopped the running process(es): %s", d);
        free(now);
        if (rc < 0)
            goto done;
    }
    if (st->procs == CF_PROCS_NONE) {
        int64_t until = cf_now_ms() + (int64_t)(st->procs_within_s * 1000);
        struct cf_proc *left;
        size_t n;
        for (;;) {
            cf_reap(0);
            n = cf_descendants(&left);
            if (n == 0 || cf_now_ms() >= until)
                break;
            free(left);
            cf_reap(50);
        }
        if (n) {
            char d[400];
            cf_describe_procs(left, n, 4, d, sizeof(d));
            rc = step_fail(why, len, "processes left %s: %s",
                           st->procs_within_s > 0 ? "after the grace period" : "when it returned",
                           d);
        }
        free(left);
        if (rc < 0)
            goto done;
    }
    if (pod_before) {
        char *after = cf_manifest(r->pod_dir);
        if (strcmp(pod_before, after) != 0) {
            char d[400];
            cf_manifest_diff(pod_before, after, d, sizeof(d));
            rc = step_fail(why, len, "changed the pod directory: %s", d);
        }
        free(after);
        if (rc < 0)
            goto done;
    }
    if (cwd_before) {
        chmod(r->cwd, 0755);
        char *after = cf_manifest(r->cwd);
        if (strcmp(cwd_before, after) != 0) {
            char d[400];
            cf_manifest_diff(cwd_before, after, d, sizeof(d));
            rc = step_fail(why, len, "changed the caller's working directory: %s", d);
        }
        free(after);
    }
done:
    if (rc < 0 && o->verbose && out.out.data && *out.out.data)
        fprintf(stderr, "# %s: stdout of `%s`:\n%s\n", r->c->name, args, out.out.data);
    if (rc < 0 && o->verbose && out.err.data && *out.err.data)
        fprintf(stderr, "# %s: stderr of `%s`:\n%s\n", r->c->name, args, out.err.data);
    cf_outcome_free(&out);
    free(pod_before);
    free(cwd_before);
    free(det_before);
    free(cmd);
    free(args);
    return rc;
}

static int run_wait(struct case_run *r, const struct cf_step *st, char *why, size_t len)
{
    double wait_s = st->timeout_s > 0 ? st->timeout_s : r->s->opt->status_wait_s;
    int64_t until = cf_now_ms() + (int64_t)(wait_s * 1000);
    char last[300] = "";
    long long first = 0, u = 0;
    if (st->kind == CF_STEP_WAIT_ADVANCE) {
        if (read_status(r->status_path, &first, last, sizeof(last)) < 0)
            return step_fail(why, len, "%s", last);
    }
    for (;;) {
        if (read_status(r->status_path, &u, last, sizeof(last)) == 0) {
            if (st->kind == CF_STEP_WAIT_STATUS)
                return 0;
            if (u > first)
                return 0;
            snprintf(last, sizeof(last), "`updated: %lld` did not advance", first);
        }
        if (cf_now_ms() >= until || cf_interrupted())
            return step_fail(why, len, "after %g s: %s", wait_s, last);
        cf_reap(100);
    }
}

static int run_check_exec(struct case_run *r, char *why, size_t len)
{
    struct stat st;
    if (stat(r->s->opt->pod, &st) < 0)
        return step_fail(why, len, "stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return step_fail(why, len, "not a regular file");
    if (!(st.st_mode & S_IXUSR))
        return step_fail(why, len, "`%s` is not executable (mode %04o); simplenetesd execs it",
                         r->s->exe_name, (unsigned)(st.st_mode & 07777));
    return 0;
}

static const char *step_label(const struct cf_step *st, char *buf, size_t len)
{
    switch (st->kind) {
    case CF_STEP_INVOKE:
        snprintf(buf, len, "`%s`", st->args);
        break;
    case CF_STEP_WAIT_STATUS:
        snprintf(buf, len, "wait: status");
        break;
    case CF_STEP_WAIT_ADVANCE:
        snprintf(buf, len, "wait: status-advance");
        break;
    case CF_STEP_CHECK_EXEC:
        snprintf(buf, len, "check: executable");
        break;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* cases                                                               */
/* ------------------------------------------------------------------ */

static char **make_env(const struct suite *s, bool drop, const char *home)
{
    char **env = NULL;
    const char *path = getenv("PATH");
    pod_strv_push(&env, "PATH");
    free(env[0]);
    env[0] =
        xasprintf("PATH=%s", path && *path ? path
                                           : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                             "/sbin:/bin");
    const char *user = NULL;
    if (drop) {
        struct passwd *pw = getpwuid(s->nobody_uid);
        user = pw ? pw->pw_name : "nobody";
    } else {
        user = getenv("USER");
        if (!user || !*user) {
            struct passwd *pw = getpwuid(geteuid());
            user = pw ? pw->pw_name : "root";
        }
        const char *h = getenv("HOME");
        if (h && *h)
            home = h;
        else {
            struct passwd *pw = getpwuid(geteuid());
            if (pw)
                home = pw->pw_dir;
        }
    }
    char *v = xasprintf("USER=%s", user);
    pod_strv_push(&env, v);
    free(v);
    v = xasprintf("HOME=%s", home);
    pod_strv_push(&env, v);
    free(v);
    const char *lvl = getenv("SPACE_LOG_LEVEL");
    v = xasprintf("SPACE_LOG_LEVEL=%s", lvl && *lvl ? lvl : "2");
    pod_strv_push(&env, v);
    free(v);
    for (char **e = s->opt->env_extra; e && *e; e++)
        pod_strv_push(&env, *e);
    return env;
}

static int prepare_case(struct case_run *r, size_t index, char *why, size_t len)
{
    const struct suite *s = r->s;
    r->dir = xasprintf("%s/%02zu-%s", s->tmp_root, index + 1, r->c->name);
    r->pod_dir = xasprintf("%s/pod", r->dir);
    r->exe = xasprintf("%s/%s", r->pod_dir, s->exe_name);
    r->status_path = xasprintf("%s/.%s.status", r->pod_dir, s->exe_name);
    char *home = xasprintf("%s/home", r->dir);
    r->drop = s->is_root && r->c->unprivileged;
    int rc = 0;
    if (mkdir(r->dir, 0711) < 0 || mkdir(r->pod_dir, 0755) < 0 || mkdir(home, 0700) < 0)
        rc = step_fail(why, len, "mkdir under %s: %s", s->tmp_root, strerror(errno));
    char msg[512];
    if (rc == 0 && cf_copy_pod(s->opt->pod, r->pod_dir, msg, sizeof(msg)) < 0)
        rc = step_fail(why, len, "copying the pod: %s", msg);
    if (rc == 0) {
        if (r->c->cwd == CF_CWD_ROOT) {
            r->cwd = xstrdup("/");
        } else {
            r->cwd = xasprintf("%s/cwd", r->dir);
            if (mkdir(r->cwd, 0755) < 0)
                rc = step_fail(why, len, "mkdir %s: %s", r->cwd, strerror(errno));
        }
    }
    if (rc == 0 && r->drop) {
        /* The unreadable cwd stays root's: mode 000 then means unreadable for the user. */
        if (cf_chown_tree(r->pod_dir, s->nobody_uid, s->nobody_gid) < 0 ||
            cf_chown_tree(home, s->nobody_uid, s->nobody_gid) < 0 ||
            (r->c->cwd == CF_CWD_SCRATCH &&
             cf_chown_tree(r->cwd, s->nobody_uid, s->nobody_gid) < 0))
            rc = step_fail(why, len, "chown to uid %d: %s", (int)s->nobody_uid, strerror(errno));
    }
    r->envp = make_env(s, r->drop, home);
    free(home);
    return rc;
}

/* After every case: `rm` the pod if it may be running (podman state lives outside the copy),
 * then kill and reap whatever is left, whatever the case's outcome. */
static void cleanup_case(struct case_run *r)
{
    struct cf_proc *left;
    size_t n = cf_descendants(&left);
    free(left);
    if ((r->ran_lifecycle || n) && r->exe && !cf_interrupted()) {
        char *cmd = xasprintf("%s rm", r->exe);
        struct cf_invocation inv;
        make_invocation(r, cmd, CLEANUP_TIMEOUT_S, 1, &inv);
        struct cf_outcome out;
        char msg[256];
        if (cf_invoke(&inv, &out, msg, sizeof(msg)) == 0)
            cf_outcome_free(&out);
        free(cmd);
    }
    cf_kill_all(1000);
    if (r->dir && !r->s->opt->keep)
        cf_remove_tree(r->dir);
    pod_strv_free(r->envp);
    free(r->dir);
    free(r->pod_dir);
    free(r->exe);
    free(r->cwd);
    free(r->status_path);
}

static void run_case(const struct suite *s, const struct cf_case *c, size_t index,
                     struct result *res)
{
    res->c = c;
    res->tier = s->portmappings ? c->tier : c->tier_nopm;
    if (res->tier > s->opt->level) {
        res->kind = RES_SKIP;
        snprintf(res->reason, sizeof(res->reason), "tier %s not selected (--level %s)",
                 cf_tier_name(res->tier), s->opt->level == CF_TIER_MUST ? "must" : "should");
        return;
    }
    int64_t t0 = cf_now_ms();
    struct case_run r = {.s = s, .c = c};
    char why[1200] = "";
    res->kind = RES_OK;
    if (prepare_case(&r, index, why, sizeof(why)) < 0) {
        res->kind = RES_FAIL;
        snprintf(res->reason, sizeof(res->reason), "setup: %s", why);
    }
    for (size_t i = 0; i < c->nsteps && res->kind == RES_OK; i++) {
        const struct cf_step *st = &c->steps[i];
        int rc;
        if (cf_interrupted())
            rc = step_fail(why, sizeof(why), "interrupted");
        else if (st->kind == CF_STEP_INVOKE)
            rc = run_invoke(&r, st, why, sizeof(why));
        else if (st->kind == CF_STEP_CHECK_EXEC)
            rc = run_check_exec(&r, why, sizeof(why));
        else
            rc = run_wait(&r, st, why, sizeof(why));
        if (rc < 0) {
            char label[200];
            res->kind = RES_FAIL;
            snprintf(res->reason, sizeof(res->reason), "step %zu %s: %s", i + 1,
                     step_label(st, label, sizeof(label)), why);
        }
    }
    cleanup_case(&r);
    res->seconds = (double)(cf_now_ms() - t0) / 1000.0;
}

/* ------------------------------------------------------------------ */
/* reporting                                                           */
/* ------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static void print_text_line(const struct result *r)
{
    static const char *const kinds[] = {"ok", "FAIL", "skip"};
    printf("%-4s %-6s %s", kinds[r->kind], cf_tier_name(r->tier), r->c->name);
    if (r->kind != RES_OK)
        printf(": %s", r->reason);
    if (r->kind == RES_FAIL)
        printf(" [%s:%d; evidence: %s]", r->c->file, r->c->line, r->c->evidence);
    putchar('\n');
    fflush(stdout);
}

static void print_json(const struct suite *s, const struct result *res, size_t n, int passed,
                       int failed, int skipped, int must_failed, int exit_code)
{
    printf("{\"pod\": ");
    json_str(stdout, s->opt->pod);
    printf(", \"portmappings\": %s, \"cases\": [", s->portmappings ? "true" : "false");
    static const char *const kinds[] = {"ok", "FAIL", "skip"};
    for (size_t i = 0; i < n; i++) {
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_str(stdout, res[i].c->name);
        printf(", \"tier\": \"%s\", \"result\": \"%s\", \"reason\": ", cf_tier_name(res[i].tier),
               kinds[res[i].kind]);
        json_str(stdout, res[i].kind == RES_OK ? "" : res[i].reason);
        printf(", \"evidence\": ");
        json_str(stdout, res[i].c->evidence);
        printf(", \"file\": ");
        json_str(stdout, res[i].c->file);
        printf(", \"line\": %d, \"seconds\": %.3f}", res[i].c->line, res[i].seconds);
    }
    printf("\n], \"passed\": %d, \"failed\": %d, \"skipped\": %d, \"must_failed\": %d, "
           "\"exit_code\": %d}\n",
           passed, failed, skipped, must_failed, exit_code);
}

/* The --expect-failures file: case names, one per line, `#` comments.  Returns the number of
 * mismatches (printed), or -1 on a bad file. */
static int compare_expected(const char *file, const struct cf_corpus *k, const struct result *res,
                            size_t n)
{
    char *text = cf_read_file(file, 1 << 20);
    if (!text) {
        fprintf(stderr, "pod-conformance: %s: %s\n", file, strerror(errno));
        return -1;
    }
    char **want = NULL;
    int bad = 0, lineno = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lineno++;
        l[strcspn(l, "#")] = '\0';
        char name[128];
        if (sscanf(l, "%127s", name) != 1)
            continue;
        bool known = false;
        for (size_t i = 0; i < k->ncases && !known; i++)
            known = strcmp(k->cases[i].name, name) == 0;
        if (!known) {
            fprintf(stderr, "%s: no case named `%s`\n", file, name);
            bad = -1;
        }
        pod_strv_push(&want, name);
    }
    free(text);
    if (bad < 0) {
        pod_strv_free(want);
        return -1;
    }
    int mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        bool expected = pod_strv_contains(want, res[i].c->name);
        if (res[i].kind == RES_FAIL && !expected) {
            printf("# UNEXPECTED FAIL %s\n", res[i].c->name);
            mismatches++;
        } else if (res[i].kind != RES_FAIL && expected) {
            printf("# UNEXPECTED %s %s (expected FAIL)\n", res[i].kind == RES_OK ? "pass" : "skip",
                   res[i].c->name);
            mismatches++;
        }
    }
    for (char **w = want; w && *w; w++) {
        bool ran = false;
        for (size_t i = 0; i < n && !ran; i++)
            ran = strcmp(res[i].c->name, *w) == 0;
        if (!ran) {
            printf("# expected failure `%s` was not run (filtered out)\n", *w);
            mismatches++;
        }
    }
    pod_strv_free(want);
    return mismatches;
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pod-conformance [options] /abs/path/to/pod\n"
            "Checks that a Pod API executable can be driven by simplenetesd and sns.\n"
            "\n"
            "  --level must|should|all   run MUST cases, MUST+SHOULD, or everything (default all)\n"
            "  --filter REGEX            only cases whose name matches (a substring works)\n"
            "  --status-wait SECONDS     how long `.pod.status` may take to appear and to\n"
            "                            advance `updated:` (default 60)\n"
            "  --container NAME          container name for `rerun NAME` (default main)\n"
            "  --env NAME=VALUE          add to the pod's environment (repeatable)\n"
            "  --force                   run even if the pod looks running already\n"
            "  --json                    print one JSON document instead of lines\n"
            "  --strict                  exit 1 when any case fails (default: a MUST case)\n"
            "  --expect-failures FILE    self-test: exit 0 iff exactly the cases named in FILE\n"
            "                            fail\n"
            "  --cases DIR               the corpus (default %s)\n"
            "  --keep                    keep the per-case directories (printed)\n"
            "  --list                    list the cases and exit\n"
            "  -v, --verbose             print stdout/stderr of failing steps on stderr\n"
            "  -h, --help                this text\n"
            "\n"
            "Output: one line per case (ok|FAIL|skip, tier, name, reason), then\n"
            "`N passed, N failed[, N skipped]`.  Exit: 0 no MUST case failed, 1 a MUST case\n"
            "failed, 100 usage, 111 system error, 130 interrupted.\n",
            CF_CASES_DIR);
}

/* The pod looks running when `.NAME.status` names a live pid, or was updated lately. */
static bool pod_looks_running(const char *exe, char *why, size_t len)
{
    char *dir = pod_dirname(exe);
    char *path = xasprintf("%s/.%s.status", dir, pod_basename(exe));
    char *text = cf_read_file(path, 1 << 20);
    bool running = false;
    if (text) {
        char v[64], st[64] = "";
        status_value(text, "status", st, sizeof(st));
        bool stopped =
            strcmp(st, "exited") == 0 || strcmp(st, "removed") == 0 || strcmp(st, "stopped") == 0;
        if (status_value(text, "pid", v, sizeof(v)) && all_digits(v) && atoll(v) > 0 &&
            (kill((pid_t)atoll(v), 0) == 0 || errno == EPERM)) {
            running = true;
            snprintf(why, len, "%s names pid %s, which is alive", path, v);
        } else if (!stopped && status_value(text, "updated", v, sizeof(v)) && all_digits(v) &&
                   atoll(v) > (long long)time(NULL) - 30) {
            running = true;
            snprintf(why, len, "%s was updated %lld s ago", path, (long long)time(NULL) - atoll(v));
        }
    }
    free(text);
    free(path);
    free(dir);
    return running;
}

/* Every ancestor must be searchable by others, or the unprivileged user cannot reach the pod. */
static bool reachable_by_others(const char *dir)
{
    char *p = xstrdup(dir);
    bool ok = true;
    for (;;) {
        struct stat st;
        if (stat(p, &st) < 0 || !(st.st_mode & S_IXOTH))
            ok = false;
        char *slash = strrchr(p, '/');
        if (!slash || slash == p)
            break;
        *slash = '\0';
    }
    free(p);
    return ok;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    enum {
        O_LEVEL = 256,
        O_FILTER,
        O_WAIT,
        O_CONTAINER,
        O_ENV,
        O_FORCE,
        O_JSON,
        O_STRICT,
        O_EXPECT,
        O_CASES,
        O_KEEP,
        O_LIST
    };
    static const struct option longs[] = {
        {"level", required_argument, NULL, O_LEVEL},
        {"filter", required_argument, NULL, O_FILTER},
        {"status-wait", required_argument, NULL, O_WAIT},
        {"container", required_argument, NULL, O_CONTAINER},
        {"env", required_argument, NULL, O_ENV},
        {"force", no_argument, NULL, O_FORCE},
        {"json", no_argument, NULL, O_JSON},
        {"strict", no_argument, NULL, O_STRICT},
        {"expect-failures", required_argument, NULL, O_EXPECT},
        {"cases", required_argument, NULL, O_CASES},
        {"keep", no_argument, NULL, O_KEEP},
        {"list", no_argument, NULL, O_LIST},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
        switch (ch) {
        case O_LEVEL:
            if (strcmp(optarg, "must") == 0)
                o->level = CF_TIER_MUST;
            else if (strcmp(optarg, "should") == 0)
                o->level = CF_TIER_SHOULD;
            else if (strcmp(optarg, "all") == 0)
                o->level = CF_TIER_MAY;
            else
                return fprintf(stderr, "pod-conformance: --level must|should|all\n"), -1;
            break;
        case O_FILTER:
            o->filter_src = optarg;
            break;
        case O_WAIT:
            o->status_wait_s = strtod(optarg, &end);
            if (*end || !(o->status_wait_s > 0) || o->status_wait_s > 3600)
                return fprintf(stderr, "pod-conformance: --status-wait SECONDS (1-3600)\n"), -1;
            break;
        case O_CONTAINER:
            for (const char *c = optarg; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                    return fprintf(stderr, "pod-conformance: --container must match "
                                           "[a-z0-9_]+ (simplenetesd accepts no other)\n"),
                           -1;
            if (!*optarg)
                return fprintf(stderr, "pod-conformance: empty --container\n"), -1;
            o->container = optarg;
            break;
        case O_ENV:
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return fprintf(stderr, "pod-conformance: --env NAME=VALUE\n"), -1;
            pod_strv_push(&o->env_extra, optarg);
            break;
        case O_FORCE:
            o->force = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_STRICT:
            o->strict = true;
            break;
        case O_EXPECT:
            o->expect_file = optarg;
            break;
        case O_CASES:
            o->cases_dir = optarg;
            break;
        case O_KEEP:
            o->keep = true;
            break;
        case O_LIST:
            o->list = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind < argc)
        o->pod = argv[optind++];
    if (optind < argc)
        return fprintf(stderr, "pod-conformance: one pod at a time\n"), -1;
    if (!o->pod && !o->list)
        return fprintf(stderr, "pod-conformance: which pod? (see --help)\n"), -1;
    if (o->filter_src && regcomp(&o->filter, o->filter_src, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "pod-conformance: bad --filter regex `%s`\n", o->filter_src);
        o->filter_src = NULL;
        return -1;
    }
    return 0;
}

static int validate_pod(const char *pod)
{
    struct stat st;
    if (pod[0] != '/') {
        fprintf(stderr,
                "pod-conformance: `%s`: give an absolute path (simplenetesd always "
                "invokes pods by absolute path)\n",
                pod);
        return -1;
    }
    if (!shell_safe_path(pod)) {
        fprintf(stderr,
                "pod-conformance: `%s`: the path holds spaces or shell metacharacters; "
                "simplenetesd pastes it unquoted into `sh -c`, so it could not run this "
                "pod (allowed: letters, digits, `._/+-@:,=%%`)\n",
                pod);
        return -1;
    }
    if (stat(pod, &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "pod-conformance: `%s`: %s\n", pod,
                errno ? strerror(errno) : "not a regular file");
        return -1;
    }
    return 0;
}

static char *make_tmp_root(bool need_others)
{
    const char *t = getenv("TMPDIR");
    if (!t || t[0] != '/' || !shell_safe_path(t))
        t = "/tmp";
    char *tmpl = xasprintf("%s/pod-conformance.XXXXXX", t);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "pod-conformance: mkdtemp %s: %s\n", tmpl, strerror(errno));
        free(tmpl);
        return NULL;
    }
    chmod(tmpl, 0711);
    if (need_others && !reachable_by_others(tmpl)) {
        fprintf(stderr,
                "pod-conformance: %s is not reachable by the unprivileged user; set "
                "TMPDIR to a world-searchable directory\n",
                tmpl);
        rmdir(tmpl);
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

int main(int argc, char **argv)
{
    struct options o = {
        .cases_dir = CF_CASES_DIR, .level = CF_TIER_MAY, .status_wait_s = 60, .container = "main"};
    int rc = 0;
    struct cf_corpus k = {0};
    struct result *res = NULL;
    struct suite s = {.opt = &o, .is_root = geteuid() == 0};
    if (parse_args(argc, argv, &o) < 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    char diag[600];
    if (cf_corpus_load(o.cases_dir, &k, diag, sizeof(diag)) < 0) {
        fprintf(stderr, "pod-conformance: %s\n", diag);
        rc = EXIT_USAGE;
        goto out;
    }
    if (o.list) {
        for (size_t i = 0; i < k.ncases; i++)
            printf("%-6s %-32s %s:%d  %s\n", cf_tier_name(k.cases[i].tier), k.cases[i].name,
                   k.cases[i].file, k.cases[i].line, k.cases[i].about ? k.cases[i].about : "");
        goto out;
    }
    if (validate_pod(o.pod) < 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    char why[600];
    if (!o.force && pod_looks_running(o.pod, why, sizeof(why))) {
        fprintf(stderr,
                "pod-conformance: refusing to test a pod that looks running (%s): its "
                "copies would share its podman names.  Stop it, or use --force.\n",
                why);
        rc = EXIT_USAGE;
        goto out;
    }
    if (cf_proc_init() < 0) {
        fprintf(stderr, "pod-conformance: cannot become a child subreaper: %s\n", strerror(errno));
        rc = EXIT_SYSTEM;
        goto out;
    }
    s.exe_name = pod_basename(o.pod);
    struct passwd *pw = getpwnam("nobody");
    s.nobody_uid = pw ? pw->pw_uid : NOBODY_ID;
    s.nobody_gid = pw ? pw->pw_gid : NOBODY_ID;
    char *dir = pod_dirname(o.pod);
    char *pm = xasprintf("%s/pod.portmappings.conf", dir);
    struct stat st;
    s.portmappings = stat(pm, &st) == 0 && S_ISREG(st.st_mode);
    free(pm);
    free(dir);
    s.tmp_root = make_tmp_root(s.is_root);
    if (!s.tmp_root) {
        rc = EXIT_SYSTEM;
        goto out;
    }
    if (!o.json)
        printf("# pod-conformance %s (%s; `.pod.status` freshness is %s)%s%s\n", o.pod,
               s.portmappings ? "ships pod.portmappings.conf" : "no pod.portmappings.conf",
               s.portmappings ? "MUST" : "SHOULD", o.keep ? "; case directories under " : "",
               o.keep ? s.tmp_root : "");

    res = xcalloc(k.ncases, sizeof(*res));
    size_t n = 0;
    int passed = 0, failed = 0, skipped = 0, must_failed = 0;
    for (size_t i = 0; i < k.ncases && !cf_interrupted(); i++) {
        if (o.filter_src && regexec(&o.filter, k.cases[i].name, 0, NULL, 0) != 0)
            continue;
        run_case(&s, &k.cases[i], i, &res[n]);
        if (cf_interrupted())
            break;
        if (!o.json)
            print_text_line(&res[n]);
        switch (res[n].kind) {
        case RES_OK:
            passed++;
            break;
        case RES_FAIL:
            failed++;
            must_failed += res[n].tier == CF_TIER_MUST;
            break;
        case RES_SKIP:
            skipped++;
            break;
        }
        n++;
    }
    cf_kill_all(1000);
    if (!o.keep)
        cf_remove_tree(s.tmp_root);

    rc = must_failed || (o.strict && failed) ? EXIT_MUST_FAILED : 0;
    if (cf_interrupted()) {
        fprintf(stderr, "pod-conformance: interrupted; everything the pod started was killed\n");
        rc = EXIT_INTERRUPTED;
    } else if (o.json) {
        print_json(&s, res, n, passed, failed, skipped, must_failed, rc);
    } else {
        if (must_failed)
            printf("# %d MUST case(s) failed: simplenetesd or sns would break on this pod\n",
                   must_failed);
        else if (failed)
            printf("# no MUST case failed; the SHOULD/MAY failures degrade `sns` commands\n");
        printf("%d passed, %d failed", passed, failed);
        if (skipped)
            printf(", %d skipped", skipped);
        printf("\n");
    }
    if (o.expect_file && rc != EXIT_INTERRUPTED) {
        int m = compare_expected(o.expect_file, &k, res, n);
        rc = m == 0 ? 0 : m < 0 ? EXIT_USAGE : EXIT_MUST_FAILED;
        if (m == 0 && !o.json)
            printf("# failures are exactly the expected ones (%s)\n", o.expect_file);
    }
out:
    free(res);
    free(s.tmp_root);
    cf_corpus_free(&k);
    pod_strv_free(o.env_extra);
    if (o.filter_src)
        regfree(&o.filter);
    return rc;
}
