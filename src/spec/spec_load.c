/* SPDX-License-Identifier: MIT */
/* spec_load.c - the front end's entry point: parse (spec_parse.c), validate
 * (spec_validate.c, pure), resolve paths and check files (spec_fscheck.c), then sort the
 * diagnostics.  Returns the model only when there were no errors.
 */
#include "pod/util.h"
#include "spec_internal.h"

#include <string.h>

int spec_load(const char *text, size_t len, const struct spec_opts *opts, struct spec_diags *diags,
              struct pod_spec **out)
{
    *out = NULL;
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
            *out = s;
        else
            spec_free(s);
    }
    spec_tree_free(&tree);
    spec_diags_sort(diags);
    return *out ? 0 : -1;
}
