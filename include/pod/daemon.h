/* SPDX-License-Identifier: MIT */
/* daemon.h - the per-pod daemon (`pod __daemon`, SPEC.md section 7): one epoll loop around the
 * driver (pod/drv.h) on a container backend.
 *
 * The loop waits on: a signalfd (TERM = stop, USR2 = kill; INT, HUP, USR1 ignored; SIGPIPE is
 * ignored), the control socket (pod/ctl.h), the holder's socket and pidfd (pod/holder.h), the
 * config watch (pod/cfgwatch.h), the log pump's eventfd (pod/logpump.h) and whatever the
 * backend registers; its timeout is the earliest of drv_next_deadline() and the modules' own
 * deadlines.  After every wake-up it calls drv_run().  It never sleeps and never blocks on
 * anything but local regular files; once drv_pod_stopped() it writes the final status (pid
 * empty, readiness 0), says BYE to the holder and exits 0.
 * The backend comes from a factory in struct daemon_cfg: production passes the podman backend
 * (daemon_main), tests a fake one.  Ownership: everything in daemon_cfg is borrowed.
 */
#ifndef POD_DAEMON_H
#define POD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"
#include "pod/spec.h"

/* In .<b>.run/: the config checksums the containers were last told about (SPEC 7.5, 8.7);
 * `rm` removes it with the directory. */
#define DAEMON_CONFIG_SUMS ".config-sums"

/* What a backend gets from the daemon. */
struct daemon_env {
    struct loop *loop; /* register fds here; callbacks must not block */
    const struct clk *clk;
    const struct pod_spec *spec;
    const char *dir;  /* the pod directory */
    const char *name; /* <b>: the executable's base name (.<b>.run, .<b>.hostif) */
    const char *exe;  /* the pod executable; NULL = /proc/self/exe */
    int dirfd;
    /* The fd holder: keep a duplicate of a log pipe's read end under key
     * ("<ctr>/<instance>/stdout|stderr"), so output survives a daemon restart; unhold before
     * closing it. */
    void (*hold)(void *self, const char *key, int fd);
    void (*unhold)(void *self, const char *key);
    /* The log path's gate: false = no room for more output now, stop reading the pipes (the
     * containers then block in write: lossless); fn(arg) is called each time room returns. */
    bool (*output_room)(void *self);
    void (*on_room)(void *self, void (*fn)(void *arg), void *arg);
    void *self;
};

struct daemon_backend_factory {
    /* Creates the backend (its fds registered in env->loop; env stays valid while it lives). */
    int (*create)(void *arg, const struct daemon_env *env, struct backend *out,
                  struct pod_err *err);
    /* A log pipe the holder handed back after a daemon restart: 0 = taken (the backend reads
     * it and unholds it before closing), -1 = unknown (the daemon closes and unholds it). */
    int (*adopt_fd)(void *arg, const struct daemon_env *env, struct backend *b, const char *key,
                    int fd);
    void (*destroy)(void *arg, struct backend *b);
    /* Optional: a word for `ps` about container ctr's warm standby (`warmStandby`), or NULL. */
    const char *(*standby)(void *arg, const struct backend *b, size_t ctr);
    void *arg;
};

struct daemon_cfg {
    const struct pod_spec *spec;
    const char *dir;                  /* the pod directory */
    const char *name;                 /* <b>: .<b>.sock, .<b>.lock, .<b>.pid, .<b>.status */
    const char *exe;                  /* for a new holder; NULL = /proc/self/exe */
    int lock_fd, holder_fd, ready_fd; /* from the command line; -1 = none */
    struct daemon_backend_factory backend;
    uint64_t seed;             /* supervisor RNG; 0 = random */
    int64_t reconcile_ms;      /* 0 = the driver's default */
    int64_t status_refresh_ms; /* 0 = the driver's default */
};

/* Parses `__daemon --dir D --name B --lock-fd L --holder-fd H [--ready-fd R]` (argv[1] is
 * "__daemon"; strings borrowed). */
int daemon_parse_args(int argc, char **argv, struct daemon_cfg *cfg, struct pod_err *err) POD_WUR;
/* Runs the daemon to its end; returns the process exit code (0 after a clean stop). */
int daemon_run(const struct daemon_cfg *cfg);
/* The pod executable's `__daemon` action, wired to the podman backend. */
int daemon_main(int argc, char **argv, const struct pod_spec *spec);

/* The production backend (src/daemon/daemon_podman.c). */
extern const struct daemon_backend_factory daemon_podman_factory;

/* The host interface the command line stored for the pod (`.<name>.hostif` in dir: one dotted
 * IPv4 address, or empty): *out is a new string, NULL when there is none (no file, or empty).
 * -1 when it cannot be read or is malformed. */
int daemon_hostif_read(const char *dir, const char *name, char **out, struct pod_err *err) POD_WUR;
/* A dotted IPv4 address (four decimal parts 0-255, no leading zeros), or "" (none). */
bool daemon_hostif_valid(const char *s);

/* Checks the untrusted pod directory (SPEC.md 7.5.1) through dirfd, following no link: the
 * dot-files of executable `name` (.<b>.status/.state/.pid/.lock/.hostif regular files,
 * .<b>.sock a socket, .<b>.run a directory), `log` (a directory; its non-directory entries
 * regular files), and for
 * every config and ramdisk volume of spec `config`/`ramdisk` and `<top>/<name>` (directories).
 * Missing is fine.  -1 with err (POD_E_FAILED, "`log` in the pod directory is a symbolic
 * link: refused (not followed)") at the first name that is a link or of another kind. */
int daemon_podir_check(int dirfd, const struct pod_spec *spec, const char *name,
                       struct pod_err *err) POD_WUR;

#endif
