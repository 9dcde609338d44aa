/* SPDX-License-Identifier: MIT */
/* spec_validate.c - node tree -> struct pod_spec, checking every field of PODSPEC and the
 * extensions (SPEC.md sections 4 and 5), starting from the defaults of spec_defaults.c.  This
 * file: the entry point and the top level (api, runtime, podVersion, labels,
 * configDebounceSeconds, logs, executable); one file per further section (spec_validate.h).
 *
 * PURE: no I/O headers, no file system, no environment, no clock (lint checks the includes).
 * Reports ALL problems as diagnostics with the offending node's line:col and a path such as
 * `containers[0].restart`; never stops at the first.  Unknown keys are warnings with a
 * "did you mean" suggestion.  Paths on disk are handled by spec_fscheck.c.
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const root_keys[] = {
    "api",     "runtime",    "podVersion", "labels",
    "volumes", "containers", "executable", "configDebounceSeconds",
    "logs",    NULL};

/* major.minor.patch[-tag], tag = dot-separated [0-9A-Za-z-]+ identifiers */
static bool valid_semver(const char *s)
{
    const char *p = s;
    for (int part = 0; part < 3; part++) {
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (part < 2) {
            if (*p != '.')
                return false;
            p++;
        }
    }
    if (!*p)
        return true;
    if (*p != '-')
        return false;
    p++;
    bool need = true;
    for (; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (need)
                return false;
            need = true;
        } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   c == '-') {
            need = false;
        } else {
            return false;
        }
    }
    return !need;
}

/* "<n>", "<n>K", "<n>M", "<n>G" -> bytes; -1 if invalid. */
static long long parse_size(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return -1;
    long long mult = 1;
    char u = s[n - 1];
    if (u == 'K' || u == 'k')
        mult = 1024;
    else if (u == 'M' || u == 'm')
        mult = 1024 * 1024;
    else if (u == 'G' || u == 'g')
        mult = 1024LL * 1024 * 1024;
    char *num = xstrndup(s, mult == 1 ? n : n - 1);
    long long x;
    bool ok = pod_parse_int(num, 0, 1LL << 40, &x);
    free(num);
    return ok ? x * mult : -1;
}

/* The pod name comes from the command line, not from the document. */
static void v_pod_name(struct vctx *v)
{
    const struct spec_opts *opts = v->opts;
    if (!opts || !opts->pod_name) {
        spec_diag_add(v->diags, SPEC_SEV_ERROR, 0, 0, "", "no pod name given");
        return;
    }
    v->s->name = xstrdup(opts->pod_name);
    if (!spec_valid_name(v->s->name))
        spec_diag_add(v->diags, SPEC_SEV_ERROR, 0, 0, "",
                      "invalid pod name `%s` (lowercase letters, digits and _, starting "
                      "with a letter, not ending with _)",
                      v->s->name);
}

/* api, runtime, podVersion */
static void v_header(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    const struct snode *an = val_str(v, root, "", "api", true, &s->api);
    if (an && strcmp(s->api, "1.0.0-beta1") && strcmp(s->api, "1.0.0-beta2"))
        ERR(v, an, "api", "unsupported api `%s` (supported: 1.0.0-beta1, 1.0.0-beta2)", s->api);

    static const struct val_choice runtimes[] = {{"podman", SPEC_RUNTIME_PODMAN},
                                                 {"executable", SPEC_RUNTIME_EXECUTABLE}};
    int runtime;
    if (val_choice(v, root, "", "runtime", false, runtimes, 2, &runtime))
        s->runtime = (enum spec_runtime)runtime;

    const struct snode *vn = val_str(v, root, "", "podVersion", true, &s->version);
    if (vn && !valid_semver(s->version))
        ERR(v, vn, "podVersion", "expected a semantic version major.minor.patch[-tag], got `%s`",
            s->version);
}

/* Extensions: configDebounceSeconds and logs (maxSize, maxFiles). */
static void v_pod_extensions(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    val_seconds_ms(v, root, "", "configDebounceSeconds", 3600, &s->config_debounce_ms);

    const struct snode *ln = val_map(v, root, "", "logs");
    if (!ln)
        return;
    static const char *const known[] = {"maxSize", "maxFiles", NULL};
    val_check_keys(v, ln, "logs", known);
    const struct snode *ms = val_get(ln, "maxSize");
    if (ms) {
        const char *t = val_scalar(v, ms, "logs.maxSize", "a size such as 10M");
        long long b = t ? parse_size(t) : -1;
        if (t && (b < 1024 || b > (64LL << 30)))
            ERR(v, ms, "logs.maxSize", "expected a size from 1K to 64G such as 10M, got `%s`", t);
        else if (t)
            s->logs.max_bytes = b;
    }
    val_int(v, ln, "logs", "maxFiles", 1, 1000, false, &s->logs.max_files);
}

/* runtime: executable (SPEC.md 4.6). */
static void v_executable(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    static const char *const ignored[] = {"containers", "volumes", "labels", NULL};
    for (const char *const *k = ignored; *k; k++)
        if (snode_get(root, *k))
            WARN(v, val_key_node(root, *k), *k, "ignored with runtime: executable");
    const struct snode *en = val_map(v, root, "", "executable");
    if (!en) {
        if (!snode_get(root, "executable") || snode_is_null(snode_get(root, "executable")))
            ERR(v, snode_get(root, "executable") ? val_key_node(root, "executable") : root,
                "executable", "`executable` with `file` is required for runtime: executable");
        return;
    }
    static const char *const known[] = {"file", "expose", NULL};
    val_check_keys(v, en, "executable", known);
    const struct snode *fn = val_str(v, en, "executable", "file", true, &s->exec_file);
    if (fn && !s->exec_file[0])
        ERR(v, fn, "executable.file", "must not be empty");
    val_expose(v, en, "executable", EXPOSE_EXEC, &s->exec_expose, &s->n_exec_expose);
}

/* runtime: podman: labels, volumes, containers. */
static void v_podman(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    if (snode_get(root, "executable"))
        WARN(v, val_key_node(root, "executable"), "executable",
             "ignored with runtime: podman (only used with runtime: executable)");
    val_kvlist(v, root, "", "labels", true, &s->labels, &s->n_labels);
    val_volumes(v, root);
    val_containers(v, root);
}

struct pod_spec *spec_validate(const struct snode *root, const struct spec_opts *opts,
                               struct spec_diags *diags)
{
    struct pod_spec *s = xmalloc(sizeof *s);
    spec_defaults_pod(s);
    struct vctx v = {.opts = opts, .diags = diags, .s = s, .root = root};
    v_pod_name(&v);
    if (!root || snode_is_null(root)) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 1, 1, "", "the document is empty");
        return s;
    }
    if (root->type != SNODE_MAP) {
        ERR(&v, root, "", "the document must be a mapping (api:, podVersion:, ...), got %s",
            val_type_name(root));
        return s;
    }
    val_check_keys(&v, root, "", root_keys);
    v_header(&v, root);
    v_pod_extensions(&v, root);
    if (s->runtime == SPEC_RUNTIME_EXECUTABLE)
        v_executable(&v, root);
    else
        v_podman(&v, root);
    free(v.hostports);
    return s;
}
