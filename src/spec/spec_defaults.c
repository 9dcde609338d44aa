/* SPDX-License-Identifier: MIT */
/* spec_defaults.c - every default of the pod.yaml fields (SPEC.md sections 4 and 5), written
 * once.  The validator starts each part of the model from these values and overwrites what the
 * pod.yaml sets; code that builds a model by hand (tests) starts from them too.  Nothing else
 * in the tree may know a default (spec.h).  Pure data; no I/O.
 */
#include "pod/spec.h"
#include "spec_internal.h"

#include <string.h>

/* Per pod: configDebounceSeconds 0.25 (SPEC.md 5, 8.7: why that is safe), logs.maxSize 10M,
 * logs.maxFiles 5. */
static const struct pod_spec pod_defaults = {
    .runtime = SPEC_RUNTIME_PODMAN,
    .config_debounce_ms = 250,
    .logs = {.max_bytes = 10 * 1024 * 1024, .max_files = 5},
};

/* Per container (probes below): kind main, restart never, stopTimeout 10, restartBackoff
 * 1 s .. 300 s, reset after 600 s, never give up (window 600 s). */
static const struct spec_container container_defaults = {
    .kind = SPEC_CTR_MAIN,
    .restart = SPEC_RESTART_NEVER,
    .stop_timeout_s = 10,
    .backoff = {.initial_ms = 1000,
                .max_ms = 300000,
                .reset_s = 600,
                .give_up_count = 0,
                .give_up_window_s = 600},
};

/* startupProbe: an overall deadline of 120 s, an attempt every second (the original's 1 s
 * sleep), no failure threshold (only the deadline counts).  timeoutSeconds (attempt_timeout_s)
 * is taken from `timeout` when the probe is given, so it has no default of its own. */
static const struct spec_probe startup_defaults = {
    .timeout_s = 120,
    .initial_delay_s = 0,
    .period_s = 1,
    .success_threshold = 1,
    .failure_threshold = 0,
};

/* readinessProbe and livenessProbe: 120 s per attempt, every 6 s (the original's loop
 * cadence), one failure counts (as in the original). */
static const struct spec_probe check_defaults = {
    .timeout_s = 120,
    .initial_delay_s = 0,
    .period_s = 6,
    .success_threshold = 1,
    .failure_threshold = 1,
};

static const struct spec_expose expose_defaults = {.max_conn = 4096, .send_proxy = false};

static const struct spec_ingress ingress_defaults = {.weight = 100};

const char spec_default_http_path[] = "/";

void spec_defaults_pod(struct pod_spec *s)
{
    *s = pod_defaults;
}

void spec_defaults_container(struct spec_container *c)
{
    *c = container_defaults;
    c->startup = startup_defaults;
    c->readiness = check_defaults;
    c->liveness = check_defaults;
}

void spec_defaults_expose(struct spec_expose *e)
{
    *e = expose_defaults;
}

void spec_defaults_ingress(struct spec_ingress *r)
{
    *r = ingress_defaults;
}
