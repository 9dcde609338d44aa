/* SPDX-License-Identifier: MIT */
/* daemon.c - the per-pod daemon: setup, the loop, the clean exit (see pod/daemon.h).
 *
 * Setup order matters: signals are blocked first (a TERM during setup waits in the signalfd),
 * then the lock is checked, the log path comes up (so every later step can log), the holder
 * hands its fds over, the backend is created and takes back its pipes, the driver recovers
 * the saved state, and only then the control socket listens and readiness is reported.
 * A setup failure is reported through the readiness pipe and ends the process (111): the
 * holder starts another daemon after its backoff.
 */
#include "daemon_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "pod/util.h"

/* ------------------------------------------------------------------ arguments */

static int parse_fd(const char *v, int *out)
{
    long long x;
    if (!pod_parse_int(v, 0, 1 << 30, &x))
        return -1;
    *out = (int)x;
    return 0;
}

int daemon_parse_args(int argc, char **argv, struct daemon_cfg *cfg, struct pod_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->lock_fd = cfg->holder_fd = cfg->ready_fd = -1;
    for (int i = 2; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = !v;
        if (bad)
            ;
        else if (strcmp(k, "--dir") == 0)
            cfg->dir = v;
        else if (strcmp(k, "--name") == 0)
            cfg->name = v;
        else if (strcmp(k, "--lock-fd") == 0)
            bad = parse_fd(v, &cfg->lock_fd);
        else if (strcmp(k, "--holder-fd") == 0)
            bad = parse_fd(v, &cfg->holder_fd);
        else if (strcmp(k, "--ready-fd") == 0)
            bad = parse_fd(v, &cfg->ready_fd);
        else
            bad = 1;
        if (bad)
            return pod_err_set(err, POD_E_USAGE, 0, "__daemon: bad argument `%s`", k);
    }
    if (!cfg->dir || !cfg->name)
        return pod_err_set(err, POD_E_USAGE, 0, "__daemon: --dir and --name are required");
    return 0;
}

/* ------------------------------------------------------------------ callbacks */

void daemon_input(struct daemon *d, enum sup_event_type type)
{
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    drv_input(d->drv, &ev);
}

static void on_signal(void *arg, int fd, unsigned events)
{
    struct daemon *d = arg;
    (void)events;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM) {
            pod_log(POD_LOG_INFO, "daemon: TERM from pid %u: stopping the pod", si.ssi_pid);
            daemon_input(d, SUP_EV_STOP_POD);
        } else if (si.ssi_signo == SIGUSR2) {
            pod_log(POD_LOG_INFO, "daemon: USR2 from pid %u: killing the pod", si.ssi_pid);
            daemon_input(d, SUP_EV_KILL_POD);
        } else {
            pod_log(POD_LOG_DEBUG, "daemon: signal %u ignored", si.ssi_signo);
        }
    }
}

static void on_pump(void *arg, int fd, unsigned events)
{
    struct daemon *d = arg;
    (void)fd;
    (void)events;
    dsink_pump_ready(d->sink);
}

static void on_holder_ctl(void *arg, enum holdc_ctl what)
{
    struct daemon *d = arg;
    pod_log(POD_LOG_INFO, "daemon: %s passed on by the holder",
            what == HOLDC_KILL ? "kill" : "stop");
    if (d->drv)
        daemon_input(d, what == HOLDC_KILL ? SUP_EV_KILL_POD : SUP_EV_STOP_POD);
}

static void write_pid_file(struct daemon *d)
{
    struct ident v[2];
    struct pod_err err = POD_ERR_ZERO;
    size_t n = 0;
    pid_t h = d->hc ? holdc_holder_pid(d->hc) : 0;
    if (h > 0 && ident_of(h, "holder", &v[n], &err) == 0)
        n++;
    if (ident_of(getpid(), "daemon", &v[n], &err) == 0)
        n++;
    if (ident_write(d->dirfd, d->f_pid, v, n, &err) < 0)
        pod_log(POD_LOG_WARN, "daemon: %s", err.msg);
}

static void on_holder(void *arg, pid_t pid)
{
    (void)pid;
    write_pid_file(arg);
}

static void on_config(void *arg, size_t volume, bool checksum_file, bool has_checksum_file)
{
    struct daemon *d = arg;
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_CONFIG_CHANGED;
    ev.volume = volume;
    ev.cfg_checksum_file = checksum_file;
    ev.cfg_has_checksum_file = has_checksum_file;
    drv_input(d->drv, &ev);
}

/* The backend's view of the daemon. */
static void env_hold(void *self, const char *key, int fd)
{
    struct daemon *d = self;
    holdc_hold(d->hc, key, fd);
}

static void env_unhold(void *self, const char *key)
{
    struct daemon *d = self;
    holdc_drop(d->hc, key);
}

static bool env_room(void *self)
{
    struct daemon *d = self;
    return dsink_output_room(d->sink);
}

static void env_on_room(void *self, void (*fn)(void *arg), void *arg)
{
    struct daemon *d = self;
    dsink_on_room(d->sink, fn, arg);
}

/* ------------------------------------------------------------------ setup */

static int setup_signals(struct daemon *d, struct pod_err *err)
{
    d->sigfd = ident_signals_setup();
    if (d->sigfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "signals (sigprocmask, signalfd)");
    return 0;
}

static int setup_files(struct daemon *d, struct pod_err *err)
{
    const char *b = d->cfg->name;
    if (ident_file(d->f_sock, b, "sock") < 0 || ident_file(d->f_pid, b, "pid") < 0 ||
        ident_file(d->f_status, b, "status") < 0 || ident_file(d->f_lock, b, "lock") < 0 ||
        ident_file(d->f_state, b, "state") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", b);
    d->dirfd = open(d->cfg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (d->dirfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", d->cfg->dir);
    if (daemon_podir_check(d->dirfd, d->cfg->spec, b, err) < 0 ||
        fs_root_open(d->cfg->dir, &d->root, err) < 0)
        return -1;
    d->lock_fd = d->cfg->lock_fd;
    if (d->lock_fd < 0 && (d->lock_fd = ident_lock_open(d->dirfd, d->f_lock, err)) < 0)
        return -1;
    (void)fcntl(d->lock_fd, F_SETFD, FD_CLOEXEC);
    int r = ident_lock_take(d->lock_fd); /* a no-op when the holder's lock is ours already */
    if (r < 0)
        return pod_err_set(err, POD_E_IO, errno, "flock %s", d->f_lock);
    if (r == 0)
        return pod_err_set(err, POD_E_INVALID, 0, "another supervisor runs this pod");
    return 0;
}

static int setup_logs(struct daemon *d, struct pod_err *err)
{
    if (logpump_new(NULL, &d->pump, err) < 0)
        return -1;
    struct dsink_cfg sc = {d->pump, d->cfg->spec, d->cfg->dir, fs_real_beneath(d->root), &clk_real};
    if (dsink_new(&sc, &d->sink, err) < 0)
        return -1;
    pod_log_set_sink(dsink_log, d->sink);
    return 0;
}

static void log_start(const struct daemon *d)
{
    const struct holdc_hello *h = holdc_hello(d->hc);
    pod_log(POD_LOG_INFO, "daemon: started (pid %ld, holder pid %ld)", (long)getpid(),
            (long)holdc_holder_pid(d->hc));
    if (h->respawns == 0)
        return;
    int st = h->last_status;
    if (st >= 0 && WIFSIGNALED(st))
        pod_log(POD_LOG_WARN,
                "daemon: restarted by the holder (restart #%u): the previous "
                "daemon was killed by signal %d",
                h->respawns, WTERMSIG(st));
    else if (st >= 0 && WIFEXITED(st))
        pod_log(POD_LOG_WARN,
                "daemon: restarted by the holder (restart #%u): the previous "
                "daemon exited with code %d",
                h->respawns, WEXITSTATUS(st));
    else
        pod_log(POD_LOG_WARN, "daemon: restarted by the holder (restart #%u)", h->respawns);
}

static int setup_holder(struct daemon *d, struct pod_err *err)
{
    struct holdc_cfg hc = {.loop = d->loop,
                           .clk = &clk_real,
                           .exe = d->cfg->exe,
                           .dir = d->cfg->dir,
                           .name = d->cfg->name,
                           .lock_fd = d->lock_fd,
                           .sock = d->cfg->holder_fd,
                           .on_ctl = on_holder_ctl,
                           .on_holder = on_holder,
                           .arg = d};
    if (holdc_new(&hc, &d->hc, err) < 0)
        return -1;
    log_start(d);
    write_pid_file(d);
    return 0;
}

static int setup_backend(struct daemon *d, struct pod_err *err)
{
    d->env = (struct daemon_env){.loop = d->loop,
                                 .clk = &clk_real,
                                 .spec = d->cfg->spec,
                                 .dir = d->cfg->dir,
                                 .name = d->cfg->name,
                                 .exe = d->cfg->exe,
                                 .dirfd = d->dirfd,
                                 .hold = env_hold,
                                 .unhold = env_unhold,
                                 .output_room = env_room,
                                 .on_room = env_on_room,
                                 .self = d};
    const struct daemon_backend_factory *f = &d->cfg->backend;
    if (!f->create || f->create(f->arg, &d->env, &d->be, err) < 0)
        return f->create ? -1 : pod_err_set(err, POD_E_INVALID, 0, "no backend");
    d->have_be = true;
    char **keys;
    int *fds;
    size_t n = holdc_handed(d->hc, &keys, &fds);
    size_t taken = 0;
    for (size_t i = 0; i < n; i++) {
        holdc_adopt(d->hc, keys[i], fds[i]); /* the holder has it: register, no message */
        if (f->adopt_fd && f->adopt_fd(f->arg, &d->env, &d->be, keys[i], fds[i]) == 0) {
            taken++;
            continue;
        }
        holdc_drop(d->hc, keys[i]);
        close(fds[i]);
    }
    if (n)
        pod_log(POD_LOG_INFO, "daemon: %zu of %zu pipes handed back by the holder re-attached",
                taken, n);
    holdc_take_handed(d->hc);
    return 0;
}

/* The saved state, unless there is none or it is of a pod that had stopped (SPEC 8.1: a new
 * start after a stop is a fresh supervisor). */
static char *live_state(const struct daemon *d)
{
    char *text = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file_at(d->dirfd, d->f_state, DRV_STATE_MAX_BYTES, &text, &len, &err) < 0) {
        if (err.code != POD_E_NOTFOUND)
            pod_log(POD_LOG_ERROR, "daemon: %s: starting without the saved state", err.msg);
        return NULL;
    }
    json_t *root = json_loads(text, 0, NULL);
    const char *ph = json_string_value(json_object_get(json_object_get(root, "sup"), "phase"));
    bool exited = ph && strcmp(ph, sup_pod_phase_name(SUP_POD_EXITED)) == 0;
    json_decref(root);
    if (exited) {
        free(text);
        return NULL;
    }
    return text;
}

/* The supervisor's seed (SPEC 8.5): the configured one, else `$POD_SEED` (a decimal number
 * other than 0, to replay a run's jitter), else a random one.  Logged, so a run can be
 * replayed in podsim with the same seed. */
static uint64_t driver_seed(const struct daemon *d)
{
    uint64_t seed = d->cfg->seed;
    const char *env = getenv("POD_SEED");
    if (!seed && env && env[0]) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 10);
        if (errno || *end || env[0] == '-' || v == 0)
            pod_log(POD_LOG_WARN, "daemon: POD_SEED `%.40s` is not a decimal number > 0; ignored",
                    env);
        else
            seed = (uint64_t)v;
    }
    if (!seed && getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)clk_wall_ns(&clk_real) ^ (uint64_t)getpid();
    if (!seed)
        seed = 1;
    pod_log(POD_LOG_INFO, "daemon: supervisor seed %llu", (unsigned long long)seed);
    return seed;
}

static int new_driver(struct daemon *d, struct pod_err *err)
{
    uint64_t seed = driver_seed(d);
    struct drv_cfg dc = {.spec = d->cfg->spec,
                         .backend = d->be,
                         .clk = clk_real,
                         .fs = fs_real_beneath(d->root),
                         .dir = d->cfg->dir,
                         .status_file = d->f_status,
                         .state_file = d->f_state,
                         .seed = seed,
                         .pid = (long)getpid(),
                         .reconcile_ms = d->cfg->reconcile_ms,
                         .status_refresh_ms = d->cfg->status_refresh_ms,
                         .coalesce_timers = true,
                         .log = dsink_drv_sink(d->sink),
                         .trace = daemon_trace,
                         .trace_self = d};
    return drv_new(&dc, &d->drv, err);
}

static int setup_driver(struct daemon *d, struct pod_err *err)
{
    if (new_driver(d, err) < 0)
        return -1;
    char *state = live_state(d);
    if (!state)
        return 0;
    struct pod_err e2 = POD_ERR_ZERO;
    if (drv_recover(d->drv, state, &e2) < 0) {
        pod_log(POD_LOG_ERROR, "daemon: cannot recover %s (%s): starting afresh", d->f_state,
                e2.msg);
        drv_free(d->drv);
        d->drv = NULL;
        free(state);
        return new_driver(d, err);
    }
    pod_log(POD_LOG_INFO, "daemon: recovered the saved state; adopting the containers");
    free(state);
    d->restored = true;
    return 0;
}

static int setup_watch_and_socket(struct daemon *d, struct pod_err *err)
{
    const struct pod_spec *sp = d->cfg->spec;
    struct cfgwatch_vol *vols = xcalloc(sp->n_volumes + 1, sizeof *vols);
    size_t n = 0;
    for (size_t i = 0; i < sp->n_volumes; i++)
        if (sp->volumes[i].type == SPEC_VOL_CONFIG)
            vols[n++] = (struct cfgwatch_vol){i, sp->volumes[i].name};
    struct cfgwatch_cfg wc = {.loop = d->loop,
                              .clk = &clk_real,
                              .dir = d->cfg->dir,
                              .vols = vols,
                              .n = n,
                              .fn = on_config,
                              .arg = d};
    int rc = n ? cfgwatch_new(&wc, &d->cw, err) : 0;
    free(vols);
    if (rc < 0)
        return -1;
    struct ctl_server_cfg cc = {.loop = d->loop,
                                .clk = &clk_real,
                                .dirfd = d->dirfd,
                                .file = d->f_sock,
                                .fn = daemon_on_request,
                                .arg = d,
                                .uid = geteuid()};
    if (ctl_server_new(&cc, &d->ctl, err) < 0)
        return -1;
    if (loop_add(d->loop, d->sigfd, LOOP_IN, on_signal, d, err) < 0 ||
        loop_add(d->loop, logpump_fd(d->pump), LOOP_IN, on_pump, d, err) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ config edits while no
 * daemon runs (SPEC 8.7)
 *
 * `.<b>.run/.config-sums` holds, per config volume, the checksums (cfgwatch_sums) of the
 * content its containers were last told about: taken when a burst of the volume fires, or at a
 * start that adopts nothing.  A daemon that adopts running containers compares them with the
 * content now and reports a volume that differs as changed, so an edit made between a
 * daemon's death and its successor's start is acted on (its inotify watches did not exist
 * then).  Lines `<volume> <dir checksum> <checksum-file checksum>` (hex), at most 64 KiB. */

#define CFG_SUMS_MAX (64u << 10)

static char *cfg_sums_rel(const struct daemon *d)
{
    return xasprintf(".%s.run/%s", d->cfg->name, DAEMON_CONFIG_SUMS);
}

/* Written beneath the pod directory's fd (SPEC 7.5.1): a `.<b>.run` that a sync replaced by a
 * link is refused with a WARN, and the daemon carries on (an adoption then reports no edit
 * made while no daemon ran). */
static void cfg_sums_write(struct daemon *d)
{
    const struct pod_spec *sp = d->cfg->spec;
    struct pod_buf b = {0};
    for (size_t i = 0; i < sp->n_volumes; i++)
        if (d->cfg_acked_known[i])
            pod_buf_printf(&b, "%s %016llx %016llx\n", sp->volumes[i].name,
                           (unsigned long long)d->cfg_acked[i][0],
                           (unsigned long long)d->cfg_acked[i][1]);
    char *rel = cfg_sums_rel(d);
    struct pod_err err = POD_ERR_ZERO;
    if (pod_write_file_atomic_at(d->dirfd, rel, b.data ? b.data : "", b.len, 0600, &err) < 0)
        pod_log(POD_LOG_WARN, "daemon: cannot save the config checksums: %s", err.msg);
    free(rel);
    pod_buf_free(&b);
}

/* The saved checksums into d->cfg_acked (unknown names and bad lines are ignored). */
static void cfg_sums_read(struct daemon *d)
{
    const struct pod_spec *sp = d->cfg->spec;
    char *rel = cfg_sums_rel(d), *text = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    int rc = pod_read_file_at(d->dirfd, rel, CFG_SUMS_MAX, &text, &len, &err);
    free(rel);
    if (rc < 0)
        return;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char name[256];
        unsigned long long sd, st;
        if (sscanf(line, "%255s %16llx %16llx", name, &sd, &st) != 3)
            continue;
        for (size_t i = 0; i < sp->n_volumes; i++)
            if (sp->volumes[i].type == SPEC_VOL_CONFIG && strcmp(sp->volumes[i].name, name) == 0) {
                d->cfg_acked[i][0] = sd;
                d->cfg_acked[i][1] = st;
                d->cfg_acked_known[i] = true;
            }
    }
    free(text);
}

/* At the start: after an adoption, a volume whose content differs from the acknowledged one is
 * reported changed (the supervisor then reloads it as for any edit: at once for a running
 * container, once adopted for one still adopting); otherwise the content now is the baseline. */
static void cfg_catch_up(struct daemon *d)
{
    const struct pod_spec *sp = d->cfg->spec;
    if (!d->cw)
        return;
    if (d->restored)
        cfg_sums_read(d);
    for (size_t i = 0; i < sp->n_volumes; i++) {
        uint64_t now[2];
        if (sp->volumes[i].type != SPEC_VOL_CONFIG || !cfgwatch_sums(d->cw, i, &now[0], &now[1]))
            continue;
        if (!d->cfg_acked_known[i]) {
            d->cfg_acked[i][0] = now[0];
            d->cfg_acked[i][1] = now[1];
            d->cfg_acked_known[i] = true;
            continue;
        }
        bool dir = now[0] != d->cfg_acked[i][0], txt = now[1] != d->cfg_acked[i][1];
        if (!dir && !txt)
            continue;
        pod_log(POD_LOG_INFO, "daemon: config %s changed while no daemon ran: reloading it",
                sp->volumes[i].name);
        if (dir)
            on_config(d, i, false, now[1] != 0);
        if (txt)
            on_config(d, i, true, now[1] != 0);
    }
    cfg_sums_write(d);
}

void daemon_config_fired(struct daemon *d, const char *name)
{
    const struct pod_spec *sp = d->cfg->spec;
    if (!d->cw)
        return;
    for (size_t i = 0; i < sp->n_volumes; i++)
        if (sp->volumes[i].type == SPEC_VOL_CONFIG && strcmp(sp->volumes[i].name, name) == 0 &&
            cfgwatch_sums(d->cw, i, &d->cfg_acked[i][0], &d->cfg_acked[i][1])) {
            d->cfg_acked_known[i] = true;
            cfg_sums_write(d);
        }
}

static void report_ready(struct daemon *d, const struct pod_err *err)
{
    if (d->ready_fd < 0)
        return;
    char *msg = err ? xasprintf("E%s", err->msg) : xstrdup("1");
    (void)!write(d->ready_fd, msg, strlen(msg));
    free(msg);
    close(d->ready_fd);
    d->ready_fd = -1;
}

static int setup(struct daemon *d, struct pod_err *err)
{
    if (setup_signals(d, err) < 0 || setup_files(d, err) < 0)
        return -1;
    if (!(d->loop = loop_new(err)))
        return -1;
    if (setup_logs(d, err) < 0 || setup_holder(d, err) < 0 || setup_backend(d, err) < 0 ||
        setup_driver(d, err) < 0 || setup_watch_and_socket(d, err) < 0)
        return -1;
    cfg_catch_up(d);
    return 0;
}

/* ------------------------------------------------------------------ the loop and the end */

static int64_t next_deadline(const struct daemon *d)
{
    int64_t m = drv_next_deadline(d->drv), t;
    if ((t = ctl_server_next_deadline(d->ctl)) < m)
        m = t;
    if ((t = holdc_next_deadline(d->hc)) < m)
        m = t;
    if (d->cw && (t = cfgwatch_next_deadline(d->cw)) < m)
        m = t;
    if ((t = dsink_next_deadline(d->sink)) < m)
        m = t;
    return m;
}

static int run_loop(struct daemon *d)
{
    for (;;) {
        drv_run(d->drv);
        dsink_round_end(d->sink, clk_mono_ms(&clk_real));
        if (drv_pod_stopped(d->drv))
            return 0;
        struct pod_err err = POD_ERR_ZERO;
        if (loop_run_once(d->loop, &clk_real, next_deadline(d), &err) < 0) {
            pod_log(POD_LOG_ERROR, "daemon: %s", err.msg);
            return -1;
        }
        d->wakeups++;
        int64_t now_ms = clk_mono_ms(&clk_real);
        if (now_ms - d->trimmed_mono_ms >= d->trim_every_ms) {
            holder_trim_text(); /* what start-up, restarts and the first probes mapped */
            d->trimmed_mono_ms = now_ms;
            d->trim_every_ms = d->trim_every_ms * 2 < DAEMON_TRIM_EVERY_MS ? d->trim_every_ms * 2
                                                                           : DAEMON_TRIM_EVERY_MS;
        }
        ctl_server_tick(d->ctl);
        holdc_run(d->hc);
        if (d->cw)
            cfgwatch_run(d->cw);
    }
}

/* Tears down in dependency order.  clean: the pod stopped (final status, BYE, files removed). */
static void teardown(struct daemon *d, bool clean)
{
    struct pod_err err = POD_ERR_ZERO;
    if (d->drv && clean)
        drv_flush_status(d->drv);
    if (d->ctl)
        ctl_server_free(d->ctl, true);
    cfgwatch_free(d->cw);
    drv_free(d->drv);
    if (d->have_be && d->cfg->backend.destroy)
        d->cfg->backend.destroy(d->cfg->backend.arg, &d->be);
    if (clean)
        pod_log(POD_LOG_INFO, "daemon: the pod is stopped; exiting");
    pod_log_set_sink(NULL, NULL);
    dsink_free(d->sink);
    logpump_close(d->pump); /* writes everything queued */
    if (clean) {
        if (ident_status_down(d->dirfd, d->f_status, &err) < 0)
            pod_log(POD_LOG_WARN, "daemon: %s", err.msg);
        (void)unlinkat(d->dirfd, d->f_pid, 0);
    }
    if (d->hc && clean)
        holdc_bye(d->hc);
    holdc_free(d->hc);
    if (d->loop)
        loop_free(d->loop);
    if (d->sigfd >= 0)
        close(d->sigfd);
    if (d->dirfd >= 0)
        close(d->dirfd);
    fs_root_free(d->root);
    d->root = NULL;
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    free(d->probes);
    d->probes = NULL;
    free(d->cfg_acked);
    free(d->cfg_acked_known);
    d->cfg_acked = NULL;
    d->cfg_acked_known = NULL;
}

int daemon_run(const struct daemon_cfg *cfg)
{
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.sigfd = d.dirfd = d.lock_fd = -1;
    d.ready_fd = cfg->ready_fd;
    if (d.ready_fd >= 0)
        (void)fcntl(d.ready_fd, F_SETFD, FD_CLOEXEC);
    if (cfg->holder_fd >= 0)
        (void)fcntl(cfg->holder_fd, F_SETFD, FD_CLOEXEC);
    d.started_wall_s = clk_wall_ns(&clk_real) / 1000000000;
    size_t nc = cfg->spec->n_containers;
    d.probes = xcalloc(nc ? nc : 1, sizeof *d.probes);
    d.cfg_acked = xcalloc(cfg->spec->n_volumes + 1, sizeof *d.cfg_acked);
    d.cfg_acked_known = xcalloc(cfg->spec->n_volumes + 1, sizeof *d.cfg_acked_known);
    struct pod_err err = POD_ERR_ZERO;
    if (setup(&d, &err) < 0) {
        pod_log(POD_LOG_ERROR, "daemon: cannot start: %s", err.msg);
        report_ready(&d, &err);
        teardown(&d, false);
        return POD_EXIT_SYSTEM;
    }
    report_ready(&d, NULL);
    holder_trim_text(); /* the set-up code (spec, recovery, ...) leaves the RSS */
    d.trimmed_mono_ms = clk_mono_ms(&clk_real);
    d.trim_every_ms = DAEMON_TRIM_FIRST_MS;
    int rc = run_loop(&d);
    teardown(&d, rc == 0);
    return rc == 0 ? POD_EXIT_OK : POD_EXIT_SYSTEM;
}

int daemon_main(int argc, char **argv, const struct pod_spec *spec)
{
    struct daemon_cfg cfg;
    struct pod_err err = POD_ERR_ZERO;
    if (daemon_parse_args(argc, argv, &cfg, &err) < 0) {
        fprintf(stderr, "[ERROR] %s\n", err.msg);
        return POD_EXIT_USAGE;
    }
    cfg.spec = spec;
    cfg.backend = daemon_podman_factory;
    pod_log_init_from_env(POD_LOG_INFO);
    return daemon_run(&cfg);
}
