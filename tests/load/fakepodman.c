/* SPDX-License-Identifier: MIT */
/* fakepodman.c - a small, fast stand-in for podman, for load tests (tests/load/load.sh).
 *
 * Given to pods through POD_PODMAN, it answers exactly the podman calls of SPEC 7.8 (pod
 * create/exists/stop/rm, run -d, container inspect, ps, wait, stop, kill, rm, image exists,
 * pull, volume create/exists/inspect/rm) with podman's exit codes and JSON shapes.  A test tool
 * only: built by tests/stress.mk, linked into no product binary, no code of the project.
 *
 * State lives in $FAKEPODMAN_DIR (default /tmp/ldfakepodman): one text file per container
 * (c/<name>), pod (p/<name>) and volume (v/<name>), changed under one flock (lock).  A container
 * is real: `run -d` forks a monitor (our "conmon": `fakepodman __conmon --exit-dir D -c ID`)
 * that starts the command (entrypoint + args, executed on the host; none: `sleep infinity`)
 * as PID 1 of a new pid namespace with the caller's stdout/stderr (passthrough), records its
 * pid, waits for it and writes the exit file D/ID and the state (128+signal when killed), the
 * way conmon does.  So the daemon's exit source (pidfd + exit file) sees what it sees on podman.
 *
 * Extra verbs for tests: `__crash-all [SIG]` kills every running container's PID 1 (default
 * SIGKILL); `__reaper CMD...` runs CMD as a child subreaper and reaps every orphan until CMD
 * exits (this machine's PID 1 does not reap), then a few seconds more.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define MAX_LABELS 32
#define MAX_ARGS 64

struct ctr {
    char name[256];
    char id[65];
    char pod[256];
    char status[16]; /* created, running, exited */
    int pid, conmon, exit_code;
    long long started_ns, finished_ns;
    int nlabels;
    char labels[MAX_LABELS][256];
};

static char g_dir[PATH_MAX];
static int g_lock = -1;

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("Error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static long long wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void lock(void)
{
    if (g_lock < 0) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof p, "%s/lock", g_dir);
        g_lock = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (g_lock < 0)
            die(125, "fakepodman: %s: %s", p, strerror(errno));
    }
    while (flock(g_lock, LOCK_EX) < 0 && errno == EINTR)
        ;
}

static void unlock(void)
{
    if (g_lock >= 0)
        flock(g_lock, LOCK_UN);
}

static void path_of(char *buf, size_t cap, char kind, const char *name)
{
    snprintf(buf, cap, "%s/%c/%s", g_dir, kind, name);
}

static bool bad_name(const char *n)
{
    return !n || !n[0] || strchr(n, '/') || n[0] == '.' || strlen(n) > 200;
}

/* ------------------------------------------------------------------ container records */

static bool ctr_load(const char *name, struct ctr *c)
{
    memset(c, 0, sizeof *c);
    if (bad_name(name))
        return false;
    char p[PATH_MAX + 300];
    path_of(p, sizeof p, 'c', name);
    FILE *f = fopen(p, "re");
    if (!f)
        return false;
    snprintf(c->name, sizeof c->name, "%s", name);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *v = strchr(line, ' ');
        if (!v)
            continue;
        *v++ = 0;
        if (!strcmp(line, "id"))
            snprintf(c->id, sizeof c->id, "%s", v);
        else if (!strcmp(line, "pod"))
            snprintf(c->pod, sizeof c->pod, "%s", v);
        else if (!strcmp(line, "status"))
            snprintf(c->status, sizeof c->status, "%s", v);
        else if (!strcmp(line, "pid"))
            c->pid = atoi(v);
        else if (!strcmp(line, "conmon"))
            c->conmon = atoi(v);
        else if (!strcmp(line, "exit"))
            c->exit_code = atoi(v);
        else if (!strcmp(line, "started"))
            c->started_ns = atoll(v);
        else if (!strcmp(line, "finished"))
            c->finished_ns = atoll(v);
        else if (!strcmp(line, "label") && c->nlabels < MAX_LABELS)
            snprintf(c->labels[c->nlabels++], sizeof c->labels[0], "%s", v);
    }
    fclose(f);
    return true;
}

static void ctr_save(const struct ctr *c)
{
    char p[PATH_MAX + 300], t[PATH_MAX + 310];
    path_of(p, sizeof p, 'c', c->name);
    snprintf(t, sizeof t, "%s.tmp", p);
    FILE *f = fopen(t, "we");
    if (!f)
        die(125, "fakepodman: %s: %s", t, strerror(errno));
    fprintf(
        f, "id %s\npod %s\nstatus %s\npid %d\nconmon %d\nexit %d\nstarted %lld\nfinished %lld\n",
        c->id, c->pod, c->status, c->pid, c->conmon, c->exit_code, c->started_ns, c->finished_ns);
    for (int i = 0; i < c->nlabels; i++)
        fprintf(f, "label %s\n", c->labels[i]);
    if (fclose(f) != 0 || rename(t, p) < 0)
        die(125, "fakepodman: writing %s: %s", p, strerror(errno));
}

/* By name or id (full or a prefix of at least 12). */
static bool ctr_find(const char *who, struct ctr *c)
{
    if (ctr_load(who, c))
        return true;
    size_t n = strlen(who);
    if (n < 12)
        return false;
    char d[PATH_MAX + 4];
    snprintf(d, sizeof d, "%s/c", g_dir);
    DIR *dir = opendir(d);
    struct dirent *de;
    bool found = false;
    while (dir && !found && (de = readdir(dir)))
        if (de->d_name[0] != '.' && !strstr(de->d_name, ".tmp") && ctr_load(de->d_name, c) &&
            strncmp(c->id, who, n) == 0)
            found = true;
    if (dir)
        closedir(dir);
    return found;
}

static void ctr_remove_file(const char *name)
{
    char p[PATH_MAX + 300];
    path_of(p, sizeof p, 'c', name);
    unlink(p);
}

static const char *label_value(const struct ctr *c, const char *key)
{
    size_t k = strlen(key);
    for (int i = 0; i < c->nlabels; i++)
        if (strncmp(c->labels[i], key, k) == 0 && c->labels[i][k] == '=')
            return c->labels[i] + k + 1;
    return NULL;
}

/* ------------------------------------------------------------------ JSON out */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_time(FILE *f, long long ns)
{
    if (ns <= 0) {
        fputs("\"0001-01-01T00:00:00Z\"", f);
        return;
    }
    time_t s = (time_t)(ns / 1000000000LL);
    struct tm tm;
    gmtime_r(&s, &tm);
    fprintf(f, "\"%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000LL);
}

static void json_labels(FILE *f, const struct ctr *c)
{
    fputc('{', f);
    for (int i = 0; i < c->nlabels; i++) {
        char k[256];
        snprintf(k, sizeof k, "%s", c->labels[i]);
        char *eq = strchr(k, '=');
        const char *v = "";
        if (eq) {
            *eq = 0;
            v = eq + 1;
        }
        if (i)
            fputc(',', f);
        json_str(f, k);
        fputc(':', f);
        json_str(f, v);
    }
    fputc('}', f);
}

/* ------------------------------------------------------------------ processes */

static bool alive(int pid)
{
    return pid > 0 && kill(pid, 0) == 0;
}

/* Waits until the record says exited (or is gone), at most timeout_ms; true when it did. */
static bool wait_exited(const char *name, long long timeout_ms)
{
    for (long long waited = 0;; waited += 5) {
        struct ctr c;
        if (!ctr_load(name, &c) || strcmp(c.status, "running") != 0)
            return true;
        if (!alive(c.pid) && !alive(c.conmon)) { /* monitor gone without a word: record it */
            lock();
            if (ctr_load(name, &c) && !strcmp(c.status, "running")) {
                snprintf(c.status, sizeof c.status, "exited");
                c.exit_code = 137;
                c.finished_ns = wall_ns();
                ctr_save(&c);
            }
            unlock();
            return true;
        }
        if (waited >= timeout_ms)
            return false;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

static void signal_ctr(const char *name, int sig)
{
    struct ctr c;
    if (ctr_load(name, &c) && !strcmp(c.status, "running") && c.pid > 0)
        kill(c.pid, sig);
}

/* The monitor: fakepodman __conmon --exit-dir D -c ID --name NAME -- CMD... (fds 1, 2: the
 * container's; fd 3: the ready pipe). */
static int conmon_main(int argc, char **argv)
{
    const char *exit_dir = NULL, *id = NULL, *name = NULL;
    int i = 2;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--exit-dir") && i + 1 < argc)
            exit_dir = argv[++i];
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            id = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
    }
    if (!exit_dir || !id || !name || i >= argc)
        return 125;
    if (unshare(CLONE_NEWPID) < 0) {
        dprintf(2, "Error: fakepodman: unshare(CLONE_NEWPID): %s\n", strerror(errno));
        return 125;
    }
    long long started = wall_ns();
    pid_t pid = fork();
    if (pid < 0)
        return 125;
    if (pid == 0) {
        close(3);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[i], argv + i);
        dprintf(2, "Error: fakepodman: exec %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) { /* the monitor holds no copy of the log pipes */
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    lock();
    struct ctr c;
    if (ctr_load(name, &c) && !strcmp(c.id, id)) {
        c.pid = pid;
        c.conmon = getpid();
        c.started_ns = started;
        snprintf(c.status, sizeof c.status, "running");
        ctr_save(&c);
    }
    unlock();
    (void)!write(3, "1", 1);
    close(3);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    char p[PATH_MAX + 100], t[PATH_MAX + 110];
    snprintf(p, sizeof p, "%s/%s", exit_dir, id);
    snprintf(t, sizeof t, "%s.tmp", p);
    FILE *f = fopen(t, "we");
    if (f) {
        fprintf(f, "%d", code);
        fclose(f);
        rename(t, p);
    }
    lock();
    if (ctr_load(name, &c) && !strcmp(c.id, id)) {
        snprintf(c.status, sizeof c.status, "exited");
        c.exit_code = code;
        c.finished_ns = wall_ns();
        ctr_save(&c);
    }
    unlock();
    return 0;
}

/* ------------------------------------------------------------------ verbs */

static void new_id(char out[65])
{
    unsigned char r[32];
    FILE *f = fopen("/dev/urandom", "re");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r)
        die(125, "fakepodman: /dev/urandom");
    fclose(f);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

/* Kills a running container and forgets it (rm -f); caller holds the lock. */
static void ctr_destroy(const char *name)
{
    struct ctr c;
    if (!ctr_load(name, &c))
        return;
    if (!strcmp(c.status, "running") && c.pid > 0)
        kill(c.pid, SIGKILL);
    ctr_remove_file(name);
}

/* Parses a JSON array of strings (podman's --entrypoint) into argv words stored in buf. */
static int json_str_array(const char *s, char *buf, size_t cap, char **v, int *n)
{
    size_t k = 0;
    while (*s == ' ')
        s++;
    if (*s++ != '[')
        return -1;
    for (;;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ']')
            return 0;
        if (*s++ != '"' || *n >= MAX_ARGS)
            return -1;
        v[(*n)++] = buf + k;
        for (; *s != '"'; s++) {
            if (!*s || k + 2 >= cap)
                return -1;
            char ch = *s;
            if (ch == '\\') {
                s++;
                switch (*s) {
                case 'n':
                    ch = '\n';
                    break;
                case 't':
                    ch = '\t';
                    break;
                case 'r':
                    ch = '\r';
                    break;
                case 'u': { /* ASCII only: enough for tests */
                    unsigned u = 0;
                    if (sscanf(s + 1, "%4x", &u) != 1 || u > 0x7f)
                        return -1;
                    ch = (char)u;
                    s += 4;
                    break;
                }
                case '\0':
                    return -1;
                default:
                    ch = *s; /* \" \\ \/ */
                }
            }
            buf[k++] = ch;
        }
        s++;
        buf[k++] = 0;
    }
}

static int verb_run(int argc, char **argv, int i)
{
    const char *name = NULL, *pod = NULL, *entry = NULL;
    struct ctr c;
    memset(&c, 0, sizeof c);
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--name") && next)
            name = argv[++i];
        else if (!strcmp(a, "--pod") && next)
            pod = argv[++i];
        else if (!strcmp(a, "--label") && next) {
            if (c.nlabels < MAX_LABELS)
                snprintf(c.labels[c.nlabels++], sizeof c.labels[0], "%s", argv[i + 1]);
            i++;
        } else if (!strcmp(a, "--entrypoint") && next)
            entry = argv[++i];
        else if (!strcmp(a, "--network") || !strcmp(a, "--log-driver") ||
                 !strcmp(a, "--stop-timeout") || !strcmp(a, "-e") || !strcmp(a, "-v") ||
                 !strcmp(a, "--workdir"))
            i++;
    }
    if (i >= argc || bad_name(name) || i + 1 >= argc)
        die(125, "fakepodman run: need --name NAME -- IMAGE");
    i += 2; /* past "--" and the image */
    /* the command: the --entrypoint JSON array (strings without escapes) + args */
    char *cmd[MAX_ARGS + 1];
    int n = 0;
    char ebuf[4096] = "";
    if (entry && json_str_array(entry, ebuf, sizeof ebuf, cmd, &n) < 0)
        die(125, "fakepodman run: --entrypoint: not a JSON array of strings: %s", entry);
    for (; i < argc && n < MAX_ARGS; i++)
        cmd[n++] = argv[i];
    if (n == 0) {
        cmd[n++] = "sleep";
        cmd[n++] = "infinity";
    }
    cmd[n] = NULL;
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.pod, sizeof c.pod, "%s", pod ? pod : "");
    snprintf(c.status, sizeof c.status, "created");
    new_id(c.id);
    lock();
    if (pod) {
        char p[PATH_MAX + 300];
        path_of(p, sizeof p, 'p', pod);
        if (access(p, F_OK) != 0) {
            unlock();
            die(125, "no pod with name or ID %s found: no such pod", pod);
        }
    }
    struct ctr old;
    if (ctr_load(name, &old)) { /* --replace */
        ctr_destroy(name);
        printf("%s\n", name);
        fflush(stdout);
    }
    ctr_save(&c);
    unlock();
    char exit_dir[PATH_MAX + 8];
    snprintf(exit_dir, sizeof exit_dir, "%s/exits", g_dir);
    int rp[2];
    if (pipe(rp) < 0)
        die(125, "pipe: %s", strerror(errno));
    pid_t a = fork();
    if (a < 0)
        die(125, "fork: %s", strerror(errno));
    if (a == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        close(rp[0]);
        if (rp[1] != 3) {
            dup2(rp[1], 3);
            close(rp[1]);
        }
        char *mv[MAX_ARGS + 16];
        int k = 0;
        mv[k++] = "fakepodman";
        mv[k++] = "__conmon";
        mv[k++] = "--exit-dir";
        mv[k++] = exit_dir;
        mv[k++] = "-c";
        mv[k++] = c.id;
        mv[k++] = "--name";
        mv[k++] = c.name;
        mv[k++] = "--";
        for (int j = 0; j < n; j++)
            mv[k++] = cmd[j];
        mv[k] = NULL;
        execv("/proc/self/exe", mv);
        _exit(125);
    }
    close(rp[1]);
    waitpid(a, NULL, 0);
    char ok = 0;
    ssize_t r;
    do
        r = read(rp[0], &ok, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || ok != '1')
        die(126, "fakepodman: container %s did not start", name);
    return 0; /* passthrough + -d: nothing on stdout */
}

static void print_inspect(const struct ctr *c)
{
    bool running = !strcmp(c->status, "running");
    printf("[{\"Id\":\"%s\",\"Name\":", c->id);
    json_str(stdout, c->name);
    printf(",\"State\":{\"Status\":\"%s\",\"Running\":%s,\"Pid\":%d,\"ConmonPid\":%d,"
           "\"ExitCode\":%d,\"StartedAt\":",
           c->status, running ? "true" : "false", running ? c->pid : 0, c->conmon, c->exit_code);
    json_time(stdout, c->started_ns);
    printf(",\"FinishedAt\":");
    json_time(stdout, running ? 0 : c->finished_ns);
    printf("},\"Pod\":");
    json_str(stdout, c->pod);
    printf(",\"Config\":{\"Labels\":");
    json_labels(stdout, c);
    printf("}}]\n");
}

static int verb_inspect(int argc, char **argv, int i)
{
    for (; i < argc && argv[i][0] == '-'; i++)
        if (!strcmp(argv[i], "--format"))
            i++;
    if (i >= argc)
        die(125, "inspect: no name");
    struct ctr c;
    if (!ctr_find(argv[i], &c)) {
        printf("[]\n");
        die(125, "no such container %s", argv[i]);
    }
    if (!strcmp(c.status, "running") && !alive(c.pid)) {
        /* PID 1 gone, the monitor not done yet: podman also says running for a moment */
    }
    print_inspect(&c);
    return 0;
}

static bool ps_match(const struct ctr *c, char **filters, int nf)
{
    for (int i = 0; i < nf; i++) {
        const char *f = filters[i];
        if (strncmp(f, "label=", 6) != 0)
            continue;
        f += 6;
        const char *eq = strchr(f, '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - f) : (int)strlen(f), f);
        const char *v = label_value(c, key);
        if (!v || (eq && strcmp(v, eq + 1) != 0))
            return false;
    }
    return true;
}

static int verb_ps(int argc, char **argv, int i)
{
    char *filters[16];
    int nf = 0;
    for (; i < argc; i++)
        if (!strcmp(argv[i], "--filter") && i + 1 < argc && nf < 16)
            filters[nf++] = argv[++i];
    char d[PATH_MAX + 4];
    snprintf(d, sizeof d, "%s/c", g_dir);
    DIR *dir = opendir(d);
    struct dirent *de;
    int k = 0;
    printf("[");
    while (dir && (de = readdir(dir))) {
        struct ctr c;
        if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp") || !ctr_load(de->d_name, &c) ||
            !ps_match(&c, filters, nf))
            continue;
        bool running = !strcmp(c.status, "running");
        printf("%s{\"Id\":\"%s\",\"Names\":[", k++ ? "," : "", c.id);
        json_str(stdout, c.name);
        printf("],\"State\":\"%s\",\"ExitCode\":%d,\"Pid\":%d,\"StartedAt\":%lld,"
               "\"ExitedAt\":%lld,\"Labels\":",
               c.status, c.exit_code, running ? c.pid : 0, c.started_ns / 1000000000LL,
               c.finished_ns / 1000000000LL);
        json_labels(stdout, &c);
        printf("}");
    }
    if (dir)
        closedir(dir);
    printf("]\n");
    return 0;
}

static int verb_wait(int argc, char **argv, int i)
{
    if (i >= argc)
        die(125, "wait: no name");
    struct ctr c;
    if (!ctr_find(argv[i], &c))
        die(125, "no container with name or ID \"%s\" found: no such container", argv[i]);
    wait_exited(c.name, LLONG_MAX / 2);
    if (!ctr_load(c.name, &c))
        die(125, "no container with name or ID \"%s\" found: no such container", argv[i]);
    printf("%d\n", c.exit_code);
    return 0;
}

static int verb_stop(int argc, char **argv, int i)
{
    int t = 10;
    for (; i < argc && argv[i][0] == '-'; i++)
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            t = atoi(argv[++i]);
    if (i >= argc)
        die(125, "stop: no name");
    struct ctr c;
    if (!ctr_find(argv[i], &c))
        die(125, "no container with name or ID \"%s\" found: no such container", argv[i]);
    signal_ctr(c.name, SIGTERM);
    if (!wait_exited(c.name, (long long)t * 1000)) {
        signal_ctr(c.name, SIGKILL);
        wait_exited(c.name, 30000);
    }
    printf("%s\n", argv[i]);
    return 0;
}

static int verb_kill(int argc, char **argv, int i)
{
    int sig = SIGKILL;
    for (; i < argc && argv[i][0] == '-'; i++)
        if ((!strcmp(argv[i], "--signal") || !strcmp(argv[i], "-s")) && i + 1 < argc)
            sig = atoi(argv[++i]);
    if (i >= argc)
        die(125, "kill: no name");
    struct ctr c;
    if (!ctr_find(argv[i], &c))
        die(125, "no container with name or ID \"%s\" found: no such container", argv[i]);
    if (strcmp(c.status, "running") != 0)
        die(125, "can only kill running containers. %s is in state %s: container state improper",
            c.id, c.status);
    kill(c.pid, sig);
    printf("%s\n", argv[i]);
    return 0;
}

static int verb_rm(int argc, char **argv, int i)
{
    bool force = false;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
            force = true;
        else if (!strcmp(argv[i], "-t"))
            i++;
    }
    if (i >= argc)
        die(125, "rm: no name");
    struct ctr c;
    if (!ctr_find(argv[i], &c)) {
        if (force)
            return 0;
        die(1, "no container with name or ID \"%s\" found: no such container", argv[i]);
    }
    if (!strcmp(c.status, "running") && !force)
        die(2, "cannot remove container %s as it is running", c.id);
    signal_ctr(c.name, SIGKILL);
    wait_exited(c.name, 10000);
    lock();
    ctr_remove_file(c.name);
    unlock();
    printf("%s\n", c.id);
    return 0;
}

/* Every container of pod P (by --pod). */
static int pod_ctrs(const char *pod, char names[][256], int cap)
{
    char d[PATH_MAX + 4];
    snprintf(d, sizeof d, "%s/c", g_dir);
    DIR *dir = opendir(d);
    struct dirent *de;
    int n = 0;
    while (dir && n < cap && (de = readdir(dir))) {
        struct ctr c;
        if (de->d_name[0] != '.' && !strstr(de->d_name, ".tmp") && ctr_load(de->d_name, &c) &&
            !strcmp(c.pod, pod))
            snprintf(names[n++], 256, "%s", c.name);
    }
    if (dir)
        closedir(dir);
    return n;
}

static int verb_pod(int argc, char **argv, int i)
{
    if (i >= argc)
        die(125, "pod: no verb");
    const char *verb = argv[i++];
    const char *name = NULL;
    int t = 10;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            t = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--label") || !strcmp(argv[i], "-p"))
            i++;
        else if (argv[i][0] != '-')
            name = argv[i];
    }
    if (bad_name(name))
        die(125, "pod %s: no name", verb);
    char p[PATH_MAX + 300];
    path_of(p, sizeof p, 'p', name);
    if (!strcmp(verb, "exists"))
        return access(p, F_OK) == 0 ? 0 : 1;
    if (!strcmp(verb, "create")) {
        lock();
        if (access(p, F_OK) == 0) {
            unlock();
            die(125, "adding pod to state: name \"%s\" is in use: pod already exists", name);
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
        unlock();
        char id[65];
        new_id(id);
        printf("%s\n", id);
        return 0;
    }
    static char names[256][256];
    if (!strcmp(verb, "stop") || !strcmp(verb, "rm")) {
        if (access(p, F_OK) != 0) {
            if (strcmp(verb, "rm") == 0)
                return 0; /* -i */
            die(125, "no pod with name or ID %s found: no such pod", name);
        }
        int n = pod_ctrs(name, names, 256);
        for (int k = 0; k < n; k++)
            signal_ctr(names[k], !strcmp(verb, "rm") ? SIGKILL : SIGTERM);
        for (int k = 0; k < n; k++)
            if (!wait_exited(names[k], (long long)t * 1000)) {
                signal_ctr(names[k], SIGKILL);
                wait_exited(names[k], 30000);
            }
        if (!strcmp(verb, "rm")) {
            lock();
            for (int k = 0; k < n; k++)
                ctr_remove_file(names[k]);
            unlink(p);
            unlock();
        }
        printf("%s\n", name);
        return 0;
    }
    die(125, "fakepodman: pod %s: not supported", verb);
    return 125;
}

static int verb_volume(int argc, char **argv, int i)
{
    if (i >= argc)
        die(125, "volume: no verb");
    const char *verb = argv[i++];
    const char *name = NULL;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--label") || !strcmp(argv[i], "--format"))
            i++;
        else if (argv[i][0] != '-')
            name = argv[i];
    }
    if (bad_name(name))
        die(125, "volume %s: no name", verb);
    char p[PATH_MAX + 300];
    path_of(p, sizeof p, 'v', name);
    bool exists = access(p, F_OK) == 0;
    if (!strcmp(verb, "exists"))
        return exists ? 0 : 1;
    if (!strcmp(verb, "create")) {
        if (exists)
            die(125, "volume with name %s already exists: volume already exists", name);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
        printf("%s\n", name);
        return 0;
    }
    if (!exists) {
        if (!strcmp(verb, "inspect"))
            printf("[]\n");
        die(125, "no volume with name \"%s\" found: no such volume", name);
    }
    if (!strcmp(verb, "rm")) {
        unlink(p);
        printf("%s\n", name);
        return 0;
    }
    if (!strcmp(verb, "inspect")) {
        printf("[{\"Name\":");
        json_str(stdout, name);
        printf(",\"Driver\":\"local\",\"Mountpoint\":\"%s\",\"Labels\":{}}]\n", p);
        return 0;
    }
    die(125, "fakepodman: volume %s: not supported", verb);
    return 125;
}

static int verb_crash_all(int argc, char **argv, int i)
{
    int sig = i < argc ? atoi(argv[i]) : SIGKILL;
    char d[PATH_MAX + 4];
    snprintf(d, sizeof d, "%s/c", g_dir);
    DIR *dir = opendir(d);
    struct dirent *de;
    int n = 0;
    while (dir && (de = readdir(dir))) {
        struct ctr c;
        if (de->d_name[0] != '.' && !strstr(de->d_name, ".tmp") && ctr_load(de->d_name, &c) &&
            !strcmp(c.status, "running") && c.pid > 0 && kill(c.pid, sig) == 0)
            n++;
    }
    if (dir)
        closedir(dir);
    printf("%d\n", n);
    return 0;
}

static int reaper_main(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t main_pid = fork();
    if (main_pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int code = 111, st;
    for (;;) {
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR)
            continue;
        if (p < 0)
            break;
        if (p == main_pid) {
            code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
    }
    /* a few more seconds for what the test left exiting; the rest goes to PID 1 */
    for (int k = 0; k < 50; k++) {
        while (waitpid(-1, &st, WNOHANG) > 0)
            ;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return code;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    const char *d = getenv("FAKEPODMAN_DIR");
    snprintf(g_dir, sizeof g_dir, "%s", d && d[0] ? d : "/tmp/ldfakepodman");
    if (argc > 1 && !strcmp(argv[1], "__reaper"))
        return reaper_main(argc, argv);
    char sub[PATH_MAX + 16];
    const char *subs[] = {"", "/c", "/p", "/v", "/exits"};
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
        snprintf(sub, sizeof sub, "%s%s", g_dir, subs[k]);
        if (mkdir(sub, 0700) < 0 && errno != EEXIST)
            die(125, "fakepodman: mkdir %s: %s", sub, strerror(errno));
    }
    if (getenv("FAKEPODMAN_TRACE")) { /* one line per call, for the tests */
        char t[PATH_MAX + 8];
        snprintf(t, sizeof t, "%s/calls", g_dir);
        FILE *f = fopen(t, "ae");
        if (f) {
            for (int k = 1; k < argc; k++)
                fprintf(f, "%s%s", k > 1 ? " " : "", argv[k]);
            fputc('\n', f);
            fclose(f);
        }
    }
    if (argc < 2)
        die(125, "fakepodman: no command");
    const char *v = argv[1];
    if (!strcmp(v, "__conmon"))
        return conmon_main(argc, argv);
    if (!strcmp(v, "__crash-all"))
        return verb_crash_all(argc, argv, 2);
    if (!strcmp(v, "run"))
        return verb_run(argc, argv, 2);
    if (!strcmp(v, "container") && argc > 2 && !strcmp(argv[2], "inspect"))
        return verb_inspect(argc, argv, 3);
    if (!strcmp(v, "inspect"))
        return verb_inspect(argc, argv, 2);
    if (!strcmp(v, "ps"))
        return verb_ps(argc, argv, 2);
    if (!strcmp(v, "wait"))
        return verb_wait(argc, argv, 2);
    if (!strcmp(v, "stop"))
        return verb_stop(argc, argv, 2);
    if (!strcmp(v, "kill"))
        return verb_kill(argc, argv, 2);
    if (!strcmp(v, "rm"))
        return verb_rm(argc, argv, 2);
    if (!strcmp(v, "pod"))
        return verb_pod(argc, argv, 2);
    if (!strcmp(v, "volume"))
        return verb_volume(argc, argv, 2);
    if (!strcmp(v, "image") && argc > 2 && !strcmp(argv[2], "exists"))
        return 0;
    if (!strcmp(v, "pull"))
        return 0;
    if (!strcmp(v, "version") || !strcmp(v, "--version")) {
        printf("podman version 4.3.1 (fakepodman)\n");
        return 0;
    }
    die(125, "fakepodman: `%s` is not supported", v);
    return 125;
}
