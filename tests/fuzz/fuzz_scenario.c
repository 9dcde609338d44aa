/* SPDX-License-Identifier: MIT */
/* fuzz_scenario.c - libFuzzer target for the simulator's scenario parser (sim/scn.c).
 *
 * Built with -fsanitize=fuzzer it is a libFuzzer target (seed corpus:
 * tests/fuzz/scenario_corpus/).  Linked with tests/fuzz/replay_main.c it replays the files
 * named on the command line (regression runs without libFuzzer, `make fuzz-replay`).
 * Every input must either parse (and be freed) or be rejected with a "file:line:col:" message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/scn.h"
#include "pod/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (scn_parse((const char *)data, size, "f.scn", &s, &err) == 0) {
        /* touch what the runner reads */
        for (size_t i = 0; i < s->n_actions; i++)
            if (i > 0 && s->actions[i].at_ms < s->actions[i - 1].at_ms)
                abort();
        for (size_t i = 0; i < s->n_ctrs; i++)
            for (size_t k = 0; k < s->ctrs[i].n_rules; k++)
                if (s->ctrs[i].rules[k].f.to_ms <= s->ctrs[i].rules[k].f.from_ms)
                    abort();
        scn_free(s);
    } else if (strncmp(err.msg, "f.scn:", 6) != 0) {
        abort(); /* every rejection names its position */
    }
    return 0;
}
