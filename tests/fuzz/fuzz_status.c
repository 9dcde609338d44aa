/* SPDX-License-Identifier: MIT */
/* fuzz_status.c - libFuzzer target for the readers of .pod.status (SPEC.md 7, 8.4): what
 * `pod ps`, `readiness`, `run`/`stop` (the status word, pid, readiness, updated) and the
 * simulator's checks read from a file of the untrusted pod directory:
 *   drv_status_check (the format check), drv_status_get (pod-level and per-container keys),
 *   life_ps_dead (`ps` and `ps --json` without a daemon), life_status_marked (the rewrite of
 *   `stop`/`rm`/a dead supervisor), and life_ps_live on the same bytes as the daemon's
 *   `status json` answer.
 * Whatever the bytes: no crash, no leak, no sanitizer report; `ps --json` prints valid JSON;
 * a text drv_status_check accepts still has its `status:` and is still accepted once marked.
 * Seed corpus: tests/fuzz/status_corpus/ (status files of simulated and real pods, status json
 * answers, malformed variants).
 */
#include "pod/drv.h"
#include "pod/life.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void must_be_json(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!json_is_object(j))
        abort(); /* `ps --json` printed something that is not a JSON object */
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const pod_keys[] = {"pod",     "status", "readiness",  "updated",
                                           "pid",     "phase",  "containers", "healthy",
                                           "created", "started"};
    static const char *const ctr_keys[] = {"name", "running", "ready", "restartCount", "phase"};
    const char *text = (const char *)data;
    struct pod_err err = POD_ERR_ZERO;
    bool ok = drv_status_check(text, size, &err) == 0;
    if (!ok && err.msg[0] == '\0')
        abort(); /* a rejection says why */
    for (size_t k = 0; k < sizeof pod_keys / sizeof pod_keys[0]; k++) {
        char *v = drv_status_get(text, size, NULL, pod_keys[k]);
        if (ok && k == 1 && !v)
            abort(); /* accepted, yet no status: */
        free(v);
    }
    /* the first container's name, as the simulator's checks look one up */
    char *first = NULL;
    const char *c = memmem(text, size, "\n    - name: ", 13);
    if (c) {
        const char *s = c + 13, *e = memchr(s, '\n', size - (size_t)(s - text));
        first = xstrndup(s, e ? (size_t)(e - s) : size - (size_t)(s - text));
    }
    for (size_t k = 0; k < sizeof ctr_keys / sizeof ctr_keys[0]; k++) {
        free(drv_status_get(text, size, first ? first : "web", ctr_keys[k]));
        free(drv_status_get(text, size, "", ctr_keys[k]));
    }
    free(first);

    /* the C-string readers see the text up to its first NUL, as after pod_read_file */
    char *z = xstrndup(text, size);
    char *ps = life_ps_dead(z, "p-1.0.0", false);
    free(ps);
    ps = life_ps_dead(z, "p-1.0.0", true);
    must_be_json(ps);
    free(ps);
    char *marked = life_status_marked(z, "stopped", 1700000000);
    if (ok && strlen(z) == size && drv_status_check(marked, strlen(marked), &err) < 0)
        abort(); /* marking broke a valid status file */
    free(marked);
    char *live = life_ps_live(z, false, 1700000000);
    free(live);
    live = life_ps_live(z, true, 1700000000);
    if (live)
        must_be_json(live);
    free(live);
    free(z);
    return 0;
}
