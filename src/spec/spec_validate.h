/* SPDX-License-Identifier: MIT */
/* spec_validate.h - what the parts of the validator share (private to spec_validate*.c): the
 * validation context, diagnostics at a path, and typed readers of the node tree that report
 * what is wrong with a field and return what is right.  One file per section of pod.yaml:
 *   spec_validate.c             top level: api, runtime, podVersion, labels, configDebounce,
 *                               logs, executable (the entry point spec_validate)
 *   spec_validate_volumes.c     volumes[]
 *   spec_validate_containers.c  containers[]: image, command, env, restart, signal, mounts,
 *                               kind, stopTimeout, restartBackoff
 *   spec_validate_probes.c      startupProbe, readinessProbe, livenessProbe
 *   spec_validate_expose.c      expose[] and ingress[] (podman containers and executable)
 *   spec_validate_fields.c      the readers below
 * PURE, like all of the validator: no I/O headers, no file system, no environment, no clock.
 * Paths on disk are spec_fscheck.c's business.  Defaults come from spec_defaults.c.
 */
#ifndef POD_SPEC_VALIDATE_H
#define POD_SPEC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "spec_internal.h"

/* One run of the validator. */
struct vctx {
    const struct spec_opts *opts;
    struct spec_diags *diags;
    struct pod_spec *s; /* the model being filled */
    const struct snode *root;
    /* host ports seen so far across the pod, for duplicates (spec_validate_expose.c) */
    struct hostport {
        int port;
        const char *iface; /* borrowed from the model; NULL = default */
        int line;
    } * hostports;
    size_t n_hostports;
};

/* ---- diagnostics: at the node `at` (NULL: no position), about path ---- */

void val_diag(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
              const char *fmt, ...) POD_PRINTF(5, 6);
/* The same about path.key. */
void val_diag_key(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
                  const char *key, const char *fmt, ...) POD_PRINTF(6, 7);
#define ERR(v, at, path, ...) val_diag((v), SPEC_SEV_ERROR, (at), (path), __VA_ARGS__)
#define WARN(v, at, path, ...) val_diag((v), SPEC_SEV_WARNING, (at), (path), __VA_ARGS__)
#define ERR_KEY(v, at, path, key, ...)                                                             \
    val_diag_key((v), SPEC_SEV_ERROR, (at), (path), (key), __VA_ARGS__)

/* ---- paths (new strings) ---- */

char *val_path_key(const char *path, const char *key); /* "path.key"; "key" at the top */
char *val_path_index(const char *path, size_t i);      /* "path[i]" */

/* ---- nodes ---- */

/* "a mapping", "a list", "a string", "nothing (null)": for "expected X, got Y". */
const char *val_type_name(const struct snode *n);
/* Value of key in map when present and not null, else NULL. */
const struct snode *val_get(const struct snode *map, const char *key);
/* The key node of key in map (for positions), or the map itself. */
const struct snode *val_key_node(const struct snode *map, const char *key);
/* Warns about every key of map not in known (NULL-terminated), with a "did you mean". */
void val_check_keys(struct vctx *v, const struct snode *map, const char *path,
                    const char *const *known);
bool val_has_ctl(const char *s, bool allow_tab); /* control characters (tab allowed or not) */
bool val_has_space(const char *s);               /* a blank or a tab */

/* ---- typed fields of a mapping: report what is wrong, return what is right ---- */

/* A scalar as a string; NULL (after an error) for collections and embedded NULs. */
const char *val_scalar(struct vctx *v, const struct snode *n, const char *path, const char *what);
/* A single-line string into *out (replacing it); the node, or NULL when absent or bad. */
const struct snode *val_str(struct vctx *v, const struct snode *map, const char *path,
                            const char *key, bool required, char **out);
/* Seconds as a decimal with up to 3 fraction digits ("0.25", "2", "2.5"; plain or quoted),
 * 0 .. max_s, into milliseconds (configDebounceSeconds); true when present and valid. */
bool val_seconds_ms(struct vctx *v, const struct snode *map, const char *path, const char *key,
                    int max_s, int *out_ms);
/* An integer in [min, max] (plain or quoted digits); true when present and valid. */
bool val_int(struct vctx *v, const struct snode *map, const char *path, const char *key,
             long long min, long long max, bool required, int *out);
/* true/True/TRUE/false/False/FALSE (quoted too); true when present and valid. */
bool val_bool(struct vctx *v, const struct snode *map, const char *path, const char *key,
              bool *out);
/* A list (what: its items, for the message) or a mapping; NULL when absent, null or bad. */
const struct snode *val_seq(struct vctx *v, const struct snode *map, const char *path,
                            const char *key, const char *what);
const struct snode *val_map(struct vctx *v, const struct snode *map, const char *path,
                            const char *key);
/* A list of strings (command, args, cmd) into *out; an empty list gives NULL (not set).
 * True when set. */
bool val_strv(struct vctx *v, const struct snode *map, const char *path, const char *key,
              char ***out);

/* A string that must be one of n choices: sets *out to the choice's value and returns true;
 * else "expected a|b|c, got `x`" (the names in the order given). */
struct val_choice {
    const char *name;
    int value;
};
bool val_choice(struct vctx *v, const struct snode *map, const char *path, const char *key,
                bool required, const struct val_choice *choices, size_t n, int *out);

/* Calls fn for every item of list (the list at path.key) that is a mapping, with the item's
 * path "path.key[i]"; every other item is an error "expected <what>, got <type>". */
typedef void val_item_fn(struct vctx *v, const struct snode *item, const char *item_path,
                         void *self);
void val_each_mapping(struct vctx *v, const struct snode *list, const char *path, const char *key,
                      const char *what, val_item_fn *fn, void *self);

/* name/value lists: labels (label true) and env. */
void val_kvlist(struct vctx *v, const struct snode *map, const char *path, const char *key,
                bool label, struct spec_kv **out, size_t *n_out);

/* Why s is not a path podman's -v/--mount can take (NULL: it is). */
const char *val_bad_mount_path(const char *s, bool need_abs);

/* ---- the sections ---- */

void val_volumes(struct vctx *v, const struct snode *root);
void val_containers(struct vctx *v, const struct snode *root);

enum probe_which { PROBE_STARTUP, PROBE_READINESS, PROBE_LIVENESS };
/* The probe `which` of the container node cn (path cpath) into *p; c holds what the container
 * has so far (its expose entries: a tcp/http probe's port must be one). */
void val_probe(struct vctx *v, const struct snode *cn, const char *cpath, enum probe_which which,
               const struct spec_container *c, struct spec_probe *p);

/* Where an expose list is: a podman container, one with network: host, runtime: executable. */
enum expose_ctx { EXPOSE_PODMAN, EXPOSE_HOSTNET, EXPOSE_EXEC };
void val_expose(struct vctx *v, const struct snode *map, const char *path, enum expose_ctx ctx,
                struct spec_expose **out, size_t *n_out);

#endif
