/* SPDX-License-Identifier: MIT */
/* spec_compile.c - the front end's entry points: spec_compile strings the stages together
 * (.env and preprocessing in spec_pp.c, then spec_load: parse in spec_parse.c, validate in
 * spec_validate*.c, resolve paths and check files in spec_fscheck.c) and collects every
 * diagnostic in the caller's list, once.  Returns the model only when there were no errors.
 */
#include "pod/util.h"
#include "spec_internal.h"
#include "spec_pp.h"

#include <string.h>

/* spec_load without the final sort. */
static struct pod_spec *load(const char *text, size_t len, const struct spec_opts *opts,
                             struct spec_diags *diags)
{
    struct pod_spec *out = NULL;
    size_t errors_before = diags->n_errors;
    struct spec_tree tree;
    spec_parse(text, len, opts, diags, &tree);
    /* After a syntax or limit error the tree is partial (some collection never ended):
     * validating it would only add noise.  Duplicate keys leave a complete tree. */
    bool partial = false;
    for (size_t i = 0; i < tree.n_all && !partial; i++)
        partial = !tree.all[i]->complete;
    if (!tree.root && diags->n_errors > errors_before)
        partial = true;
    if (!partial) {
        struct pod_spec *s = spec_validate(tree.root, opts, diags);
        spec_resolve_paths(s, tree.root, opts, diags);
        if (diags->n_errors == errors_before)
            out = s;
        else
            spec_free(s);
    }
    spec_tree_free(&tree);
    return out;
}

int spec_load(const char *text, size_t len, const struct spec_opts *opts, struct spec_diags *diags,
              struct pod_spec **out)
{
    *out = load(text, len, opts, diags);
    spec_diags_sort(diags);
    return *out ? 0 : -1;
}

/* Runs the preprocessor stage: variables (the caller's, then the .env file's), then pp_run.
 * Returns -1 when it reported an error (in the .env file or the text). */
static int preprocess(const struct spec_source *src, const struct spec_compile_opts *opts,
                      struct spec_diags *diags, struct pp_result *pp)
{
    size_t errors_before = diags->n_errors;
    struct pp_vars vars = {0};
    for (size_t i = 0; i < opts->n_vars; i++)
        pp_vars_set(&vars, opts->vars[i].name, opts->vars[i].value);
    if (src->env_file && src->env_text)
        pp_parse_env(src->env_text, src->env_len, src->env_file, &vars, diags);
    struct pp_opts po = {
        .file = src->file,
        .fallback = opts->env_lookup,
        .fallback_self = opts->env_lookup_self,
    };
    pp_run(src->text, src->len, &vars, &po, diags, pp);
    pp_vars_free(&vars);
    return diags->n_errors > errors_before ? -1 : 0;
}

int spec_compile(const struct spec_source *src, const struct spec_compile_opts *opts,
                 struct spec_diags *diags, struct pod_spec **out)
{
    *out = NULL;
    struct pp_result pp = {0};
    bool pp_failed = false;
    if (opts->preprocess)
        pp_failed = preprocess(src, opts, diags, &pp) < 0;
    size_t first_yaml_diag = diags->n;
    struct pod_spec *spec = NULL;
    if (!pp.refused) {
        struct spec_opts so = {
            .file = src->file,
            .pod_name = opts->pod_name,
            .srcdir = opts->srcdir,
            .builddir = opts->builddir,
            .map = pp.map,
            .check_files = opts->check_files,
        };
        if (opts->preprocess)
            spec = load(pp.text, pp.len, &so, diags);
        else
            spec = load(src->text, src->len, &so, diags);
    }
    pp_result_free(&pp);
    if (pp_failed)
        spec_diags_drop_followups(diags, first_yaml_diag);
    spec_diags_sort(diags);
    if (pp_failed || (opts->strict && diags->n_warnings > 0)) {
        spec_free(spec);
        spec = NULL;
    }
    *out = spec;
    return spec ? 0 : -1;
}
