/* SPDX-License-Identifier: MIT */
/* ident.c - the supervisor's lock, identity file and checked pidfds (see pod/ident.h).
 *
 * Small on purpose: the holder links it and stays tiny.  Files are read and written relative
 * to a directory fd; no stdio.
 */
#include "pod/ident.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/pidfd.h"
#include "pod/util.h"

#define PID_FILE_MAX 4096
#define STATUS_FILE_MAX (16u << 20)

int ident_file(char *out, const char *name, const char *suffix)
{
    size_t n = strlen(name);
    if (n == 0 || n > IDENT_NAME_MAX || strchr(name, '/'))
        return -1;
    int w = snprintf(out, IDENT_FILE_MAX, ".%s.%s", name, suffix);
    return w > 0 && w < IDENT_FILE_MAX ? 0 : -1;
}

/* Reads at most cap - 1 bytes of path (relative to dirfd, or absolute) into buf, NUL-terminated.
 * Returns the length, -1 with errno. */
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t cap)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { /* a FIFO in the pod directory: refused */
        close(fd);
        errno = EINVAL;
        return -1;
    }
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

int ident_boot_id(char out[IDENT_BOOTID_MAX], struct pod_err *err)
{
    char buf[64];
    ssize_t n = read_small(AT_FDCWD, "/proc/sys/kernel/random/boot_id", buf, sizeof buf);
    if (n < 0)
        return pod_err_set(err, POD_E_IO, errno, "read /proc/sys/kernel/random/boot_id");
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || n >= IDENT_BOOTID_MAX || strchr(buf, ' '))
        return pod_err_set(err, POD_E_CORRUPT, 0, "unexpected boot id `%s`", buf);
    memcpy(out, buf, (size_t)n + 1);
    return 0;
}

int ident_starttime(pid_t pid, unsigned long long *out, struct pod_err *err)
{
    char path[40], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (read_small(AT_FDCWD, path, buf, sizeof buf) < 0)
        return pod_err_set(err, errno == ENOENT || errno == ESRCH ? POD_E_NOTFOUND : POD_E_IO,
                           errno, "read %s", path);
    if (pod_stat_number(buf, 22, out) < 0) /* fields 3.. follow the command name's last ')' */
        return pod_err_set(err, POD_E_CORRUPT, 0, "%s: no starttime", path);
    return 0;
}

int ident_of(pid_t pid, const char *role, struct ident *out, struct pod_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->role, sizeof out->role, "%s", role);
    out->pid = pid;
    if (ident_starttime(pid, &out->starttime, err) < 0)
        return -1;
    return ident_boot_id(out->boot_id, err);
}

/* ------------------------------------------------------------------ the identity file */

/* tmp + rename in dirfd (util's one writer: the temporary created O_EXCL|O_NOFOLLOW, renamed
 * with renameat), without fsync: these files describe processes, which a power loss ends
 * anyway (the status file is rewritten by every daemon). */
static int replace_file(int dirfd, const char *file, const char *data, size_t len,
                        struct pod_err *err)
{
    struct pod_bytes bytes = {data, len};
    return pod_write_file_at(dirfd, file, 0644, POD_SYNC_NONE, pod_fill_bytes, &bytes, err);
}

int ident_write(int dirfd, const char *file, const struct ident *v, size_t n, struct pod_err *err)
{
    char buf[PID_FILE_MAX];
    size_t len = 0;
    for (size_t i = 0; i < n && i < IDENT_MAX_PROCS; i++) {
        int w = snprintf(buf + len, sizeof buf - len, "%s %ld %llu %s\n", v[i].role, (long)v[i].pid,
                         v[i].starttime, v[i].boot_id);
        if (w < 0 || (size_t)w >= sizeof buf - len)
            return pod_err_set(err, POD_E_INVALID, 0, "identity too long");
        len += (size_t)w;
    }
    return replace_file(dirfd, file, buf, len, err);
}

static int parse_line(char *line, struct ident *out)
{
    memset(out, 0, sizeof *out);
    char *save = NULL;
    char *role = strtok_r(line, " ", &save);
    char *pid = strtok_r(NULL, " ", &save);
    char *st = strtok_r(NULL, " ", &save);
    char *boot = strtok_r(NULL, " ", &save);
    long long p, s;
    if (!role || !pid || !st || !boot || strtok_r(NULL, " ", &save) ||
        strlen(role) >= sizeof out->role || strlen(boot) >= sizeof out->boot_id ||
        !pod_parse_int(pid, 1, 0x7fffffff, &p) || !pod_parse_int(st, 0, INT64_MAX, &s))
        return -1;
    strcpy(out->role, role);
    strcpy(out->boot_id, boot);
    out->pid = (pid_t)p;
    out->starttime = (unsigned long long)s;
    return 0;
}

int ident_read(int dirfd, const char *file, struct ident *v, size_t max, size_t *n,
               struct pod_err *err)
{
    char buf[PID_FILE_MAX];
    *n = 0;
    if (read_small(dirfd, file, buf, sizeof buf) < 0) {
        if (errno == ENOENT)
            return 0;
        return pod_err_set(err, POD_E_IO, errno, "read %s", file);
    }
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (*n >= max)
            break;
        if (parse_line(line, &v[*n]) < 0)
            return pod_err_set(err, POD_E_CORRUPT, 0, "%s: malformed line", file);
        (*n)++;
    }
    return 0;
}

const struct ident *ident_find(const struct ident *v, size_t n, const char *role)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].role, role) == 0)
            return &v[i];
    return NULL;
}

int ident_pidfd(const struct ident *id, struct pod_err *err)
{
    char boot[IDENT_BOOTID_MAX];
    if (ident_boot_id(boot, err) < 0)
        return -1;
    if (strcmp(boot, id->boot_id) != 0)
        return pod_err_set(err, POD_E_NOTFOUND, 0, "%s %ld: from another boot", id->role,
                           (long)id->pid);
    /* the pidfd first: once it is open it names one process for good, so a starttime that
     * matches afterwards proves it is the recorded one */
    int fd = pod_pidfd_open(id->pid);
    if (fd < 0)
        return pod_err_set(err, errno == ESRCH ? POD_E_NOTFOUND : POD_E_IO, errno,
                           "%s %ld: pidfd_open", id->role, (long)id->pid);
    unsigned long long st = 0;
    if (ident_starttime(id->pid, &st, err) < 0 || st != id->starttime) {
        close(fd);
        return pod_err_set(err, POD_E_NOTFOUND, 0, "%s %ld: gone (PID reused or exited)", id->role,
                           (long)id->pid);
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC); /* pidfds are close-on-exec already; be explicit */
    return fd;
}

/* ------------------------------------------------------------------ the lock */

int ident_lock_open(int dirfd, const char *file, struct pod_err *err)
{
    int fd = openat(dirfd, file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", file);
    return fd;
}

int ident_lock_take(int fd)
{
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? 0 : -1;
    }
}

int ident_lock_held(int dirfd, const char *file, bool *held, struct pod_err *err)
{
    *held = false;
    int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return pod_err_set(err, POD_E_IO, errno, "open %s", file);
    }
    int rc = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        (void)flock(fd, LOCK_UN);
    else if (errno == EWOULDBLOCK)
        *held = true;
    else
        rc = pod_err_set(err, POD_E_IO, errno, "flock %s", file);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ the status file */

/* Copies line [p, e) (without its newline) to out, replaced when it is a top-level `pid:` or
 * `readiness:` line. */
static void down_line(struct pod_buf *out, const char *p, const char *e)
{
    size_t n = (size_t)(e - p);
    if (n >= 4 && memcmp(p, "pid:", 4) == 0)
        pod_buf_adds(out, "pid:");
    else if (n >= 10 && memcmp(p, "readiness:", 10) == 0)
        pod_buf_adds(out, "readiness: 0");
    else
        pod_buf_add(out, p, n);
}

int ident_status_down(int dirfd, const char *file, struct pod_err *err)
{
    int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ELOOP) /* a link (SPEC 7.5.1): replaced by a plain file, never read */
    {
        static const char down[] = "pid:\nreadiness: 0\n";
        return replace_file(dirfd, file, down, sizeof down - 1, err);
    }
    if (fd < 0)
        return errno == ENOENT ? 0 : pod_err_set(err, POD_E_IO, errno, "open %s", file);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return pod_err_set(err, POD_E_IO, e, "stat %s", file);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pod_err_set(err, POD_E_FAILED, 0,
                           "`%s` in the pod directory is a %s, not a regular file: refused", file,
                           pod_file_kind(st.st_mode));
    }
    if (st.st_size < 0 || (size_t)st.st_size > STATUS_FILE_MAX) {
        close(fd);
        return pod_err_set(err, POD_E_INVALID, 0, "%s: too large", file);
    }
    struct pod_buf in = {0}, out = {0};
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        pod_buf_add(&in, chunk, (size_t)r);
    }
    close(fd);
    const char *p = in.data ? in.data : "", *end = p + in.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        down_line(&out, p, e);
        if (nl)
            pod_buf_addc(&out, '\n');
        p = nl ? nl + 1 : end;
    }
    int rc = 0;
    const char *was = in.data ? in.data : "", *now = out.data ? out.data : "";
    if (out.len != in.len || memcmp(now, was, out.len) != 0)
        rc = replace_file(dirfd, file, now, out.len, err);
    pod_buf_free(&in);
    pod_buf_free(&out);
    return rc;
}

int ident_signals_setup(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
