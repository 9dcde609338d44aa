/* SPDX-License-Identifier: MIT */
/* fuzz_frontend.c - libFuzzer target for the podc front end: .env parsing, preprocessing,
 * YAML parsing and validation (pp_parse_env + pp_run + spec_load + spec_dump).
 *
 * Input layout: an optional .env part, then a line "%%\n", then the pod.yaml part; without
 * "%%" the whole input is the YAML.  The first input byte (when it is one of '0'..'3')
 * chooses options: bit 0 = preprocessing off (podc -p false), bit 1 = fallback environment.
 * File checks stay off (check_files false) so the target never touches the file system.
 *
 * Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude \
 *     tests/fuzz/fuzz_frontend.c build/asan/libpod.a -lyaml -ljansson -o fz
 *   ./fz tests/fuzz/frontend_corpus   (or link src/pp, src/spec and src/util sources)
 * Without libFuzzer, link tests/fuzz/replay_main.c for a plain main that replays the files
 * given as arguments (crun's tests_libcrun_fuzzer.c pattern; `make fuzz-replay` does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod/pp.h"
#include "pod/spec.h"
#include "pod/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fallback(void *self, const char *name)
{
    (void)self;
    if (strcmp(name, "HOME") == 0)
        return "/root";
    if (strcmp(name, "ML") == 0)
        return "multi\nline";
    if (name[0] == 'E')
        return "";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SPEC_MAX_INPUT_BYTES + 16)
        return 0;
    int flags = 0;
    if (size > 0 && data[0] >= '0' && data[0] <= '3') {
        flags = data[0] - '0';
        data++;
        size--;
    }
    char *buf = xstrndup((const char *)data, size); /* stops at a NUL: fine */
    size_t len = strlen(buf);
    const char *yaml = buf, *env = NULL;
    size_t env_len = 0;
    char *sep = strstr(buf, "%%\n");
    if (sep) {
        env = buf;
        env_len = (size_t)(sep - buf);
        yaml = sep + 3;
    }
    size_t yaml_len = len - (size_t)(yaml - buf);

    struct spec_diags diags = {0};
    struct pp_vars vars = {0};
    struct pp_result pr = {0};
    struct pod_spec *spec = NULL;
    if (env)
        pp_parse_env(env, env_len, "pod.env", &vars, &diags);
    bool go = true;
    if (!(flags & 1)) {
        struct pp_opts po = {.file = "pod.yaml", .fallback = (flags & 2) ? fallback : NULL};
        go = pp_run(yaml, yaml_len, &vars, &po, &diags, &pr) == 0;
        yaml = pr.text;
        yaml_len = pr.len;
    }
    if (go) {
        struct spec_opts so = {.file = "pod.yaml",
                               .pod_name = "fuzz",
                               .srcdir = "/src",
                               .builddir = "/nonexistent",
                               .map = (flags & 1) ? NULL : pr.map};
        if (spec_load(yaml, yaml_len, &so, &diags, &spec) == 0) {
            char *dump = spec_dump(spec);
            free(dump);
            for (size_t i = 0; i < spec->n_containers; i++)
                free(spec_container_fullname(spec, i));
            for (size_t i = 0; i < spec->n_volumes; i++)
                free(spec_volume_fullname(spec, &spec->volumes[i]));
        }
    }
    for (size_t i = 0; i < diags.n; i++) {
        char *s = spec_diag_format("pod.yaml", &diags.v[i]);
        if (diags.v[i].line < 0 || diags.v[i].col < 0)
            abort(); /* positions are never negative */
        free(s);
    }
    spec_free(spec);
    spec_diags_free(&diags);
    pp_vars_free(&vars);
    pp_result_free(&pr);
    free(buf);
    return 0;
}
