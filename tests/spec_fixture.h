/* SPDX-License-Identifier: MIT */
/* spec_fixture.h - a test's pod.yaml text loaded into a spec (pod "mypod", srcdir /src); the
 * test fails with the diagnostics on stderr when the text does not load.  Include after
 * <cmocka.h>. */
#ifndef SPEC_FIXTURE_H
#define SPEC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/spec.h"

static inline struct pod_spec *spec_fixture_load(const char *yaml)
{
    struct spec_opts o = {.file = "pod.yaml", .pod_name = "mypod", .srcdir = "/src"};
    struct spec_diags d = {0};
    struct pod_spec *s = NULL;
    int rc = spec_load(yaml, strlen(yaml), &o, &d, &s);
    for (size_t i = 0; rc != 0 && i < d.n; i++) {
        char *m = spec_diag_format("pod.yaml", &d.v[i]);
        fprintf(stderr, "%s\n", m);
        free(m);
    }
    spec_diags_free(&d);
    assert_int_equal(rc, 0);
    return s;
}

#endif
