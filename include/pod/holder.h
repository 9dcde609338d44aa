/* SPDX-License-Identifier: MIT */
/* holder.h - the fd holder (SPEC.md 10.3): a tiny process that keeps the read ends of the
 * containers' log pipes and the supervisor lock while daemons come and go, and respawns a
 * daemon that died without saying BYE.
 *
 *   pod __holder --dir D --name B --lock-fd L [--ready-fd R]          (from the command line)
 *   pod __holder --dir D --name B --lock-fd L --sock-fd S --daemon-pid P   (from a daemon whose
 *                                                                       holder died)
 * The first form spawns a daemon at once (`/proc/self/exe __daemon --dir D --name B --lock-fd L
 * --holder-fd S2 [--ready-fd R]`), the second watches the daemon that started it.
 *
 * Wire protocol: a SOCK_SEQPACKET socketpair, one text message per packet (at most
 * HOLDER_MSG_MAX bytes), at most one fd per message (SCM_RIGHTS):
 *   daemon -> holder:  HOLD <key> + fd  (keep a duplicate; a second HOLD of a key replaces it)
 *                      DROP <key>       (close it)
 *                      BYE              (a clean exit follows: the holder exits, after
 *                                       reaping the daemon when it is its child)
 *   holder -> daemon:  HELLO <holder pid> <daemons started before> <previous wait status|-1>
 *                      FD <key> + fd    (every held fd, to a daemon it started)
 *                      END              (the daemon sends nothing before it has read END)
 *                      STOP / KILL      (TERM / USR2 received by the holder)
 * Keys are `<ctr>/<instance>/<stream>` for log pipes; any text without newline up to
 * HOLDER_KEY_MAX bytes works.
 *
 * Each side watches the other by pidfd (its parent's, checked with getppid(), or its child's):
 * a dead peer is a readable pidfd, never just a closed socket.  A daemon that sees its holder
 * die starts a new one and sends HOLD for every fd again; a holder that sees its daemon die
 * without BYE marks `.<b>.status` down (pid empty, readiness 0) and respawns it after a backoff
 * (HOLDER_BACKOFF_MIN_MS doubling to HOLDER_BACKOFF_MAX_MS, back to the minimum after a daemon
 * lived HOLDER_BACKOFF_RESET_MS); a TERM/USR2 that arrives while no daemon runs starts one at
 * once, which gets it as STOP/KILL after END.
 */
#ifndef POD_HOLDER_H
#define POD_HOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"

#define HOLDER_MSG_MAX 1024
#define HOLDER_KEY_MAX 512
#define HOLDER_BACKOFF_MIN_MS 250
#define HOLDER_BACKOFF_MAX_MS 30000
#define HOLDER_BACKOFF_RESET_MS 60000
#define HOLDER_HANDOFF_MS 10000    /* a new daemon reads the handoff within this */
#define HOLDER_GRACE_MS 2000       /* a peer whose socket closed must be dead by then */
#define HOLDER_TRIM_QUIET_MS 10000 /* the holder trims its code this long after its last event */
#define DAEMON_TRIM_FIRST_MS 10000 /* the daemon trims its code this long after set-up, */
#define DAEMON_TRIM_EVERY_MS 60000 /* then after twice as long, ..., at most this often */

/* ---- the holder process ---- */

/* The `__holder` action; never returns on success paths other than a clean exit (0), 100 for
 * bad arguments, 111 when it cannot start. */
int holder_main(int argc, char **argv);

/* Drops this process's mappings of the executable's read-only segments (code and constants;
 * MADV_DONTNEED over the main program's PT_LOAD segments without PF_W): the kernel maps the
 * file's cached pages 64 KiB around every fault, so a long-lived holder or daemon otherwise
 * "has" nearly all the code of the multi-call executable in its RSS; what its idle loop runs
 * comes back at the next faults (the linker script src/idle-text.ld packs that code together).
 * The pages stay in the page cache (shared with every pod); only this process's mappings go,
 * which also leaves the kernel free to reclaim code nobody runs.  The holder calls it after
 * start-up and HOLDER_TRIM_QUIET_MS after each burst of events, the daemon after set-up and
 * then 10, 20, 40 and every 60 s later (on a wake-up it has anyway; DAEMON_TRIM_*).  Best effort.
 */
void holder_trim_text(void);

/* ---- messages (both sides) ---- */

/* Sends one message (with fd when pass_fd >= 0), never blocking.  0, or -1 with errno (EAGAIN
 * when the socket is full). */
int holder_send(int sock, const char *text, int pass_fd);
/* Receives one message into buf (NUL-terminated) and at most one fd (close-on-exec; -1 when
 * none; extra fds are closed).  Returns its length, 0 at EOF, -1 with errno (EAGAIN, EMSGSIZE
 * for an oversized message). */
ssize_t holder_recv(int sock, char *buf, size_t cap, int *fd);

/* ---- the daemon's side: struct holdc ---- */

struct holdc;

/* What the holder said at a daemon's start. */
struct holdc_hello {
    pid_t holder_pid;
    unsigned respawns; /* daemons it started before this one */
    int last_status;   /* wait status of the previous daemon, -1 when unknown */
};

enum holdc_ctl { HOLDC_STOP = 1, HOLDC_KILL = 2 };

struct holdc_cfg {
    struct loop *loop;
    const struct clk *clk;
    const char *exe;  /* for a new holder; NULL = /proc/self/exe */
    const char *dir;  /* the pod directory */
    const char *name; /* <b> */
    int lock_fd;      /* passed on to a new holder */
    int sock;         /* --holder-fd, or -1: start a holder now */
    /* a STOP or KILL the holder received (TERM / USR2 sent to it) */
    void (*on_ctl)(void *arg, enum holdc_ctl what);
    /* the holder changed (pid of the new one): the identity file needs rewriting */
    void (*on_holder)(void *arg, pid_t pid);
    void *arg;
};

/* With cfg->sock >= 0 reads the handoff (HELLO, FD..., END) within HOLDER_HANDOFF_MS, blocking
 * (the daemon's loop does not run yet); otherwise starts a holder.  Registers in the loop. */
int holdc_new(const struct holdc_cfg *cfg, struct holdc **out, struct pod_err *err) POD_WUR;
/* The handoff: keys[i] / fds[i], n entries; the caller takes the fds (and must HOLD again
 * those it keeps, DROP the others). */
size_t holdc_handed(const struct holdc *h, char ***keys, int **fds);
void holdc_take_handed(struct holdc *h); /* forgets the handoff lists (fds now the caller's) */
const struct holdc_hello *holdc_hello(const struct holdc *h);
pid_t holdc_holder_pid(const struct holdc *h);
/* Registers fd under key with the holder (the fd stays the caller's: it must call holdc_drop
 * before closing it).  Never blocks. */
void holdc_hold(struct holdc *h, const char *key, int fd);
void holdc_drop(struct holdc *h, const char *key);
/* Registers a handed-back fd the caller keeps (the holder has it already: no message). */
void holdc_adopt(struct holdc *h, const char *key, int fd);
size_t holdc_count(const struct holdc *h);
/* Timers: the backoff of a holder restart and the grace of a closed socket. */
int64_t holdc_next_deadline(const struct holdc *h);
void holdc_run(struct holdc *h);
/* Clean exit: sends BYE (waiting at most 1 s for room), reaps a holder that is our child. */
void holdc_bye(struct holdc *h);
void holdc_free(struct holdc *h);

#endif
