/* SPDX-License-Identifier: MIT */
/* spec_validate_fields.c - the validator's readers (spec_validate.h): diagnostics at a path,
 * unknown keys with a "did you mean", typed fields (string, integer, boolean, list, mapping,
 * list of strings), the item loop of lists of mappings and name/value lists (labels, env).
 * Each reader reports everything wrong with its field and returns only what is right.
 * PURE: no I/O headers.
 */
#include "pod/util.h"
#include "spec_validate.h"

#include <stdlib.h>
#include <string.h>

#define NOVALUE "has no value (give one or remove the key)"

/* ------------------------------------------------------------------ diagnostics and paths */

void val_diag(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    spec_diag_vadd(v->diags, sev, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
    va_end(ap);
}

void val_diag_key(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
                  const char *key, const char *fmt, ...)
{
    char *key_path = val_path_key(path, key);
    va_list ap;
    va_start(ap, fmt);
    spec_diag_vadd(v->diags, sev, at ? at->line : 0, at ? at->col : 0, key_path, fmt, ap);
    va_end(ap);
    free(key_path);
}

char *val_path_key(const char *path, const char *key)
{
    return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

char *val_path_index(const char *path, size_t i)
{
    return xasprintf("%s[%zu]", path, i);
}

/* ------------------------------------------------------------------ nodes */

const char *val_type_name(const struct snode *n)
{
    if (snode_is_null(n))
        return "nothing (null)";
    switch (n->type) {
    case SNODE_MAP:
        return "a mapping";
    case SNODE_SEQ:
        return "a list";
    case SNODE_SCALAR:
        break;
    }
    return "a string";
}

const struct snode *val_get(const struct snode *map, const char *key)
{
    const struct snode *n = snode_get(map, key);
    return n && !snode_is_null(n) ? n : NULL;
}

const struct snode *val_key_node(const struct snode *map, const char *key)
{
    for (size_t i = 0; map && map->type == SNODE_MAP && i + 1 < map->n; i += 2)
        if (map->items[i]->type == SNODE_SCALAR && strcmp(map->items[i]->value, key) == 0)
            return map->items[i];
    return map;
}

bool val_has_ctl(const char *s, bool allow_tab)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

bool val_has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\t')
            return true;
    return false;
}

/* ------------------------------------------------------------------ unknown keys */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Damerau-Levenshtein distance (case-insensitive substitutions, transpositions); 99 for keys
 * too long to be worth it. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            bool same = lower(a[i - 1]) == lower(b[j - 1]);
            size_t x = d[i - 1][j] + 1, y = d[i][j - 1] + 1, z = d[i - 1][j - 1] + !same;
            d[i][j] = x < y ? (x < z ? x : z) : (y < z ? y : z);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1; /* transposition */
        }
    return d[la][lb];
}

/* Is key in known?  When it is not and suggest is set, *best is the closest known key. */
static bool is_known(const char *const *known, const char *key, bool suggest, const char **best,
                     size_t *best_dist)
{
    *best = NULL;
    *best_dist = 99;
    for (const char *const *p = known; *p; p++) {
        if (strcmp(*p, key) == 0)
            return true;
        if (!suggest)
            continue;
        size_t d = edit_distance(*p, key);
        if (d < *best_dist) {
            *best_dist = d;
            *best = *p;
        }
    }
    return false;
}

void val_check_keys(struct vctx *v, const struct snode *map, const char *path,
                    const char *const *known)
{
    if (!map || map->type != SNODE_MAP)
        return;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct snode *k = map->items[i];
        if (k->type != SNODE_SCALAR)
            continue;
        const char *best;
        size_t best_dist;
        bool suggest = v->diags->n_warnings < 200; /* bounded work on hostile input */
        if (is_known(known, k->value, suggest, &best, &best_dist) ||
            (!*path && strncmp(k->value, "x-", 2) == 0))
            continue; /* x-* top-level keys hold YAML anchors (as in compose files) */
        size_t limit = strlen(k->value) / 3;
        limit = limit < 1 ? 1 : limit > 3 ? 3 : limit;
        if (best && best_dist <= limit)
            val_diag_key(v, SPEC_SEV_WARNING, k, path, k->value,
                         "unknown key `%s` is ignored; did you mean `%s`?", k->value, best);
        else
            val_diag_key(v, SPEC_SEV_WARNING, k, path, k->value, "unknown key `%s` is ignored",
                         k->value);
    }
}

/* ------------------------------------------------------------------ typed fields */

const char *val_scalar(struct vctx *v, const struct snode *n, const char *path, const char *what)
{
    if (n->type != SNODE_SCALAR) {
        ERR(v, n, path, "expected %s, got %s", what, val_type_name(n));
        return NULL;
    }
    if (strlen(n->value) != n->value_len) {
        ERR(v, n, path, "contains a NUL character");
        return NULL;
    }
    return n->value;
}

/* Reports key of map being absent (when required) or present but null; the value node when
 * there is one to read. */
static const struct snode *present(struct vctx *v, const struct snode *map, const char *path,
                                   const char *key, bool required, const char *null_msg)
{
    const struct snode *n = val_get(map, key);
    if (n)
        return n;
    if (snode_get(map, key))
        ERR_KEY(v, snode_get(map, key), path, key, "%s", null_msg);
    else if (required)
        ERR_KEY(v, map, path, key, "required field missing");
    return NULL;
}

const struct snode *val_str(struct vctx *v, const struct snode *map, const char *path,
                            const char *key, bool required, char **out)
{
    const struct snode *n =
        present(v, map, path, key, required, required ? "must not be empty" : NOVALUE);
    if (!n)
        return NULL;
    char *key_path = val_path_key(path, key);
    const char *s = val_scalar(v, n, key_path, "a string");
    if (s && val_has_ctl(s, true)) {
        ERR(v, n, key_path, "must be a single line without control characters");
        s = NULL;
    }
    free(key_path);
    if (!s)
        return NULL;
    free(*out);
    *out = xstrdup(s);
    return n;
}

/* The scalar value node of key (a number), NULL when absent, null or not a scalar (reported). */
static const struct snode *number_node(struct vctx *v, const struct snode *map, const char *path,
                                       const char *key, bool required, const char *what)
{
    const struct snode *n = present(v, map, path, key, required, NOVALUE);
    if (n && n->type != SNODE_SCALAR) {
        ERR_KEY(v, n, path, key, "expected %s, got %s", what, val_type_name(n));
        return NULL;
    }
    return n;
}

bool val_int(struct vctx *v, const struct snode *map, const char *path, const char *key,
             long long min, long long max, bool required, int *out)
{
    const struct snode *n = number_node(v, map, path, key, required, "an integer");
    long long x;
    if (!n)
        return false;
    if (strlen(n->value) != n->value_len || !pod_parse_int(n->value, min, max, &x)) {
        ERR_KEY(v, n, path, key, "expected an integer from %lld to %lld, got `%s`", min, max,
                n->value);
        return false;
    }
    *out = (int)x;
    return true;
}

/* "S" or "S.F" with 1 to 3 fraction digits F (no sign, exponent or blanks): *ms, at most max_ms. */
static bool parse_seconds_ms(const char *s, long long max_ms, long long *ms)
{
    const char *dot = strchr(s, '.');
    size_t whole = dot ? (size_t)(dot - s) : strlen(s);
    char buf[24];
    long long w, f = 0;
    if (whole == 0 || whole >= sizeof buf)
        return false;
    memcpy(buf, s, whole);
    buf[whole] = 0;
    if (!pod_parse_int(buf, 0, max_ms / 1000, &w))
        return false;
    if (dot) {
        size_t nf = strlen(dot + 1);
        if (nf < 1 || nf > 3 || !pod_parse_int(dot + 1, 0, 999, &f))
            return false;
        for (; nf < 3; nf++)
            f *= 10; /* "0.5" is 500 ms */
    }
    *ms = w * 1000 + f;
    return *ms <= max_ms;
}

bool val_seconds_ms(struct vctx *v, const struct snode *map, const char *path, const char *key,
                    int max_s, int *out_ms)
{
    const struct snode *n = number_node(v, map, path, key, false, "a number of seconds");
    long long ms;
    if (!n)
        return false;
    if (strlen(n->value) != n->value_len || !parse_seconds_ms(n->value, max_s * 1000LL, &ms)) {
        ERR_KEY(v, n, path, key,
                "expected seconds from 0 to %d with at most 3 decimals (e.g. 0.25), got `%s`",
                max_s, n->value);
        return false;
    }
    *out_ms = (int)ms;
    return true;
}

bool val_bool(struct vctx *v, const struct snode *map, const char *path, const char *key, bool *out)
{
    const struct snode *n = present(v, map, path, key, false, NOVALUE);
    if (!n)
        return false;
    if (n->type == SNODE_SCALAR) {
        const char *s = n->value;
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = true;
            return true;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = false;
            return true;
        }
        ERR_KEY(v, n, path, key, "expected true or false, got `%s`", s);
    } else {
        ERR_KEY(v, n, path, key, "expected true or false, got %s", val_type_name(n));
    }
    return false;
}

const struct snode *val_seq(struct vctx *v, const struct snode *map, const char *path,
                            const char *key, const char *what)
{
    const struct snode *n = val_get(map, key);
    if (!n || n->type == SNODE_SEQ)
        return n;
    ERR_KEY(v, n, path, key, "expected a list of %s, got %s", what, val_type_name(n));
    return NULL;
}

const struct snode *val_map(struct vctx *v, const struct snode *map, const char *path,
                            const char *key)
{
    const struct snode *n = val_get(map, key);
    if (!n || n->type == SNODE_MAP)
        return n;
    ERR_KEY(v, n, path, key, "expected a mapping, got %s", val_type_name(n));
    return NULL;
}

bool val_strv(struct vctx *v, const struct snode *map, const char *path, const char *key,
              char ***out)
{
    const struct snode *l = val_seq(v, map, path, key, "strings (one argument per item)");
    if (!l)
        return false;
    char *key_path = val_path_key(path, key);
    char **res = NULL;
    bool ok = true;
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *item_path = val_path_index(key_path, i);
        const char *s = snode_is_null(it) ? "" : val_scalar(v, it, item_path, "a string");
        if (!s)
            ok = false;
        else
            pod_strv_push(&res, s);
        free(item_path);
    }
    free(key_path);
    if (!ok) {
        pod_strv_free(res);
        return false;
    }
    pod_strv_free(*out);
    *out = res;
    return res != NULL;
}

bool val_choice(struct vctx *v, const struct snode *map, const char *path, const char *key,
                bool required, const struct val_choice *choices, size_t n, int *out)
{
    char *s = NULL;
    const struct snode *sn = val_str(v, map, path, key, required, &s);
    bool found = false;
    for (size_t i = 0; sn && i < n && !found; i++)
        if (strcmp(s, choices[i].name) == 0) {
            *out = choices[i].value;
            found = true;
        }
    if (sn && !found) {
        struct pod_buf names = {0};
        for (size_t i = 0; i < n; i++)
            pod_buf_printf(&names, "%s%s", i ? "|" : "", choices[i].name);
        ERR_KEY(v, sn, path, key, "expected %s, got `%s`", names.data, s);
        pod_buf_free(&names);
    }
    free(s);
    return found;
}

void val_each_mapping(struct vctx *v, const struct snode *list, const char *path, const char *key,
                      const char *what, val_item_fn *fn, void *self)
{
    char *list_path = val_path_key(path, key);
    for (size_t i = 0; i < list->n; i++) {
        const struct snode *it = list->items[i];
        char *item_path = val_path_index(list_path, i);
        if (it->type != SNODE_MAP)
            ERR(v, it, item_path, "expected %s, got %s", what, val_type_name(it));
        else
            fn(v, it, item_path, self);
        free(item_path);
    }
    free(list_path);
}

/* ------------------------------------------------------------------ name/value lists */

static bool valid_label_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        bool punct = c == '.' || c == '_' || c == '-' || c == '/';
        if (!alnum && (!punct || i == 0 || i == n - 1))
            return false;
    }
    return true;
}

static bool valid_env_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

struct kvlist {
    bool label;
    struct spec_kv *out;
    size_t *n_out;
};

/* The name of one entry (new string), or NULL after an error. */
static char *kv_name(struct vctx *v, const struct snode *it, const char *item_path,
                     const struct kvlist *kl)
{
    char *name = NULL;
    const struct snode *nn = val_str(v, it, item_path, "name", true, &name);
    if (!nn)
        return NULL;
    if (kl->label ? !valid_label_name(name) : !valid_env_name(name)) {
        ERR_KEY(v, nn, item_path, "name",
                kl->label ? "invalid label name `%s` (letters, digits and . _ - /, "
                            "starting and ending with a letter or digit)"
                          : "invalid environment variable name `%s` (letters, "
                            "digits, _ . -, not starting with a digit)",
                name);
        free(name);
        return NULL;
    }
    for (size_t j = 0; j < *kl->n_out; j++)
        if (strcmp(kl->out[j].name, name) == 0) {
            ERR_KEY(v, nn, item_path, "name", "duplicate %s `%s`", kl->label ? "label" : "variable",
                    name);
            free(name);
            return NULL;
        }
    return name;
}

/* The value of one entry (new string; null is ""), or NULL after an error. */
static char *kv_value(struct vctx *v, const struct snode *it, const char *item_path, bool label)
{
    const struct snode *vn = snode_get(it, "value");
    if (!vn) {
        ERR(v, it, item_path, "`value` is required (use value: \"\" for an empty value)");
        return NULL;
    }
    if (snode_is_null(vn))
        return xstrdup("");
    char *value_path = val_path_key(item_path, "value");
    const char *s = val_scalar(v, vn, value_path, "a string");
    if (s && label && val_has_ctl(s, false)) {
        ERR(v, vn, value_path, "must be a single line without control characters");
        s = NULL;
    }
    free(value_path);
    return s ? xstrdup(s) : NULL;
}

static void kv_item(struct vctx *v, const struct snode *it, const char *item_path, void *self)
{
    struct kvlist *kl = self;
    static const char *const known[] = {"name", "value", NULL};
    val_check_keys(v, it, item_path, known);
    char *name = kv_name(v, it, item_path, kl);
    char *value = kv_value(v, it, item_path, kl->label);
    if (name && value) {
        kl->out[*kl->n_out] = (struct spec_kv){name, value};
        (*kl->n_out)++;
    } else {
        free(name);
        free(value);
    }
}

void val_kvlist(struct vctx *v, const struct snode *map, const char *path, const char *key,
                bool label, struct spec_kv **out, size_t *n_out)
{
    const struct snode *l = val_seq(v, map, path, key, "name/value mappings");
    if (!l)
        return;
    *out = xcalloc(l->n, sizeof **out);
    struct kvlist kl = {label, *out, n_out};
    val_each_mapping(v, l, path, key, "a mapping with name and value", kv_item, &kl);
}

/* ------------------------------------------------------------------ paths for podman */

const char *val_bad_mount_path(const char *s, bool need_abs)
{
    if (need_abs && s[0] != '/')
        return "must be an absolute path";
    if (strchr(s, ':') || strchr(s, ','))
        return "must not contain `:` or `,`";
    return NULL;
}
