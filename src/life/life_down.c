/* SPDX-License-Identifier: MIT */
/* life_down.c - stop, kill and rm (pod/life.h, SPEC.md 7).
 *
 * With a live supervisor: `stop`/`kill` on the control socket (TERM/USR2 to the holder when no
 * daemon answers), then wait until holder and daemon have exited, bounded by the SPEC 8.8 stop
 * schedule of the pod's containers plus a margin (life_stop_budget_ms); past it they are
 * SIGKILLed and podman is used directly.  A supervisor that exited cleanly confirmed every
 * container's exit.  Without one (both died), podman stops what still runs, all at once, and
 * removes what was created but never ran (a start still in flight must not complete later).
 * Then `stop` stops the pod's infra container and `rm` removes the pod with its containers,
 * marks the status `removed`, removes fake ramdisk directories, the saved state and .<b>.run;
 * volumes, logs and the stored host interface stay.  A pod never created here, or already
 * stopped (stop) or removed (rm), costs no podman call.
 */
#include "life_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pod/spawn.h"
#include "pod/util.h"

#define CONMON_WAIT_MS 5000 /* podman's monitors outlive their containers by a few ms */

/* Past the budget: SIGKILL what .<b>.pid records, and wait for the lock to be free. */
static void kill_supervisor(struct life *l)
{
    int dirfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return;
    struct spawn_procs p;
    struct pod_err err = POD_ERR_ZERO;
    if (spawn_procs_open(dirfd, l->e->name, &p, &err) == 0) {
        spawn_procs_kill(&p, SIGKILL);
        if (spawn_wait_gone(dirfd, l->e->name, &p, pod_mono_ms() + 5000, &err) < 0)
            pod_log(POD_LOG_WARN, "Pod %s: %s", l->pod, err.msg);
        spawn_procs_close(&p);
    }
    struct pod_err e2 = POD_ERR_ZERO;
    if (ident_status_down(dirfd, l->f_status, &e2) < 0)
        pod_log(POD_LOG_WARN, "%s", e2.msg);
    close(dirfd);
}

/* 0: the supervisor is gone (*clean: it stopped every container itself), -1 err. */
static int stop_supervisor(struct life *l, bool kill, bool *clean, struct pod_err *err)
{
    int64_t budget = life_stop_budget_ms(l->e->spec, kill);
    bool was = false;
    pod_log(POD_LOG_INFO, "%s pod %s", kill ? "Kill" : "Stop", l->pod);
    *clean = false;
    if (spawn_stop(l->e->dir, l->e->name, kill, budget, &was, err) < 0) {
        if (err->code != POD_E_TIMEOUT)
            return -1;
        pod_log(POD_LOG_WARN, "Pod %s: the supervisor did not stop within %lld s: killing it",
                l->pod, (long long)(budget / 1000));
        kill_supervisor(l);
        *err = (struct pod_err)POD_ERR_ZERO;
        return 0;
    }
    size_t len;
    char *text = life_status_text(l, &len);
    *clean = text && strstr(text, "\nstatus: exited\n");
    free(text);
    return 0;
}

int life_down(struct life *l, bool rm, bool kill, struct pod_err *err)
{
    if (life_local_facts(l, err) < 0)
        return -1;
    enum life_down_plan plan = life_plan_down(&l->f, rm);
    if (plan == LIFE_DOWN_NOTHING) {
        pod_log(POD_LOG_DEBUG, "Pod %s: nothing to %s (status: %s)", l->pod, rm ? "remove" : "stop",
                l->status_word[0] ? l->status_word : "none");
        return 0;
    }
    bool clean = strcmp(l->status_word, "exited") == 0;
    if (plan == LIFE_DOWN_SUPERVISOR && stop_supervisor(l, kill, &clean, err) < 0)
        return -1;
    if (!clean && (kill || !rm) && life_stop_direct(l, kill, err) < 0)
        return -1;
    if (!rm) {
        if (life_pod_stop(l, err) < 0)
            return -1;
        if (!clean && life_status_mark(l->e->spec, l->e->dir, l->e->name, "exited", err) < 0)
            return -1;
        life_wait_conmons(l, CONMON_WAIT_MS);
        pod_log(POD_LOG_OK, "Pod %s %s", l->pod, kill ? "killed" : "stopped");
        return 0;
    }
    if (life_destroy(l, err) < 0)
        return -1;
    struct pod_err e2 = POD_ERR_ZERO;
    if (rt_ramdisks_remove_fake(&l->rc, &e2) < 0)
        pod_log(POD_LOG_WARN, "%s", e2.msg);
    life_state_forget(l);
    life_run_dir_remove(l);
    if (life_status_mark(l->e->spec, l->e->dir, l->e->name, "removed", err) < 0)
        return -1;
    life_wait_conmons(l, CONMON_WAIT_MS);
    pod_log(POD_LOG_OK, "Pod %s removed", l->pod);
    return 0;
}

static int do_stop(struct life *l, const struct life_args *a, struct pod_err *err)
{
    (void)a;
    return life_down(l, false, false, err);
}

static int do_kill(struct life *l, const struct life_args *a, struct pod_err *err)
{
    (void)a;
    return life_down(l, false, true, err);
}

static int do_rm(struct life *l, const struct life_args *a, struct pod_err *err)
{
    return life_down(l, true, a->kill, err);
}

int life_stop(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_stop);
}

int life_kill(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_kill);
}

int life_rm(const struct life_env *e, const char *name, int argc, char **argv)
{
    return life_action_run(e, name, argc, argv, do_rm);
}
