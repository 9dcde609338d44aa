/* SPDX-License-Identifier: MIT */
/* fuzz_frontend.c - libFuzzer target for the podc front end: .env parsing, preprocessing,
 * YAML parsing and validation (spec_compile, then spec_dump).
 *
 * Input layout: an optional .env part, then a line "%%\n", then the pod.yaml part; without
 * "%%" the whole input is the YAML.  The first input byte (when it is one of '0'..'3')
 * chooses options: bit 0 = preprocessing off (podc -p false), bit 1 = fallback environment.
 * File checks stay off (check_files false) so the target never touches the file system.
 *
 * Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude \
 *     tests/fuzz/fuzz_frontend.c build/asan/libpod.a -lyaml -ljansson -o fz
 *   ./fz tests/fuzz/frontend_corpus   (or link the src/spec and src/util sources)
 * Without libFuzzer, link tests/fuzz/replay_main.c for a plain main that replays the files
 * given as arguments (crun's tests_libcrun_fuzzer.c pattern; `make fuzz-replay` does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

    struct spec_source src = {.file = "pod.yaml",
                              .text = yaml,
                              .len = yaml_len,
                              .env_file = env ? "pod.env" : NULL,
                              .env_text = env,
                              .env_len = env_len};
    struct spec_compile_opts so = {.pod_name = "fuzz",
                                   .srcdir = "/src",
                                   .builddir = "/nonexistent",
                                   .preprocess = !(flags & 1),
                                   .env_lookup = (flags & 2) ? fallback : NULL};
    struct spec_diags diags = {0};
    struct pod_spec *spec = NULL;
    if (spec_compile(&src, &so, &diags, &spec) == 0) {
        char *dump = spec_dump(spec);
        free(dump);
        for (size_t i = 0; i < spec->n_containers; i++)
            free(spec_container_fullname(spec, i));
        for (size_t i = 0; i < spec->n_volumes; i++)
            free(spec_volume_fullname(spec, &spec->volumes[i]));
    }
    for (size_t i = 0; i < diags.n; i++) {
        char *s = spec_diag_format("pod.yaml", &diags.v[i]);
        if (diags.v[i].line < 0 || diags.v[i].col < 0)
            abort(); /* positions are never negative */
        free(s);
    }
    spec_free(spec);
    spec_diags_free(&diags);
    free(buf);
    return 0;
}
