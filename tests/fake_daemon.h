/* SPDX-License-Identifier: MIT */
/* fake_daemon.h - a stand-in for `pod __daemon` in the holder and spawn tests: the real holder
 * starts it (the test binary is /proc/self/exe), it speaks the real holder protocol (holdc),
 * serves the real control socket (ping, stop, kill) and writes the real identity file, but
 * supervises nothing.  It reports what it sees by appending lines to <dir>/events:
 *   start pid=P respawns=N status=S fds=K1,K2   (its handoff)
 *   data KEY TEXT                                (bytes read from a handed or held fd)
 *   eof KEY | holder PID | ctl stop|kill | bye
 * Options, one per line in <dir>/fake.cfg: `fifo` (hold <dir>/fifo's read end as "t/1/stdout"
 * when nothing was handed over), `stop-delay-ms N`, `ignore-stop`, `no-ready`, `fail-start`.
 * Include it from exactly one test .c; its main dispatches __holder / __daemon first.
 */
#ifndef FAKE_DAEMON_H
#define FAKE_DAEMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "pod/ctl.h"
#include "pod/holder.h"
#include "pod/ident.h"
#include "pod/loop.h"
#include "pod/util.h"

struct fake {
    const char *dir, *name;
    int dirfd, lock_fd, ready_fd, holder_fd;
    struct loop *loop;
    struct holdc *hc;
    struct ctl_server *ctl;
    char *keys[64];
    int fds[64];
    size_t n;
    int64_t exit_at_ms;
    bool ignore_stop, no_ready, fail_start, fifo;
    long stop_delay_ms;
};

static void fake_event(const struct fake *f, const char *fmt, ...) POD_PRINTF(2, 3);
static void fake_event(const struct fake *f, const char *fmt, ...)
{
    struct pod_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    pod_buf_addc(&b, '\n');
    int fd = openat(f->dirfd, "events", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void)!write(fd, b.data, b.len);
        close(fd);
    }
    pod_buf_free(&b);
}

static void fake_write_pid(struct fake *f)
{
    struct ident v[2];
    struct pod_err err = POD_ERR_ZERO;
    size_t n = 0;
    if (ident_of(getpid(), "daemon", &v[n], &err) == 0)
        n++;
    pid_t h = f->hc ? holdc_holder_pid(f->hc) : 0;
    if (h > 0 && ident_of(h, "holder", &v[n], &err) == 0)
        n++;
    char file[IDENT_FILE_MAX];
    (void)ident_file(file, f->name, "pid");
    if (ident_write(f->dirfd, file, v, n, &err) < 0)
        fake_event(f, "error %s", err.msg);
}

static void fake_on_data(void *arg, int fd, unsigned events)
{
    struct fake *f = arg;
    (void)events;
    size_t i;
    for (i = 0; i < f->n && f->fds[i] != fd; i++)
        ;
    if (i == f->n)
        return;
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof buf - 1);
    if (r < 0 && errno == EAGAIN)
        return;
    if (r <= 0) {
        fake_event(f, "eof %s", f->keys[i]);
        holdc_drop(f->hc, f->keys[i]);
        loop_del(f->loop, fd);
        close(fd);
        free(f->keys[i]);
        f->keys[i] = f->keys[--f->n];
        f->fds[i] = f->fds[f->n];
        return;
    }
    buf[r] = '\0';
    while (r > 0 && buf[r - 1] == '\n')
        buf[--r] = '\0';
    fake_event(f, "data %s %s", f->keys[i], buf);
}

static void fake_add_fd(struct fake *f, const char *key, int fd, bool hold)
{
    struct pod_err err = POD_ERR_ZERO;
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    f->keys[f->n] = xstrdup(key);
    f->fds[f->n++] = fd;
    if (hold)
        holdc_hold(f->hc, key, fd);
    if (loop_add(f->loop, fd, LOOP_IN, fake_on_data, f, &err) < 0)
        fake_event(f, "error %s", err.msg);
}

static void fake_stop(struct fake *f, const char *how)
{
    fake_event(f, "ctl %s", how);
    if (!f->ignore_stop && f->exit_at_ms == INT64_MAX)
        f->exit_at_ms = clk_mono_ms(&clk_real) + f->stop_delay_ms;
}

static void fake_on_ctl(void *arg, struct ctl_server *s, uint64_t id, int argc, char **argv)
{
    struct fake *f = arg;
    (void)argc;
    if (strcmp(argv[0], "stop") == 0 || strcmp(argv[0], "kill") == 0)
        fake_stop(f, argv[0]);
    ctl_server_reply(s, id, 0, argv[0], "");
}

static void fake_on_holder_ctl(void *arg, enum holdc_ctl what)
{
    fake_stop(arg, what == HOLDC_KILL ? "kill" : "stop");
}

static void fake_on_holder(void *arg, pid_t pid)
{
    struct fake *f = arg;
    fake_event(f, "holder %ld", (long)pid);
    fake_write_pid(f);
}

static void fake_read_cfg(struct fake *f)
{
    char *path = xasprintf("%s/fake.cfg", f->dir), *text = NULL;
    size_t len;
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file(path, 4096, &text, &len, &err) == 0) {
        f->ignore_stop = strstr(text, "ignore-stop") != NULL;
        f->no_ready = strstr(text, "no-ready") != NULL;
        f->fail_start = strstr(text, "fail-start") != NULL;
        f->fifo = strstr(text, "fifo") != NULL;
        const char *d = strstr(text, "stop-delay-ms ");
        if (d)
            f->stop_delay_ms = atol(d + 14);
    }
    free(text);
    free(path);
}

static int fake_args(struct fake *f, int argc, char **argv)
{
    f->lock_fd = f->ready_fd = f->holder_fd = -1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            f->dir = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0)
            f->name = argv[i + 1];
        else if (strcmp(argv[i], "--lock-fd") == 0)
            f->lock_fd = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ready-fd") == 0)
            f->ready_fd = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--holder-fd") == 0)
            f->holder_fd = atoi(argv[i + 1]);
    }
    return f->dir && f->name ? 0 : -1;
}

static int fake_setup(struct fake *f)
{
    struct pod_err err = POD_ERR_ZERO;
    f->loop = loop_new(&err);
    struct holdc_cfg hc = {.loop = f->loop,
                           .clk = &clk_real,
                           .dir = f->dir,
                           .name = f->name,
                           .lock_fd = f->lock_fd,
                           .sock = f->holder_fd,
                           .on_ctl = fake_on_holder_ctl,
                           .on_holder = fake_on_holder,
                           .arg = f};
    if (holdc_new(&hc, &f->hc, &err) < 0) {
        fake_event(f, "error %s", err.msg);
        return -1;
    }
    const struct holdc_hello *h = holdc_hello(f->hc);
    char **keys;
    int *fds;
    size_t n = holdc_handed(f->hc, &keys, &fds);
    struct pod_buf b = {0};
    for (size_t i = 0; i < n; i++)
        pod_buf_printf(&b, "%s%s", i ? "," : "", keys[i]);
    fake_event(f, "start pid=%ld respawns=%u status=%d fds=%s", (long)getpid(), h->respawns,
               h->last_status, b.data ? b.data : "");
    pod_buf_free(&b);
    for (size_t i = 0; i < n; i++)
        fake_add_fd(f, keys[i], fds[i], false); /* the holder has them already */
    holdc_take_handed(f->hc);
    if (n == 0 && f->fifo) {
        int fd = openat(f->dirfd, "fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
            fake_add_fd(f, "t/1/stdout", fd, true);
    }
    char sock[IDENT_FILE_MAX];
    (void)ident_file(sock, f->name, "sock");
    struct ctl_server_cfg cc = {.loop = f->loop,
                                .clk = &clk_real,
                                .dirfd = f->dirfd,
                                .file = sock,
                                .fn = fake_on_ctl,
                                .arg = f,
                                .uid = geteuid()};
    if (ctl_server_new(&cc, &f->ctl, &err) < 0) {
        fake_event(f, "error %s", err.msg);
        return -1;
    }
    fake_write_pid(f);
    return 0;
}

static void fake_on_signal(void *arg, int fd, unsigned events)
{
    struct signalfd_siginfo si;
    (void)events;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
        fake_stop(arg, si.ssi_signo == SIGUSR2 ? "kill" : "stop");
}

static int fake_daemon_main(int argc, char **argv)
{
    struct fake f;
    memset(&f, 0, sizeof f);
    f.exit_at_ms = INT64_MAX;
    if (fake_args(&f, argc, argv) < 0)
        return 100;
    f.dirfd = open(f.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    fake_read_cfg(&f);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (f.fail_start) {
        if (f.ready_fd >= 0)
            (void)!write(f.ready_fd, "Eboom", 5);
        return 1;
    }
    if (fake_setup(&f) < 0)
        return 111;
    struct pod_err err = POD_ERR_ZERO;
    if (loop_add(f.loop, sfd, LOOP_IN, fake_on_signal, &f, &err) < 0)
        return 111;
    if (f.ready_fd >= 0 && !f.no_ready) {
        (void)!write(f.ready_fd, "1", 1);
        close(f.ready_fd);
    }
    while (clk_mono_ms(&clk_real) < f.exit_at_ms) {
        int64_t dl = holdc_next_deadline(f.hc), c = ctl_server_next_deadline(f.ctl);
        dl = c < dl ? c : dl;
        dl = f.exit_at_ms < dl ? f.exit_at_ms : dl;
        if (loop_run_once(f.loop, &clk_real, dl, &err) < 0)
            return 111;
        holdc_run(f.hc);
        ctl_server_tick(f.ctl);
    }
    ctl_server_free(f.ctl, true);
    fake_event(&f, "bye");
    holdc_bye(f.hc);
    holdc_free(f.hc);
    for (size_t i = 0; i < f.n; i++) {
        close(f.fds[i]);
        free(f.keys[i]);
    }
    loop_free(f.loop);
    return 0;
}

#endif
