/* SPDX-License-Identifier: MIT */
/* life_files.c - the pod directory as the lifecycle actions see it (see life_int.h): the lock
 * (is a supervisor alive), .<b>.status (its `status:`), .<b>.state (was it saved live),
 * .<b>.hostif (the host interface the pod was created with), .<b>.run.  No podman here. */
#include "life_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pod/daemon.h"
#include "pod/drv.h"
#include "pod/util.h"

/* ------------------------------------------------------------------ context */

int life_open(struct life *l, const struct life_env *e, struct pod_err *err)
{
    memset(l, 0, sizeof *l);
    l->e = e;
    const char *b = e->name;
    if (ident_file(l->f_status, b, "status") < 0 || ident_file(l->f_state, b, "state") < 0 ||
        ident_file(l->f_lock, b, "lock") < 0 || ident_file(l->f_sock, b, "sock") < 0 ||
        ident_file(l->f_hostif, b, "hostif") < 0 || ident_file(l->f_pid, b, "pid") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", b);
    l->pod = spec_pod_fullname(e->spec);
    l->rc = (struct rt_ctx){.spec = e->spec, .pod_dir = e->dir, .podman = e->podman};
    rt_argv_ctx(&l->rc, &l->ac);
    l->ac.pod_dir = e->dir;
    l->f.pod_exists = l->f.running = l->f.containers = -1;
    l->f.status_word = l->status_word;
    l->stored_if = xstrdup("");
    l->f.stored_if = l->stored_if;
    return 0;
}

void life_close(struct life *l)
{
    free(l->pod);
    free(l->stored_if);
    l->pod = l->stored_if = NULL;
}

int life_fail(const struct pod_err *err)
{
    if (err->msg[0])
        pod_log(POD_LOG_ERROR, "%s", err->msg);
    return pod_err_exit_code(err);
}

char *life_file_path(const struct life *l, const char *file)
{
    return pod_path_join(l->e->dir, file);
}

/* ------------------------------------------------------------------ facts */

static bool exists(const struct life *l, const char *file)
{
    char *p = life_file_path(l, file);
    struct stat st;
    bool yes = lstat(p, &st) == 0;
    free(p);
    return yes;
}

/* Reads the pod directory's file (no link followed, no FIFO waited on, at most max bytes:
 * SPEC 7.5.1); NULL when missing, and NULL with a warning when refused. */
static char *read_dot(const struct life *l, const char *file, size_t max, size_t *len)
{
    char *text = NULL;
    struct pod_err err = POD_ERR_ZERO;
    int dfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 ? pod_err_set(&err, POD_E_IO, errno, "open %s", l->e->dir)
                     : pod_read_file_at(dfd, file, max, &text, len, &err);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0 && err.code != POD_E_NOTFOUND)
        pod_log(POD_LOG_WARN, "%s (ignored)", err.msg);
    return rc < 0 ? NULL : text;
}

char *life_status_text(const struct life *l, size_t *len)
{
    return read_dot(l, l->f_status, DRV_STATUS_MAX_BYTES, len);
}

/* Whether .<b>.state was saved by a supervisor that had not stopped the pod. */
static bool state_live(const struct life *l)
{
    size_t len;
    char *text = read_dot(l, l->f_state, DRV_STATE_MAX_BYTES, &len);
    if (!text)
        return false;
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    const char *ph = json_string_value(json_object_get(json_object_get(root, "sup"), "phase"));
    bool live = ph && strcmp(ph, "exited") != 0;
    json_decref(root);
    return live;
}

int life_check_dir(const struct life *l, struct pod_err *err)
{
    int dfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", l->e->dir);
    int rc = daemon_podir_check(dfd, l->e->spec, l->e->name, err);
    close(dfd);
    return rc;
}

/* No supervisor runs (holder and daemon died together, e.g. SIGKILLed): the status file must
 * not say ready (SPEC 7: `readiness: 0` whenever no daemon runs). */
static void mark_down(const struct life *l, int dirfd)
{
    size_t len;
    char *text = life_status_text(l, &len);
    char *pid = text ? drv_status_get(text, len, NULL, "pid") : NULL;
    char *ready = text ? drv_status_get(text, len, NULL, "readiness") : NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (((pid && pid[0]) || (ready && strcmp(ready, "0") != 0)) &&
        ident_status_down(dirfd, l->f_status, &err) < 0)
        pod_log(POD_LOG_WARN, "%s", err.msg);
    free(pid);
    free(ready);
    free(text);
}

int life_local_facts(struct life *l, struct pod_err *err)
{
    int dirfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", l->e->dir);
    int rc = ident_lock_held(dirfd, l->f_lock, &l->f.supervisor, err);
    if (rc == 0 && !l->f.supervisor)
        mark_down(l, dirfd);
    close(dirfd);
    if (rc < 0)
        return -1;
    l->f.traces = exists(l, l->f_status) || exists(l, l->f_state) || exists(l, l->f_lock) ||
                  exists(l, l->f_hostif);
    l->status_word[0] = '\0';
    size_t len;
    char *text = life_status_text(l, &len);
    if (text) {
        char *w = drv_status_get(text, len, NULL, "status");
        snprintf(l->status_word, sizeof l->status_word, "%s", w ? w : "");
        free(w);
        free(text);
    }
    l->f.state_live = state_live(l);
    char *ip = NULL;
    struct pod_err e2 = POD_ERR_ZERO;
    if (daemon_hostif_read(l->e->dir, l->e->name, &ip, &e2) < 0)
        pod_log(POD_LOG_WARN, "%s (ignored)", e2.msg);
    free(l->stored_if);
    l->stored_if = ip ? ip : xstrdup("");
    l->f.stored_if = l->stored_if;
    return 0;
}

/* ------------------------------------------------------------------ writing */

/* The pod directory's own files are written and removed at its descriptor, no link
 * followed (SPEC 7.5.1). */
static int write_dot(const char *dir, const char *file, const char *text, struct pod_err *err)
{
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return pod_err_set(err, POD_E_IO, errno, "open %s", dir);
    int rc = pod_write_file_atomic_at(dfd, file, text, strlen(text), 0644, err);
    close(dfd);
    return rc;
}

int life_hostif_write(const struct life *l, const char *ip, struct pod_err *err)
{
    char *text = xasprintf("%s\n", ip ? ip : "");
    int rc = write_dot(l->e->dir, l->f_hostif, text, err);
    free(text);
    return rc;
}

void life_state_forget(const struct life *l)
{
    struct pod_err err = POD_ERR_ZERO;
    int dfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || pod_unlink_beneath(dfd, l->f_state, &err) < 0)
        pod_log(POD_LOG_WARN, "%s", dfd < 0 ? strerror(errno) : err.msg);
    if (dfd >= 0)
        close(dfd);
}

/* Removes .<b>.run: the agents' sockets and directories, through descriptors beneath the pod
 * directory (a link in the way is left alone, never followed: SPEC 7.5.1). */
void life_run_dir_remove(const struct life *l)
{
    char *name = xasprintf(".%s.run", l->e->name);
    struct pod_err err = POD_ERR_ZERO;
    int dfd = open(l->e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rfd = dfd < 0 ? -1 : pod_open_beneath(dfd, name, O_RDONLY | O_DIRECTORY, 0, &err);
    DIR *d = rfd < 0 ? NULL : fdopendir(rfd);
    if (rfd >= 0 && !d)
        close(rfd);
    if (rfd < 0 && err.code != POD_E_NOTFOUND && err.msg[0])
        pod_log(POD_LOG_WARN, "%s (not removed)", err.msg);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd >= 0) {
            (void)unlinkat(sfd, "agent.sock", 0);
            close(sfd);
        }
        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            pod_log(POD_LOG_DEBUG, "rmdir %s/%s: %s", name, de->d_name, strerror(errno));
    }
    if (d) {
        (void)unlinkat(dirfd(d), DAEMON_CONFIG_SUMS, 0);
        closedir(d);
        (void)unlinkat(dfd, name, AT_REMOVEDIR);
    }
    if (dfd >= 0)
        close(dfd);
    free(name);
}

/* ------------------------------------------------------------------ the status file */

/* Rewrites the pod-level keys of the status text; containers get running/ready 0. */
char *life_status_marked(const char *text, const char *word, long long now)
{
    struct pod_buf b = {0};
    bool in_ctrs = false;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char key[32] = "";
        sscanf(p, "%31[^: ]:", key);
        bool top = p[0] != ' ';
        if (top && strncmp(p, "containers:", 11) == 0)
            in_ctrs = true;
        if (top && !in_ctrs && strcmp(key, "status") == 0)
            pod_buf_printf(&b, "status: %s\n", word);
        else if (top && !in_ctrs && strcmp(key, "phase") == 0)
            pod_buf_printf(&b, "phase: %s\n", strcmp(word, "removed") ? word : "exited");
        else if (top && !in_ctrs && strcmp(key, "pid") == 0)
            pod_buf_adds(&b, "pid:\n");
        else if (top && !in_ctrs && (strcmp(key, "readiness") == 0 || strcmp(key, "healthy") == 0))
            pod_buf_printf(&b, "%s: 0\n", key);
        else if (top && !in_ctrs && strcmp(key, "updated") == 0)
            pod_buf_printf(&b, "updated: %lld\n", now);
        else if (!top && in_ctrs && strncmp(p, "      running: ", 15) == 0)
            pod_buf_adds(&b, "      running: 0\n");
        else if (!top && in_ctrs && strncmp(p, "      ready: ", 13) == 0)
            pod_buf_adds(&b, "      ready: 0\n");
        else
            pod_buf_printf(&b, "%.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    return pod_buf_take(&b);
}

int life_status_mark(const struct pod_spec *s, const char *dir, const char *name, const char *word,
                     struct pod_err *err)
{
    char file[IDENT_FILE_MAX];
    if (ident_file(file, name, "status") < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", name);
    char *text = NULL, *out;
    size_t len;
    struct pod_err e2 = POD_ERR_ZERO;
    long long now = (long long)time(NULL);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rd = dfd < 0 ? -1 : pod_read_file_at(dfd, file, DRV_STATUS_MAX_BYTES, &text, &len, &e2);
    if (dfd >= 0)
        close(dfd);
    if (rd < 0 && e2.code == POD_E_FAILED) /* a link, a FIFO, too large: replaced (tmp+rename) */
        pod_log(POD_LOG_WARN, "%s: replaced", e2.msg);
    if (rd == 0) {
        out = life_status_marked(text, word, now);
    } else {
        char *pod = spec_pod_fullname(s);
        out = xasprintf("pod: %s\npodVersion: %s\nhostPorts:\ncreated:\nstarted:\nupdated: "
                        "%lld\nstatus: %s\nphase: exited\npid:\nreadiness: 0\nhealthy: 0\n"
                        "containers:\n",
                        pod, s->version ? s->version : "", now, word);
        free(pod);
    }
    int rc = write_dot(dir, file, out, err);
    free(out);
    free(text);
    return rc;
}
