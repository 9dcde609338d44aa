/* SPDX-License-Identifier: MIT */
/* daemon_int.h - the daemon's state, shared by daemon.c (setup, loop, exit) and daemon_ctl.c
 * (control requests and the live status).  Not a public interface. */
#ifndef POD_DAEMON_INT_H
#define POD_DAEMON_INT_H

#include "pod/cfgwatch.h"
#include "pod/ctl.h"
#include "pod/daemon.h"
#include "pod/drv.h"
#include "pod/dsink.h"
#include "pod/holder.h"
#include "pod/ident.h"
#include "pod/logpump.h"

/* The last result of one probe of a container, as the driver traced it (for `pod ps`). */
struct daemon_probe_seen {
    char result[8]; /* "ok", "fail", "error", "timeout"; "" = none yet */
    int code;
    int64_t wall_s;
    uint64_t instance;
};
#define DAEMON_PROBE_ROLES 3 /* startup, readiness, liveness (sup_probe_role order) */

struct daemon {
    const struct daemon_cfg *cfg;
    char f_sock[IDENT_FILE_MAX], f_pid[IDENT_FILE_MAX], f_status[IDENT_FILE_MAX],
        f_lock[IDENT_FILE_MAX], f_state[IDENT_FILE_MAX];
    int dirfd, lock_fd, sigfd, ready_fd;
    struct fs_root *root; /* fs_real beneath the pod directory (SPEC 7.5.1) */
    struct loop *loop;
    struct logpump *pump;
    struct dsink *sink;
    struct holdc *hc;
    struct daemon_env env;
    struct backend be;
    bool have_be;
    struct drv *drv;
    struct ctl_server *ctl;
    struct cfgwatch *cw;
    int64_t started_wall_s;
    uint64_t wakeups;        /* returns from the loop's wait */
    int64_t trimmed_mono_ms; /* the last holder_trim_text() */
    int64_t trim_every_ms;   /* the next one this long after: 10 s, doubling to 60 s */
    struct daemon_probe_seen (*probes)[DAEMON_PROBE_ROLES]; /* per container */
    /* per volume (spec index): the config checksums the containers were last told about
     * (dir, checksum file; SPEC 8.7 "edits while no daemon runs"), and whether known */
    uint64_t (*cfg_acked)[2];
    bool *cfg_acked_known;
    bool restored; /* a saved state was restored: the containers are adopted */
};

/* A request on the control socket (daemon_ctl.c). */
void daemon_on_request(void *arg, struct ctl_server *s, uint64_t id, int argc, char **argv);
/* The driver's trace hook: keeps the last probe results for the live status. */
void daemon_trace(void *self, int64_t mono_ms, const char *subject, const char *event,
                  const char *details);
/* A config burst of volume `name` fired (the driver's NOTE `config NAME changed|reload
 * requested`): its current checksums become the acknowledged ones (daemon.c). */
void daemon_config_fired(struct daemon *d, const char *name);
/* Feeds one pod-level event (START/STOP/KILL) to the driver. */
void daemon_input(struct daemon *d, enum sup_event_type type);

#endif
