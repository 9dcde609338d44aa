/* SPDX-License-Identifier: MIT */
/* life_up.c - create, start, run and rerun (pod/life.h, SPEC.md 7).
 *
 * create/run: a live supervisor means the pod exists (nothing to create; run asks it to
 * start, which a started pod ignores).  Without one, podman is asked: nothing of the pod ->
 * create it; its containers still run and the saved state is live (the supervisor died) ->
 * run starts a new supervisor, which re-adopts them; anything else is a bad state, destroyed
 * and created anew.  Creating: images pulled, volumes and fake ramdisks made, host ports
 * checked, the saved state forgotten, the host interface stored, `podman pod create`, then
 * the supervisor (holder + daemon) in `created`.  Nothing of ours keeps the caller's stdout
 * or stderr: the supervisor is fully detached (spawn.h).
 */
#include "life_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pod/ctl.h"
#include "pod/spawn.h"
#include "pod/util.h"

#define ASK_TIMEOUT_MS 10000

/* ------------------------------------------------------------------ the supervisor */

int life_spawn(struct life *l, struct pod_err *err)
{
    struct spawn_cfg c = {.dir = l->e->dir, .name = l->e->name};
    bool started = false;
    if (spawn_supervisor(&c, &started, err) < 0) {
        if (err->code != POD_E_IO)
            err->code = POD_E_FAILED;
        return -1;
    }
    if (started)
        pod_log(POD_LOG_INFO, "Pod %s: supervisor started", l->pod);
    return 0;
}

int life_ask(struct life *l, char *const *argv, size_t argc, int64_t timeout_ms,
             struct ctl_reply *r, struct pod_err *err)
{
    int64_t deadline = pod_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - pod_mono_ms();
        if (ctl_call(l->e->dir, l->f_sock, argv, argc, left > 0 ? left : 1, r, err) == 0)
            return 0;
        /* no daemon listens: between a daemon's death and its respawn by the holder */
        if (err->code != POD_E_NOTFOUND || left <= 100)
            break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    err->code = POD_E_FAILED;
    return pod_err_wrap(err, "the pod's daemon did not answer `%s`", argv[0]);
}

/* Asks the supervisor to start the pod (ignored when it started already).  1: the supervisor
 * is stopping the pod (a stop is under way): nothing was started. */
static int ask_start(struct life *l, struct pod_err *err)
{
    char *argv[] = {"start"};
    struct ctl_reply r;
    if (life_ask(l, argv, 1, ASK_TIMEOUT_MS, &r, err) < 0)
        return -1;
    if (strncmp(r.err, "already stopping", 16) == 0 || strncmp(r.err, "already exited", 14) == 0 ||
        (r.code == 1 && strstr(r.err, "is exiting"))) {
        ctl_reply_free(&r);
        return 1;
    }
    if (r.code != 0) {
        pod_err_set(err, POD_E_FAILED, 0, "Pod %s could not be started: %s", l->pod,
                    r.err[0] ? r.err : "refused");
        ctl_reply_free(&r);
        size_t n = strlen(err->msg);
        if (n && err->msg[n - 1] == '\n')
            err->msg[n - 1] = '\0';
        return -1;
    }
    if (strncmp(r.err, "already ", 8) == 0)
        pod_log(POD_LOG_INFO, "Pod %s is already %.*s", l->pod, (int)strcspn(r.err + 8, "\n"),
                r.err + 8);
    else
        pod_log(POD_LOG_OK, "Pod %s started", l->pod);
    ctl_reply_free(&r);
    return 0;
}

/* ------------------------------------------------------------------ creating */

int life_create_fresh(struct life *l, const char *host_if, struct pod_err *err)
{
    pod_log(POD_LOG_INFO, "Create pod %s", l->pod);
    if (rt_images_pull(&l->rc, NULL, err) < 0 || rt_volumes_create(&l->rc, err) < 0)
        return -1;
    pod_log(POD_LOG_INFO, "Check ramdisks");
    if (rt_ramdisks_prepare(&l->rc, err) < 0 || life_ports_check(l, host_if, err) < 0)
        return -1;
    life_state_forget(l); /* a fresh pod: nothing of an earlier supervisor is restored */
    if (life_hostif_write(l, host_if, err) < 0 || life_pod_create(l, host_if, err) < 0)
        return -1;
    return life_spawn(l, err);
}

/* The host interface create/run use: the one given, else the one the pod had. */
static const char *interface_for(const struct life *l, const char *want_if)
{
    return want_if ? want_if : l->stored_if;
}

int life_up(struct life *l, bool run, const char *want_if, struct pod_err *err)
{
    if (life_local_facts(l, err) < 0)
        return -1;
    l->f.want_if = want_if;
    enum life_up_plan plan = life_plan_up(&l->f, run);
    if (plan == LIFE_UP_ASK) {
        if (life_podman_facts(l, err) < 0)
            return -1;
        plan = life_plan_up(&l->f, run);
    }
    switch (plan) {
    case LIFE_UP_KEEP:
        if (want_if && strcmp(want_if, l->stored_if) != 0)
            pod_log(POD_LOG_WARN,
                    "Pod %s runs with host interface `%s`: `rerun --host-interface=%s` changes it",
                    l->pod, l->stored_if, want_if);
        if (!run)
            pod_log(POD_LOG_INFO, "Pod %s already created", l->pod);
        break;
    case LIFE_UP_ADOPT:
        pod_log(POD_LOG_INFO,
                "Pod %s: its containers run without a supervisor: a new one adopts them", l->pod);
        if (life_spawn(l, err) < 0)
            return -1;
        break;
    case LIFE_UP_RECREATE:
        if (strcmp(l->status_word, "exited") == 0 || strcmp(l->status_word, "removed") == 0)
            pod_log(POD_LOG_INFO, "Pod %s was stopped: removing it and creating it anew", l->pod);
        else
            pod_log(POD_LOG_INFO,
                    "Pod %s is in a bad state (no supervisor), destroying it and all containers "
                    "(leaving volumes)",
                    l->pod);
        if (l->f.state_live && l->f.running == 0) /* SPEC 8.11: what a reboot leaves */
            pod_log(POD_LOG_INFO,
                    "Pod %s: its supervisor and containers ended without a stop (a reboot, or "
                    "all killed): it starts afresh",
                    l->pod);
        if (life_destroy(l, err) < 0 || life_create_fresh(l, interface_for(l, want_if), err) < 0)
            return -1;
        break;
    case LIFE_UP_CREATE:
    default:
        if (life_create_fresh(l, interface_for(l, want_if), err) < 0)
            return -1;
        break;
    }
    if (!run)
        return 0;
    int rc = ask_start(l, err);
    if (rc != 1)
        return rc;
    /* a stop was under way: let it end, then run the pod again (once) */
    pod_log(POD_LOG_INFO, "Pod %s is stopping: waiting for it, then running it again", l->pod);
    if (life_down(l, false, false, err) < 0 || life_up(l, true, want_if, err) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ the actions */

/* The actions that change the pod run one at a time per pod directory: flock of the directory
 * itself (no file of its own; queries do not take it).  -1 when it cannot be opened. */
static int serialize(const char *name, const char *dir, struct pod_err *err)
{
    static const char *const changing[] = {"create", "start", "run", "rerun", "stop", "kill", "rm"};
    bool lock = false;
    for (size_t i = 0; i < sizeof changing / sizeof changing[0]; i++)
        lock |= strcmp(changing[i], name) == 0;
    if (!lock)
        return -2;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", dir);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        pod_log(POD_LOG_INFO, "%s: waiting for another action on this pod to end", name);
        while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
            ;
    }
    return fd;
}

/* The actions that may start a supervisor or create containers: the pod directory is checked
 * first (SPEC 7.5.1).  stop, kill, rm and the queries are not refused: they must still clean up. */
static bool brings_up(const char *name)
{
    return strcmp(name, "create") == 0 || strcmp(name, "run") == 0 || strcmp(name, "start") == 0 ||
           strcmp(name, "rerun") == 0;
}

/* Parses, opens, runs body, turns the result into the exit code. */
static int action(const struct life_env *e, const char *name, int argc, char **argv,
                  life_body_fn *fn)
{
    struct life_args a;
    struct pod_err err = POD_ERR_ZERO;
    if (life_parse(name, argc, argv, &a, &err) < 0) {
        pod_log(POD_LOG_ERROR, "%s: %s (see `%s help`)", name, err.msg, e->name);
        return POD_EXIT_USAGE;
    }
    struct life l;
    int rc = life_open(&l, e, &err);
    int lock = rc == 0 ? serialize(name, e->dir, &err) : -1;
    if (lock == -1)
        rc = -1;
    if (rc == 0 && brings_up(name))
        rc = life_check_dir(&l, &err);
    if (rc == 0)
        rc = fn(&l, &a, &err);
    int code = rc == 0 ? POD_EXIT_OK : life_fail(&err);
    if (lock >= 0)
        close(lock);
    life_close(&l);
    life_args_free(&a);
    return code;
}

static int do_create(struct life *l, const struct life_args *a, struct pod_err *err)
{
    return life_up(l, false, a->host_if, err);
}

static int do_run(struct life *l, const struct life_args *a, struct pod_err *err)
{
    return life_up(l, true, a->host_if, err);
}

static int do_start(struct life *l, const struct life_args *a, struct pod_err *err)
{
    (void)a;
    if (life_local_facts(l, err) < 0)
        return -1;
    if (!l->f.supervisor) {
        if (life_podman_facts(l, err) < 0)
            return -1;
        if (!l->f.pod_exists)
            return pod_err_set(err, POD_E_FAILED, 0, "Pod %s does not exist (create or run it)",
                               l->pod);
        if (life_spawn(l, err) < 0)
            return -1;
    }
    int rc = ask_start(l, err);
    if (rc != 1)
        return rc;
    pod_log(POD_LOG_INFO, "Pod %s is stopping: waiting for it, then starting it again", l->pod);
    return life_down(l, false, false, err) < 0 ? -1 : do_start(l, a, err);
}

int life_create(const struct life_env *e, const char *name, int argc, char **argv)
{
    return action(e, name, argc, argv, do_create);
}

int life_run(const struct life_env *e, const char *name, int argc, char **argv)
{
    return action(e, name, argc, argv, do_run);
}

int life_start(const struct life_env *e, const char *name, int argc, char **argv)
{
    return action(e, name, argc, argv, do_start);
}

static int do_rerun(struct life *l, const struct life_args *a, struct pod_err *err)
{
    if (a->names)
        return life_rerun_names(l, a->names, err);
    if (life_local_facts(l, err) < 0)
        return -1;
    char *keep_if = xstrdup(interface_for(l, a->host_if));
    pod_log(POD_LOG_INFO, "Rerun pod %s", l->pod);
    int rc = life_down(l, true, a->kill, err);
    if (rc == 0)
        rc = life_up(l, true, keep_if, err);
    free(keep_if);
    return rc;
}

int life_rerun(const struct life_env *e, const char *name, int argc, char **argv)
{
    return action(e, name, argc, argv, do_rerun);
}

int life_action_run(const struct life_env *e, const char *name, int argc, char **argv,
                    life_body_fn *fn)
{
    return action(e, name, argc, argv, fn);
}
