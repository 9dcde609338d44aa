/* SPDX-License-Identifier: MIT */
/* fuzz_podman_json.c - libFuzzer target for the podman JSON parsers (podman_parse_inspect,
 * podman_parse_ps, podman_parse_time, podman_error_line): podman's output is untrusted input.
 * Whatever the bytes: no crash, no leak, and what is returned is consistent.
 * Seed corpus: tests/fuzz/podman_json_corpus/ (outputs recorded from podman 4.3.1).
 */
#include "pod/podman.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data;
    struct pod_err err = POD_ERR_ZERO;
    struct podman_ctr_info i;
    bool found;
    if (podman_parse_inspect(s, size, &i, &found, &err) == 0) {
        if (found && (!i.id || !i.name))
            abort();
        if (!found && i.id)
            abort();
        podman_ctr_info_clear(&i);
    }
    struct podman_ctr_info *v;
    size_t n;
    if (podman_parse_ps(s, size, &v, &n, &err) == 0) {
        for (size_t k = 0; k < n; k++)
            if (!v[k].id || !v[k].name || v[k].finished_wall_ns < 0)
                abort();
        podman_ctr_infos_free(v, n);
    }
    char *z = xstrndup(s, size < 64 ? size : 64);
    int64_t ns;
    if (podman_parse_time(z, &ns) == 0 && ns < 0)
        abort();
    int code;
    (void)podman_parse_wait(z, &code);
    free(z);
    char line[80];
    podman_error_line(s, size, line, sizeof line);
    if (strlen(line) >= sizeof line)
        abort();
    return 0;
}
