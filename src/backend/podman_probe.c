/* SPDX-License-Identifier: MIT */
/* podman_probe.c - probes and exec commands of the podman backend (see podman_int.h).
 *
 * TCP and HTTP probes run from the host: a non-blocking connect to the published port (and for
 * HTTP one `GET path HTTP/1.0`, status 200-399 = success), in the loop, with the request's
 * deadline.  EXEC requests go to the exec strategy (the in-container agent) when there is one,
 * else to `podman exec` with the marker PODC_PROBE_TAG=<tag> in the command's environment.
 * Cancelling a `podman exec` kills the command *inside* the container: every process of the
 * container's pid namespace whose environment carries the marker is SIGKILLed through a pidfd,
 * again a few times while the exec client may still be starting it, and once more after the
 * client is gone; only then is the request forgotten.  Every request reports exactly one
 * EXEC_DONE: after a cancel that is BACKEND_CANCELLED once its process is gone (or its own
 * result when it ended first); a cancel that cannot be done is CALL_FAILED (op CANCEL) and the
 * request stays until a cancel succeeds or it ends (backend.h).  A process whose environment
 * cannot be read (rootless, a container user other than root) is judged by the exec session's
 * conmon it descends from (its process spec has the marker or not: session_mark); when that
 * cannot be read either it is never taken for "not ours": only a start before the request (or,
 * for an unreadable namespace, a uid or cgroup not the container's) rules it out; else the
 * cancel fails, and after 60 s of failing only for such processes it is accepted with a warning.
 */
#include "podman_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define PROBE_GRACE_MS 2000      /* the backend times a request out itself this much late */
#define CANCEL_CLIENT_MS 3000    /* a cancelled exec client still alive after this is killed */
#define ENVIRON_MAX (256u << 10) /* bytes of /proc/PID/environ searched */
#define CANCEL_UNKNOWN_MS                                                                          \
    60000 /* unreadable processes block a cancel this long, then a warning                         \
           */

enum probe_st {
    PR_CONNECTING = 1,
    PR_SENDING,
    PR_READING,
    PR_EXEC,       /* `podman exec` queued or running */
    PR_STRATEGY,   /* the exec strategy has it */
    PR_CANCELLING, /* killing it inside the container */
    PR_CANCEL_FAILED,
};

struct probe {
    struct pm *pm;
    uint64_t tag;
    size_t ctr;
    uint64_t instance;
    enum backend_probe_kind kind;
    enum probe_st st;
    int64_t deadline;
    int fd;
    char *req;
    size_t req_len, sent;
    char resp[512];
    size_t got;
    bool client_done;
    bool client_killed; /* we killed the `podman exec` client (the command may live on) */
    bool cancelled;     /* cancel() was called: the result is BACKEND_CANCELLED */
    int64_t cancel_since, scan_at;
    int scans;
    unsigned long long since_ticks; /* CLOCK_BOOTTIME ticks before the exec was submitted */
    bool unknown_expired;  /* the last scans failed only for unreadable processes, for 60 s */
    int64_t unknown_since; /* when such scans began, -1: the last scan was not one */
    int n_unknown, unknown_errno;
    char marker[64];
};

/* ------------------------------------------------------------------ records */

static struct probe *find(struct pm *pm, uint64_t tag)
{
    for (size_t i = 0; i < pm->n_pr; i++)
        if (pm->pr[i]->tag == tag)
            return pm->pr[i];
    return NULL;
}

static void close_sock(struct pm *pm, struct probe *p)
{
    if (p->fd >= 0) {
        loop_del(pm->cfg.loop, p->fd);
        close(p->fd);
        p->fd = -1;
    }
}

static void drop(struct pm *pm, struct probe *p)
{
    close_sock(pm, p);
    pm_ptr_remove((void **)pm->pr, &pm->n_pr, p);
    free(p->req);
    free(p);
}

static void report(struct pm *pm, size_t ctr, uint64_t instance, uint64_t tag,
                   enum backend_result r, int code, const char *msg)
{
    struct backend_event *e = pm_event(pm, BACKEND_EV_EXEC_DONE, ctr, instance, msg);
    e->tag = tag;
    e->result = r;
    e->exit_code = code;
}

static void done(struct pm *pm, struct probe *p, enum backend_result r, int code, const char *msg)
{
    report(pm, p->ctr, p->instance, p->tag, r, code, msg);
    drop(pm, p);
}

/* ------------------------------------------------------------------ tcp / http */

static void http_status(struct pm *pm, struct probe *p, bool eof)
{
    const char *nl = memchr(p->resp, '\n', p->got);
    if (!nl && !eof && p->got < sizeof p->resp)
        return; /* more to come */
    int st = 0;
    if (p->got >= 12 && memcmp(p->resp, "HTTP/1.", 7) == 0 && p->resp[8] == ' ' &&
        p->resp[9] >= '1' && p->resp[9] <= '5' && p->resp[10] >= '0' && p->resp[10] <= '9' &&
        p->resp[11] >= '0' && p->resp[11] <= '9')
        st = (p->resp[9] - '0') * 100 + (p->resp[10] - '0') * 10 + (p->resp[11] - '0');
    char msg[64];
    if (st == 0) {
        done(pm, p, BACKEND_FAIL, 1, "not an HTTP response");
        return;
    }
    snprintf(msg, sizeof msg, "HTTP %d", st);
    done(pm, p, st >= 200 && st <= 399 ? BACKEND_OK : BACKEND_FAIL, st, msg);
}

static void sock_io(struct pm *pm, struct probe *p)
{
    struct pod_err err = POD_ERR_ZERO;
    if (p->st == PR_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
            e = errno;
        if (e == EINPROGRESS)
            return;
        if (e) {
            done(pm, p, BACKEND_FAIL, 1, strerror(e));
            return;
        }
        if (p->kind == BACKEND_PROBE_TCP) {
            done(pm, p, BACKEND_OK, 0, NULL);
            return;
        }
        p->st = PR_SENDING;
    }
    if (p->st == PR_SENDING) {
        ssize_t n = send(p->fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            done(pm, p, BACKEND_FAIL, 1, strerror(errno));
            return;
        }
        p->sent += (size_t)n;
        if (p->sent < p->req_len)
            return;
        p->st = PR_READING;
        if (loop_mod(pm->cfg.loop, p->fd, LOOP_IN, &err) < 0) {
            done(pm, p, BACKEND_UNKNOWN, 1, err.msg);
            return;
        }
        return;
    }
    ssize_t n = recv(p->fd, p->resp + p->got, sizeof p->resp - p->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        done(pm, p, BACKEND_FAIL, 1, strerror(errno));
        return;
    }
    p->got += (size_t)n;
    http_status(pm, p, n == 0);
}

static void on_sock(void *arg, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    struct probe *p = arg;
    sock_io(p->pm, p);
}

static bool bad_path(const char *s)
{
    if (!s || s[0] != '/' || strlen(s) > 2048)
        return true;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Returns 0 (running or reported) or -1 (err: nothing started). */
static int sock_start(struct pm *pm, struct probe *p, const struct backend_probe_req *req,
                      struct pod_err *err)
{
    const char *host = podman_probe_host(pm->spec, req->ctr, req->port, pm->cfg.host_interface);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    bool v6 = strchr(host, ':') != NULL;
    if (req->port <= 0 || req->port > 65535)
        return pod_err_set(err, POD_E_INVALID, 0, "probe: bad port %d", req->port);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)req->port);
        sl = sizeof *a;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return pod_err_set(err, POD_E_INVALID, 0, "probe: bad address `%s`", host);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)req->port);
        sl = sizeof *a;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return pod_err_set(err, POD_E_INVALID, 0, "probe: bad address `%s`", host);
    }
    if (req->kind == BACKEND_PROBE_HTTP) {
        const char *path = req->http_path ? req->http_path : "/";
        if (bad_path(path))
            return pod_err_set(err, POD_E_INVALID, 0, "probe: bad HTTP path");
        p->req = xasprintf("GET %s HTTP/1.0\r\nHost: %s%s%s:%d\r\nUser-Agent: podc-probe\r\n"
                           "Connection: close\r\n\r\n",
                           path, v6 ? "[" : "", host, v6 ? "]" : "", req->port);
        p->req_len = strlen(p->req);
    }
    p->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0)
        return pod_err_set(err, POD_E_IO, errno, "probe: socket");
    p->st = PR_CONNECTING;
    if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(p->fd);
        p->fd = -1;
        report(pm, p->ctr, p->instance, p->tag, BACKEND_FAIL, 1, strerror(e));
        return 1; /* reported, not kept */
    }
    if (loop_add(pm->cfg.loop, p->fd, LOOP_OUT, on_sock, p, err) < 0) {
        close(p->fd);
        p->fd = -1;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ exec */

static bool ctr_running(struct pm *pm, size_t ctr, uint64_t instance)
{
    const struct pctr *c = &pm->c[ctr];
    return c->instance == instance && c->running;
}

static int exec_start(struct pm *pm, struct probe *p, const struct backend_probe_req *req,
                      struct pod_err *err)
{
    const struct podman_exec_ops *ops = pm->cfg.exec.ops;
    if (ops && ops->start) {
        int r = ops->start(pm->cfg.exec.self, req, pm_ref(pm, req->ctr), err);
        if (r < 0)
            return -1;
        if (r == 0) {
            p->st = PR_STRATEGY;
            return 0;
        }
    }
    char **argv = podman_argv_exec(&pm->actx, pm_ref(pm, req->ctr), req->tag, req->argv, err);
    if (!argv)
        return -1;
    int64_t left = req->deadline_mono_ms - pm_now(pm);
    struct call *c = call_new(CALL_EXEC, argv, req->ctr, req->instance,
                              (left > 0 ? left : 0) + PROBE_GRACE_MS + CANCEL_CLIENT_MS);
    c->tag = req->tag;
    c->exec_class = true;
    p->st = PR_EXEC;
    p->since_ticks = probe_boot_ticks(); /* its processes start after this */
    call_submit(pm, c);
    return 0;
}

int probe_start(struct pm *pm, const struct backend_probe_req *req, struct pod_err *err)
{
    if (req->ctr >= pm->n)
        return pod_err_set(err, POD_E_INVALID, 0, "probe: no container %zu", req->ctr);
    if (find(pm, req->tag))
        return pod_err_set(err, POD_E_INVALID, 0, "probe: tag %llu already in use",
                           (unsigned long long)req->tag);
    if (req->kind == BACKEND_PROBE_EXEC && !ctr_running(pm, req->ctr, req->instance)) {
        report(pm, req->ctr, req->instance, req->tag, BACKEND_UNKNOWN, 255,
               "container not running");
        return 0;
    }
    struct probe *p = xcalloc(1, sizeof *p);
    p->pm = pm;
    p->unknown_since = -1;
    p->tag = req->tag;
    p->ctr = req->ctr;
    p->instance = req->instance;
    p->kind = req->kind;
    p->deadline = req->deadline_mono_ms;
    p->fd = -1;
    p->scan_at = INT64_MAX;
    snprintf(p->marker, sizeof p->marker, "%s=%llu", PODMAN_PROBE_TAG_ENV,
             (unsigned long long)req->tag);
    int r =
        req->kind == BACKEND_PROBE_EXEC ? exec_start(pm, p, req, err) : sock_start(pm, p, req, err);
    if (r != 0) {
        free(p->req);
        free(p);
        return r < 0 ? -1 : 0;
    }
    pm_ptr_push((void ***)&pm->pr, &pm->n_pr, &pm->cap_pr, p);
    return 0;
}

static enum backend_result exec_result(const struct call_res *r, char *msg, size_t cap, int *code)
{
    *code = r->code;
    msg[0] = 0;
    if (!r->spawned) {
        snprintf(msg, cap, "cannot run podman: %s", r->msg);
        return BACKEND_UNKNOWN;
    }
    if (!r->exited) {
        snprintf(msg, cap, "podman exec killed by signal %d", r->code - 128);
        return BACKEND_UNKNOWN;
    }
    switch (r->code) {
    case 0:
        return BACKEND_OK;
    case 125:
    case 255:
        snprintf(msg, cap, "podman exec failed (%d): %s", r->code, r->msg);
        return BACKEND_UNKNOWN;
    case 126:
        snprintf(msg, cap, "configuration error: command cannot be executed: %s", r->msg);
        return BACKEND_UNKNOWN;
    case 127:
        snprintf(msg, cap, "configuration error: command not found: %s", r->msg);
        return BACKEND_UNKNOWN;
    default:
        return BACKEND_FAIL;
    }
}

/* ------------------------------------------------------------------ cancel */

/* errno of a /proc read -> what it says about the process: gone, or "could not tell". */
enum probe_mark probe_mark_of_errno(int e)
{
    return e == ENOENT || e == ESRCH ? PROBE_MARK_GONE : PROBE_MARK_UNKNOWN;
}

static int proc_path(char *buf, size_t cap, const char *proc, long long pid, const char *file)
{
    int n = snprintf(buf, cap, "%s/%lld/%s", proc, pid, file);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

enum probe_mark probe_environ_mark(const char *proc, long long pid, const char *marker, int *errnum)
{
    char path[PATH_MAX];
    *errnum = 0;
    int fd = proc_path(path, sizeof path, proc, pid, "environ") < 0
                 ? -1
                 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        *errnum = errno;
        return probe_mark_of_errno(errno);
    }
    char *buf = xmalloc(ENVIRON_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (len < ENVIRON_MAX && (n = read(fd, buf + len, ENVIRON_MAX - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *errnum = errno;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    size_t ml = strlen(marker);
    bool hit = false;
    for (size_t i = 0; i < len && !hit;) {
        size_t e = i;
        while (e < len && buf[e])
            e++;
        hit = e - i == ml && memcmp(buf + i, marker, ml) == 0;
        i = e + 1;
    }
    free(buf);
    if (hit)
        return PROBE_MARK_YES;
    return *errnum ? probe_mark_of_errno(*errnum) : PROBE_MARK_NO;
}

/* Field `field` (1-based, as proc(5) numbers them; > 2) of <proc>/PID/stat; -1 with errno. */
static int stat_field(const char *proc, long long pid, int field, unsigned long long *out)
{
    char path[PATH_MAX], buf[1024];
    if (proc_path(path, sizeof path, proc, pid, "stat") < 0 ||
        pod_stat_read(path, buf, sizeof buf) < 0)
        return -1;
    return pod_stat_number(buf, field, out);
}

int probe_start_ticks(const char *proc, long long pid, unsigned long long *ticks)
{
    return stat_field(proc, pid, 22, ticks); /* starttime */
}

unsigned long long probe_boot_ticks(void)
{
    struct timespec ts;
    long hz = sysconf(_SC_CLK_TCK);
    if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0 || hz <= 0)
        return 0;
    /* floor: a process with a start tick below this started before now */
    return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
           (unsigned long long)ts.tv_nsec / (1000000000ull / (unsigned long long)hz);
}

/* The whole /proc/PID/cgroup of pid ("" when unreadable; buf[cap]). */
static void read_cgroup(const char *proc, long long pid, char *buf, size_t cap)
{
    char path[PATH_MAX];
    buf[0] = 0;
    if (proc_path(path, sizeof path, proc, pid, "cgroup") < 0)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            len = 0;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
}

/* The uid ranges (outside, as this process sees them) of pid's user namespace; n 0: unknown. */
struct uid_ranges {
    unsigned long long lo[16], hi[16];
    int n;
};

static void read_uid_map(const char *proc, long long pid, struct uid_ranges *u)
{
    char path[PATH_MAX], buf[1024];
    u->n = 0;
    if (proc_path(path, sizeof path, proc, pid, "uid_map") < 0)
        return;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    unsigned long long in, out, count;
    while (u->n < 16 && fgets(buf, sizeof buf, f))
        if (sscanf(buf, "%llu %llu %llu", &in, &out, &count) == 3 && count > 0) {
            u->lo[u->n] = out;
            u->hi[u->n++] = out + count;
        }
    fclose(f);
}

/* False when pid's real uid (<proc>/<pid>/status, world-readable) is known and outside u: the
 * process is not in that user namespace, so not in the container. */
static bool uid_may_be_in(const char *proc, long long pid, const struct uid_ranges *u)
{
    char path[PATH_MAX], buf[256];
    if (u->n == 0 || proc_path(path, sizeof path, proc, pid, "status") < 0)
        return true;
    FILE *f = fopen(path, "re");
    if (!f)
        return true;
    unsigned long long uid = 0;
    bool known = false;
    while (!known && fgets(buf, sizeof buf, f))
        known = sscanf(buf, "Uid: %llu", &uid) == 1;
    fclose(f);
    for (int i = 0; known && i < u->n; i++)
        if (uid >= u->lo[i] && uid < u->hi[i])
            return true;
    return !known;
}

/* Reads at most max bytes of path into a new NUL-terminated buffer; NULL when it cannot. */
static char *read_small(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    char *buf = xmalloc(max + 1);
    size_t n = 0;
    ssize_t r;
    while (n < max && (r = read(fd, buf + n, max - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    *len = n;
    return buf;
}

bool podman_exec_spec_has(const char *cmdline, size_t len, const char *marker)
{
    const char *spec = NULL;
    static const char flag[] = "--exec-process-spec";
    for (size_t i = 0; i < len;) {
        const char *a = cmdline + i;
        size_t al = strnlen(a, len - i);
        size_t next = i + al + 1;
        if (al == sizeof flag - 1 && memcmp(a, flag, al) == 0 && next < len) {
            spec = cmdline + next;
            if (strnlen(spec, len - next) == len - next)
                spec = NULL; /* not NUL-terminated */
            break;
        }
        if (al > sizeof flag && memcmp(a, flag, sizeof flag - 1) == 0 &&
            a[sizeof flag - 1] == '=') {
            spec = a + sizeof flag;
            if (al == len - i)
                spec = NULL;
            break;
        }
        i = next;
    }
    if (!spec || spec[0] != '/')
        return false;
    size_t n;
    char *buf = read_small(spec, ENVIRON_MAX, &n);
    if (!buf)
        return false;
    /* the process spec is JSON: "env": [..., "PODC_PROBE_TAG=<tag>", ...] (no escaping in it) */
    char *want = xasprintf("\"%s\"", marker);
    bool hit = memmem(buf, n, want, strlen(want)) != NULL;
    free(want);
    free(buf);
    return hit;
}

/* The parent pid of pid (from <proc>/PID/stat, world-readable), 0 when unknown. */
static long long parent_of(const char *proc, long long pid)
{
    unsigned long long pp;
    return stat_field(proc, pid, 4, &pp) == 0 && pp <= (unsigned long long)INT_MAX ? (long long)pp
                                                                                   : 0;
}

/* Whether process n (in the pid namespace ns) descends from the `podman exec` session that
 * marker tagged, for when its environment cannot be read: its nearest ancestor outside the
 * namespace is that session's conmon (it reaps the exec'd process), whose command line names
 * the session's OCI process spec (`--exec-process-spec FILE`, the caller's own file in podman's
 * storage) holding the command's environment.  YES: that spec has the marker; NO: the ancestor
 * was read and is not a session of this marker (e.g. the container's own conmon: a process of
 * the container's main tree, or an orphan reparented to its PID 1); UNKNOWN: the ancestry or
 * the spec could not be read. */
static enum probe_mark session_mark(const char *proc, long long n, const struct stat *ns,
                                    const char *marker)
{
    char path[PATH_MAX];
    for (int depth = 0; depth < 256; depth++) {
        long long pp = parent_of(proc, n);
        if (pp <= 1)
            return PROBE_MARK_UNKNOWN;
        struct stat st;
        if (proc_path(path, sizeof path, proc, pp, "ns/pid") < 0 || stat(path, &st) < 0)
            return PROBE_MARK_UNKNOWN;
        if (st.st_ino == ns->st_ino && st.st_dev == ns->st_dev) {
            n = pp;
            continue;
        }
        if (proc_path(path, sizeof path, proc, pp, "cmdline") < 0)
            return PROBE_MARK_UNKNOWN;
        size_t len;
        char *cmd = read_small(path, 64u << 10, &len);
        if (!cmd)
            return PROBE_MARK_UNKNOWN;
        bool hit = podman_exec_spec_has(cmd, len, marker);
        free(cmd);
        return hit ? PROBE_MARK_YES : PROBE_MARK_NO;
    }
    return PROBE_MARK_UNKNOWN;
}

/* A process whose environment could not be read: not the request's when it started before it
 * (since_ticks), else counted as unknown. */
static void unreadable(const char *proc, long long n, unsigned long long since_ticks, int e,
                       struct probe_scan_res *res)
{
    unsigned long long t;
    if (since_ticks) {
        if (probe_start_ticks(proc, n, &t) == 0) {
            if (t < since_ticks) {
                res->older++;
                return;
            }
        } else if (probe_mark_of_errno(errno) == PROBE_MARK_GONE) {
            return; /* gone meanwhile */
        }
    }
    res->unknown++;
    res->unknown_errno = e;
}

int probe_scan_marked(const char *proc, int pid, const char *marker, unsigned long long since_ticks,
                      const struct probe_scan_ops *ops, struct probe_scan_res *res,
                      struct pod_err *err)
{
    char path[PATH_MAX];
    struct stat ns;
    memset(res, 0, sizeof *res);
    if (proc_path(path, sizeof path, proc, pid, "ns/pid") < 0 || stat(path, &ns) < 0)
        return errno == ENOENT || errno == ESRCH ? 0
                                                 : pod_err_set(err, POD_E_IO, errno, "%s", path);
    char cg1[4096], cg[4096];
    read_cgroup(proc, pid, cg1, sizeof cg1);
    struct uid_ranges um;
    read_uid_map(proc, pid, &um);
    DIR *d = opendir(proc);
    if (!d)
        return pod_err_set(err, POD_E_IO, errno, "opendir %s", proc);
    struct dirent *de;
    while ((de = readdir(d))) {
        long long n;
        if (!pod_parse_int(de->d_name, 2, 1 << 30, &n) || n == pid || n == getpid())
            continue;
        struct stat st;
        int ns_errno = 0;
        if (proc_path(path, sizeof path, proc, n, "ns/pid") < 0 || stat(path, &st) < 0) {
            ns_errno = errno;
            if (probe_mark_of_errno(ns_errno) == PROBE_MARK_GONE)
                continue;
            /* its namespace cannot be read (EACCES...): maybe in the container, unless its
             * uid is not one of the container's user namespace or its cgroup is not that of
             * the container's PID 1 (both world-readable; unreadable: maybe) */
            if (!uid_may_be_in(proc, n, &um))
                continue;
            read_cgroup(proc, n, cg, sizeof cg);
            if (cg1[0] && strcmp(cg, cg1) != 0)
                continue;
        } else if (st.st_ino != ns.st_ino || st.st_dev != ns.st_dev) {
            continue;
        }
        int h = ops->open(ops->self, n);
        if (h < 0)
            continue; /* gone */
        int e = ns_errno;
        enum probe_mark m = ns_errno ? PROBE_MARK_UNKNOWN : probe_environ_mark(proc, n, marker, &e);
        if (m == PROBE_MARK_UNKNOWN && !ns_errno) /* rootless, a non-root container user */
            m = session_mark(proc, n, &ns, marker);
        if (m == PROBE_MARK_YES) {
            if (ops->kill(ops->self, h) == 0)
                res->killed++;
            else if (errno != ESRCH) {
                res->failed++;
                res->fail_errno = errno;
            }
        } else if (m == PROBE_MARK_UNKNOWN) {
            unreadable(proc, n, since_ticks, e, res);
        }
        ops->close(ops->self, h);
    }
    closedir(d);
    return 0;
}

static int pidfd_open_op(void *self, long long pid)
{
    (void)self;
    return pod_pidfd_open((pid_t)pid);
}

static int pidfd_kill_op(void *self, int h)
{
    (void)self;
    return pod_pidfd_send_signal(h, SIGKILL);
}

static void pidfd_close_op(void *self, int h)
{
    (void)self;
    close(h);
}

static const struct probe_scan_ops pidfd_ops = {pidfd_open_op, pidfd_kill_op, pidfd_close_op, NULL};

bool probe_cancel_unknown_rule(int64_t *unknown_since_ms, bool only_unknown, int64_t now_ms)
{
    if (!only_unknown) {
        *unknown_since_ms = -1;
        return false;
    }
    if (*unknown_since_ms < 0)
        *unknown_since_ms = now_ms;
    return now_ms - *unknown_since_ms >= CANCEL_UNKNOWN_MS;
}

/* One scan of the container for the request's processes; false when it failed (a scan that
 * could not be done, a kill refused, or processes whose environment could not be read). */
static bool scan(struct pm *pm, struct probe *p, struct pod_err *err)
{
    struct esrc *es = es_find(pm, p->ctr, p->instance);
    p->scans++;
    p->unknown_expired = false;
    bool ok = true, only_unknown = false;
    struct probe_scan_res r;
    if (!es) {
        ok = true; /* the container is not running: its processes are gone with it */
    } else if (es->pid <= 0) {
        pod_err_set(err, POD_E_BACKEND, 0, "pid of %s not known yet", pm->c[p->ctr].name);
        ok = false;
    } else if (probe_scan_marked("/proc", es->pid, p->marker, p->since_ticks, &pidfd_ops, &r, err) <
               0) {
        ok = false;
    } else {
        if (r.killed > 0)
            pm->st.cancel_kills += (uint64_t)r.killed;
        if (r.failed) {
            pod_err_set(err, POD_E_IO, r.fail_errno, "cannot kill %d process(es) of `%s`", r.failed,
                        p->marker);
            ok = false;
        } else if (r.unknown) {
            p->n_unknown = r.unknown;
            p->unknown_errno = r.unknown_errno;
            pod_err_set(err, POD_E_IO, r.unknown_errno,
                        "cannot check %d process(es) of %s started since the request for `%s`",
                        r.unknown, pm->c[p->ctr].name, p->marker);
            ok = false;
            only_unknown = true;
        }
    }
    p->unknown_expired = probe_cancel_unknown_rule(&p->unknown_since, only_unknown, pm_now(pm));
    return ok;
}

/* The client is gone and a last scan ran: the request ends (or the cancel failed).  A cancel
 * that failed only because processes could not be checked, for CANCEL_UNKNOWN_MS, is accepted
 * with a warning (SPEC 7.8 'Cancel'): they are assumed not to be the request's. */
static void cancel_end(struct pm *pm, struct probe *p)
{
    struct pod_err err = POD_ERR_ZERO;
    bool ok = scan(pm, p, &err);
    if (!ok && p->unknown_expired) {
        struct backend_event *e = pm_event(pm, BACKEND_EV_WARNING, p->ctr, p->instance, NULL);
        snprintf(e->msg, sizeof e->msg,
                 "cancel of request %llu accepted after %d s: %d process(es) started since "
                 "could not be checked (%s), assumed not its own",
                 (unsigned long long)p->tag, CANCEL_UNKNOWN_MS / 1000, p->n_unknown,
                 strerror(p->unknown_errno));
        ok = true;
    }
    if (ok) {
        if (p->cancelled)
            done(pm, p, BACKEND_CANCELLED, 137, NULL);
        else /* the backend's own deadline (no cancel came) */
            done(pm, p, BACKEND_TIMEOUT, 137, "no answer before the deadline");
        return;
    }
    p->st = PR_CANCEL_FAILED;
    p->scan_at = INT64_MAX;
    pm_call_failed(pm, BACKEND_OP_CANCEL, p->ctr, p->instance, p->tag, 0, "cancel: %s", err.msg);
}

static void cancel_begin(struct pm *pm, struct probe *p)
{
    if (!p->client_done) {
        bool queued;
        struct call *c = call_take_exec(pm, p->tag, &queued);
        if (!c || queued) { /* never started: nothing runs in the container */
            call_free(queued ? c : NULL);
            done(pm, p, p->cancelled ? BACKEND_CANCELLED : BACKEND_TIMEOUT, 137,
                 p->cancelled ? NULL : "no answer before the deadline");
            return;
        }
    }
    p->st = PR_CANCELLING;
    p->cancel_since = pm_now(pm);
    p->scans = 0;
    struct pod_err err = POD_ERR_ZERO;
    (void)scan(pm, p, &err);
    if (p->client_done) {
        cancel_end(pm, p);
        return;
    }
    p->scan_at = pm_now(pm) + 50;
}

/* A request that already reported (its EXEC_DONE is queued or delivered) is not found: its
 * one EXEC_DONE is that report. */
int probe_cancel(struct pm *pm, uint64_t tag, struct pod_err *err)
{
    struct probe *p = find(pm, tag);
    if (!p)
        return 0;
    switch (p->st) {
    case PR_CONNECTING:
    case PR_SENDING:
    case PR_READING: /* closing the socket ends it */
        done(pm, p, BACKEND_CANCELLED, 0, NULL);
        return 0;
    case PR_STRATEGY: { /* the strategy reports its end */
        const struct podman_exec_ops *ops = pm->cfg.exec.ops;
        if (p->cancelled)
            return 0;
        int r = ops->cancel ? ops->cancel(pm->cfg.exec.self, tag, err) : 0;
        if (r == 0)
            p->cancelled = true;
        return r;
    }
    case PR_EXEC:
    case PR_CANCEL_FAILED:
        p->cancelled = true;
        cancel_begin(pm, p);
        return 0;
    case PR_CANCELLING:
        p->cancelled = true;
        return 0;
    }
    return 0;
}

void probe_exec_done(struct pm *pm, struct call *c, const struct call_res *r)
{
    struct probe *p = find(pm, c->tag);
    if (!p)
        return;
    p->client_done = true;
    if (p->st == PR_CANCELLING) {
        cancel_end(pm, p);
        return;
    }
    if (p->st == PR_CANCEL_FAILED && p->client_killed)
        return;                      /* the command may live on: kept for a retried cancel */
    if (p->st == PR_CANCEL_FAILED) { /* it ended by itself */
        done(pm, p, BACKEND_CANCELLED, r->code, NULL);
        return;
    }
    if (p->st != PR_EXEC)
        return;
    char msg[400];
    int code;
    enum backend_result res = exec_result(r, msg, sizeof msg, &code);
    done(pm, p, res, code, msg[0] ? msg : NULL);
}

void probe_strategy_done(struct pm *pm, uint64_t tag, enum backend_result r, int code,
                         const char *msg)
{
    struct probe *p = find(pm, tag);
    if (p && p->st == PR_STRATEGY)
        done(pm, p, r, code, msg);
}

/* ------------------------------------------------------------------ timers */

void probe_tick(struct pm *pm, int64_t now)
{
    for (size_t i = 0; i < pm->n_pr;) {
        struct probe *p = pm->pr[i];
        size_t before = pm->n_pr;
        if (p->st == PR_CANCELLING && now >= p->scan_at) {
            struct pod_err err = POD_ERR_ZERO;
            (void)scan(pm, p, &err);
            int64_t next = (int64_t)50 << (p->scans < 6 ? p->scans : 6);
            p->scan_at = now + next;
            if (now - p->cancel_since >= CANCEL_CLIENT_MS) {
                bool q;
                struct call *c = call_take_exec(pm, p->tag, &q);
                if (c && !q) {
                    call_kill(c); /* its completion ends the cancel */
                    p->client_killed = true;
                }
                p->scan_at = INT64_MAX;
            }
        } else if ((p->st == PR_CONNECTING || p->st == PR_SENDING || p->st == PR_READING) &&
                   now >= p->deadline + PROBE_GRACE_MS) {
            done(pm, p, BACKEND_TIMEOUT, 1, "no answer before the deadline");
        } else if (p->st == PR_EXEC && now >= p->deadline + PROBE_GRACE_MS) {
            cancel_begin(pm, p); /* TIMEOUT once its process is gone */
        }
        if (pm->n_pr == before && i < pm->n_pr && pm->pr[i] == p)
            i++;
    }
}

int64_t probe_next_deadline(const struct pm *pm)
{
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < pm->n_pr; i++) {
        const struct probe *p = pm->pr[i];
        int64_t t = INT64_MAX;
        if (p->st == PR_CANCELLING)
            t = p->scan_at;
        else if (p->st != PR_CANCEL_FAILED && p->st != PR_STRATEGY)
            t = p->deadline + PROBE_GRACE_MS;
        if (t < d)
            d = t;
    }
    return d;
}

void probes_free(struct pm *pm)
{
    while (pm->n_pr)
        drop(pm, pm->pr[pm->n_pr - 1]);
    free(pm->pr);
    pm->pr = NULL;
    pm->cap_pr = 0;
}
