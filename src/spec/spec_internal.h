/* SPDX-License-Identifier: MIT */
/* spec_internal.h - private interfaces between the parts of the spec module: the line map
 * (spec_model.c, filled by the preprocessor in spec_pp.c), the YAML node tree (spec_parse.c),
 * the pure validator (spec_validate*.c) and the file-system checks (spec_fscheck.c).  Not part
 * of the public API (spec_compile.c strings the stages together).
 *
 * Ownership: a struct spec_tree owns every node (nodes may be shared through YAML aliases,
 * so nodes are never freed one by one); spec_tree_free releases them all.
 */
#ifndef POD_SPEC_INTERNAL_H
#define POD_SPEC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "pod/spec.h"

/* Limits beyond SPEC_MAX_INPUT_BYTES / SPEC_MAX_DEPTH: nodes created, nodes after alias
 * expansion (what a consumer walking the tree could visit), anchors defined.  A large real
 * pod.yaml has a few thousand nodes; the bound also keeps the validator's simple quadratic
 * checks (duplicate names, references) cheap on hostile input. */
#define SPEC_MAX_NODES 20000u
#define SPEC_MAX_ANCHORS 4096u

enum snode_type { SNODE_SCALAR, SNODE_MAP, SNODE_SEQ };

struct snode {
    enum snode_type type;
    int line, col; /* 1-based, already mapped to the user's file */
    /* scalar */
    char *value; /* NUL-terminated; value_len counts embedded NULs */
    size_t value_len;
    bool plain; /* unquoted, not a block scalar */
    /* collections: SEQ items, or MAP keys and values interleaved (k0 v0 k1 v1 ...) */
    struct snode **items;
    size_t n, cap;
    bool complete;        /* its end event was seen (aliases to it are allowed) */
    unsigned long weight; /* nodes after alias expansion, saturating */
};

struct spec_tree {
    struct snode *root; /* NULL for an empty document */
    struct snode **all; /* every node, for freeing */
    size_t n_all, cap_all;
};

/* Parses YAML text into *tree.  Returns 0, or -1 after adding error diagnostics (syntax,
 * limits, duplicate keys, bad aliases).  The tree is valid (maybe partial) either way and must
 * be released with spec_tree_free. */
int spec_parse(const char *text, size_t len, const struct spec_opts *opts, struct spec_diags *diags,
               struct spec_tree *tree);
void spec_tree_free(struct spec_tree *tree);

/* Is the scalar a YAML null (plain "", "~", "null", "Null", "NULL")? */
bool snode_is_null(const struct snode *n);
/* Value of key in a mapping (first occurrence), or NULL. */
const struct snode *snode_get(const struct snode *map, const char *key);

/* Pure validation: node tree -> model.  Adds diagnostics; returns the model (always, possibly
 * incomplete); the caller frees it when there were errors.  Host binds and executable.file
 * are left as written (spec_resolve_paths makes them absolute). */
struct pod_spec *spec_validate(const struct snode *root, const struct spec_opts *opts,
                               struct spec_diags *diags);

/* File-system side (spec_fscheck.c): makes host binds and executable.file absolute against
 * opts->srcdir (or the working directory), and, with opts->check_files, checks that config
 * directories and the executable exist. */
void spec_resolve_paths(struct pod_spec *s, const struct snode *root, const struct spec_opts *opts,
                        struct spec_diags *diags);

/* ---- the line map (struct spec_line_map, spec_model.c) ----
 * Maps 1-based (line, col) positions in the preprocessed text back to the user's file.  Built
 * by the preprocessor (pp_run), one entry per output line, plus spans for lines whose columns
 * were shifted by substitutions.  Columns are byte offsets.  A NULL map is the identity. */
struct spec_line_map *spec_line_map_new(void);
void spec_line_map_free(struct spec_line_map *m);
/* Starts the next output line, which comes from source line src_line. */
void spec_line_map_add_line(struct spec_line_map *m, int src_line);
/* On the current output line, from output column out_col on: a literal span (columns advance
 * together from src_col) or, with literal false, a substituted value (every column maps to
 * src_col, the `${` of the reference).  Spans are added in increasing out_col order. */
void spec_line_map_add_span(struct spec_line_map *m, int out_col, int src_col, bool literal);
void spec_map_pos(const struct spec_line_map *m, int line, int col, int *src_line, int *src_col);

/* httpGet.path when the probe gives none (spec_defaults.c). */
extern const char spec_default_http_path[];

/* Drops the diagnostics from index `from` on that sit on a line (> 0) where a diagnostic
 * before `from` about the spec's own file (file NULL) is an error: follow-ups of a
 * preprocessing error.  The rest keep their order; the counts follow. */
void spec_diags_drop_followups(struct spec_diags *d, size_t from);

void spec_diag_vadd(struct spec_diags *d, enum spec_sev sev, int line, int col, const char *path,
                    const char *fmt, va_list ap) POD_PRINTF(6, 0);

#endif
