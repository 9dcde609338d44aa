/* SPDX-License-Identifier: MIT */
/* fuzz_cmdline.c - libFuzzer target for the `pod` command line (the Pod API, SPEC.md 7):
 * pod_parse_args (src/cli/pod.c), i.e. the action table and its aliases, the argument count
 * check, the option scanner (rt_getopt) and every action's own parser: life_parse and the
 * container/config names (create ... readiness), rt_logs_parse, rt_shell_parse with the podman
 * argv it builds, rt_flags_parse (download, create-volumes, create-ramdisks, purge) and the
 * hidden `__daemon`'s daemon_parse_args.  Parsing only: no action runs, no podman.
 *
 * Input: the words after the program name, separated by NUL bytes (`ps\0--json`).
 * Whatever the words: no crash, no leak; a refusal is a usage error (exit 100), an unknown
 * name or a command podman cannot take (exit 1), and says why.
 * Seed corpus: tests/fuzz/cmdline_corpus/ (every action with its documented options, the forms
 * sns and simplenetesd use, and refusals).
 */
#include "../../src/cli/cli.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char pod_yaml[] = "api: 1.0.0-beta2\n"
                               "podVersion: 1.2.3\n"
                               "volumes:\n"
                               "    - name: cfg\n"
                               "      type: config\n"
                               "    - name: other\n"
                               "      type: config\n"
                               "    - name: scratch\n"
                               "      type: ramdisk\n"
                               "      size: 2M\n"
                               "    - name: data\n"
                               "      type: volume\n"
                               "containers:\n"
                               "    - name: web\n"
                               "      image: busybox\n"
                               "      restart: always\n"
                               "      mounts:\n"
                               "        - volume: cfg\n"
                               "          dest: /etc/web\n"
                               "        - volume: scratch\n"
                               "          dest: /tmp/s\n"
                               "      signal:\n"
                               "        - sig: HUP\n"
                               "    - name: worker\n"
                               "      image: busybox\n"
                               "      restart: on-config\n"
                               "      mounts:\n"
                               "        - volume: other\n"
                               "          dest: /etc/w\n"
                               "        - volume: data\n"
                               "          dest: /data\n";

static struct pod_spec *spec;

static void quiet(void *self, int level, const char *msg)
{
    (void)self;
    (void)level;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!spec) {
        pod_log_set_sink(quiet, NULL);
        struct spec_diags dg = {0};
        struct spec_opts so = {.file = "pod.yaml", .pod_name = "fz", .check_files = false};
        if (spec_load(pod_yaml, strlen(pod_yaml), &so, &dg, &spec) < 0)
            abort();
        spec_diags_free(&dg);
    }
    /* argv: "pod", then the NUL-separated words (a trailing NUL ends the last word) */
    char *copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t n = 1;
    for (size_t i = 0; i < size; i++)
        n += copy[i] == '\0';
    char **argv = xcalloc(n + 2, sizeof *argv);
    int argc = 0;
    argv[argc++] = "pod";
    for (size_t i = 0; size && i <= size;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
        if (i == size)
            break; /* the trailing NUL */
    }
    struct pod_err err = POD_ERR_ZERO;
    if (pod_parse_args(argc, argv, spec, &err) < 0) {
        if (!err.msg[0] ||
            (err.code != POD_E_USAGE && err.code != POD_E_NOTFOUND && err.code != POD_E_INVALID))
            abort(); /* a refusal is a usage error, an unknown name or (shell) a command podman
                      * cannot take (`shell -- ''`: exit 1), and says why */
    }
    free(argv);
    free(copy);
    return 0;
}
