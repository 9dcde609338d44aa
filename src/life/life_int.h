/* SPDX-License-Identifier: MIT */
/* life_int.h - the lifecycle actions' private parts, shared by their files:
 *   life_files.c   the pod directory: file names, the lock, .status/.state/.hostif
 *   life_podman.c  podman from the command line: facts, pod create/stop/remove, direct stops,
 *                  the host-port check
 *   life_up.c      create, start, run, rerun
 *   life_down.c    stop, kill, rm
 *   life_query.c   signal, reload-configs, rerun NAME, ps, readiness (the control socket)
 * Error convention (pod/rt.h): -1 with err; POD_E_BACKEND = podman could not be run (exit 111),
 * POD_E_FAILED = podman or the supervisor refused (exit 1).
 */
#ifndef POD_LIFE_INT_H
#define POD_LIFE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/ident.h"
#include "pod/life.h"
#include "pod/podman.h"
#include "pod/rt.h"

/* Everything an action works with. */
struct life {
    const struct life_env *e;
    char *pod; /* <pod>-<version> */
    char f_status[IDENT_FILE_MAX], f_state[IDENT_FILE_MAX], f_lock[IDENT_FILE_MAX],
        f_sock[IDENT_FILE_MAX], f_hostif[IDENT_FILE_MAX], f_pid[IDENT_FILE_MAX];
    struct rt_ctx rc;
    struct podman_argv_ctx ac;
    /* facts (life_local_facts, life_podman_facts) */
    struct life_facts f;
    char status_word[32];
    char *stored_if; /* "" when none */
};

int life_open(struct life *l, const struct life_env *e, struct pod_err *err) POD_WUR;
void life_close(struct life *l);
/* The exit code for a failed step (err logged here unless it was logged already). */
int life_fail(const struct pod_err *err);

/* ---- files ---- */
/* supervisor, traces, status word, state_live, stored_if (no podman). */
int life_local_facts(struct life *l, struct pod_err *err) POD_WUR;
char *life_file_path(const struct life *l, const char *file); /* new string */
int life_hostif_write(const struct life *l, const char *ip, struct pod_err *err) POD_WUR;
/* Forgets the supervisor's saved state (a fresh pod starts from nothing). */
void life_state_forget(const struct life *l);
/* Removes .<b>.run and the agent sockets in it. */
void life_run_dir_remove(const struct life *l);
/* The status file's text (NULL when none). */
char *life_status_text(const struct life *l, size_t *len);
/* The untrusted pod directory's check (daemon_podir_check, SPEC 7.5.1) before create, run,
 * rerun and start: a link or a FIFO where the pod keeps a file refuses the action (exit 1). */
int life_check_dir(const struct life *l, struct pod_err *err) POD_WUR;

/* ---- podman ---- */
/* pod_exists, running, containers. */
int life_podman_facts(struct life *l, struct pod_err *err) POD_WUR;
/* Our containers as podman lists them (podman_ctr_infos_free). */
int life_list(struct life *l, struct podman_ctr_info **v, size_t *n, struct pod_err *err) POD_WUR;
int life_pod_create(struct life *l, const char *host_if, struct pod_err *err) POD_WUR;
/* `pod rm -f` and `rm -f` of our containers outside the pod (network: host). */
int life_destroy(struct life *l, struct pod_err *err) POD_WUR;
/* `pod stop` (the infra container). */
int life_pod_stop(struct life *l, struct pod_err *err) POD_WUR;
/* Stops (kill: SIGKILL) every container of ours that runs, all at once, and waits. */
int life_stop_direct(struct life *l, bool kill, struct pod_err *err) POD_WUR;
/* Waits (at most timeout_ms) until no conmon process of the pod is left (podman's monitors
 * of its containers, infra and exec sessions outlive them by a few ms). */
void life_wait_conmons(const struct life *l, int64_t timeout_ms);
/* Every published host port can be bound (a port held by anyone is busy): 0, or -1
 * POD_E_FAILED naming the first busy port. */
int life_ports_check(const struct life *l, const char *host_if, struct pod_err *err) POD_WUR;

/* ---- the supervisor ---- */
/* Starts holder + daemon unless running. */
int life_spawn(struct life *l, struct pod_err *err) POD_WUR;
/* A request on the control socket; retried while no daemon answers (a respawn) for up to
 * timeout_ms.  *code and the texts of the reply (stdout/stderr printed by the caller). */
struct ctl_reply;
int life_ask(struct life *l, char *const *argv, size_t argc, int64_t timeout_ms,
             struct ctl_reply *r, struct pod_err *err) POD_WUR;
/* Create from nothing (images, volumes, ramdisks, ports, the podman pod, the supervisor). */
int life_create_fresh(struct life *l, const char *host_if, struct pod_err *err) POD_WUR;
/* The down path of stop/kill/rm (and of rerun). */
int life_down(struct life *l, bool rm, bool kill, struct pod_err *err) POD_WUR;
/* The up path of create/run (and of rerun). */
int life_up(struct life *l, bool run, const char *want_if, struct pod_err *err) POD_WUR;

/* ---- actions ---- */
typedef int life_body_fn(struct life *l, const struct life_args *a, struct pod_err *err);
/* Parses the words, opens the context, runs fn, returns the exit code. */
int life_action_run(const struct life_env *e, const char *name, int argc, char **argv,
                    life_body_fn *fn);
/* rerun NAME...: cycles those containers through a live supervisor of a started pod. */
int life_rerun_names(struct life *l, char *const *names, struct pod_err *err) POD_WUR;

#endif
