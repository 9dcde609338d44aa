/* SPDX-License-Identifier: MIT */
/* spec_pp.h - the first stage of the spec front end (private to src/spec; spec_compile runs
 * it): the podc preprocessor, ${VAR} substitution and #ifdef/#ifndef/#iftrue/#ifntrue blocks,
 * and the .env parser.  SPEC.md section 3.
 *
 * Pure: works on an in-memory text and a variable table, never reads files or the environment
 * itself (spec_compile passes the caller's lookup callback for podc -e).  Produces the
 * preprocessed text and a line map, so that every later diagnostic points into the file the
 * user wrote.  Problems are spec diagnostics (all of them, never stopping at the first).
 * Ownership: pp_vars_free / pp_result_free release everything in a struct pp_vars / pp_result.
 */
#ifndef POD_SPEC_PP_H
#define POD_SPEC_PP_H

#include <stdbool.h>
#include <stddef.h>

#include "pod/spec.h"

struct pp_vars {
    struct spec_kv *v; /* name/value, first definition wins */
    size_t n, cap;
};
void pp_vars_set(struct pp_vars *vars, const char *name, const char *value); /* keeps first */
const char *pp_vars_get(const struct pp_vars *vars, const char *name);
void pp_vars_free(struct pp_vars *vars);

/* Parses a .env file text (NAME=value lines, '#' comments, blank lines) into vars.  Malformed
 * lines are diagnostics against env_file. */
void pp_parse_env(const char *text, size_t len, const char *env_file, struct pp_vars *vars,
                  struct spec_diags *diags);

struct pp_opts {
    const char *file;         /* the user's file name, for diagnostics */
    spec_lookup_fn *fallback; /* variables missing from vars (podc -e); may be NULL */
    void *fallback_self;
};

struct pp_result {
    char *text; /* preprocessed text, NUL-terminated ("" when refused) */
    size_t len;
    struct spec_line_map *map; /* pass to spec_opts.map */
    bool refused; /* the input was refused as a whole (too large, a NUL byte): no text */
};

/* Returns 0 when text was produced without errors; -1 otherwise (diags say why). */
int pp_run(const char *text, size_t len, const struct pp_vars *vars, const struct pp_opts *opts,
           struct spec_diags *diags, struct pp_result *out);
void pp_result_free(struct pp_result *r);

#endif
