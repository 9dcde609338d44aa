/* SPDX-License-Identifier: MIT */
/* agentctl.c - talks to an in-container agent through the daemon's own client (src/agent), for
 * tests/agent/podman.sh.  Prints one result line; exit 0 when the agent answered, 1 when not.
 *
 *   agentctl SOCK run TIMEOUT_MS -- ARGV...      ok CODE | timeout | cancelled | error E | lost:
 * why agentctl SOCK cancel AFTER_MS -- ARGV...     runs without timeout, cancels after AFTER_MS
 *   agentctl SOCK many N TIMEOUT_MS -- ARGV...   N at once: "N ok CODE" when all ended alike
 *   agentctl SOCK drop AFTER_MS -- ARGV...       runs, then closes the connection after AFTER_MS
 *   agentctl SOCK garbage                        after HELLO, sends a frame the agent must refuse:
 *                                                "dropped" when the agent closed the connection
 *   agentctl SOCK hello                          prints "pid N" (the agent's pid in its namespace)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_sync.h"
#include "pod/util.h"

#define CONNECT_MS 5000

static int usage(void)
{
    fprintf(stderr, "usage: agentctl SOCK run|cancel|many|drop|garbage|hello ...\n");
    return 100;
}

static void print_result(const struct sync *s, size_t i)
{
    switch (s->st[i]) {
    case AGENT_OK:
        printf("ok %d\n", s->code[i]);
        break;
    case AGENT_ERROR:
        printf("error %d\n", s->code[i]);
        break;
    case AGENT_LOST:
        printf("lost: %s\n", s->why);
        break;
    default:
        printf("%s\n", agent_state_name(s->st[i]));
    }
}

static bool connect_ready(struct sync *s)
{
    struct pod_err err = POD_ERR_ZERO;
    if (agent_connect(s->c, clk_mono_ms(&clk_real) + CONNECT_MS, &err) < 0 ||
        !sync_wait(s, 0, CONNECT_MS + 500)) {
        printf("lost: %s\n", s->why[0] ? s->why : "not ready");
        return false;
    }
    return true;
}

/* A raw connection, for what the client library would never send. */
static int raw_garbage(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        printf("connect: %s\n", strerror(errno));
        return 1;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf); /* HELLO */
    /* a RUN with a negative timeout, then bytes that are no frame at all */
    static const char bad[] = "\x0e\0\0\0RUN\0"
                              "1\0"
                              "-5\0"
                              "true\0"
                              "\xff\xff\xff\x7fjunk";
    if (n <= 0 || write(fd, bad, sizeof bad - 1) < 0) {
        printf("no hello\n");
        return 1;
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (poll(&pf, 1, 3000) == 1) {
        n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            printf("dropped\n");
            return 0;
        }
    }
    printf("not dropped\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *sock = argv[1], *cmd = argv[2];
    if (strcmp(cmd, "garbage") == 0)
        return raw_garbage(sock);
    struct sync *s = xcalloc(1, sizeof *s);
    sync_init(s, sock);
    int rc = 1;
    if (strcmp(cmd, "hello") == 0) {
        rc = connect_ready(s) ? 0 : 1;
        if (rc == 0)
            printf("ready\n");
        goto out;
    }
    long long num = 0, num2 = 0;
    int dd = 4;
    if (argc < 5 || !pod_parse_int(argv[3], 0, 1000000000, &num))
        return usage();
    if (strcmp(cmd, "many") == 0) {
        if (!pod_parse_int(argv[4], 0, 1000000000, &num2) || num < 1 || num > SYNC_MAX)
            return usage();
        dd = 5;
    }
    if (argc <= dd + 1 || strcmp(argv[dd], "--") != 0)
        return usage();
    char **av = argv + dd + 1;
    if (!connect_ready(s))
        goto out;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = clk_mono_ms(&clk_real);
    if (strcmp(cmd, "run") == 0) {
        if (agent_run(s->c, 1, num, av, &err) < 0)
            goto fail;
        if (sync_wait(s, 1, num + AGENT_REPLY_GRACE_MS + 5000)) {
            print_result(s, 0);
            rc = s->st[0] == AGENT_LOST ? 1 : 0;
        }
    } else if (strcmp(cmd, "cancel") == 0) {
        if (agent_run(s->c, 1, 0, av, &err) < 0)
            goto fail;
        (void)sync_wait(s, 1, num);
        if (s->ended == 0 && agent_cancel(s->c, 1, &err) < 0)
            goto fail;
        if (sync_wait(s, 1, AGENT_REPLY_GRACE_MS + 5000)) {
            print_result(s, 0);
            fprintf(stderr, "agentctl: cancelled after %lld ms\n",
                    (long long)(clk_mono_ms(&clk_real) - t0));
            rc = s->st[0] == AGENT_CANCELLED ? 0 : 1;
        }
    } else if (strcmp(cmd, "many") == 0) {
        for (long long i = 0; i < num; i++)
            if (agent_run(s->c, (uint64_t)i + 1, num2, av, &err) < 0)
                goto fail;
        if (sync_wait(s, (size_t)num, num2 + AGENT_REPLY_GRACE_MS + 10000)) {
            size_t same = 0;
            for (size_t i = 0; i < s->ended; i++)
                same += s->st[i] == s->st[0] && s->code[i] == s->code[0];
            if (same == s->ended) {
                printf("%zu ", s->ended);
                print_result(s, 0);
                rc = 0;
            } else {
                printf("%zu of %zu alike\n", same, s->ended);
            }
        }
    } else if (strcmp(cmd, "drop") == 0) {
        if (agent_run(s->c, 1, 0, av, &err) < 0)
            goto fail;
        (void)sync_wait(s, 1, num);
        printf(s->ended ? "ended before the drop\n" : "dropped with 1 running\n");
        rc = s->ended ? 1 : 0;
    } else {
        rc = usage();
    }
    goto out;
fail:
    printf("refused: %s\n", err.msg);
out:
    fflush(stdout);
    sync_fini(s);
    free(s);
    return rc;
}
