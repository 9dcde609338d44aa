/* SPDX-License-Identifier: MIT */
/* podman_exit.c - exit sources of container instances (see podman_int.h, SPEC.md 7.8).
 *
 * An instance's exit is seen without its output and without a long-lived podman process: a
 * pidfd of its PID 1 (State.Pid of inspect or Pid of the listing, checked to be that
 * container's process) is watched in the loop.  Once it is readable the exit code comes from
 * conmon's exit file when it can be read within EXIT_FILE_TRIES short retries (conmon writes it
 * as soon as it reaped PID 1; podman's cleanup process deletes it a little later), else from
 * `podman container inspect`.  While podman still says "running", inspect is retried after
 * 20, 40, 80 ... ms; after PODMAN_EXIT_RETRY_MAX_MS `podman wait` takes over.  A missing
 * container (removed, replaced) is an exit with code 137.
 */
#include "podman_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define LOOKUP_RETRY_MAX_MS 60000
#define EXIT_FILE_TRIES 6 /* at 0, 1, 2, 4, 8, 16 ms after PID 1 is gone */
#define START_WINDOW_NS (10 * 1000000000LL)

/* ------------------------------------------------------------------ is it that process? */

static bool read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n > 0;
}

/* Start time of pid as Unix ns (boot time + starttime ticks), 0 when unknown. */
static int64_t proc_start_wall_ns(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!read_small(path, buf, sizeof buf))
        return 0;
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* fields after the comm: state(3) ... starttime(22) */
    unsigned long long start = 0;
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (field != 22 || sscanf(p, "%llu", &start) != 1)
        return 0;
    char stat[8192];
    if (!read_small("/proc/stat", stat, sizeof stat))
        return 0;
    const char *b = strstr(stat, "\nbtime ");
    long long btime = 0;
    if (!b || sscanf(b + 7, "%lld", &btime) != 1)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        return 0;
    return btime * 1000000000LL + (int64_t)(start * (1000000000ULL / (unsigned long)hz));
}

/* NSpid's last value is 1: the init of its own pid namespace. */
static bool is_ns_init(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (!read_small(path, buf, sizeof buf))
        return false;
    const char *l = strstr(buf, "\nNSpid:");
    if (!l)
        return false;
    const char *e = strchr(l + 1, '\n');
    size_t n = e ? (size_t)(e - l) : strlen(l);
    const char *last = l + n;
    while (last > l && (last[-1] == ' ' || last[-1] == '\t'))
        last--;
    return last - l >= 2 && last[-1] == '1' && (last[-2] == '\t' || last[-2] == ' ');
}

bool es_pid_is_container(int pid, const char *id, int64_t started_wall_ns)
{
    if (pid <= 1)
        return false;
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    if (id && strlen(id) >= 12 && read_small(path, buf, sizeof buf) && strstr(buf, id))
        return true;
    if (!is_ns_init(pid))
        return false;
    int64_t t = proc_start_wall_ns(pid);
    if (t == 0 || started_wall_ns == 0)
        return t != 0; /* nothing to compare against: a pid namespace init is good enough */
    return t >= started_wall_ns - START_WINDOW_NS && t <= started_wall_ns + START_WINDOW_NS;
}

/* ------------------------------------------------------------------ conmon's exit file */

char *es_conmon_exit_file(int conmon_pid, const char *id)
{
    if (conmon_pid <= 1 || !id || strlen(id) < 12 || strchr(id, '/'))
        return NULL;
    char path[64], buf[16384];
    snprintf(path, sizeof path, "/proc/%d/cmdline", conmon_pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *dir = NULL;
    bool ours = false;
    for (size_t i = 0; i < n;) {
        const char *a = buf + i;
        size_t l = strlen(a);
        const char *next = i + l + 1 < n ? a + l + 1 : NULL;
        if (strcmp(a, "--exit-dir") == 0 && next)
            dir = next;
        if (strcmp(a, "-c") == 0 && next && strcmp(next, id) == 0)
            ours = true;
        i += l + 1;
    }
    if (!ours || !dir || dir[0] != '/')
        return NULL;
    return xasprintf("%s/%s", dir, id);
}

int es_read_exit_file(const char *path, int *code, int64_t *mtime_wall_ns)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[32];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    struct stat st;
    int sr = fstat(fileno(f), &st);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    long long v;
    if (sr < 0 || !pod_parse_int(buf, -1, 255, &v))
        return -1;
    *code = (int)v;
    *mtime_wall_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

/* ------------------------------------------------------------------ the record */

static void es_close_fd(struct pm *pm, struct esrc *es)
{
    if (es->pidfd >= 0) {
        loop_del(pm->cfg.loop, es->pidfd);
        close(es->pidfd);
        es->pidfd = -1;
    }
}

static void es_drop(struct pm *pm, struct esrc *es)
{
    es_close_fd(pm, es);
    pm_ptr_remove((void **)pm->es, &pm->n_es, es);
    free(es->exit_file);
    free(es->id);
    free(es);
}

static void es_finish(struct pm *pm, struct esrc *es, int code, int64_t finished_wall_ns,
                      const char *msg)
{
    if (es->st == ES_CONFIRM || es->st == ES_WAIT)
        pm->st.last_exit_confirm_ms = pm_now(pm) - es->since_ms;
    es->st = ES_DONE;
    es_close_fd(pm, es);
    pm_exited(pm, es->ctr, es->instance, code, finished_wall_ns, msg);
    if (!es->busy)
        es_drop(pm, es);
}

struct esrc *es_find(struct pm *pm, size_t ctr, uint64_t instance)
{
    for (size_t i = 0; i < pm->n_es; i++)
        if (pm->es[i]->ctr == ctr && pm->es[i]->instance == instance && pm->es[i]->st != ES_DONE)
            return pm->es[i];
    return NULL;
}

/* ------------------------------------------------------------------ calls */

static void submit(struct pm *pm, struct esrc *es, enum call_kind k)
{
    struct pod_err err = POD_ERR_ZERO;
    const char *who = es->id ? es->id : pm->c[es->ctr].name;
    char **argv = k == CALL_WAIT ? podman_argv_wait(&pm->actx, who, &err)
                                 : podman_argv_inspect(&pm->actx, who, &err);
    if (!argv) { /* cannot happen with our own names; do not spin */
        es_finish(pm, es, 137, 0, err.msg);
        return;
    }
    struct call *c = call_new(k, argv, es->ctr, es->instance,
                              k == CALL_WAIT ? PODMAN_WAIT_TIMEOUT_MS : PODMAN_SHORT_TIMEOUT_MS);
    c->capture_out = true;
    c->es = es;
    es->busy = true;
    es->retry_at = INT64_MAX;
    call_submit(pm, c);
}

/* Asks again later with backoff; a confirmation that has tried for
 * PODMAN_EXIT_RETRY_MAX_MS falls back to `podman wait` instead. */
static void retry_later(struct pm *pm, struct esrc *es)
{
    if (es->st == ES_CONFIRM && pm_now(pm) - es->since_ms >= PODMAN_EXIT_RETRY_MAX_MS) {
        es->st = ES_WAIT;
        pm->st.wait_fallbacks++;
        submit(pm, es, CALL_WAIT);
        return;
    }
    if (es->st == ES_CONFIRM)
        pm->st.confirm_retries++;
    int64_t d = (int64_t)20 << (es->retries < 12 ? es->retries : 12);
    if (es->st == ES_LOOKUP && d > LOOKUP_RETRY_MAX_MS)
        d = LOOKUP_RETRY_MAX_MS;
    es->retries++;
    es->retry_at = pm_now(pm) + d;
}

static void gone(struct pm *pm, struct esrc *es);

static void on_pidfd(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct esrc *es = arg;
    struct pm *pm = es->pm;
    es_close_fd(pm, es);
    pm->st.pidfd_exits++;
    gone(pm, es);
}

/* One read of conmon's exit file; true when it ended the record. */
static bool try_exit_file(struct pm *pm, struct esrc *es)
{
    int code;
    int64_t mtime;
    es->file_tries++;
    if (!es->exit_file || es_read_exit_file(es->exit_file, &code, &mtime) < 0)
        return false;
    pm->st.exit_files++;
    es_finish(pm, es, code, mtime, NULL);
    return true;
}

/* PID 1 is gone: the exit file, else (a little later) inspect. */
static void gone(struct pm *pm, struct esrc *es)
{
    es->st = ES_CONFIRM;
    es->since_ms = pm_now(pm);
    es->retries = 0;
    es->file_tries = 0;
    if (try_exit_file(pm, es))
        return;
    if (es->exit_file) {
        es->retry_at = pm_now(pm) + 1;
        return;
    }
    if (!es->busy)
        submit(pm, es, CALL_INSPECT);
}

/* Watches pid; when it is not (any more) the container's process, confirms the exit. */
static void arm(struct pm *pm, struct esrc *es, int pid)
{
    es->pid = pid;
    int fd = pod_pidfd_open(pid);
    if (fd >= 0 && es_pid_is_container(pid, es->id, es->started_wall_ns)) {
        struct pod_err err = POD_ERR_ZERO;
        if (loop_add(pm->cfg.loop, fd, LOOP_IN, on_pidfd, es, &err) == 0) {
            es->pidfd = fd;
            es->st = ES_ARMED;
            pm->st.armed++;
            es->retries = 0;
            /* by id only where the backend addresses the instance so (a warm standby's) */
            const struct pctr *k = &pm->c[es->ctr];
            const char *id = k->instance == es->instance && k->ref ? es->id : NULL;
            if (pm->cfg.exec.ops && pm->cfg.exec.ops->instance)
                pm->cfg.exec.ops->instance(pm->cfg.exec.self, es->ctr, es->instance, pid, id);
            return;
        }
        pod_log(POD_LOG_WARN, "podman backend: %s", err.msg);
    }
    if (fd >= 0)
        close(fd);
    gone(pm, es); /* gone already (or a recycled pid) */
}

void es_new(struct pm *pm, size_t ctr, uint64_t instance, const char *id, int pid,
            int64_t started_wall_ns)
{
    struct esrc *old = es_find(pm, ctr, instance);
    if (old)
        return; /* already watched */
    struct esrc *es = xcalloc(1, sizeof *es);
    es->pm = pm;
    es->ctr = ctr;
    es->instance = instance;
    es->id = id ? xstrdup(id) : NULL;
    es->pidfd = -1;
    es->started_wall_ns = started_wall_ns;
    es->retry_at = INT64_MAX;
    pm_ptr_push((void ***)&pm->es, &pm->n_es, &pm->cap_es, es);
    if (pid > 0 && id) {
        arm(pm, es, pid);
    } else {
        es->st = ES_LOOKUP;
        submit(pm, es, CALL_INSPECT);
    }
}

void es_poke(struct pm *pm, size_t ctr, uint64_t instance)
{
    struct esrc *es = es_find(pm, ctr, instance);
    if (!es || es->st == ES_ARMED || es->busy)
        return;
    es->retry_at = pm_now(pm); /* look now instead of at the next retry */
}

/* ------------------------------------------------------------------ results */

static void inspect_found(struct pm *pm, struct esrc *es, const struct podman_ctr_info *in)
{
    if (in->instance != es->instance) {
        es_finish(pm, es, 137, 0, "container replaced");
        return;
    }
    if (!es->id) {
        es->id = xstrdup(in->id);
        es->started_wall_ns = in->started_wall_ns;
        pm_started_info(pm, es->ctr, es->instance, in);
    }
    if (in->state == PODMAN_ST_EXITED) {
        es_finish(pm, es, in->exit_code, in->finished_wall_ns, NULL);
        return;
    }
    if (in->state == PODMAN_ST_RUNNING && in->pid > 0 && es->st == ES_LOOKUP) {
        if (!es->exit_file)
            es->exit_file = es_conmon_exit_file(in->conmon_pid, es->id);
        arm(pm, es, in->pid);
        return;
    }
    /* still "running" after PID 1 died, or created/in transition: ask again */
    retry_later(pm, es);
}

void es_inspect_done(struct pm *pm, struct esrc *es, const struct call_res *r)
{
    es->busy = false;
    if (es->st == ES_DONE) {
        es_drop(pm, es);
        return;
    }
    struct podman_ctr_info in;
    bool found = false;
    struct pod_err err = POD_ERR_ZERO;
    bool parsed = r->spawned && !r->timed_out && r->out_len > 0 &&
                  podman_parse_inspect(r->out, r->out_len, &in, &found, &err) == 0;
    if (parsed && !found && r->exited && r->code == 125) {
        es_finish(pm, es, 137, 0, "container gone");
        return;
    }
    if (parsed && found && r->exited && r->code == 0) {
        inspect_found(pm, es, &in);
        podman_ctr_info_clear(&in);
        return;
    }
    if (parsed)
        podman_ctr_info_clear(&in);
    char why[80] = "";
    if (!r->msg[0] && !err.msg[0]) /* a well-formed answer that says nothing: say so */
        snprintf(why, sizeof why, "%s (exit %d)",
                 r->out_len == 0    ? "no output"
                 : parsed && !found ? "no container in the answer"
                                    : "unexpected answer",
                 r->code);
    pod_log(POD_LOG_WARN, "podman backend: inspect %s: %s", pm->c[es->ctr].name,
            r->msg[0]    ? r->msg
            : err.msg[0] ? err.msg
                         : why);
    retry_later(pm, es);
}

void es_wait_done(struct pm *pm, struct esrc *es, const struct call_res *r)
{
    es->busy = false;
    if (es->st == ES_DONE) {
        es_drop(pm, es);
        return;
    }
    int code;
    if (r->spawned && r->exited && r->code == 0 && podman_parse_wait(r->out, &code) == 0) {
        es_finish(pm, es, code, pm_wall(pm), NULL);
        return;
    }
    if (r->exited && r->code == 125) {
        es_finish(pm, es, 137, 0, "container gone");
        return;
    }
    /* podman is broken: PID 1 is gone for sure, its code is not known */
    char msg[200];
    snprintf(msg, sizeof msg, "exit code unknown: %s", r->msg);
    es_finish(pm, es, 137, pm_wall(pm), msg);
}

/* ------------------------------------------------------------------ timers */

void es_tick(struct pm *pm, int64_t now)
{
    for (size_t i = 0; i < pm->n_es; i++) {
        struct esrc *es = pm->es[i];
        if (es->busy || es->retry_at > now || es->st == ES_ARMED || es->st == ES_DONE)
            continue;
        if (es->st == ES_CONFIRM && es->exit_file && es->file_tries < EXIT_FILE_TRIES) {
            if (try_exit_file(pm, es)) {
                i--; /* dropped: the next one moved here */
                continue;
            }
            es->retry_at =
                es->file_tries < EXIT_FILE_TRIES ? now + (1 << (es->file_tries - 1)) : now;
            continue;
        }
        submit(pm, es, es->st == ES_WAIT ? CALL_WAIT : CALL_INSPECT);
    }
}

int64_t es_next_deadline(const struct pm *pm)
{
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < pm->n_es; i++)
        if (!pm->es[i]->busy && pm->es[i]->retry_at < d)
            d = pm->es[i]->retry_at;
    return d;
}

void es_free_all(struct pm *pm)
{
    while (pm->n_es)
        es_drop(pm, pm->es[pm->n_es - 1]);
    free(pm->es);
    pm->es = NULL;
    pm->cap_es = 0;
}
