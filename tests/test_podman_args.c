/* SPDX-License-Identifier: MIT */
/* test_podman_args.c - podman command lines (src/backend/podman_args.c): the exact argv for
 * representative specs; hostile strings ($(), backticks, ;, quotes, newlines, spaces) stay one
 * argv element each; what podman would misread is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/podman.h"
#include "pod/spec.h"
#include "pod/util.h"
#include "spec_fixture.h"

static const char full_yaml[] =
    "api: 1.0.0-beta2\n"
    "podVersion: 1.2.3\n"
    "labels:\n"
    "  - name: team\n"
    "    value: \"a b; $(rm -rf /) `id`\"\n"
    "volumes:\n"
    "  - name: tmp\n"
    "    type: ramdisk\n"
    "    size: 10M\n"
    "  - name: cfg\n"
    "    type: config\n"
    "  - name: data\n"
    "    type: volume\n"
    "  - name: shared\n"
    "    type: volume\n"
    "    shared: pod\n"
    "  - name: glob\n"
    "    type: volume\n"
    "    shared: host\n"
    "  - name: hostdir\n"
    "    type: host\n"
    "    bind: /srv/my data\n"
    "containers:\n"
    "  - name: web\n"
    "    image: localhost/podtest:1\n"
    "    command: [sh, -c]\n"
    "    args: ['echo \"$HOME\" `id`; exit 3', \"a b\", \"line1\\nline2\", \"it's\", "
    "--privileged]\n"
    "    workingDir: /opt/my files\n"
    "    stopTimeout: 3\n"
    "    env:\n"
    "      - name: WARP\n"
    "        value: 'activated ${myVar} \"world\" $(x) `y`; z'\n"
    "      - name: EMPTY\n"
    "        value: \"\"\n"
    "      - name: NL\n"
    "        value: \"a\\nb\"\n"
    "    mounts:\n"
    "      - dest: /mnt/tmp\n"
    "        volume: tmp\n"
    "      - dest: /etc/cfg\n"
    "        volume: cfg\n"
    "      - dest: /a\n"
    "        volume: data\n"
    "      - dest: /b\n"
    "        volume: shared\n"
    "      - dest: /c\n"
    "        volume: glob\n"
    "      - dest: /d\n"
    "        volume: hostdir\n"
    "    expose:\n"
    "      - targetPort: 80\n"
    "        hostPort: 8080\n"
    "      - targetPort: 443\n"
    "        hostPort: 8443\n"
    "        hostInterface: 10.0.0.7\n"
    "      - targetPort: 9999\n"
    "    readinessProbe:\n"
    "      cmd: [sh, -c, 'test -e /tmp/ready']\n"
    "  - name: proxy\n"
    "    image: localhost/podtest:1\n"
    "    network: host\n"
    "    expose:\n"
    "      - hostPort: 7070\n"
    "        clusterPort: 2001\n"
    "  - name: plain\n"
    "    image: localhost/podtest:1\n"
    "    args: [sleep, '100']\n";

static struct podman_argv_ctx ctx(const struct pod_spec *s, const char *host_interface)
{
    struct podman_argv_ctx c = {.spec = s,
                                .podman = "/usr/bin/podman",
                                .pod_dir = "/pods/my pod",
                                .exe_path = "/pods/my pod/pod",
                                .run_dir = "/pods/my pod/.pod.run",
                                .host_interface = host_interface};
    return c;
}

/* Compares argv with the NULL-terminated expected list; prints both on a mismatch. */
static void check_argv(char **argv, const char *const *want)
{
    assert_non_null(argv);
    size_t n = pod_strv_len(argv), m = 0;
    while (want[m])
        m++;
    bool same = n == m;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(argv[i], want[i]) == 0;
    if (!same) {
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  got[%zu]  = [%s]\n", i, argv[i]);
        for (size_t i = 0; i < m; i++)
            fprintf(stderr, "  want[%zu] = [%s]\n", i, want[i]);
    }
    assert_true(same);
    pod_strv_free(argv);
}

static void test_run__full_container(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, "10.0.0.5");
    struct pod_err err = POD_ERR_ZERO;
    static const char *const want[] = {"/usr/bin/podman",
                                       "run",
                                       "-d",
                                       "--replace",
                                       "--pull=never",
                                       "--name",
                                       "web-mypod-1.2.3",
                                       "--pod",
                                       "mypod-1.2.3",
                                       "--restart=no",
                                       "--log-driver",
                                       "passthrough",
                                       "--stop-timeout",
                                       "3",
                                       "--label",
                                       "podc.pod=mypod-1.2.3",
                                       "--label",
                                       "podc.container=web",
                                       "--label",
                                       "podc.instance=7",
                                       "-e",
                                       "WARP=activated ${myVar} \"world\" $(x) `y`; z",
                                       "-e",
                                       "EMPTY=",
                                       "-e",
                                       "NL=a\nb",
                                       "-v",
                                       "/pods/my pod/ramdisk/tmp:/mnt/tmp:z,rw",
                                       "-v",
                                       "/pods/my pod/config/cfg:/etc/cfg:z,ro",
                                       "-v",
                                       "data-mypod-1.2.3:/a:z,rw",
                                       "-v",
                                       "shared-mypod:/b:z,rw",
                                       "-v",
                                       "glob:/c:z,rw",
                                       "-v",
                                       "/srv/my data:/d:z,rw,dev",
                                       "-v",
                                       "/pods/my pod/pod:/.podc/agent:ro",
                                       "-v",
                                       "/pods/my pod/.pod.run/web:/.podc/run:z,rw",
                                       "--workdir",
                                       "/opt/my files",
                                       "--entrypoint",
                                       "[\"sh\",\"-c\"]",
                                       "--",
                                       "localhost/podtest:1",
                                       "echo \"$HOME\" `id`; exit 3",
                                       "a b",
                                       "line1\nline2",
                                       "it's",
                                       "--privileged",
                                       NULL};
    check_argv(podman_argv_run(&c, 0, 7, &err), want);
    spec_free(s);
}

static void test_run__host_network_and_plain(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, "10.0.0.5");
    struct pod_err err = POD_ERR_ZERO;
    static const char *const proxy[] = {"/usr/bin/podman",
                                        "run",
                                        "-d",
                                        "--replace",
                                        "--pull=never",
                                        "--name",
                                        "proxy-mypod-1.2.3",
                                        "--network",
                                        "host",
                                        "--add-host=proxy:10.0.0.5",
                                        "--restart=no",
                                        "--log-driver",
                                        "passthrough",
                                        "--stop-timeout",
                                        "10",
                                        "--label",
                                        "podc.pod=mypod-1.2.3",
                                        "--label",
                                        "podc.container=proxy",
                                        "--label",
                                        "podc.instance=1",
                                        "--",
                                        "localhost/podtest:1",
                                        NULL};
    check_argv(podman_argv_run(&c, 1, 1, &err), proxy);
    /* no host interface: no --add-host; no exec probe: no agent mounts; args only */
    c = ctx(s, NULL);
    static const char *const plain[] = {"/usr/bin/podman",
                                        "run",
                                        "-d",
                                        "--replace",
                                        "--pull=never",
                                        "--name",
                                        "plain-mypod-1.2.3",
                                        "--pod",
                                        "mypod-1.2.3",
                                        "--restart=no",
                                        "--log-driver",
                                        "passthrough",
                                        "--stop-timeout",
                                        "10",
                                        "--label",
                                        "podc.pod=mypod-1.2.3",
                                        "--label",
                                        "podc.container=plain",
                                        "--label",
                                        "podc.instance=18446744073709551615",
                                        "--",
                                        "localhost/podtest:1",
                                        "sleep",
                                        "100",
                                        NULL};
    check_argv(podman_argv_run(&c, 2, UINT64_MAX, &err), plain);
    /* the warm standby (SPEC 7.8.2): create for run -d, its own name, the standby label */
    static const char *const standby[] = {"/usr/bin/podman",
                                          "create",
                                          "--replace",
                                          "--pull=never",
                                          "--name",
                                          "plain-mypod-1.2.3-standby",
                                          "--pod",
                                          "mypod-1.2.3",
                                          "--restart=no",
                                          "--log-driver",
                                          "passthrough",
                                          "--stop-timeout",
                                          "10",
                                          "--label",
                                          "podc.pod=mypod-1.2.3",
                                          "--label",
                                          "podc.container=plain",
                                          "--label",
                                          "podc.instance=8",
                                          "--label",
                                          "podc.standby=1",
                                          "--",
                                          "localhost/podtest:1",
                                          "sleep",
                                          "100",
                                          NULL};
    check_argv(podman_argv_standby_create(&c, 2, 8, &err), standby);
    c.exe_path = NULL; /* no agent: no agent mounts even for web */
    char **v = podman_argv_run(&c, 0, 1, &err);
    assert_non_null(v);
    for (char **p = v; *p; p++)
        assert_null(strstr(*p, "/.podc/"));
    pod_strv_free(v);
    spec_free(s);
}

static void test_pod_create__ports_labels_proxy(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, "10.0.0.5");
    struct pod_err err = POD_ERR_ZERO;
    /* hostInterface of the expose wins over --host-interface; the network: host container's
     * ports are not published; an expose without hostPort is not published */
    static const char *const want[] = {"/usr/bin/podman",
                                       "pod",
                                       "create",
                                       "--name",
                                       "mypod-1.2.3",
                                       "--label",
                                       "podc.pod=mypod-1.2.3",
                                       "--label",
                                       "team=a b; $(rm -rf /) `id`",
                                       "-p",
                                       "10.0.0.5:8080:80",
                                       "-p",
                                       "10.0.0.7:8443:443",
                                       "--add-host=proxy:10.0.0.5",
                                       NULL};
    check_argv(podman_argv_pod_create(&c, &err), want);
    c.host_interface = NULL;
    static const char *const bare[] = {"/usr/bin/podman",
                                       "pod",
                                       "create",
                                       "--name",
                                       "mypod-1.2.3",
                                       "--label",
                                       "podc.pod=mypod-1.2.3",
                                       "--label",
                                       "team=a b; $(rm -rf /) `id`",
                                       "-p",
                                       "8080:80",
                                       "-p",
                                       "10.0.0.7:8443:443",
                                       NULL};
    check_argv(podman_argv_pod_create(&c, &err), bare);
    c.host_interface = "0.0.0.0"; /* publishes on all, no proxy entry */
    static const char *const any[] = {"/usr/bin/podman",
                                      "pod",
                                      "create",
                                      "--name",
                                      "mypod-1.2.3",
                                      "--label",
                                      "podc.pod=mypod-1.2.3",
                                      "--label",
                                      "team=a b; $(rm -rf /) `id`",
                                      "-p",
                                      "0.0.0.0:8080:80",
                                      "-p",
                                      "10.0.0.7:8443:443",
                                      NULL};
    check_argv(podman_argv_pod_create(&c, &err), any);
    static const char *const rm[] = {"/usr/bin/podman", "pod", "rm", "-f", "-i",
                                     "mypod-1.2.3",     NULL};
    check_argv(podman_argv_pod_rm(&c, &err), rm);
    static const char *const ex[] = {"/usr/bin/podman", "pod", "exists", "mypod-1.2.3", NULL};
    check_argv(podman_argv_pod_exists(&c, &err), ex);
    static const char *const st[] = {"/usr/bin/podman", "pod", "stop", "-i", "-t", "0",
                                     "mypod-1.2.3",     NULL};
    check_argv(podman_argv_pod_stop(&c, 0, &err), st);
    spec_free(s);
}

static void test_ctr_verbs(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, NULL);
    c.podman = NULL; /* default argv[0] */
    struct pod_err err = POD_ERR_ZERO;
    static const char *const stop[] = {"podman", "stop", "-t", "12", "web-mypod-1.2.3", NULL};
    check_argv(podman_argv_stop(&c, "web-mypod-1.2.3", 12, &err), stop);
    static const char *const kill[] = {"podman", "kill", "--signal", "1", "x", NULL};
    check_argv(podman_argv_kill(&c, "x", 1, &err), kill);
    static const char *const rm[] = {"podman", "rm", "-f", "-t", "0", "x", NULL};
    check_argv(podman_argv_rm(&c, "x", &err), rm);
    static const char *const insp[] = {"podman", "container", "inspect", "--format",
                                       "json",   "0123abcd",  NULL};
    check_argv(podman_argv_inspect(&c, "0123abcd", &err), insp);
    static const char *const init[] = {"podman", "init", "x-standby", NULL};
    check_argv(podman_argv_verb1(&c, "init", "x-standby", &err), init);
    static const char *const ren[] = {"podman", "rename", "0123abcd", "x", NULL};
    check_argv(podman_argv_rename(&c, "0123abcd", "x", &err), ren);
    assert_null(podman_argv_rename(&c, "0123abcd", "-x", &err)); /* an option, not a name */
    static const char *const wait[] = {"podman", "wait", "x", NULL};
    check_argv(podman_argv_wait(&c, "x", &err), wait);
    static const char *const ps[] = {"podman",
                                     "ps",
                                     "-a",
                                     "--filter",
                                     "label=podc.pod=mypod-1.2.3",
                                     "--filter",
                                     "label=podc.container",
                                     "--format",
                                     "json",
                                     NULL};
    check_argv(podman_argv_ps(&c, &err), ps);
    static const char *const ips[] = {"podman",          "ps",       "-a",   "--filter",
                                      "pod=mypod-1.2.3", "--format", "json", NULL};
    check_argv(podman_argv_infra_ps(&c, &err), ips);
    char *cmd[] = {"sh", "-c", "kill -0 1 && echo \"$(id)\"; `x`", "--help", NULL};
    static const char *const ex[] = {"podman", "exec", "-e", "PODC_PROBE_TAG=42",
                                     "x",      "sh",   "-c", "kill -0 1 && echo \"$(id)\"; `x`",
                                     "--help", NULL};
    check_argv(podman_argv_exec(&c, "x", 42, cmd, &err), ex);
    static const char *const ex0[] = {
        "podman", "exec", "x", "sh", "-c", "kill -0 1 && echo \"$(id)\"; `x`", "--help", NULL};
    check_argv(podman_argv_exec(&c, "x", 0, cmd, &err), ex0);
    static const char *const pull[] = {"podman", "pull", "--", "localhost/podtest:1", NULL};
    check_argv(podman_argv_pull(&c, "localhost/podtest:1", &err), pull);
    static const char *const ie[] = {"podman", "image", "exists", "--", "a/b:c", NULL};
    check_argv(podman_argv_image_exists(&c, "a/b:c", &err), ie);
    spec_free(s);
}

static void test_volumes(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, NULL);
    struct pod_err err = POD_ERR_ZERO;
    const struct spec_volume *data = spec_find_volume(s, "data");
    const struct spec_volume *shared = spec_find_volume(s, "shared");
    const struct spec_volume *glob = spec_find_volume(s, "glob");
    static const char *const cr[] = {
        "/usr/bin/podman",      "volume",           "create", "--label",
        "podc.pod=mypod-1.2.3", "data-mypod-1.2.3", NULL};
    check_argv(podman_argv_volume_create(&c, data, &err), cr);
    static const char *const ex[] = {"/usr/bin/podman", "volume", "exists", "shared-mypod", NULL};
    check_argv(podman_argv_volume_exists(&c, shared, &err), ex);
    static const char *const in[] = {
        "/usr/bin/podman", "volume", "inspect", "--format", "json", "glob", NULL};
    check_argv(podman_argv_volume_inspect(&c, glob, &err), in);
    static const char *const rm[] = {"/usr/bin/podman", "volume", "rm", "data-mypod-1.2.3", NULL};
    check_argv(podman_argv_volume_rm(&c, data, &err), rm);
    /* a ramdisk is not a podman volume */
    assert_null(podman_argv_volume_create(&c, spec_find_volume(s, "tmp"), &err));
    assert_int_equal(err.code, POD_E_INVALID);
    spec_free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    struct podman_argv_ctx c = ctx(s, NULL);
    struct pod_err err = POD_ERR_ZERO;
    /* names and images podman would read as options */
    assert_null(podman_argv_stop(&c, "--all", 1, &err));
    assert_null(podman_argv_rm(&c, "", &err));
    assert_null(podman_argv_pull(&c, "-q", &err));
    assert_null(podman_argv_kill(&c, "x", 0, &err));
    assert_null(podman_argv_kill(&c, "x", 65, &err));
    char *empty[] = {NULL};
    assert_null(podman_argv_exec(&c, "x", 1, empty, &err));
    assert_null(podman_argv_run(&c, 99, 1, &err));
    /* a pod directory podman -v cannot express */
    c.pod_dir = "/pods/a:b";
    assert_null(podman_argv_run(&c, 0, 1, &err));
    assert_non_null(strstr(err.msg, "cannot express"));
    c.pod_dir = "/pods/ok";
    c.run_dir = "/pods/x,y/.pod.run";
    assert_null(podman_argv_run(&c, 0, 1, &err));
    spec_free(s);
}

/* SPEC 7.5.1: a bind source of the pod directory that is a link is refused (podman would
 * mount the link's target), checked whenever the argv is built. */
static void test_run_refuses_linked_bind_source(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    char tmpl[] = "/tmp/test_podman_args.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char cfgdir[256], link[256];
    snprintf(cfgdir, sizeof cfgdir, "%s/config", dir);
    snprintf(link, sizeof link, "%s/config/cfg", dir);
    assert_int_equal(mkdir(cfgdir, 0755), 0);
    assert_int_equal(symlink("/etc", link), 0);
    struct podman_argv_ctx c = ctx(s, NULL);
    c.pod_dir = dir;
    struct pod_err err = POD_ERR_ZERO;
    assert_null(podman_argv_run(&c, 0, 1, &err));
    assert_non_null(strstr(err.msg, "`config/cfg` in the pod directory is a symbolic link"));
    assert_int_equal(unlink(link), 0);
    assert_int_equal(mkdir(link, 0755), 0);
    char **argv = podman_argv_run(&c, 0, 1, &err);
    assert_non_null(argv);
    pod_strv_free(argv);
    assert_int_equal(rmdir(link), 0);
    assert_int_equal(rmdir(cfgdir), 0);
    assert_int_equal(rmdir(dir), 0);
    spec_free(s);
}

static void test_probe_host_and_agent(void **state)
{
    (void)state;
    struct pod_spec *s = spec_fixture_load(full_yaml);
    assert_string_equal(podman_probe_host(s, 0, 8080, NULL), "127.0.0.1");
    assert_string_equal(podman_probe_host(s, 0, 8080, "10.0.0.5"), "10.0.0.5");
    assert_string_equal(podman_probe_host(s, 0, 8080, "0.0.0.0"), "127.0.0.1");
    assert_string_equal(podman_probe_host(s, 0, 8443, "10.0.0.5"), "10.0.0.7");
    assert_string_equal(podman_probe_host(s, 1, 7070, "10.0.0.5"), "127.0.0.1");
    assert_string_equal(podman_probe_host(s, 0, 1234, "10.0.0.5"), "127.0.0.1");
    assert_string_equal(podman_probe_host(s, 9, 1234, "10.0.0.5"), "127.0.0.1");
    assert_true(podman_ctr_needs_agent(s, 0));
    assert_false(podman_ctr_needs_agent(s, 1));
    assert_false(podman_ctr_needs_agent(s, 2));
    assert_false(podman_ctr_needs_agent(s, 3));
    spec_free(s);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_run__full_container),
        cmocka_unit_test(test_run__host_network_and_plain),
        cmocka_unit_test(test_pod_create__ports_labels_proxy),
        cmocka_unit_test(test_ctr_verbs),
        cmocka_unit_test(test_volumes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_run_refuses_linked_bind_source),
        cmocka_unit_test(test_probe_host_and_agent),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
