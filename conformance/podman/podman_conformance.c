/* SPDX-License-Identifier: MIT */
/* podman_conformance.c - checks of the podman behaviour the pod runtime relies on.
 *
 * Each check runs real podman (argv arrays, never a shell; every call has a deadline and is
 * SIGKILLed when it passes) against the local image localhost/podtest:1 and compares what
 * podman does with what SPEC.md section 11 ("Podman behaviour we depend on") says, so that a
 * podman upgrade which changes any of it fails `make conformance-podman`.
 * Everything a run creates is named podconf-<pid>-<what> and labelled podconf.owner=<pid>; it
 * is removed after each check (also when the check fails or the run is interrupted), and a
 * run first removes what dead runs left behind.
 * Output, like the conformance suite: `ok NAME` / `FAIL NAME: reason` / `skip NAME: reason`,
 * then `N passed, N failed[, N skipped]`; exit 1 if any check failed.  -v adds one
 * `# NAME: observed ...` evidence line per check, --json prints one JSON document instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/util.h"

#define DEFAULT_IMAGE "localhost/podtest:1"
#define CALL_TIMEOUT_MS 30000  /* any single podman call */
#define CAPTURE_MAX (4u << 20) /* bytes kept per captured stream */
#define OWNER_LABEL "podconf.owner"

/* SIGINT/SIGTERM/SIGHUP: the first one lets the podman call in flight finish (killing podman
 * half-way through a create can leave a container that is hard to remove), skips the rest of
 * the checks, cleans up and exits; a second one also kills the podman call in flight. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    if (g_stop < 2)
        g_stop++;
}

/* ======================================================================================== */
/* clocks and small helpers                                                                 */
/* ======================================================================================== */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !g_stop)
        ;
}

/* Strict fixed-width decimal. */
static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 as podman prints it: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 1-9 fraction
 * digits (Go drops trailing zeros).  Sets nanoseconds since the epoch. */
static bool parse_rfc3339(const char *s, int64_t *ns)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0;
    if (!s || strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
        s[7] != '-' || !digits(s + 8, 2, &D) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++)
            if (nd < 9)
                frac = frac * 10 + (*p - '0');
        if (nd == 0)
            return false;
        for (; nd < 9; nd++)
            frac *= 10;
    }
    int sign = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return false;
        p += 6;
    } else {
        return false;
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || oh > 23 ||
        om > 59)
        return false;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ns = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000000000 + frac;
    return true;
}

/* Returns the argument for a failed check: sets the reason. */
static int fail(struct pod_buf *why, const char *fmt, ...) POD_PRINTF(2, 3);

enum { RES_OK, RES_FAIL, RES_SKIP };

static int fail(struct pod_buf *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(why, fmt, ap);
    va_end(ap);
    return RES_FAIL;
}

/* First line of s (for error messages), at most 200 bytes, in a static buffer. */
static const char *line1(const char *s)
{
    static char b[4][201];
    static int k;
    char *o = b[k++ & 3];
    size_t n = 0;
    while (s && s[n] && s[n] != '\n' && n < 200)
        n++;
    memcpy(o, s ? s : "", n);
    o[n] = '\0';
    return o;
}

/* ======================================================================================== */
/* running podman                                                                           */
/* ======================================================================================== */

struct run_opts {
    int timeout_ms;      /* 0: CALL_TIMEOUT_MS */
    int out_fd, err_fd;  /* > 0: hand this fd to podman as stdout/stderr; 0: capture */
    const char *tz;      /* set TZ in podman's environment */
    bool ignore_sigpipe; /* start podman with SIGPIPE ignored (else every signal default) */
};

struct run_res {
    int rc;         /* exit status, 128+N when killed by signal N, -1 if it could not run */
    bool timed_out; /* the deadline passed and podman was SIGKILLed */
    int64_t elapsed_ms;
    char *out, *err; /* captured output ("" when not captured); owned */
};

static void run_res_free(struct run_res *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

static void buf_read_some(int *fd, struct pod_buf *b)
{
    char tmp[8192];
    ssize_t n = read(*fd, tmp, sizeof tmp);
    if (n > 0) {
        if (b->len < CAPTURE_MAX)
            pod_buf_add(b, tmp, (size_t)n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(*fd);
        *fd = -1;
    }
}

/* Runs argv (argv[0] is looked up on PATH), stdin /dev/null.  Returns r->rc. */
static int run_argv(const struct run_opts *o, struct run_res *r, const char *const argv[])
{
    memset(r, 0, sizeof *r);
    r->rc = -1;
    int timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : CALL_TIMEOUT_MS;
    int cap[2][2] = {{-1, -1}, {-1, -1}}; /* [stdout|stderr][read|write] */
    int given[2] = {o ? o->out_fd : 0, o ? o->err_fd : 0};
    for (int i = 0; i < 2; i++)
        if (given[i] <= 0 && pipe2(cap[i], O_CLOEXEC) < 0)
            goto spawn_failed;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0)
        goto spawn_failed;
    int64_t t0 = mono_ms();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(devnull, 0);
        dup2(given[0] > 0 ? given[0] : cap[0][1], 1);
        dup2(given[1] > 0 ? given[1] : cap[1][1], 2);
        for (int s = 1; s < NSIG; s++)
            signal(s, SIG_DFL);
        if (o && o->ignore_sigpipe)
            signal(SIGPIPE, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (o && o->tz)
            setenv("TZ", o->tz, 1);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "podman-conformance: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(devnull);
    for (int i = 0; i < 2; i++)
        if (cap[i][1] >= 0) {
            close(cap[i][1]);
            cap[i][1] = -1;
        }
    if (pid < 0)
        goto spawn_failed;

    /* Wait for exit (a pidfd becomes readable) while draining the capture pipes.  Once podman
     * has exited, whatever is left in the pipes is read without waiting: a process podman
     * left behind (conmon) may hold the write ends for a long time. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pod_buf b[2] = {{0}, {0}};
    int status = 0;
    bool exited = false;
    while (!exited) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        int64_t left = t0 + timeout_ms - mono_ms();
        if (left <= 0 || g_stop >= 2) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            r->timed_out = true;
            exited = true;
            break;
        }
        struct pollfd p[3];
        int np = 0, idx[3];
        for (int i = 0; i < 2; i++)
            if (cap[i][0] >= 0) {
                p[np] = (struct pollfd){cap[i][0], POLLIN, 0};
                idx[np++] = i;
            }
        if (pidfd >= 0) {
            p[np] = (struct pollfd){pidfd, POLLIN, 0};
            idx[np++] = -1;
        }
        int wait_ms = pidfd >= 0 ? (int)(left < 1000 ? left : 1000) : (left < 20 ? (int)left : 20);
        if (poll(p, (nfds_t)np, wait_ms) <= 0)
            continue;
        for (int k = 0; k < np; k++)
            if (idx[k] >= 0 && (p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                buf_read_some(&cap[idx[k]][0], &b[idx[k]]);
    }
    for (int i = 0; i < 2; i++)
        if (cap[i][0] >= 0) {
            fcntl(cap[i][0], F_SETFL, O_NONBLOCK);
            while (cap[i][0] >= 0)
                buf_read_some(&cap[i][0], &b[i]);
        }
    if (pidfd >= 0)
        close(pidfd);
    r->elapsed_ms = mono_ms() - t0;
    r->out = pod_buf_take(&b[0]);
    r->err = pod_buf_take(&b[1]);
    if (WIFEXITED(status))
        r->rc = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->rc = 128 + WTERMSIG(status);
    return r->rc;

spawn_failed:
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (cap[i][j] >= 0)
                close(cap[i][j]);
    r->out = xstrdup("");
    r->err = xasprintf("cannot run %s: %s", argv[0], strerror(errno));
    return -1;
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
/* podman with default options; e.g. PODMAN(&r, "inspect", name) */
#define PODMAN(r, ...) run_argv(NULL, (r), ARGV("podman", __VA_ARGS__))
#define PODMAN_O(o, r, ...) run_argv((o), (r), ARGV("podman", __VA_ARGS__))

/* Reads fd until EOF or the deadline; returns true on EOF. */
static bool read_to_eof(int fd, struct pod_buf *b, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0 || g_stop)
            return false;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
            continue;
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n == 0)
            return true;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return true;
        if (n > 0 && b->len < CAPTURE_MAX)
            pod_buf_add(b, tmp, (size_t)n);
    }
}

/* ======================================================================================== */
/* the run context: names, labels, cleanup                                                   */
/* ======================================================================================== */

struct ctx {
    const char *image;
    char prefix[48];     /* podconf-<pid> */
    char owner[64];      /* podconf.owner=<pid> */
    char **ctrs, **pods; /* created in the current check; removed after it */
    bool verbose;
};

static char *new_name(struct ctx *c, char ***list, const char *what)
{
    char *n = xasprintf("%s-%s", c->prefix, what);
    pod_strv_push(list, n);
    return n;
}

/* A container name, removed after the check.  Returns a string owned by the list. */
static const char *ctr_name(struct ctx *c, const char *what)
{
    char *n = new_name(c, &c->ctrs, what);
    const char *own = c->ctrs[pod_strv_len(c->ctrs) - 1];
    free(n);
    return own;
}

static const char *pod_name(struct ctx *c, const char *what)
{
    char *n = new_name(c, &c->pods, what);
    const char *own = c->pods[pod_strv_len(c->pods) - 1];
    free(n);
    return own;
}

/* Removes pods (with their containers), then containers, named in list; ignores missing. */
static void remove_all(const char *kind, char **names)
{
    if (!names || !names[0])
        return;
    size_t n = pod_strv_len(names);
    const char **argv = xcalloc(n + 8, sizeof *argv);
    size_t k = 0;
    argv[k++] = "podman";
    if (strcmp(kind, "pod") == 0)
        argv[k++] = "pod";
    argv[k++] = "rm";
    argv[k++] = "--force";
    argv[k++] = "--ignore";
    argv[k++] = "--time=0";
    for (size_t i = 0; i < n; i++)
        argv[k++] = names[i];
    argv[k] = NULL;
    struct run_res r;
    sig_atomic_t saved = g_stop;
    g_stop = 0; /* cleanup must run even when interrupted */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (run_argv(&(struct run_opts){.timeout_ms = 60000}, &r, argv) == 0) {
            run_res_free(&r);
            break;
        }
        fprintf(stderr, "podman-conformance: cleanup: podman %s rm: rc %d%s: %s%s\n", kind, r.rc,
                r.timed_out ? " (timed out)" : "", line1(r.err), attempt ? "" : " (retrying)");
        run_res_free(&r);
        sleep_ms(500);
    }
    g_stop = saved > g_stop ? saved : g_stop;
    free(argv);
}

static void cleanup_check(struct ctx *c)
{
    remove_all("pod", c->pods);
    remove_all("container", c->ctrs);
    pod_strv_free(c->pods);
    pod_strv_free(c->ctrs);
    c->pods = c->ctrs = NULL;
}

/* Removes what earlier runs left behind: everything labelled podconf.owner=<pid> whose pid is
 * not a live process (or is ours: a stale leftover of an earlier process with our pid). */
static void sweep_stale(struct ctx *c)
{
    static const char *const kinds[2] = {"pod", "container"};
    for (int k = 0; k < 2; k++) {
        struct run_res r;
        int rc = k == 0
                     ? PODMAN(&r, "pod", "ps", "--filter", "label=" OWNER_LABEL, "--format", "json")
                     : PODMAN(&r, "ps", "-a", "--filter", "label=" OWNER_LABEL, "--format", "json");
        json_t *arr = rc == 0 ? json_loads(r.out, 0, NULL) : NULL;
        char **stale = NULL;
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it)
        {
            const char *owner =
                json_string_value(json_object_get(json_object_get(it, "Labels"), OWNER_LABEL));
            json_t *nm = json_object_get(it, k == 0 ? "Name" : "Names");
            const char *name = json_is_array(nm) ? json_string_value(json_array_get(nm, 0))
                                                 : json_string_value(nm);
            long long pid;
            if (!owner || !name || !pod_parse_int(owner, 1, INT32_MAX, &pid))
                continue;
            if (pid == getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
                pod_strv_push(&stale, name);
        }
        if (stale) {
            fprintf(stderr, "podman-conformance: removing %zu stale %s(s) of earlier runs\n",
                    pod_strv_len(stale), kinds[k]);
            remove_all(kinds[k], stale);
        }
        pod_strv_free(stale);
        json_decref(arr);
        run_res_free(&r);
    }
    (void)c;
}

/* ======================================================================================== */
/* podman helpers used by several checks                                                     */
/* ======================================================================================== */

/* `podman run -d` of a long-running container; extra options go before the image. */
static int run_detached(struct ctx *c, struct pod_buf *why, const char *name,
                        const char *const opts[], const char *const cmd[])
{
    const char *argv[64];
    size_t k = 0;
    argv[k++] = "podman";
    argv[k++] = "run";
    argv[k++] = "-d";
    argv[k++] = "--name";
    argv[k++] = name;
    argv[k++] = "--label";
    argv[k++] = c->owner;
    for (size_t i = 0; opts && opts[i] && k < 40; i++)
        argv[k++] = opts[i];
    argv[k++] = c->image;
    for (size_t i = 0; cmd && cmd[i] && k < 62; i++)
        argv[k++] = cmd[i];
    argv[k] = NULL;
    struct run_res r;
    int rc = run_argv(NULL, &r, argv);
    if (rc != 0)
        fail(why, "podman run -d %s: rc %d: %s", name, rc, line1(r.err));
    run_res_free(&r);
    return rc == 0 ? 0 : -1;
}

/* `podman container inspect --format json NAME` -> the one object (caller decrefs). */
static json_t *inspect(const char *kind, const char *name, struct pod_buf *why)
{
    struct run_res r;
    int rc = strcmp(kind, "pod") == 0
                 ? PODMAN(&r, "pod", "inspect", "--format", "json", name)
                 : PODMAN(&r, "container", "inspect", "--format", "json", name);
    json_t *obj = NULL;
    if (rc != 0) {
        fail(why, "podman %s inspect %s: rc %d: %s", kind, name, rc, line1(r.err));
    } else {
        json_error_t je;
        json_t *root = json_loads(r.out, 0, &je);
        if (json_is_array(root) && json_array_size(root) == 1)
            obj = json_incref(json_array_get(root, 0));
        else if (json_is_object(root)) /* podman pod inspect prints a bare object */
            obj = json_incref(root);
        else
            fail(why, "%s inspect %s: not a one-element JSON array: %s", kind, name,
                 root ? line1(r.out) : je.text);
        json_decref(root);
    }
    run_res_free(&r);
    return obj;
}

/* Value at a dotted path ("State.ExitCode") or NULL. */
static json_t *jget(json_t *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static const char *jstr(json_t *o, const char *path)
{
    return json_string_value(jget(o, path));
}

static long long jint(json_t *o, const char *path, long long def)
{
    json_t *v = jget(o, path);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* State.Status and State.ExitCode of a container; -1/"" when it cannot be inspected. */
static int state_of(const char *name, char *status, size_t status_len, int *exit_code)
{
    struct pod_buf ignore = {0};
    json_t *o = inspect("container", name, &ignore);
    pod_buf_free(&ignore);
    snprintf(status, status_len, "%s", o && jstr(o, "State.Status") ? jstr(o, "State.Status") : "");
    *exit_code = (int)jint(o, "State.ExitCode", -1);
    json_decref(o);
    return o ? 0 : -1;
}

/* Runs `podman exec NAME cmd...` until it exits 0 or the deadline passes; returns its rc and
 * (when out is non-NULL) its stdout. */
static int exec_until_ok(const char *name, const char *const cmd[], int within_ms, char **out)
{
    int64_t deadline = mono_ms() + within_ms;
    for (;;) {
        const char *argv[16] = {"podman", "exec", name};
        size_t k = 3;
        for (size_t i = 0; cmd[i] && k < 15; i++)
            argv[k++] = cmd[i];
        argv[k] = NULL;
        struct run_res r;
        int rc = run_argv(&(struct run_opts){.timeout_ms = 15000}, &r, argv);
        if (rc == 0 || mono_ms() >= deadline || g_stop) {
            if (out)
                *out = pod_steal_ptr(&r.out);
            run_res_free(&r);
            return rc;
        }
        run_res_free(&r);
        sleep_ms(150);
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* HTTP/1.0 GET / from 127.0.0.1:port; returns the whole response or NULL. */
static char *http_get(int port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int64_t deadline = mono_ms() + timeout_ms;
    char *resp = NULL;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
        goto out;
    struct pollfd p = {fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
        soerr != 0)
        goto out;
    static const char req[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
        goto out;
    struct pod_buf b = {0};
    if (read_to_eof(fd, &b, deadline))
        resp = pod_buf_take(&b);
    pod_buf_free(&b);
out:
    close(fd);
    return resp;
}

/* ======================================================================================== */
/* the checks                                                                                */
/* ======================================================================================== */

/* 1. podman exec exit codes: the command's own, and podman's 125/126/127. */
static int check_exec_exit_codes(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "exec");
    const char *created = ctr_name(c, "exec-created");
    if (run_detached(c, why, name, ARGV("--init"), ARGV("sleep", "600")) < 0)
        return RES_FAIL;
    struct run_res r;
    if (PODMAN(&r, "create", "--name", created, "--label", c->owner, c->image, "true") != 0) {
        fail(why, "podman create: %s", line1(r.err));
        run_res_free(&r);
        return RES_FAIL;
    }
    run_res_free(&r);
    struct {
        const char *what;
        int want;
        const char *const *argv;
    } cases[] = {
        {"exit 0", 0, ARGV("podman", "exec", name, "sh", "-c", "exit 0")},
        {"exit 3", 3, ARGV("podman", "exec", name, "sh", "-c", "exit 3")},
        {"exit 124", 124, ARGV("podman", "exec", name, "sh", "-c", "exit 124")},
        {"bad exec option", 125, ARGV("podman", "exec", "--no-such-option", name, "true")},
        {"no such container", 125, ARGV("podman", "exec", "podconf-no-such-container", "true")},
        /* podman 4.3.1 exits 255 here ("container state improper"), not the documented 125 */
        {"container not running", 255, ARGV("podman", "exec", created, "true")},
        {"not executable", 126, ARGV("podman", "exec", name, "/etc/passwd")},
        {"not found", 127, ARGV("podman", "exec", name, "podconf-no-such-command")},
    };
    int res = RES_OK;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run_argv(NULL, &r, cases[i].argv);
        pod_buf_printf(ev, "%s%s=%d", i ? ", " : "", cases[i].what, rc);
        if (rc != cases[i].want && res == RES_OK)
            res = fail(why, "%s: exit %d, want %d (%s)", cases[i].what, rc, cases[i].want,
                       line1(r.err));
        run_res_free(&r);
    }
    return res;
}

/* 2. podman kill -s HUP reaches a container that traps HUP; it keeps running. */
static int check_kill_hup(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "hup");
    if (run_detached(c, why, name, NULL,
                     ARGV("sh", "-c",
                          "trap 'echo hup >>/tmp/hups' HUP; touch /tmp/ready; "
                          "while :; do sleep 0.1; done")) < 0)
        return RES_FAIL;
    if (exec_until_ok(name, ARGV("test", "-f", "/tmp/ready"), 10000, NULL) != 0)
        return fail(why, "the trap was never installed (/tmp/ready missing)");
    struct run_res r;
    int rc1 = PODMAN(&r, "kill", "-s", "HUP", name);
    run_res_free(&r);
    if (rc1 != 0)
        return fail(why, "podman kill -s HUP: exit %d", rc1);
    char *out = NULL;
    exec_until_ok(name, ARGV("grep", "-c", "hup", "/tmp/hups"), 5000, &out);
    bool first = out && strcmp(out, "1\n") == 0;
    free(out);
    out = NULL;
    int rc2 = PODMAN(&r, "kill", "--signal", "SIGHUP", name);
    run_res_free(&r);
    int64_t deadline = mono_ms() + 5000;
    while (first && rc2 == 0 && !g_stop) {
        exec_until_ok(name, ARGV("grep", "-c", "hup", "/tmp/hups"), 1000, &out);
        if ((out && strcmp(out, "2\n") == 0) || mono_ms() >= deadline)
            break;
        free(out);
        out = NULL;
        sleep_ms(100);
    }
    char status[32];
    int code;
    state_of(name, status, sizeof status, &code);
    pod_buf_printf(ev,
                   "kill -s HUP rc=%d, kill --signal SIGHUP rc=%d, traps recorded=%s, "
                   "state after=%s",
                   rc1, rc2, out ? line1(out) : "none", status);
    int res = RES_OK;
    if (!first)
        res = fail(why, "first HUP not recorded by the trap within 5 s");
    else if (rc2 != 0 || !out || strcmp(out, "2\n") != 0)
        res = fail(why, "second HUP (--signal SIGHUP, rc %d) not recorded", rc2);
    else if (strcmp(status, "running") != 0)
        res = fail(why, "container not running after HUP: %s", status);
    free(out);
    return res;
}

/* 3. pod with a published port: reachable from the host; containers share localhost. */
static int check_pod_network(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *pod = NULL, *web = NULL;
    int port = -1;
    struct run_res r;
    /* a free port can be taken between our probe and podman's bind: try three ports */
    for (int attempt = 0; attempt < 3; attempt++) {
        char what[32], publish[64];
        snprintf(what, sizeof what, "net%d", attempt);
        pod = pod_name(c, what);
        snprintf(what, sizeof what, "net%d-web", attempt);
        web = ctr_name(c, what);
        port = free_port();
        snprintf(publish, sizeof publish, "127.0.0.1:%d:80", port);
        if (PODMAN(&r, "pod", "create", "--name", pod, "--label", c->owner, "-p", publish) != 0) {
            fail(why, "podman pod create -p %s: %s", publish, line1(r.err));
            run_res_free(&r);
            return RES_FAIL;
        }
        run_res_free(&r);
        pod_buf_free(why);
        if (run_detached(c, why, web, ARGV("--pod", pod, "--init"),
                         ARGV("httpd", "-f", "-p", "80", "-h", "/www")) == 0)
            break;
        if (!strstr(why->data ? why->data : "", "address already in use") || attempt == 2)
            return RES_FAIL;
    }
    const char *peer = ctr_name(c, "net-peer");
    if (run_detached(c, why, peer, ARGV("--pod", pod, "--init"), ARGV("sleep", "600")) < 0)
        return RES_FAIL;

    char *resp = NULL;
    int64_t deadline = mono_ms() + 15000;
    while (!resp && mono_ms() < deadline && !g_stop) {
        resp = http_get(port, 2000);
        if (!resp)
            sleep_ms(100);
    }
    bool host_ok = resp && strncmp(resp, "HTTP/1.", 7) == 0 && strstr(resp, " 200 ") &&
                   strstr(resp, "\r\n\r\nok\n");
    pod_buf_printf(ev, "host GET 127.0.0.1:%d -> %s", port, resp ? line1(resp) : "no answer");
    free(resp);
    if (!host_ok)
        return fail(why, "published port 127.0.0.1:%d: no HTTP 200 'ok' from httpd within 15 s",
                    port);

    char *out = NULL;
    int rc =
        exec_until_ok(peer, ARGV("wget", "-q", "-O", "-", "http://127.0.0.1:80/"), 10000, &out);
    bool peer_ok = rc == 0 && out && strcmp(out, "ok\n") == 0;
    pod_buf_printf(ev, "; peer wget 127.0.0.1:80 rc=%d", rc);
    free(out);
    if (!peer_ok)
        return fail(why, "container in the pod cannot reach its sibling on 127.0.0.1:80 (rc %d)",
                    rc);

    /* control: a container outside the pod has its own localhost */
    const char *outsider = ctr_name(c, "net-outsider");
    rc = PODMAN(&r, "run", "--rm", "--name", outsider, "--label", c->owner, c->image, "wget", "-q",
                "-O", "-", "http://127.0.0.1:80/");
    run_res_free(&r);
    pod_buf_printf(ev, "; outsider wget rc=%d", rc);
    if (rc == 0)
        return fail(why, "a container outside the pod reached 127.0.0.1:80 too: the check "
                         "cannot tell a shared localhost apart");
    return RES_OK;
}

/* 4. --restart=no: an exited container stays exited (control: on-failure:1 is restarted). */
static int check_restart_no(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *no = ctr_name(c, "restart-no");
    const char *ctl = ctr_name(c, "restart-ctl");
    if (run_detached(c, why, no, ARGV("--restart=no"), ARGV("sh", "-c", "exit 3")) < 0 ||
        run_detached(c, why, ctl, ARGV("--restart=on-failure:1"), ARGV("sh", "-c", "exit 3")) < 0)
        return RES_FAIL;
    /* the control proves enough time passed for podman to have restarted `no` if it would */
    json_t *o = NULL;
    long long ctl_count = 0;
    int64_t deadline = mono_ms() + 15000;
    while (mono_ms() < deadline && !g_stop) {
        json_decref(o);
        struct pod_buf ignore = {0};
        o = inspect("container", ctl, &ignore);
        pod_buf_free(&ignore);
        ctl_count = jint(o, "RestartCount", 0);
        if (ctl_count >= 1 && jstr(o, "State.Status") &&
            strcmp(jstr(o, "State.Status"), "exited") == 0)
            break;
        sleep_ms(200);
    }
    json_decref(o);
    o = inspect("container", no, why);
    if (!o)
        return RES_FAIL;
    const char *st = jstr(o, "State.Status");
    long long code = jint(o, "State.ExitCode", -1), count = jint(o, "RestartCount", -1);
    const char *policy = jstr(o, "HostConfig.RestartPolicy.Name");
    pod_buf_printf(ev,
                   "restart=no: status=%s exit=%lld RestartCount=%lld policy=%s; "
                   "control on-failure:1 RestartCount=%lld",
                   st ? st : "?", code, count, policy ? policy : "?", ctl_count);
    int res = RES_OK;
    if (ctl_count < 1)
        res = fail(why, "control container (--restart=on-failure:1) was not restarted within "
                        "15 s: cannot judge");
    else if (!st || strcmp(st, "exited") != 0 || code != 3 || count != 0)
        res = fail(why,
                   "--restart=no container: status %s exit %lld RestartCount %lld, want "
                   "exited 3 0",
                   st ? st : "?", code, count);
    else if (!policy || strcmp(policy, "no") != 0)
        res = fail(why, "HostConfig.RestartPolicy.Name is %s, want no", policy ? policy : "?");
    json_decref(o);
    return res;
}

/* Starts `podman ARGS` with stdout/stderr on fresh pipes; then, when then_argv is not NULL, runs
 * it with stdio of its own (*then_rc its exit code, *then_out its stdout); reads both pipes to
 * EOF (the container's exit closes them) within within_ms.  Returns the first one's exit code. */
static int run_on_pipes_then(const char *const argv[], const char *const then_argv[], int *then_rc,
                             char **then_out, int within_ms, char **out, char **err, bool *eof)
{
    int po[2], pe[2];
    *out = *err = NULL;
    *eof = false;
    if (then_argv) {
        *then_rc = -1;
        *then_out = NULL;
    }
    if (pipe2(po, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    struct run_res r;
    int rc = run_argv(&(struct run_opts){.out_fd = po[1], .err_fd = pe[1]}, &r, argv);
    run_res_free(&r);
    close(po[1]);
    close(pe[1]);
    if (then_argv) {
        *then_rc = run_argv(NULL, &r, then_argv);
        *then_out = xstrdup(r.out ? r.out : "");
        run_res_free(&r);
    }
    int64_t deadline = mono_ms() + within_ms;
    struct pod_buf bo = {0}, be = {0};
    bool e1 = read_to_eof(po[0], &bo, deadline);
    bool e2 = read_to_eof(pe[0], &be, deadline);
    *eof = e1 && e2;
    close(po[0]);
    close(pe[0]);
    *out = pod_buf_take(&bo);
    *err = pod_buf_take(&be);
    return rc;
}

static int run_on_pipes(const char *const argv[], int within_ms, char **out, char **err, bool *eof)
{
    return run_on_pipes_then(argv, NULL, NULL, NULL, within_ms, out, err, eof);
}

/* Does text consist of exactly these lines, in any order? */
static bool same_lines(const char *text, const char *const want[])
{
    size_t n = 0;
    while (want[n])
        n++;
    bool used[16] = {false};
    if (n > 16)
        return false;
    const char *p = text;
    size_t got = 0;
    while (*p) {
        size_t len = strcspn(p, "\n");
        if (p[len] != '\n')
            return false;
        size_t i;
        for (i = 0; i < n; i++)
            if (!used[i] && strlen(want[i]) == len && memcmp(want[i], p, len) == 0)
                break;
        if (i == n)
            return false;
        used[i] = true;
        got++;
        p += len + 1;
    }
    return got == n;
}

static const char *visible(const char *s)
{
    static char b[2][160];
    static int k;
    char *o = b[k++ & 1];
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j < sizeof b[0] - 5; i++) {
        if (s[i] == '\n') {
            o[j++] = '\\';
            o[j++] = 'n';
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    return o;
}

#define PT_SCRIPT "echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2"

/* 5a. run -d --log-driver passthrough: the pipes get exactly the container's output. */
static int check_passthrough_run(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "pt-run");
    char *out, *err;
    bool eof;
    int rc = run_on_pipes(ARGV("podman", "run", "-d", "--log-driver", "passthrough", "--name", name,
                               "--label", c->owner, c->image, "sh", "-c", PT_SCRIPT),
                          20000, &out, &err, &eof);
    pod_buf_printf(ev, "podman rc=%d, stdout=\"%s\", stderr=\"%s\"", rc, visible(out),
                   visible(err));
    int res = RES_OK;
    if (rc != 0)
        res = fail(why, "podman run -d --log-driver passthrough: exit %d: %s", rc, line1(err));
    else if (!eof)
        res = fail(why, "pipes not closed within 20 s after the container's output");
    else if (strcmp(out, "out-1\nout-2\n") != 0)
        res = fail(why, "stdout pipe got \"%s\", want exactly \"out-1\\nout-2\\n\" (no id line)",
                   visible(out));
    else if (strcmp(err, "err-1\nerr-2\n") != 0)
        res = fail(why, "stderr pipe got \"%s\", want exactly \"err-1\\nerr-2\\n\"", visible(err));
    free(out);
    free(err);
    if (res != RES_OK)
        return res;
    struct run_res r;
    rc = PODMAN(&r, "logs", name);
    pod_buf_printf(ev, "; podman logs rc=%d", rc);
    if (rc == 0)
        res = fail(why, "podman logs of a passthrough container succeeded: %s", line1(r.out));
    run_res_free(&r);
    return res;
}

/* `podman create --log-driver passthrough` of PT_SCRIPT as name: false (why set) on failure. */
static bool create_pt(struct ctx *c, const char *name, struct pod_buf *why)
{
    struct run_res r;
    int rc = PODMAN(&r, "create", "--log-driver", "passthrough", "--name", name, "--label",
                    c->owner, c->image, "sh", "-c", PT_SCRIPT);
    if (rc != 0)
        fail(why, "podman create --log-driver passthrough: %s", line1(r.err));
    run_res_free(&r);
    return rc == 0;
}

/* 5b. podman start of a passthrough container: its output plus podman's own name line. */
static int check_passthrough_start(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "pt-start");
    if (!create_pt(c, name, why))
        return RES_FAIL;
    char *out, *err;
    bool eof;
    int rc = run_on_pipes(ARGV("podman", "start", name), 20000, &out, &err, &eof);
    pod_buf_printf(ev, "podman start rc=%d, stdout=\"%s\", stderr=\"%s\"", rc, visible(out),
                   visible(err));
    int res = RES_OK;
    if (rc != 0)
        res = fail(why, "podman start: exit %d: %s", rc, line1(err));
    else if (!eof)
        res = fail(why, "pipes not closed within 20 s after the container's output");
    else if (!same_lines(out, ARGV("out-1", "out-2", name)))
        res = fail(why,
                   "stdout got \"%s\", want the lines out-1, out-2 and the name line %s "
                   "(any order)",
                   visible(out), name);
    else if (strcmp(err, "err-1\nerr-2\n") != 0)
        res = fail(why, "stderr got \"%s\", want exactly \"err-1\\nerr-2\\n\"", visible(err));
    free(out);
    free(err);
    return res;
}

/* 5b'. The warm standby (SPEC 7.8.2): `podman init` of a passthrough container with the log
 * pipes as its stdio, then `podman start` with other stdio.  The container's output reaches
 * init's pipes (its conmon was spawned by init), after exactly the name line init printed. */
static int check_passthrough_init_start(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "pt-init");
    if (!create_pt(c, name, why))
        return RES_FAIL;
    int src;
    char *sout, *out, *err;
    bool eof;
    int irc = run_on_pipes_then(ARGV("podman", "init", name), ARGV("podman", "start", name), &src,
                                &sout, 20000, &out, &err, &eof);
    char *want = xasprintf("%s\nout-1\nout-2\n", name);
    pod_buf_printf(ev, "podman init rc=%d, podman start rc=%d (its stdout \"%s\"); ", irc, src,
                   visible(sout));
    pod_buf_printf(ev, "init's pipes: stdout=\"%s\", stderr=\"%s\"", visible(out), visible(err));
    int res = RES_OK;
    if (irc != 0 || src != 0)
        res = fail(why, "podman init exit %d, podman start exit %d", irc, src);
    else if (!eof)
        res = fail(why, "init's pipes not closed within 20 s after the container's output");
    else if (strcmp(out, want) != 0)
        res =
            fail(why, "init's stdout pipe got \"%s\", want exactly the name line then out-1, out-2",
                 visible(out));
    else if (strcmp(err, "err-1\nerr-2\n") != 0)
        res = fail(why, "init's stderr pipe got \"%s\", want exactly \"err-1\\nerr-2\\n\"",
                   visible(err));
    free(want);
    free(sout);
    free(out);
    free(err);
    return res;
}

/* Reads from fd until one full line arrived (or the deadline). */
static bool read_first_line(int fd, int within_ms)
{
    struct pod_buf b = {0};
    int64_t deadline = mono_ms() + within_ms;
    bool got = false;
    while (!got && mono_ms() < deadline && !g_stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n <= 0)
            break;
        pod_buf_addc(&b, ch);
        got = ch == '\n';
    }
    pod_buf_free(&b);
    return got;
}

/* Writes a line every 50 ms for at most 15 s (so that the reader surely closes while it is
 * still writing, however slowly podman starts), stops at the first failed write. */
#define EPIPE_SCRIPT                                                                               \
    "grep SigIgn /proc/$$/status >&2; i=0; while [ $i -lt 300 ]; do echo line$i || break; "        \
    "i=$((i+1)); sleep 0.05; done; echo survived >&2"

/* 5c. The reader of a passthrough stdout pipe goes away: what happens to the writer. */
static int check_passthrough_reader_gone(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    struct {
        const char *what, *name;
        bool init;
        int po[2], pe[2];
        int rc;
        bool got_line;
    } w[2] = {{.what = "child of catatonit (--init)", .init = true},
              {.what = "PID 1 shell", .init = false}};
    int res = RES_OK;
    w[0].name = ctr_name(c, "epipe-init");
    w[1].name = ctr_name(c, "epipe-pid1");
    for (int i = 0; i < 2; i++) {
        w[i].po[0] = w[i].po[1] = w[i].pe[0] = w[i].pe[1] = -1;
        if (pipe2(w[i].po, O_CLOEXEC) < 0 || pipe2(w[i].pe, O_CLOEXEC) < 0)
            return fail(why, "pipe: %s", strerror(errno));
        struct run_res r;
        /* podman is started with SIGPIPE ignored, as a daemon that ignores it would: the
         * container must still get the default disposition */
        struct run_opts o = {.out_fd = w[i].po[1], .err_fd = w[i].pe[1], .ignore_sigpipe = true};
        w[i].rc =
            w[i].init
                ? PODMAN_O(&o, &r, "run", "-d", "--init", "--log-driver", "passthrough", "--name",
                           w[i].name, "--label", c->owner, c->image, "sh", "-c", EPIPE_SCRIPT)
                : PODMAN_O(&o, &r, "run", "-d", "--log-driver", "passthrough", "--name", w[i].name,
                           "--label", c->owner, c->image, "sh", "-c", EPIPE_SCRIPT);
        run_res_free(&r);
        close(w[i].po[1]);
        close(w[i].pe[1]);
    }
    for (int i = 0; i < 2; i++) {
        w[i].got_line = w[i].rc == 0 && read_first_line(w[i].po[0], 15000);
        close(w[i].po[0]); /* the reader goes away */
    }
    for (int i = 0; i < 2; i++) {
        struct pod_buf err = {0};
        bool eof = read_to_eof(w[i].pe[0], &err, mono_ms() + 20000);
        close(w[i].pe[0]);
        char status[32] = "";
        int code = -1;
        struct run_res r;
        int wrc = PODMAN_O(&(struct run_opts){.timeout_ms = 20000}, &r, "wait", w[i].name);
        run_res_free(&r);
        state_of(w[i].name, status, sizeof status, &code);
        const char *errs = err.data ? err.data : "";
        const char *sigign = strstr(errs, "SigIgn:");
        unsigned long long mask = sigign ? strtoull(sigign + 7, NULL, 16) : ~0ull;
        bool sigpipe_ignored = (mask >> (SIGPIPE - 1)) & 1;
        bool survived = strstr(errs, "survived") != NULL;
        bool epipe_msg = strstr(errs, "Broken pipe") != NULL;
        pod_buf_printf(ev,
                       "%s%s: exit=%d (%s), SIGPIPE ignored in container=%s, write errors "
                       "(EPIPE)=%s, continued after=%s",
                       i ? "; " : "", w[i].what, code, status, sigpipe_ignored ? "yes" : "no",
                       epipe_msg ? "yes" : "no", survived ? "yes" : "no");
        if (res != RES_OK) {
            pod_buf_free(&err);
            continue;
        }
        if (w[i].rc != 0)
            res = fail(why, "%s: podman run -d: exit %d", w[i].what, w[i].rc);
        else if (!w[i].got_line)
            res = fail(why, "%s: no first line on the stdout pipe", w[i].what);
        else if (!eof || wrc != 0 || strcmp(status, "exited") != 0)
            res = fail(why, "%s: container did not finish within 20 s (%s)", w[i].what, status);
        else if (!sigign || sigpipe_ignored)
            res = fail(why, "%s: SIGPIPE disposition in the container: %s", w[i].what,
                       sigign ? "ignored (inherited from podman's caller)" : "unknown");
        else if (w[i].init && (code != 128 + SIGPIPE || survived))
            res = fail(why, "%s: exit %d%s, want 141 (killed by SIGPIPE)", w[i].what, code,
                       survived ? " and it continued" : "");
        else if (!w[i].init && (code != 0 || !survived || !epipe_msg))
            res = fail(why,
                       "%s: exit %d, survived=%d, EPIPE=%d; want: writes fail with EPIPE, "
                       "the shell continues and exits 0",
                       w[i].what, code, survived, epipe_msg);
        pod_buf_free(&err);
    }
    return res;
}

/* 6a. inspect fields a backend parses; timestamps carry numeric offsets and sub-seconds. */
static int check_inspect_fields(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "inspect");
    char case_label[96];
    snprintf(case_label, sizeof case_label, "io.podc.conformance.case=inspect %s", name);
    int64_t t0 = wall_ns();
    struct run_res r;
    /* podman records times in its own local zone: run it in a +05:30 zone */
    struct run_opts o = {.tz = "Asia/Kolkata"};
    int rc = PODMAN_O(&o, &r, "run", "--name", name, "--label", c->owner, "--label", case_label,
                      c->image, "sh", "-c", "sleep 0.3; exit 4");
    run_res_free(&r);
    int64_t t1 = wall_ns();
    if (rc != 4)
        return fail(why, "podman run (foreground) exit %d, want the container's 4", rc);
    json_t *o2 = inspect("container", name, why);
    if (!o2)
        return RES_FAIL;
    const char *id = jstr(o2, "Id"), *nm = jstr(o2, "Name"), *st = jstr(o2, "State.Status");
    const char *sa = jstr(o2, "State.StartedAt"), *fa = jstr(o2, "State.FinishedAt");
    long long code = jint(o2, "State.ExitCode", -1);
    json_t *labels = jget(o2, "Config.Labels");
    const char *lab2 = json_string_value(json_object_get(labels, "io.podc.conformance.case"));
    int64_t sns = 0, fns = 0;
    bool sok = parse_rfc3339(sa, &sns), fok = parse_rfc3339(fa, &fns);
    pod_buf_printf(ev,
                   "Id=%.12s... Name=%s Status=%s ExitCode=%lld StartedAt=%s FinishedAt=%s "
                   "(ran %.3f s)",
                   id ? id : "?", nm ? nm : "?", st ? st : "?", code, sa ? sa : "?", fa ? fa : "?",
                   sok && fok ? (double)(fns - sns) / 1e9 : -1.0);
    int res = RES_OK;
    size_t idlen = id ? strspn(id, "0123456789abcdef") : 0;
    const int64_t slack = 2000000000; /* clocks of this host: generous */
    if (!id || idlen != 64 || id[64])
        res = fail(why, "Id is not 64 hex digits: %s", id ? id : "(missing)");
    else if (!nm || strcmp(nm, name) != 0)
        res = fail(why, "Name is %s, want %s", nm ? nm : "(missing)", name);
    else if (!st || strcmp(st, "exited") != 0 || code != 4)
        res = fail(why, "State %s/%lld, want exited/4", st ? st : "?", code);
    else if (!sok || !fok)
        res = fail(why, "cannot parse State.StartedAt %s / FinishedAt %s as RFC 3339",
                   sa ? sa : "(missing)", fa ? fa : "(missing)");
    else if (sns < t0 - slack || fns > t1 + slack || fns < sns)
        res =
            fail(why, "StartedAt/FinishedAt %s / %s not within the run (offset ignored?)", sa, fa);
    else if (fns - sns < 250000000 || fns - sns > 10000000000LL)
        res = fail(why,
                   "FinishedAt - StartedAt = %.3f s for a 0.3 s container: sub-second "
                   "part lost?",
                   (double)(fns - sns) / 1e9);
    else if (!lab2 || strcmp(lab2, case_label + strlen("io.podc.conformance.case=")) != 0 ||
             !json_object_get(labels, OWNER_LABEL))
        res = fail(why, "Config.Labels lacks our labels");
    json_decref(o2);
    if (res != RES_OK)
        return res;

    /* a missing container: rc 125, "[]" on stdout */
    rc = PODMAN(&r, "container", "inspect", "--format", "json", "podconf-no-such-container");
    json_t *empty = json_loads(r.out, 0, NULL);
    pod_buf_printf(ev, "; inspect of a missing container: rc=%d stdout=%s", rc,
                   visible(line1(r.out)));
    if (rc != 125 || !json_is_array(empty) || json_array_size(empty) != 0)
        res = fail(why, "inspect of a missing container: rc %d stdout %s, want 125 and []", rc,
                   line1(r.out));
    json_decref(empty);
    run_res_free(&r);
    return res;
}

/* 6b. podman ps -a --filter label=... --format json lists exactly the matching containers;
 * several label filters must all match. */
static int check_ps_label_listing(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *a = ctr_name(c, "ps-a"), *b = ctr_name(c, "ps-b");
    char la[96], lb[96], filter_owner[96];
    snprintf(la, sizeof la, "podconf.ps=%s", "a");
    snprintf(lb, sizeof lb, "podconf.ps=%s", "b");
    snprintf(filter_owner, sizeof filter_owner, "label=%s", c->owner);
    struct run_res r;
    if (PODMAN(&r, "create", "--name", a, "--label", c->owner, "--label", la, c->image, "true") !=
        0) {
        fail(why, "podman create: %s", line1(r.err));
        run_res_free(&r);
        return RES_FAIL;
    }
    run_res_free(&r);
    if (PODMAN(&r, "run", "--name", b, "--label", c->owner, "--label", lb, c->image, "sh", "-c",
               "exit 2") != 2) {
        fail(why, "podman run: %s", line1(r.err));
        run_res_free(&r);
        return RES_FAIL;
    }
    run_res_free(&r);
    int rc = PODMAN(&r, "ps", "-a", "--filter", filter_owner, "--filter", "label=podconf.ps=b",
                    "--format", "json");
    json_error_t je;
    json_t *arr = rc == 0 ? json_loads(r.out, 0, &je) : NULL;
    int res = RES_OK;
    json_t *e = json_array_get(arr, 0);
    json_t *names = json_object_get(e, "Names");
    const char *n0 = json_string_value(json_array_get(names, 0));
    const char *state = jstr(e, "State"), *id = jstr(e, "Id");
    long long code = jint(e, "ExitCode", -1);
    json_t *exited_at = json_object_get(e, "ExitedAt");
    const char *lab =
        json_string_value(json_object_get(json_object_get(e, "Labels"), "podconf.ps"));
    pod_buf_printf(ev,
                   "entries=%zu, [0]: Names[0]=%s State=%s ExitCode=%lld ExitedAt=%s "
                   "Labels.podconf.ps=%s",
                   json_array_size(arr), n0 ? n0 : "?", state ? state : "?", code,
                   json_is_integer(exited_at) ? "unix seconds" : "?", lab ? lab : "?");
    if (rc != 0)
        res =
            fail(why, "podman ps -a --filter label=... --format json: rc %d: %s", rc, line1(r.err));
    else if (!json_is_array(arr))
        res = fail(why, "not a JSON array: %s", je.text);
    else if (json_array_size(arr) != 1)
        res = fail(why,
                   "%zu entries for two label filters matching one container (filters "
                   "ORed?)",
                   json_array_size(arr));
    else if (!n0 || strcmp(n0, b) != 0 || !id || strlen(id) != 64)
        res = fail(why, "entry is %s, want %s with a 64-digit Id", n0 ? n0 : "?", b);
    else if (!state || strcmp(state, "exited") != 0 || code != 2 || !json_is_integer(exited_at))
        res = fail(why, "State %s ExitCode %lld, want exited 2 with ExitedAt", state ? state : "?",
                   code);
    else if (!lab || strcmp(lab, "b") != 0)
        res = fail(why, "Labels.podconf.ps = %s, want b", lab ? lab : "?");
    json_decref(arr);
    run_res_free(&r);
    if (res != RES_OK)
        return res;
    rc = PODMAN(&r, "ps", "-a", "--filter", filter_owner, "--format", "json");
    arr = rc == 0 ? json_loads(r.out, 0, NULL) : NULL;
    pod_buf_printf(ev, "; owner filter alone: %zu entries", json_array_size(arr));
    if (json_array_size(arr) != 2)
        res = fail(why, "one label filter: %zu entries, want 2", json_array_size(arr));
    json_decref(arr);
    run_res_free(&r);
    return res;
}

/* 7a. stop -t 1 on a PID-1 shell (ignores SIGTERM): SIGKILL after ~1 s, exit 137. */
static int check_stop_timeout_kill(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "stop-kill");
    if (run_detached(c, why, name, NULL,
                     ARGV("sh", "-c", "touch /tmp/ready; while :; do sleep 0.1; done")) < 0)
        return RES_FAIL;
    if (exec_until_ok(name, ARGV("test", "-f", "/tmp/ready"), 10000, NULL) != 0)
        return fail(why, "container never became ready");
    struct run_res r;
    int rc = PODMAN_O(&(struct run_opts){.timeout_ms = 30000}, &r, "stop", "-t", "1", name);
    int64_t ms = r.elapsed_ms;
    run_res_free(&r);
    char status[32];
    int code;
    state_of(name, status, sizeof status, &code);
    pod_buf_printf(ev, "stop -t 1: rc=%d after %.1f s, then %s %d", rc, (double)ms / 1000, status,
                   code);
    if (rc != 0)
        return fail(why, "podman stop -t 1: exit %d", rc);
    if (ms < 500 || ms > 8000)
        return fail(why, "podman stop -t 1 returned after %.1f s, want ~1 s (0.5 .. 8)",
                    (double)ms / 1000);
    if (strcmp(status, "exited") != 0 || code != 137)
        return fail(why, "after stop: %s %d, want exited 137 (SIGKILL)", status, code);
    return RES_OK;
}

/* 7b. --init (catatonit) forwards SIGTERM: stop is prompt, exit 143. */
static int check_stop_init_term(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "stop-init");
    if (run_detached(c, why, name, ARGV("--init"), ARGV("sleep", "600")) < 0)
        return RES_FAIL;
    struct run_res r;
    int rc = PODMAN(&r, "stop", "-t", "10", name);
    int64_t ms = r.elapsed_ms;
    run_res_free(&r);
    char status[32];
    int code;
    state_of(name, status, sizeof status, &code);
    pod_buf_printf(ev, "--init, stop -t 10: rc=%d after %.1f s, then %s %d", rc, (double)ms / 1000,
                   status, code);
    if (rc != 0)
        return fail(why, "podman stop: exit %d", rc);
    if (ms > 8000)
        return fail(why, "stop of an --init container took %.1f s: SIGTERM not forwarded?",
                    (double)ms / 1000);
    if (strcmp(status, "exited") != 0 || (code != 143 && code != 0))
        return fail(why, "after stop: %s %d, want exited 143 (or 0)", status, code);
    return RES_OK;
}

/* 7c. --stop-timeout at create time is the default for a plain `podman stop`. */
static int check_stop_timeout_create(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "stop-create");
    if (run_detached(c, why, name, ARGV("--stop-timeout", "1"),
                     ARGV("sh", "-c", "touch /tmp/ready; while :; do sleep 0.1; done")) < 0)
        return RES_FAIL;
    json_t *o = inspect("container", name, why);
    if (!o)
        return RES_FAIL;
    long long st = jint(o, "Config.StopTimeout", -1);
    json_decref(o);
    if (exec_until_ok(name, ARGV("test", "-f", "/tmp/ready"), 10000, NULL) != 0)
        return fail(why, "container never became ready");
    struct run_res r;
    int rc = PODMAN(&r, "stop", name);
    int64_t ms = r.elapsed_ms;
    run_res_free(&r);
    char status[32];
    int code;
    state_of(name, status, sizeof status, &code);
    pod_buf_printf(ev, "Config.StopTimeout=%lld, plain stop: rc=%d after %.1f s, then %s %d", st,
                   rc, (double)ms / 1000, status, code);
    if (st != 1)
        return fail(why, "Config.StopTimeout is %lld, want 1", st);
    if (rc != 0)
        return fail(why, "podman stop: exit %d", rc);
    if (ms > 8000)
        return fail(why, "podman stop took %.1f s: --stop-timeout 1 not honoured (default 10)",
                    (double)ms / 1000);
    if (strcmp(status, "exited") != 0 || code != 137)
        return fail(why, "after stop: %s %d, want exited 137", status, code);
    return RES_OK;
}

/* Checks one event line; appends its Status to seen.  Returns false with why set. */
static bool event_ok(json_t *e, const char *name, const char *id, struct pod_buf *why)
{
    const char *n = jstr(e, "Name"), *i = jstr(e, "ID"), *s = jstr(e, "Status");
    const char *ty = jstr(e, "Type"), *tm = jstr(e, "Time");
    int64_t ns;
    if (!n || strcmp(n, name) != 0 || !i || (id && strcmp(i, id) != 0) || !s || !ty ||
        strcmp(ty, "container") != 0 || !parse_rfc3339(tm, &ns)) {
        fail(why,
             "event lacks Name/ID/Status/Type/Time as expected: Name=%s ID=%.12s Status=%s "
             "Type=%s Time=%s",
             n ? n : "-", i ? i : "-", s ? s : "-", ty ? ty : "-", tm ? tm : "-");
        return false;
    }
    return true;
}

/* 8. podman events --format json: JSON lines, streamed and bounded (--since/--until). */
static int check_events_json(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *n5 = ctr_name(c, "events-5"), *n0 = ctr_name(c, "events-0");
    char filter[96], since[32], until[32];
    snprintf(filter, sizeof filter, "label=podconf.events=%s", c->prefix);
    char lab[96];
    snprintf(lab, sizeof lab, "podconf.events=%s", c->prefix);
    int64_t t0 = wall_ns() / 1000000000 - 1;
    snprintf(since, sizeof since, "%lld", (long long)t0);

    /* the stream: started first, with --since so that nothing is missed while it starts */
    int po[2];
    if (pipe2(po, O_CLOEXEC) < 0)
        return fail(why, "pipe: %s", strerror(errno));
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        if (devnull >= 0)
            dup2(devnull, 2);
        for (int s = 1; s < NSIG; s++)
            signal(s, SIG_DFL);
        execvp("podman", (char *const *)ARGV("podman", "events", "--format", "json", "--since",
                                             since, "--filter", filter));
        _exit(127);
    }
    close(po[1]);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(po[0]);
        return fail(why, "fork: %s", strerror(errno));
    }
    struct run_res r;
    int rc5 = PODMAN(&r, "run", "--name", n5, "--label", c->owner, "--label", lab, c->image, "sh",
                     "-c", "exit 5");
    run_res_free(&r);
    int rc0 =
        PODMAN(&r, "run", "--name", n0, "--label", c->owner, "--label", lab, c->image, "true");
    run_res_free(&r);
    char *id5 = NULL;
    if (PODMAN(&r, "container", "inspect", "--format", "{{.Id}}", n5) == 0)
        id5 = xstrndup(r.out, strcspn(r.out, "\n"));
    run_res_free(&r);

    /* read the stream until both died events arrived, at most 15 s; then kill it */
    struct pod_buf buf = {0};
    int64_t deadline = mono_ms() + 15000;
    size_t lines = 0;
    json_t *died5 = NULL, *died0 = NULL;
    struct pod_buf seen = {0};
    int res = RES_OK;
    size_t used = 0;
    while ((!died5 || !died0) && mono_ms() < deadline && !g_stop && res == RES_OK) {
        struct pollfd p = {po[0], POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        char tmp[4096];
        ssize_t n = read(po[0], tmp, sizeof tmp);
        if (n <= 0)
            break;
        pod_buf_add(&buf, tmp, (size_t)n);
        char *nl;
        while ((nl = memchr(buf.data + used, '\n', buf.len - used)) != NULL) {
            *nl = '\0';
            json_error_t je;
            json_t *e = json_loads(buf.data + used, 0, &je);
            lines++;
            if (!json_is_object(e)) {
                res = fail(why, "event line is not a JSON object: %s", line1(buf.data + used));
            } else {
                const char *nm = jstr(e, "Name"), *st = jstr(e, "Status");
                bool is5 = nm && strcmp(nm, n5) == 0;
                if (!event_ok(e, is5 ? n5 : n0, is5 ? id5 : NULL, why))
                    res = RES_FAIL;
                else {
                    pod_buf_printf(&seen, "%s%s:%s", seen.len ? "," : "", is5 ? "5" : "0", st);
                    if (strcmp(st, "died") == 0) {
                        json_t **slot = is5 ? &died5 : &died0;
                        json_decref(*slot);
                        *slot = json_incref(e);
                    }
                }
            }
            json_decref(e);
            used = (size_t)(nl - buf.data) + 1;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(po[0]);
    pod_buf_free(&buf);

    json_t *code5 = json_object_get(died5, "ContainerExitCode");
    json_t *code0 = json_object_get(died0, "ContainerExitCode");
    json_t *attrs = json_object_get(died5, "Attributes");
    pod_buf_printf(ev,
                   "stream: %zu lines [%s]; died(exit 5).ContainerExitCode=%s, "
                   "died(exit 0).ContainerExitCode=%s, labels in Attributes=%s",
                   lines, seen.data ? seen.data : "", code5 ? "5" : "absent",
                   code0 ? "present" : "absent",
                   json_object_get(attrs, "podconf.events") ? "yes" : "no");
    if (res == RES_OK) {
        if (rc5 != 5 || rc0 != 0)
            res = fail(why, "podman run exits %d/%d, want 5/0", rc5, rc0);
        else if (!died5 || !died0)
            res = fail(why, "stream gave no died event for %s within 15 s (saw %s)",
                       died5 ? n0 : n5, seen.data ? seen.data : "nothing");
        else if (!strstr(seen.data, "5:create") || !strstr(seen.data, "5:start"))
            res = fail(why, "stream lacks create/start events: %s", seen.data);
        else if (json_integer_value(code5) != 5 || !json_is_integer(code5))
            res = fail(why, "died event of an exit-5 container: ContainerExitCode %s",
                       code5 ? "not 5" : "absent");
        else if (code0 && json_integer_value(code0) != 0)
            res = fail(why, "died event of an exit-0 container: ContainerExitCode %lld",
                       (long long)json_integer_value(code0));
        else if (!json_object_get(attrs, "podconf.events"))
            res = fail(why, "died event Attributes lack the container's labels");
    }
    json_decref(died5);
    json_decref(died0);
    pod_buf_free(&seen);

    /* bounded query: --since/--until returns (it does not stream) and has the died event */
    if (res == RES_OK) {
        /* podman 4.3.1 (file logger) stops reading at the --until time: an --until in the
         * past returns nothing at all, one in the future blocks until then.  So: now + 3 s. */
        snprintf(until, sizeof until, "%lld", (long long)(wall_ns() / 1000000000 + 3));
        char cfilter[96];
        snprintf(cfilter, sizeof cfilter, "container=%s", n5);
        int rc = PODMAN_O(&(struct run_opts){.timeout_ms = 15000}, &r, "events", "--format", "json",
                          "--since", since, "--until", until, "--filter", cfilter, "--filter",
                          "event=died");
        size_t nl = 0;
        bool found = false;
        for (const char *p = r.out; p && *p;) {
            size_t len = strcspn(p, "\n");
            char *line = xstrndup(p, len);
            json_t *e = json_loads(line, 0, NULL);
            nl++;
            if (e && jstr(e, "Status") && strcmp(jstr(e, "Status"), "died") == 0 &&
                jint(e, "ContainerExitCode", -1) == 5)
                found = true;
            json_decref(e);
            free(line);
            p += len + (p[len] == '\n');
        }
        pod_buf_printf(ev,
                       "; bounded --since/--until(now+3s) --filter event=died: rc=%d%s, "
                       "%zu lines, returned after %.1f s",
                       rc, r.timed_out ? " (timed out)" : "", nl, (double)r.elapsed_ms / 1000);
        if (rc != 0 || r.timed_out)
            res = fail(why, "podman events --since --until: rc %d%s", rc,
                       r.timed_out ? " (did not return within 15 s)" : "");
        else if (!found || nl != 1)
            res =
                fail(why, "bounded query gave %zu lines, want exactly the died event (exit 5)", nl);
        run_res_free(&r);

        /* evidence only (we do not rely on it either way): an --until in the past */
        snprintf(until, sizeof until, "%lld", (long long)(wall_ns() / 1000000000 - 1));
        if (atoll(until) > atoll(since)) {
            rc = PODMAN_O(&(struct run_opts){.timeout_ms = 15000}, &r, "events", "--format", "json",
                          "--since", since, "--until", until, "--filter", cfilter);
            size_t past = 0;
            for (const char *p = r.out; p && *p; p++)
                past += *p == '\n';
            pod_buf_printf(ev, "; --until in the past: rc=%d, %zu lines", rc, past);
            run_res_free(&r);
        }
    }
    free(id5);
    return res;
}

/* 9. podman wait prints the exit code (running, already exited, missing container). */
static int check_wait_exit_code(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *name = ctr_name(c, "wait");
    if (run_detached(c, why, name, NULL, ARGV("sh", "-c", "sleep 0.5; exit 42")) < 0)
        return RES_FAIL;
    struct run_res r;
    int rc1 = PODMAN(&r, "wait", name);
    char *out1 = xstrdup(r.out);
    run_res_free(&r);
    int rc2 = PODMAN(&r, "wait", name);
    char *out2 = xstrdup(r.out);
    run_res_free(&r);
    int rc3 = PODMAN(&r, "wait", "podconf-no-such-container");
    run_res_free(&r);
    pod_buf_printf(ev,
                   "wait running: rc=%d out=%s; wait exited: rc=%d out=%s; wait missing: "
                   "rc=%d",
                   rc1, visible(out1), rc2, visible(out2), rc3);
    int res = RES_OK;
    if (rc1 != 0 || strcmp(out1, "42\n") != 0)
        res = fail(why, "podman wait on a running container: rc %d stdout \"%s\", want 0 \"42\"",
                   rc1, visible(out1));
    else if (rc2 != 0 || strcmp(out2, "42\n") != 0)
        res = fail(why, "podman wait on an exited container: rc %d stdout \"%s\", want 0 \"42\"",
                   rc2, visible(out2));
    else if (rc3 != 125)
        res = fail(why, "podman wait on a missing container: rc %d, want 125", rc3);
    free(out1);
    free(out2);
    return res;
}

/* 10. podman pod rm -f removes the pod and its containers; the names are reusable. */
static int check_pod_rm_force(struct ctx *c, struct pod_buf *why, struct pod_buf *ev)
{
    const char *pod = pod_name(c, "rm");
    const char *a = ctr_name(c, "rm-a"), *b = ctr_name(c, "rm-b");
    struct run_res r;
    for (int round = 0; round < 2; round++) {
        if (PODMAN(&r, "pod", "create", "--name", pod, "--label", c->owner) != 0) {
            fail(why, "%spodman pod create %s: %s", round ? "re-using the name: " : "", pod,
                 line1(r.err));
            run_res_free(&r);
            return RES_FAIL;
        }
        run_res_free(&r);
        if (run_detached(c, why, a, ARGV("--pod", pod, "--init"), ARGV("sleep", "600")) < 0 ||
            run_detached(c, why, b, ARGV("--pod", pod, "--init"), ARGV("sleep", "600")) < 0) {
            if (round)
                pod_buf_printf(why, " (re-using the container names)");
            return RES_FAIL;
        }
        json_t *pi = inspect("pod", pod, why);
        long long ncont = jint(pi, "NumContainers", -1);
        json_decref(pi);
        int rc = PODMAN(&r, "pod", "rm", "-f", pod);
        int64_t ms = r.elapsed_ms;
        run_res_free(&r);
        int pe = PODMAN(&r, "pod", "exists", pod);
        run_res_free(&r);
        int ae = PODMAN(&r, "container", "exists", a);
        run_res_free(&r);
        int be = PODMAN(&r, "container", "exists", b);
        run_res_free(&r);
        pod_buf_printf(ev,
                       "%sround %d: NumContainers=%lld (with infra), pod rm -f rc=%d in "
                       "%.1f s, then pod exists=%d, containers exist=%d/%d",
                       round ? "; " : "", round + 1, ncont, rc, (double)ms / 1000, pe, ae, be);
        if (ncont != 3)
            return fail(why, "pod has %lld containers, want 3 (infra + 2)", ncont);
        if (rc != 0)
            return fail(why, "podman pod rm -f: exit %d", rc);
        if (pe != 1 || ae != 1 || be != 1)
            return fail(why,
                        "after pod rm -f: pod exists rc %d, containers exist rc %d/%d, "
                        "want 1 (absent)",
                        pe, ae, be);
    }
    return RES_OK;
}

/* ======================================================================================== */
/* driver                                                                                    */
/* ======================================================================================== */

struct check {
    const char *name;
    int (*fn)(struct ctx *c, struct pod_buf *why, struct pod_buf *ev);
};

static const struct check CHECKS[] = {
    {"exec_exit_codes", check_exec_exit_codes},
    {"kill_hup_delivered", check_kill_hup},
    {"pod_publish_and_shared_localhost", check_pod_network},
    {"restart_no_stays_exited", check_restart_no},
    {"passthrough_run_pipes", check_passthrough_run},
    {"passthrough_start_output", check_passthrough_start},
    {"passthrough_init_then_start", check_passthrough_init_start},
    {"passthrough_reader_gone", check_passthrough_reader_gone},
    {"inspect_fields", check_inspect_fields},
    {"ps_label_filter_json", check_ps_label_listing},
    {"stop_timeout_sigkill_137", check_stop_timeout_kill},
    {"stop_init_sigterm_143", check_stop_init_term},
    {"stop_timeout_at_create", check_stop_timeout_create},
    {"events_json_stream", check_events_json},
    {"wait_exit_code", check_wait_exit_code},
    {"pod_rm_force", check_pod_rm_force},
};
#define NCHECKS (sizeof CHECKS / sizeof CHECKS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: podman-conformance [-v] [--json] [--require] [--image IMAGE] "
               "[--list] [NAME-SUBSTRING...]\n"
               "  checks the podman behaviour pod relies on (SPEC.md section 11).\n"
               "  --require (or CI=true): podman missing or broken is a failure, not a skip.\n");
}

/* Is podman usable at all?  Sets why and returns false if not. */
static bool podman_usable(struct ctx *c, struct pod_buf *why, char *version, size_t vlen)
{
    struct run_res r;
    int rc = PODMAN_O(&(struct run_opts){.timeout_ms = 20000}, &r, "version", "--format",
                      "{{.Client.Version}}");
    snprintf(version, vlen, "%s", rc == 0 ? line1(r.out) : "");
    if (rc != 0) {
        fail(why, "podman not usable (podman version: rc %d: %s)", rc, line1(r.err));
        run_res_free(&r);
        return false;
    }
    run_res_free(&r);
    rc = PODMAN(&r, "image", "exists", c->image);
    run_res_free(&r);
    if (rc != 0) {
        fail(why, "image %s missing (run ci/podman-setup.sh as root)", c->image);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct ctx c = {.image = DEFAULT_IMAGE};
    bool json = false, list = false;
    const char *ci = getenv("CI");
    bool require = ci && strcmp(ci, "true") == 0;
    char **only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            c.verbose = true;
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--require") == 0)
            require = true;
        else if (strcmp(argv[i], "--list") == 0)
            list = true;
        else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
            c.image = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            usage(stderr);
            return 100;
        } else
            pod_strv_push(&only, argv[i]);
    }
    if (list) {
        for (size_t i = 0; i < NCHECKS; i++)
            printf("%s\n", CHECKS[i].name);
        return 0;
    }
    snprintf(c.prefix, sizeof c.prefix, "podconf-%d", (int)getpid());
    snprintf(c.owner, sizeof c.owner, OWNER_LABEL "=%d", (int)getpid());
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct pod_buf unusable = {0};
    char version[64];
    bool usable = podman_usable(&c, &unusable, version, sizeof version);
    if (usable)
        sweep_stale(&c);

    int passed = 0, failed = 0, skipped = 0;
    json_t *results = json_array();
    int64_t t_all = mono_ms();
    for (size_t i = 0; i < NCHECKS; i++) {
        bool selected = !only;
        for (size_t k = 0; only && only[k]; k++)
            if (strstr(CHECKS[i].name, only[k]))
                selected = true;
        if (!selected)
            continue;
        struct pod_buf why = {0}, ev = {0};
        int64_t t0 = mono_ms();
        int res;
        if (g_stop) {
            res = fail(&why, "interrupted");
        } else if (!usable) {
            res = require ? RES_FAIL : RES_SKIP;
            pod_buf_adds(&why, unusable.data);
        } else {
            res = CHECKS[i].fn(&c, &why, &ev);
            cleanup_check(&c);
            if (g_stop && res == RES_OK)
                res = fail(&why, "interrupted");
        }
        int64_t ms = mono_ms() - t0;
        const char *reason = why.data ? why.data : "";
        const char *evidence = ev.data ? ev.data : "";
        if (res == RES_OK)
            passed++;
        else if (res == RES_FAIL)
            failed++;
        else
            skipped++;
        static const char *const word[] = {"ok", "FAIL", "skip"};
        if (!json) {
            if (res == RES_OK)
                printf("ok %s\n", CHECKS[i].name);
            else
                printf("%s %s: %s\n", word[res], CHECKS[i].name, reason);
            if (c.verbose && *evidence)
                printf("# %s: observed %s (%.1f s)\n", CHECKS[i].name, evidence, (double)ms / 1000);
        }
        json_array_append_new(results,
                              json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", CHECKS[i].name,
                                        "result", word[res], "reason", reason, "evidence", evidence,
                                        "ms", (json_int_t)ms));
        pod_buf_free(&why);
        pod_buf_free(&ev);
    }
    cleanup_check(&c);
    if (json) {
        json_t *doc = json_pack("{s:s, s:s, s:o, s:i, s:i, s:i, s:I}", "podman", version, "image",
                                c.image, "results", results, "passed", passed, "failed", failed,
                                "skipped", skipped, "ms", (json_int_t)(mono_ms() - t_all));
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(doc);
    } else {
        json_decref(results);
        if (skipped)
            printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
        else
            printf("%d passed, %d failed\n", passed, failed);
    }
    pod_buf_free(&unusable);
    pod_strv_free(only);
    return failed ? 1 : 0;
}
