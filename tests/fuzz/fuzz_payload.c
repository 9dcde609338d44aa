/* SPDX-License-Identifier: MIT */
/* fuzz_payload.c - libFuzzer target for the pod payload reader (emit_spec_from_json): the
 * JSON a pod executable carries.  Whatever the bytes, the reader must either return a spec
 * that re-serialises to a payload it accepts again, or fail cleanly (no crash, no leak).
 * Seed corpus: tests/fuzz/payload_corpus/ (payloads of compiled example pods).
 */
#include "pod/emit.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct pod_spec *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (emit_spec_from_json((const char *)data, size, &s, &err) < 0)
        return 0;
    char *json = emit_spec_json(s);
    struct pod_spec *again = NULL;
    if (emit_spec_from_json(json, strlen(json), &again, &err) < 0)
        abort(); /* what we wrote, we must read back */
    char *json2 = emit_spec_json(again);
    if (strcmp(json, json2) != 0)
        abort(); /* canonical: a second round trip changes nothing */
    free(json2);
    free(json);
    spec_free(again);
    spec_free(s);
    return 0;
}
