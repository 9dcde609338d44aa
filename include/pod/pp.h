/* SPDX-License-Identifier: MIT */
/* pp.h - the podc preprocessor: ${VAR} substitution and #ifdef/#ifndef/#iftrue/#ifntrue blocks.
 *
 * Pure: works on an in-memory text and a variable table, never reads files or the environment
 * itself (the CLI passes a lookup callback for -e).  Produces the preprocessed text and a line
 * map so that every later diagnostic points into the file the user wrote.  Problems are
 * reported as spec diagnostics (all of them, never stopping at the first).
 * Ownership: pp_result_free releases everything in a struct pp_result.
 */
#ifndef POD_PP_H
#define POD_PP_H

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

/* Fallback lookup for variables missing from vars (podc -e: the process environment). */
typedef const char *pp_lookup_fn(void *self, const char *name);

struct pp_opts {
    const char *file;       /* the user's file name, for diagnostics */
    pp_lookup_fn *fallback; /* may be NULL */
    void *fallback_self;
};

struct pp_result {
    char *text; /* preprocessed text, NUL-terminated */
    size_t len;
    struct spec_line_map *map; /* pass to spec_opts.map */
};

/* Returns 0 when text was produced without errors; -1 otherwise (diags say why). */
int pp_run(const char *text, size_t len, const struct pp_vars *vars, const struct pp_opts *opts,
           struct spec_diags *diags, struct pp_result *out);
void pp_result_free(struct pp_result *r);

/* Maps a 1-based (line, col) in the preprocessed text to the user's file.  map NULL = identity. */
void pp_map_pos(const struct spec_line_map *map, int line, int col, int *src_line, int *src_col);

#endif
