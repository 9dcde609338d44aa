/* SPDX-License-Identifier: MIT */
/* spec_validate.c - node tree -> struct pod_spec, checking every field of PODSPEC and the
 * extensions (SPEC.md sections 4 and 5), filling in every default.
 *
 * PURE: no I/O headers, no file system, no environment, no clock (lint checks the includes).
 * Reports ALL problems as diagnostics with the offending node's line:col and a path such as
 * `containers[0].restart`; never stops at the first.  Unknown keys are warnings with a
 * "did you mean" suggestion.  Paths on disk are handled by spec_fscheck.c.
 */
#include "pod/util.h"
#include "spec_internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ context and helpers */

struct vctx {
    const struct spec_opts *opts;
    struct spec_diags *diags;
    struct pod_spec *s;
    const struct snode *root;
    /* host ports seen across the pod, for duplicates */
    struct hostport {
        int port;
        const char *iface; /* borrowed from the model; NULL = default */
        int line;
    } * hps;
    size_t n_hps;
};

static void diag(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
                 const char *fmt, ...) POD_PRINTF(5, 6);
static void diag(struct vctx *v, enum spec_sev sev, const struct snode *at, const char *path,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    spec_diag_vadd(v->diags, sev, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
    va_end(ap);
}
#define ERR(v, at, path, ...) diag((v), SPEC_SEV_ERROR, (at), (path), __VA_ARGS__)
#define WARN(v, at, path, ...) diag((v), SPEC_SEV_WARNING, (at), (path), __VA_ARGS__)

static char *pkey(const char *path, const char *key)
{
    return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

static char *pidx(const char *path, size_t i)
{
    return xasprintf("%s[%zu]", path, i);
}

static const char *type_name(const struct snode *n)
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

#define NOVALUE "has no value (give one or remove the key)"

/* Present and not null? */
static const struct snode *get(const struct snode *map, const char *key)
{
    const struct snode *n = snode_get(map, key);
    return n && !snode_is_null(n) ? n : NULL;
}

/* The key node of key in map (for positions), or the map itself. */
static const struct snode *key_node(const struct snode *map, const char *key)
{
    for (size_t i = 0; map && map->type == SNODE_MAP && i + 1 < map->n; i += 2)
        if (map->items[i]->type == SNODE_SCALAR && strcmp(map->items[i]->value, key) == 0)
            return map->items[i];
    return map;
}

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
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z')
                cb = (char)(cb - 'A' + 'a');
            size_t x = d[i - 1][j] + 1, y = d[i][j - 1] + 1, z = d[i - 1][j - 1] + (ca != cb);
            d[i][j] = x < y ? (x < z ? x : z) : (y < z ? y : z);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1; /* transposition */
        }
    return d[la][lb];
}

/* Warns about keys of map not in known (NULL-terminated).  Keys in other_ok are accepted
 * silently (they are checked elsewhere). */
static void check_keys(struct vctx *v, const struct snode *map, const char *path,
                       const char *const *known)
{
    if (!map || map->type != SNODE_MAP)
        return;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct snode *k = map->items[i];
        if (k->type != SNODE_SCALAR)
            continue;
        bool ok = false;
        const char *best = NULL;
        size_t best_d = 99;
        bool suggest = v->diags->n_warnings < 200; /* bounded work on hostile input */
        for (const char *const *p = known; *p; p++) {
            if (strcmp(*p, k->value) == 0) {
                ok = true;
                break;
            }
            if (!suggest)
                continue;
            size_t d = edit_distance(*p, k->value);
            if (d < best_d) {
                best_d = d;
                best = *p;
            }
        }
        if (ok || (!*path && strncmp(k->value, "x-", 2) == 0))
            continue; /* x-* top-level keys hold YAML anchors (as in compose files) */
        char *kp = pkey(path, k->value);
        size_t lim = strlen(k->value) / 3;
        if (lim < 1)
            lim = 1;
        if (lim > 3)
            lim = 3;
        if (best && best_d <= lim)
            WARN(v, k, kp, "unknown key `%s` is ignored; did you mean `%s`?", k->value, best);
        else
            WARN(v, k, kp, "unknown key `%s` is ignored", k->value);
        free(kp);
    }
}

static bool has_ctl(const char *s, bool allow_tab)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

static bool has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\t')
            return true;
    return false;
}

/* A scalar as a string.  Returns NULL (after an error) for non-scalars and embedded NULs. */
static const char *scalar(struct vctx *v, const struct snode *n, const char *path, const char *what)
{
    if (n->type != SNODE_SCALAR) {
        ERR(v, n, path, "expected %s, got %s", what, type_name(n));
        return NULL;
    }
    if (strlen(n->value) != n->value_len) {
        ERR(v, n, path, "contains a NUL character");
        return NULL;
    }
    return n->value;
}

/* Optional single-line string field.  Returns the node (NULL when absent or bad). */
static const struct snode *get_str(struct vctx *v, const struct snode *map, const char *path,
                                   const char *key, bool required, char **out)
{
    char *kp = pkey(path, key);
    const struct snode *n = get(map, key);
    const struct snode *res = NULL;
    if (!n) {
        if (snode_get(map, key))
            ERR(v, snode_get(map, key), kp, required ? "must not be empty" : NOVALUE);
        else if (required)
            ERR(v, map, kp, "required field missing");
    } else {
        const char *s = scalar(v, n, kp, "a string");
        if (s && has_ctl(s, true)) {
            ERR(v, n, kp, "must be a single line without control characters");
        } else if (s) {
            free(*out);
            *out = xstrdup(s);
            res = n;
        }
    }
    free(kp);
    return res;
}

/* Integer field in [min,max]; plain or quoted digits.  Returns true when present and valid. */
static bool get_int(struct vctx *v, const struct snode *map, const char *path, const char *key,
                    long long min, long long max, bool required, int *out)
{
    char *kp = pkey(path, key);
    const struct snode *n = get(map, key);
    bool ok = false;
    if (!n) {
        if (snode_get(map, key))
            ERR(v, snode_get(map, key), kp, NOVALUE);
        else if (required)
            ERR(v, map, kp, "required field missing");
    } else if (n->type != SNODE_SCALAR) {
        ERR(v, n, kp, "expected an integer, got %s", type_name(n));
    } else {
        long long x;
        if (strlen(n->value) != n->value_len || !pod_parse_int(n->value, min, max, &x))
            ERR(v, n, kp, "expected an integer from %lld to %lld, got `%s`", min, max, n->value);
        else {
            *out = (int)x;
            ok = true;
        }
    }
    free(kp);
    return ok;
}

/* Boolean field: true/True/TRUE/false/False/FALSE (quoted too, as the original stripped
 * quotes).  Returns true when present and valid. */
static bool get_bool(struct vctx *v, const struct snode *map, const char *path, const char *key,
                     bool *out)
{
    const struct snode *n = get(map, key);
    if (!n) {
        if (snode_get(map, key)) {
            char *kp = pkey(path, key);
            ERR(v, snode_get(map, key), kp, NOVALUE);
            free(kp);
        }
        return false;
    }
    char *kp = pkey(path, key);
    bool ok = false;
    if (n->type == SNODE_SCALAR) {
        const char *s = n->value;
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = true;
            ok = true;
        } else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = false;
            ok = true;
        }
    }
    if (!ok)
        ERR(v, n, kp, "expected true or false, got %s%s%s%s", n->type == SNODE_SCALAR ? "`" : "",
            n->type == SNODE_SCALAR ? n->value : "", n->type == SNODE_SCALAR ? "`" : "",
            n->type == SNODE_SCALAR ? "" : type_name(n));
    free(kp);
    return ok;
}

/* A list node (or NULL when absent/null; error when not a list). */
static const struct snode *get_seq(struct vctx *v, const struct snode *map, const char *path,
                                   const char *key, const char *what)
{
    const struct snode *n = get(map, key);
    if (!n)
        return NULL;
    if (n->type != SNODE_SEQ) {
        char *kp = pkey(path, key);
        ERR(v, n, kp, "expected a list of %s, got %s", what, type_name(n));
        free(kp);
        return NULL;
    }
    return n;
}

static const struct snode *get_map(struct vctx *v, const struct snode *map, const char *path,
                                   const char *key)
{
    const struct snode *n = get(map, key);
    if (!n)
        return NULL;
    if (n->type != SNODE_MAP) {
        char *kp = pkey(path, key);
        ERR(v, n, kp, "expected a mapping, got %s", type_name(n));
        free(kp);
        return NULL;
    }
    return n;
}

/* A list of strings (command, args, cmd).  An empty list gives NULL (= not set). */
static bool get_strv(struct vctx *v, const struct snode *map, const char *path, const char *key,
                     char ***out)
{
    const struct snode *l = get_seq(v, map, path, key, "strings (one argument per item)");
    if (!l)
        return false;
    char *kp = pkey(path, key);
    char **res = NULL;
    bool ok = true;
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(kp, i);
        const char *s = snode_is_null(it) ? "" : scalar(v, it, ip, "a string");
        if (!s)
            ok = false;
        else
            pod_strv_push(&res, s);
        free(ip);
    }
    free(kp);
    if (!ok) {
        pod_strv_free(res);
        return false;
    }
    pod_strv_free(*out);
    *out = res;
    return res != NULL;
}

/* ------------------------------------------------------------------ value checks */

static bool valid_semver(const char *s)
{
    /* major.minor.patch[-tag], tag = dot-separated [0-9A-Za-z-]+ identifiers */
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

static bool valid_image(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 4096)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '/' || c == ':' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

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

static bool valid_ipv4(const char *s)
{
    for (int part = 0; part < 4; part++) {
        int val = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            val = val * 10 + (*s - '0');
            if (++digits > 3)
                return false;
            s++;
        }
        if (digits == 0 || val > 255)
            return false;
        if (part < 3) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

/* A path for podman's -v/--mount: absolute, no ':' or ',' (they are separators there). */
static const char *bad_mount_path(const char *s, bool need_abs)
{
    if (need_abs && s[0] != '/')
        return "must be an absolute path";
    if (strchr(s, ':') || strchr(s, ','))
        return "must not contain `:` or `,`";
    return NULL;
}

static bool valid_domain_word(const char *w, size_t n)
{
    size_t i = 0;
    if (n >= 2 && w[0] == '*' && w[1] == '.')
        i = 2;
    if (i == n)
        return false;
    bool label_start = true;
    for (; i < n; i++) {
        char c = w[i];
        if (c == '.') {
            if (label_start || w[i - 1] == '-')
                return false;
            label_start = true;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_') {
            label_start = false;
        } else if (c == '-') {
            if (label_start)
                return false;
        } else {
            return false;
        }
    }
    return !label_start && w[n - 1] != '-';
}

/* Checks each space-separated word; returns the first bad word (new string) or NULL. */
static char *bad_word(const char *s, int kind)
{
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        bool ok;
        if (kind == 0) /* domain */
            ok = valid_domain_word(p, n);
        else if (kind == 1) /* path / pathBeg: begins with / */
            ok = p[0] == '/';
        else /* pathEnd: anything printable */
            ok = true;
        if (!ok)
            return xstrndup(p, n);
        p = e;
    }
    return NULL;
}

static const char *const linux_signals[] = {
    "HUP",    "INT",  "QUIT",  "ILL",  "TRAP", "ABRT", "IOT",  "BUS",    "FPE",
    "KILL",   "USR1", "SEGV",  "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",
    "CLD",    "CONT", "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU",   "XFSZ",
    "VTALRM", "PROF", "WINCH", "IO",   "POLL", "PWR",  "SYS",  NULL};

/* Normalises a signal name (case-insensitive, optional SIG prefix); new string or NULL. */
static char *norm_signal(const char *s)
{
    char buf[16];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    const char *b = buf;
    if (strncmp(b, "SIG", 3) == 0)
        b += 3;
    for (const char *const *p = linux_signals; *p; p++)
        if (strcmp(*p, b) == 0)
            return xstrdup(b);
    return NULL;
}

/* "<n>M" / "<n>G" -> "<n>M" (ramdisk sizes).  NULL if invalid. */
static char *norm_ramdisk_size(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || (s[n - 1] != 'M' && s[n - 1] != 'G'))
        return NULL;
    char *num = xstrndup(s, n - 1);
    long long x;
    bool ok = num[0] != '0' && pod_parse_int(num, 1, 1048576, &x);
    free(num);
    if (!ok)
        return NULL;
    if (s[n - 1] == 'G')
        x *= 1024;
    if (x > 1048576)
        return NULL;
    return xasprintf("%lldM", x);
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

/* ------------------------------------------------------------------ labels, env */

/* name/value lists (labels, env).  kind: "label" | "env" */
static void v_kvlist(struct vctx *v, const struct snode *map, const char *path, const char *key,
                     bool label, struct spec_kv **out, size_t *n_out)
{
    const struct snode *l = get_seq(v, map, path, key, "name/value mappings");
    if (!l)
        return;
    char *kp = pkey(path, key);
    *out = xcalloc(l->n, sizeof **out);
    static const char *const known[] = {"name", "value", NULL};
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(kp, i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected a mapping with name and value, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, known);
        char *name = NULL, *value = NULL;
        const struct snode *nn = get_str(v, it, ip, "name", true, &name);
        if (nn) {
            char *np = pkey(ip, "name");
            if (label ? !valid_label_name(name) : !valid_env_name(name)) {
                ERR(v, nn, np,
                    label ? "invalid label name `%s` (letters, digits and . _ - /, "
                            "starting and ending with a letter or digit)"
                          : "invalid environment variable name `%s` (letters, "
                            "digits, _ . -, not starting with a digit)",
                    name);
                free(name);
                name = NULL;
            } else {
                for (size_t j = 0; j < *n_out; j++)
                    if (strcmp((*out)[j].name, name) == 0) {
                        ERR(v, nn, np, "duplicate %s `%s`", label ? "label" : "variable", name);
                        free(name);
                        name = NULL;
                        break;
                    }
            }
            free(np);
        }
        const struct snode *vn = snode_get(it, "value");
        if (!vn) {
            ERR(v, it, ip, "`value` is required (use value: \"\" for an empty value)");
        } else if (snode_is_null(vn)) {
            value = xstrdup("");
        } else {
            char *vp = pkey(ip, "value");
            const char *s = scalar(v, vn, vp, "a string");
            if (s && label && has_ctl(s, false))
                ERR(v, vn, vp, "must be a single line without control characters");
            else if (s)
                value = xstrdup(s);
            free(vp);
        }
        if (name && value) {
            (*out)[*n_out].name = name;
            (*out)[*n_out].value = value;
            (*n_out)++;
        } else {
            free(name);
            free(value);
        }
        free(ip);
    }
    free(kp);
}

/* ------------------------------------------------------------------ volumes */

static void v_volumes(struct vctx *v, const struct snode *root)
{
    const struct snode *l = get_seq(v, root, "", "volumes", "volume mappings");
    if (!l)
        return;
    struct pod_spec *s = v->s;
    s->volumes = xcalloc(l->n, sizeof *s->volumes);
    static const char *const known[] = {"name",      "type", "size", "shared",
                                        "encrypted", "bind", NULL};
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx("volumes", i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected a volume mapping, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, known);
        struct spec_volume vol = {0};
        vol.line = it->line;
        vol.col = it->col;
        char *type = NULL;
        const struct snode *tn = get_str(v, it, ip, "type", true, &type);
        bool type_ok = false;
        if (tn) {
            static const char *const types[] = {"volume", "ramdisk", "config", "host"};
            for (int t = 0; t < 4; t++)
                if (strcmp(type, types[t]) == 0) {
                    vol.type = (enum spec_vol_type)t;
                    type_ok = true;
                }
            if (!type_ok) {
                char *tp = pkey(ip, "type");
                ERR(v, tn, tp, "expected ramdisk|config|volume|host, got `%s`", type);
                free(tp);
            }
        }
        free(type);
        const struct snode *nn = get_str(v, it, ip, "name", true, &vol.name);
        if (nn) {
            char *np = pkey(ip, "name");
            bool ok;
            if (vol.type == SPEC_VOL_CONFIG && type_ok && vol.name[0] == '_') {
                char *t = xstrdup(vol.name);
                t[0] = 'a'; /* configs may start with _ (cluster templates) */
                ok = spec_valid_name(t);
                free(t);
            } else {
                ok = spec_valid_name(vol.name);
            }
            if (!ok) {
                ERR(v, nn, np,
                    "invalid volume name `%s` (lowercase letters, digits and _, starting with a "
                    "letter%s, not ending with _)",
                    vol.name, vol.type == SPEC_VOL_CONFIG ? " or, for configs, _" : "");
            } else if (spec_find_volume(s, vol.name)) {
                ERR(v, nn, np, "duplicate volume name `%s`", vol.name);
            }
            free(np);
        }
        /* type-specific keys */
        const struct snode *sz = snode_get(it, "size");
        const struct snode *sh = snode_get(it, "shared");
        const struct snode *en = snode_get(it, "encrypted");
        const struct snode *bd = snode_get(it, "bind");
        if (type_ok) {
            if (sz && vol.type != SPEC_VOL_RAMDISK)
                WARN(v, key_node(it, "size"), ip, "`size` has no effect on type %s",
                     spec_vol_type_name(vol.type));
            if (sh && vol.type != SPEC_VOL_VOLUME)
                WARN(v, key_node(it, "shared"), ip, "`shared` has no effect on type %s",
                     spec_vol_type_name(vol.type));
            if (en && vol.type != SPEC_VOL_CONFIG)
                WARN(v, key_node(it, "encrypted"), ip, "`encrypted` has no effect on type %s",
                     spec_vol_type_name(vol.type));
            if (bd && vol.type != SPEC_VOL_HOST)
                WARN(v, key_node(it, "bind"), ip, "`bind` has no effect on type %s",
                     spec_vol_type_name(vol.type));
        }
        if (type_ok && vol.type == SPEC_VOL_RAMDISK) {
            char *size = NULL;
            const struct snode *szn = get_str(v, it, ip, "size", true, &size);
            if (szn) {
                vol.size = norm_ramdisk_size(size);
                if (!vol.size) {
                    char *sp = pkey(ip, "size");
                    ERR(v, szn, sp, "expected a size like 10M or 1G (1M to 1048576M), got `%s`",
                        size);
                    free(sp);
                }
            }
            free(size);
        }
        if (type_ok && vol.type == SPEC_VOL_VOLUME) {
            char *shared = NULL;
            const struct snode *shn = get_str(v, it, ip, "shared", false, &shared);
            if (shn) {
                if (!strcmp(shared, "no"))
                    vol.shared = SPEC_SHARED_NO;
                else if (!strcmp(shared, "pod"))
                    vol.shared = SPEC_SHARED_POD;
                else if (!strcmp(shared, "host"))
                    vol.shared = SPEC_SHARED_HOST;
                else {
                    char *sp = pkey(ip, "shared");
                    ERR(v, shn, sp, "expected no|pod|host, got `%s`", shared);
                    free(sp);
                }
            }
            free(shared);
        }
        if (type_ok && vol.type == SPEC_VOL_CONFIG) {
            if (get_bool(v, it, ip, "encrypted", &vol.encrypted) && vol.encrypted) {
                char *ep = pkey(ip, "encrypted");
                ERR(v, get(it, "encrypted"), ep,
                    "encrypted configs are not implemented (PODSPEC: \"NOT YET "
                    "IMPLEMENTED\"); remove `encrypted: true`");
                free(ep);
            }
        }
        if (type_ok && vol.type == SPEC_VOL_HOST) {
            const struct snode *bn = get_str(v, it, ip, "bind", true, &vol.bind);
            if (bn) {
                const char *why = bad_mount_path(vol.bind, false);
                if (!why && !vol.bind[0])
                    why = "must not be empty";
                if (why) {
                    char *bp = pkey(ip, "bind");
                    ERR(v, bn, bp, "%s", why);
                    free(bp);
                }
            }
        }
        s->volumes[s->n_volumes++] = vol;
        free(ip);
    }
}

/* ------------------------------------------------------------------ expose / ingress */

static const char *const ingress_keys[] = {
    "protocol",  "bind",    "domain",          "weight",           "path",
    "pathBeg",   "pathEnd", "redirectToHttps", "redirectLocation", "redirectPrefix",
    "errorfile", NULL};

static void v_ingress(struct vctx *v, const struct snode *en, const char *ep, struct spec_expose *e,
                      bool podman)
{
    const struct snode *l = get_seq(v, en, ep, "ingress", "ingress rules");
    if (!l)
        return;
    char *lp = pkey(ep, "ingress");
    e->ingress = xcalloc(l->n, sizeof *e->ingress);
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(lp, i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected an ingress rule mapping, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, ingress_keys);
        struct spec_ingress r;
        spec_defaults_ingress(&r);
        const struct snode *pn = get_str(v, it, ip, "protocol", true, &r.protocol);
        bool http = false, https = false, tcp = false;
        if (pn) {
            http = !strcmp(r.protocol, "http");
            https = !strcmp(r.protocol, "https");
            tcp = !strcmp(r.protocol, "tcp");
            if (!http && !https && !tcp) {
                char *pp = pkey(ip, "protocol");
                ERR(v, pn, pp, "expected http|https|tcp, got `%s`", r.protocol);
                free(pp);
            }
        }
        get_int(v, it, ip, "bind", 1, 65535, tcp, &r.bind);
        get_int(v, it, ip, "weight", 0, 1000000, false, &r.weight);
        struct {
            const char *key;
            char **dst;
            int kind;
        } words[] = {{"domain", &r.domain, 0},
                     {"path", &r.path, 1},
                     {"pathBeg", &r.path_beg, 1},
                     {"pathEnd", &r.path_end, 2}};
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            const struct snode *wn = get_str(v, it, ip, words[w].key, false, words[w].dst);
            if (!wn)
                continue;
            char *wp = pkey(ip, words[w].key);
            char *bad = has_ctl(*words[w].dst, false) ? xstrdup("") : NULL;
            if (!bad)
                bad = bad_word(*words[w].dst, words[w].kind);
            if (bad || !(*words[w].dst)[strspn(*words[w].dst, " ")])
                ERR(v, wn, wp,
                    words[w].kind == 0   ? "invalid domain `%s` (space-separated host names, "
                                           "optionally starting with *.)"
                    : words[w].kind == 1 ? "invalid path `%s` (space-separated paths, each "
                                           "starting with /)"
                                         : "invalid path ending `%s`",
                    bad ? bad : "");
            free(bad);
            free(wp);
        }
        get_bool(v, it, ip, "redirectToHttps", &r.redirect_to_https);
        const struct snode *rl =
            get_str(v, it, ip, "redirectLocation", false, &r.redirect_location);
        const struct snode *rp = get_str(v, it, ip, "redirectPrefix", false, &r.redirect_prefix);
        const struct snode *ef = get_str(v, it, ip, "errorfile", false, &r.errorfile);
        if (rl && (has_space(r.redirect_location) || !*r.redirect_location)) {
            char *xp = pkey(ip, "redirectLocation");
            ERR(v, rl, xp, "must be a URL without spaces");
            free(xp);
        }
        if (rp && (has_space(r.redirect_prefix) || !*r.redirect_prefix)) {
            char *xp = pkey(ip, "redirectPrefix");
            ERR(v, rp, xp, "must be a URL without spaces");
            free(xp);
        }
        if (ef) {
            const char *x = r.errorfile;
            long long code = 0;
            char num[4] = {0};
            bool ok = strlen(x) > 5 && x[3] == ' ';
            if (ok) {
                memcpy(num, x, 3);
                ok = pod_parse_int(num, 200, 599, &code) && x[4] == '/' && !has_space(x + 4);
            }
            if (!ok) {
                char *xp = pkey(ip, "errorfile");
                ERR(v, ef, xp,
                    "expected `CODE PATH` (HTTP status 200-599 and an absolute file path), got "
                    "`%s`",
                    x);
                free(xp);
            }
        }
        /* exclusivity */
        int n_redir = (r.redirect_to_https ? 1 : 0) + (rl ? 1 : 0) + (rp ? 1 : 0) + (ef ? 1 : 0);
        if (n_redir > 1)
            ERR(v, it, ip,
                "redirectToHttps, redirectLocation, redirectPrefix and errorfile are mutually "
                "exclusive");
        bool has_path = get(it, "path") != NULL;
        bool has_beg_end = get(it, "pathBeg") || get(it, "pathEnd");
        if (has_path && has_beg_end)
            ERR(v, key_node(it, "path"), ip, "`path` cannot be combined with pathBeg/pathEnd");
        if (tcp) {
            static const char *const forbidden[] = {
                "path",           "pathBeg",   "pathEnd", "redirectToHttps", "redirectLocation",
                "redirectPrefix", "errorfile", NULL};
            for (const char *const *f = forbidden; *f; f++)
                if (snode_get(it, *f))
                    ERR(v, key_node(it, *f), ip, "`%s` is not allowed for protocol tcp", *f);
        }
        if (https && r.redirect_to_https)
            ERR(v, key_node(it, "redirectToHttps"), ip,
                "redirectToHttps is not allowed for protocol https");
        bool routed = n_redir == 0;
        if ((http || https) && routed && !has_path && !has_beg_end)
            ERR(v, it, ip,
                "an http/https rule that routes to the backend needs path, pathBeg or pathEnd "
                "(or one of redirectToHttps, redirectLocation, redirectPrefix, errorfile)");
        if (routed && (http || https || tcp)) {
            if (!e->host_port || !e->cluster_port)
                ERR(v, it, ip,
                    "a rule that routes to the backend requires %shostPort and clusterPort on "
                    "this expose entry",
                    podman ? "targetPort, " : "");
        }
        e->ingress[e->n_ingress++] = r;
        free(ip);
    }
    free(lp);
}

enum expose_ctx { EXPOSE_PODMAN, EXPOSE_HOSTNET, EXPOSE_EXEC };

static void v_expose(struct vctx *v, const struct snode *map, const char *path, enum expose_ctx ctx,
                     struct spec_expose **out, size_t *n_out)
{
    const struct snode *l = get_seq(v, map, path, "expose", "expose mappings");
    if (!l)
        return;
    char *lp = pkey(path, "expose");
    *out = xcalloc(l->n, sizeof **out);
    static const char *const known[] = {"targetPort", "hostPort",  "hostInterface", "clusterPort",
                                        "maxConn",    "sendProxy", "ingress",       NULL};
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(lp, i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected an expose mapping, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, known);
        struct spec_expose e;
        spec_defaults_expose(&e);
        if (ctx == EXPOSE_EXEC) {
            if (snode_get(it, "targetPort"))
                ERR(v, key_node(it, "targetPort"), ip,
                    "`targetPort` is not allowed with runtime: executable (there are no "
                    "containers; hostPort is the port the executable listens on)");
            if (snode_get(it, "hostInterface"))
                ERR(v, key_node(it, "hostInterface"), ip,
                    "`hostInterface` is not allowed with runtime: executable");
        } else {
            get_int(v, it, ip, "targetPort", 1, 65535, false, &e.target_port);
        }
        bool hp_ok = get_int(v, it, ip, "hostPort", 1, 65535, false, &e.host_port);
        if (ctx == EXPOSE_PODMAN) {
            const struct snode *hi = get_str(v, it, ip, "hostInterface", false, &e.host_interface);
            if (hi && !valid_ipv4(e.host_interface)) {
                char *hp = pkey(ip, "hostInterface");
                ERR(v, hi, hp, "expected an IPv4 address such as 0.0.0.0, got `%s`",
                    e.host_interface);
                free(hp);
            }
            if (e.host_port && !e.target_port && !snode_get(it, "targetPort"))
                ERR(v, key_node(it, "hostPort"), ip, "hostPort requires targetPort");
        } else if (ctx == EXPOSE_HOSTNET) {
            if (snode_get(it, "hostInterface"))
                WARN(v, key_node(it, "hostInterface"), ip,
                     "`hostInterface` has no effect with network: host");
            if (e.target_port && e.host_port && e.target_port != e.host_port)
                ERR(v, key_node(it, "hostPort"), ip,
                    "with network: host the container binds the host port itself: targetPort "
                    "and hostPort must be equal");
            if (!e.host_port)
                e.host_port = e.target_port;
            e.target_port = e.host_port;
        }
        const struct snode *cpn = get(it, "clusterPort");
        if (get_int(v, it, ip, "clusterPort", 1024, 65535, false, &e.cluster_port)) {
            if (e.cluster_port >= 30000 && e.cluster_port <= 32767) {
                char *cp = pkey(ip, "clusterPort");
                ERR(v, cpn, cp, "clusterPort must not be in 30000-32767 (reserved), got %d",
                    e.cluster_port);
                free(cp);
            }
            if (!e.host_port && !snode_get(it, "hostPort"))
                ERR(v, key_node(it, "clusterPort"), ip, "clusterPort requires hostPort");
        }
        get_int(v, it, ip, "maxConn", 1, 1000000, false, &e.max_conn);
        get_bool(v, it, ip, "sendProxy", &e.send_proxy);
        v_ingress(v, it, ip, &e, ctx == EXPOSE_PODMAN);
        (*out)[*n_out] = e;
        /* host ports are unique across the pod (unless bound to different explicit IPs) */
        if (hp_ok || (ctx == EXPOSE_HOSTNET && e.host_port)) {
            const struct snode *hn = get(it, "hostPort") ? get(it, "hostPort") : it;
            for (size_t k = 0; k < v->n_hps; k++) {
                const struct hostport *h = &v->hps[k];
                if (h->port != e.host_port)
                    continue;
                bool distinct = h->iface && e.host_interface && strcmp(h->iface, "0.0.0.0") &&
                                strcmp(e.host_interface, "0.0.0.0") &&
                                strcmp(h->iface, e.host_interface);
                if (!distinct) {
                    char *hp = pkey(ip, "hostPort");
                    ERR(v, hn, hp, "hostPort %d is already used (line %d)", e.host_port, h->line);
                    free(hp);
                    break;
                }
            }
            v->hps = xrealloc(v->hps, (v->n_hps + 1) * sizeof *v->hps);
            v->hps[v->n_hps++] =
                (struct hostport){e.host_port, (*out)[*n_out].host_interface, hn->line};
        }
        (*n_out)++;
        free(ip);
    }
    free(lp);
}

/* ------------------------------------------------------------------ probes */

enum probe_which { PROBE_STARTUP, PROBE_READINESS, PROBE_LIVENESS };

static void v_probe(struct vctx *v, const struct snode *cn, const char *cpath,
                    enum probe_which which, struct spec_container *c, struct spec_probe *p)
{
    static const char *const names[] = {"startupProbe", "readinessProbe", "livenessProbe"};
    const char *key = names[which];
    const struct snode *pn = get_map(v, cn, cpath, key);
    if (!pn)
        return;
    char *pp = pkey(cpath, key);
    static const char *const known_startup[] = {"timeout",
                                                "exit",
                                                "cmd",
                                                "signal",
                                                "tcpSocket",
                                                "httpGet",
                                                "initialDelaySeconds",
                                                "periodSeconds",
                                                "timeoutSeconds",
                                                "successThreshold",
                                                "failureThreshold",
                                                NULL};
    check_keys(v, pn, pp, known_startup);
    if (which != PROBE_STARTUP) {
        if (snode_get(pn, "exit"))
            ERR(v, key_node(pn, "exit"), pp, "`exit` is only allowed in startupProbe");
        if (snode_get(pn, "signal"))
            ERR(v, key_node(pn, "signal"), pp, "`signal` is only allowed in startupProbe");
    }
    get_int(v, pn, pp, "timeout", 1, 86400, false, &p->timeout_s);
    get_int(v, pn, pp, "initialDelaySeconds", 0, 86400, false, &p->initial_delay_s);
    get_int(v, pn, pp, "periodSeconds", 1, 86400, false, &p->period_s);
    p->attempt_timeout_s = p->timeout_s;
    get_int(v, pn, pp, "timeoutSeconds", 1, 86400, false, &p->attempt_timeout_s);
    if (get_int(v, pn, pp, "successThreshold", 1, 1000, false, &p->success_threshold) &&
        which != PROBE_READINESS && p->success_threshold != 1) {
        char *xp = pkey(pp, "successThreshold");
        ERR(v, get(pn, "successThreshold"), xp, "must be 1 for %s", key);
        free(xp);
    }
    get_int(v, pn, pp, "failureThreshold", 1, 1000, false, &p->failure_threshold);

    int kinds = 0;
    bool exit_flag = false;
    if (which == PROBE_STARTUP && get_bool(v, pn, pp, "exit", &exit_flag) && exit_flag) {
        p->kind = SPEC_PROBE_EXIT;
        kinds++;
    }
    if (get(pn, "cmd")) {
        if (get_strv(v, pn, pp, "cmd", &p->cmd)) {
            p->kind = SPEC_PROBE_EXEC;
        } else if (get(pn, "cmd")->type == SNODE_SEQ) {
            char *xp = pkey(pp, "cmd");
            ERR(v, get(pn, "cmd"), xp, "must not be empty");
            free(xp);
        }
        kinds++;
    }
    static const char *const port_keys[] = {"port", NULL};
    static const char *const http_keys[] = {"port", "path", NULL};
    const struct snode *tcp = get_map(v, pn, pp, "tcpSocket");
    const struct snode *http = get_map(v, pn, pp, "httpGet");
    const struct snode *net = tcp ? tcp : http;
    if (tcp) {
        kinds++;
        p->kind = SPEC_PROBE_TCP;
    }
    if (http) {
        kinds++;
        p->kind = SPEC_PROBE_HTTP;
    }
    if (kinds > 1)
        ERR(v, pn, pp, "exit, cmd, tcpSocket and httpGet are mutually exclusive");
    if (net) {
        char *np = pkey(pp, tcp ? "tcpSocket" : "httpGet");
        check_keys(v, net, np, tcp ? port_keys : http_keys);
        if (get_int(v, net, np, "port", 1, 65535, true, &p->port)) {
            if (c->network_host) {
                p->host_port = p->port;
            } else {
                for (size_t i = 0; i < c->n_expose; i++)
                    if (c->expose[i].target_port == p->port && c->expose[i].host_port) {
                        p->host_port = c->expose[i].host_port;
                        break;
                    }
                if (!p->host_port) {
                    char *xp = pkey(np, "port");
                    ERR(v, get(net, "port"), xp,
                        "port %d is not an exposed targetPort of this container with a "
                        "hostPort (the probe connects from the host)",
                        p->port);
                    free(xp);
                }
            }
        }
        if (http) {
            const struct snode *hp = get_str(v, http, np, "path", false, &p->http_path);
            if (!hp) {
                if (!p->http_path)
                    p->http_path = xstrdup(spec_default_http_path);
            } else if (p->http_path[0] != '/' || has_space(p->http_path)) {
                char *xp = pkey(np, "path");
                ERR(v, hp, xp, "must start with / and contain no spaces");
                free(xp);
            }
        }
        free(np);
    }
    if (which != PROBE_STARTUP && kinds == 0)
        ERR(v, pn, pp, "%s needs cmd (or the extensions tcpSocket/httpGet)", key);

    if (which == PROBE_STARTUP) {
        const struct snode *sl = get_seq(v, pn, pp, "signal", "`container: name` mappings");
        if (sl) {
            char *sp = pkey(pp, "signal");
            static const char *const sig_keys[] = {"container", NULL};
            for (size_t i = 0; i < sl->n; i++) {
                const struct snode *it = sl->items[i];
                char *ip = pidx(sp, i);
                if (it->type != SNODE_MAP) {
                    ERR(v, it, ip, "expected `container: name`, got %s", type_name(it));
                } else {
                    check_keys(v, it, ip, sig_keys);
                    char *name = NULL;
                    const struct snode *nn = get_str(v, it, ip, "container", true, &name);
                    if (nn) {
                        bool found = false;
                        const struct snode *cl = get(v->root, "containers");
                        for (size_t k = 0; cl && cl->type == SNODE_SEQ && k < cl->n; k++) {
                            const struct snode *other = get(cl->items[k], "name");
                            if (other && other->type == SNODE_SCALAR && !strcmp(other->value, name))
                                found = true;
                        }
                        char *np = pkey(ip, "container");
                        if (!found)
                            ERR(v, nn, np, "no container named `%s` in this pod", name);
                        else if (pod_strv_contains(p->signal_targets, name))
                            WARN(v, nn, np, "container `%s` is listed twice", name);
                        else
                            pod_strv_push(&p->signal_targets, name);
                        free(np);
                    }
                    free(name);
                }
                free(ip);
            }
            free(sp);
        }
    }
    free(pp);
}

/* ------------------------------------------------------------------ containers */

static void v_signal(struct vctx *v, const struct snode *cn, const char *cp,
                     struct spec_container *c)
{
    const struct snode *l = get_seq(v, cn, cp, "signal", "`sig: NAME` or `cmd: [...]` items");
    if (!l)
        return;
    char *sp = pkey(cp, "signal");
    static const char *const known[] = {"sig", "cmd", NULL};
    const struct snode *first = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(sp, i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected `sig: NAME` or `cmd: [...]`, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, known);
        const struct snode *sig = get(it, "sig"), *cmd = get(it, "cmd");
        if ((sig || cmd) && first) {
            ERR(v, it, ip,
                "only one signal can be defined (sig and cmd are mutually exclusive; first at "
                "line %d)",
                first->line);
            free(ip);
            continue;
        }
        if (sig && cmd) {
            ERR(v, it, ip, "sig and cmd are mutually exclusive");
            free(ip);
            first = it;
            continue;
        }
        if (sig) {
            first = it;
            char *name = NULL;
            if (get_str(v, it, ip, "sig", false, &name)) {
                c->signal_sig = norm_signal(name);
                if (!c->signal_sig) {
                    char *xp = pkey(ip, "sig");
                    ERR(v, sig, xp,
                        "unknown signal `%s` (use a Linux signal name such as HUP, USR1, TERM, "
                        "with or without SIG)",
                        name);
                    free(xp);
                }
            }
            free(name);
        } else if (cmd) {
            first = it;
            if (!get_strv(v, it, ip, "cmd", &c->signal_cmd) && cmd->type == SNODE_SEQ) {
                char *xp = pkey(ip, "cmd");
                ERR(v, cmd, xp, "must not be empty");
                free(xp);
            }
        } else {
            ERR(v, it, ip, "expected `sig: NAME` or `cmd: [...]`");
        }
        free(ip);
    }
    free(sp);
}

static void v_mounts(struct vctx *v, const struct snode *cn, const char *cp,
                     struct spec_container *c)
{
    const struct snode *l = get_seq(v, cn, cp, "mounts", "`dest`/`volume` mappings");
    if (!l)
        return;
    char *mp = pkey(cp, "mounts");
    c->mounts = xcalloc(l->n, sizeof *c->mounts);
    static const char *const known[] = {"dest", "volume", NULL};
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx(mp, i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected a mapping with dest and volume, got %s", type_name(it));
            free(ip);
            continue;
        }
        check_keys(v, it, ip, known);
        struct spec_mount m = {0};
        const struct snode *dn = get_str(v, it, ip, "dest", true, &m.dest);
        const struct snode *vn = get_str(v, it, ip, "volume", true, &m.volume);
        bool ok = dn && vn;
        if (dn) {
            char *dp = pkey(ip, "dest");
            const char *why = bad_mount_path(m.dest, true);
            if (why) {
                ERR(v, dn, dp, "%s", why);
                ok = false;
            } else {
                for (size_t j = 0; j < c->n_mounts; j++)
                    if (!strcmp(c->mounts[j].dest, m.dest)) {
                        ERR(v, dn, dp, "`%s` is mounted twice in this container", m.dest);
                        ok = false;
                    }
            }
            free(dp);
        }
        if (vn && !spec_find_volume(v->s, m.volume)) {
            char *vp = pkey(ip, "volume");
            ERR(v, vn, vp, "no volume named `%s` is declared under volumes", m.volume);
            free(vp);
            ok = false;
        }
        if (ok) {
            c->mounts[c->n_mounts++] = m;
        } else {
            free(m.dest);
            free(m.volume);
        }
        free(ip);
    }
    free(mp);
}

static void v_restart(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    char *r = NULL;
    const struct snode *rn = get_str(v, cn, cp, "restart", false, &r);
    if (!rn)
        return;
    char *rp = pkey(cp, "restart");
    if (!strcmp(r, "always"))
        c->restart = SPEC_RESTART_ALWAYS;
    else if (!strcmp(r, "on-config"))
        c->restart = SPEC_RESTART_ON_CONFIG;
    else if (!strcmp(r, "on-failure"))
        c->restart = SPEC_RESTART_ON_FAILURE;
    else if (!strcmp(r, "never"))
        c->restart = SPEC_RESTART_NEVER;
    else if (!strncmp(r, "on-interval:", 12)) {
        long long x;
        if (pod_parse_int(r + 12, 1, 31536000, &x)) {
            c->restart = SPEC_RESTART_ON_INTERVAL;
            c->restart_interval_s = (int)x;
        } else {
            ERR(v, rn, rp, "on-interval needs seconds from 1 to 31536000, e.g. on-interval:60");
        }
    } else {
        ERR(v, rn, rp, "expected always|on-config|on-interval:SECONDS|on-failure|never, got `%s`",
            r);
    }
    free(rp);
    free(r);
}

static void v_backoff(struct vctx *v, const struct snode *cn, const char *cp,
                      struct spec_container *c)
{
    struct spec_backoff *b = &c->backoff;
    int initial = b->initial_ms / 1000, max = b->max_ms / 1000;
    const struct snode *bn = get_map(v, cn, cp, "restartBackoff");
    if (bn) {
        char *bp = pkey(cp, "restartBackoff");
        static const char *const known[] = {"initialSeconds", "maxSeconds",          "resetSeconds",
                                            "giveUpCount",    "giveUpWindowSeconds", NULL};
        check_keys(v, bn, bp, known);
        get_int(v, bn, bp, "initialSeconds", 0, 3600, false, &initial);
        get_int(v, bn, bp, "maxSeconds", 1, 86400, false, &max);
        get_int(v, bn, bp, "resetSeconds", 1, 86400, false, &b->reset_s);
        get_int(v, bn, bp, "giveUpCount", 0, 1000000, false, &b->give_up_count);
        get_int(v, bn, bp, "giveUpWindowSeconds", 1, 86400, false, &b->give_up_window_s);
        if (max < initial)
            ERR(v, bn, bp, "maxSeconds (%d) must not be smaller than initialSeconds (%d)", max,
                initial);
        free(bp);
    }
    b->initial_ms = initial * 1000;
    b->max_ms = max * 1000;
}

static const char *const container_keys[] = {
    "name",    "image",   "command", "args",         "workingDir",     "env",
    "restart", "signal",  "mounts",  "startupProbe", "readinessProbe", "livenessProbe",
    "expose",  "network", "kind",    "stopTimeout",  "restartBackoff", NULL};

static void v_container(struct vctx *v, const struct snode *cn, const char *cp,
                        struct spec_container *c)
{
    spec_defaults_container(c);
    check_keys(v, cn, cp, container_keys);
    c->line = cn->line;
    c->col = cn->col;
    const struct snode *nn = get_str(v, cn, cp, "name", true, &c->name);
    if (nn) {
        char *np = pkey(cp, "name");
        if (!spec_valid_name(c->name)) {
            ERR(v, nn, np,
                "invalid container name `%s` (lowercase letters, digits and _, starting with a "
                "letter, not ending with _)",
                c->name);
        } else if (spec_find_container(v->s, c->name) >= 0) {
            ERR(v, nn, np, "duplicate container name `%s`", c->name);
        }
        free(np);
    }
    char *kind = NULL;
    const struct snode *kn = get_str(v, cn, cp, "kind", false, &kind);
    if (kn) {
        if (!strcmp(kind, "main"))
            c->kind = SPEC_CTR_MAIN;
        else if (!strcmp(kind, "init"))
            c->kind = SPEC_CTR_INIT;
        else if (!strcmp(kind, "sidecar"))
            c->kind = SPEC_CTR_SIDECAR;
        else {
            char *kp = pkey(cp, "kind");
            ERR(v, kn, kp, "expected main|init|sidecar, got `%s`", kind);
            free(kp);
        }
    }
    free(kind);
    const struct snode *in = get_str(v, cn, cp, "image", true, &c->image);
    if (in && !valid_image(c->image)) {
        char *ip = pkey(cp, "image");
        ERR(v, in, ip,
            "invalid image `%s` (letters, digits and . _ / : @ -, starting with a letter or "
            "digit)",
            c->image);
        free(ip);
    }
    get_strv(v, cn, cp, "command", &c->command);
    get_strv(v, cn, cp, "args", &c->args);
    const struct snode *wn = get_str(v, cn, cp, "workingDir", false, &c->working_dir);
    if (wn && c->working_dir[0] != '/') {
        char *wp = pkey(cp, "workingDir");
        ERR(v, wn, wp, "must be an absolute path");
        free(wp);
    }
    v_kvlist(v, cn, cp, "env", false, &c->env, &c->n_env);
    v_restart(v, cn, cp, c);
    v_signal(v, cn, cp, c);
    v_mounts(v, cn, cp, c);
    char *net = NULL;
    const struct snode *netn = get_str(v, cn, cp, "network", false, &net);
    if (netn) {
        if (!strcmp(net, "host"))
            c->network_host = true;
        else {
            char *np = pkey(cp, "network");
            ERR(v, netn, np, "expected host (or omit it for the default network), got `%s`", net);
            free(np);
        }
    }
    free(net);
    v_expose(v, cn, cp, c->network_host ? EXPOSE_HOSTNET : EXPOSE_PODMAN, &c->expose, &c->n_expose);
    v_probe(v, cn, cp, PROBE_STARTUP, c, &c->startup);
    v_probe(v, cn, cp, PROBE_READINESS, c, &c->readiness);
    v_probe(v, cn, cp, PROBE_LIVENESS, c, &c->liveness);
    get_int(v, cn, cp, "stopTimeout", 0, 3600, false, &c->stop_timeout_s);
    v_backoff(v, cn, cp, c);

    /* kind rules */
    if (c->kind == SPEC_CTR_INIT) {
        if (c->restart != SPEC_RESTART_NEVER && c->restart != SPEC_RESTART_ON_FAILURE) {
            char *rp = pkey(cp, "restart");
            ERR(v, get(cn, "restart"), rp,
                "an init container runs to completion: restart must be never or on-failure");
            free(rp);
        }
        static const char *const no_init[] = {"startupProbe", "readinessProbe", "livenessProbe",
                                              "expose", NULL};
        for (const char *const *k = no_init; *k; k++)
            if (get(cn, *k))
                ERR(v, key_node(cn, *k), cp, "`%s` is not allowed on an init container", *k);
    } else if (c->kind == SPEC_CTR_SIDECAR && c->startup.kind == SPEC_PROBE_EXIT) {
        ERR(v, key_node(get(cn, "startupProbe"), "exit"), cp,
            "a sidecar runs for the pod's lifetime: startupProbe.exit: true is not allowed");
    }
}

static void v_containers(struct vctx *v, const struct snode *root)
{
    const struct snode *l = get_seq(v, root, "", "containers", "container mappings");
    struct pod_spec *s = v->s;
    if (!l) {
        if (!get(root, "containers"))
            ERR(v, snode_get(root, "containers") ? key_node(root, "containers") : root,
                "containers", "a podman pod needs at least one container");
        return;
    }
    if (l->n == 0)
        ERR(v, l, "containers", "a podman pod needs at least one container");
    s->containers = xcalloc(l->n ? l->n : 1, sizeof *s->containers);
    for (size_t i = 0; i < l->n; i++) {
        const struct snode *it = l->items[i];
        char *ip = pidx("containers", i);
        if (it->type != SNODE_MAP) {
            ERR(v, it, ip, "expected a container mapping, got %s", type_name(it));
        } else {
            struct spec_container *c = &s->containers[s->n_containers];
            /* count it first so that duplicate-name checks see earlier ones only */
            v_container(v, it, ip, c);
            s->n_containers++;
        }
        free(ip);
    }
}

/* ------------------------------------------------------------------ root */

static const char *const root_keys[] = {
    "api",     "runtime",    "podVersion", "labels",
    "volumes", "containers", "executable", "configDebounceSeconds",
    "logs",    NULL};

static void v_logs(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    const struct snode *ln = get_map(v, root, "", "logs");
    if (!ln)
        return;
    static const char *const known[] = {"maxSize", "maxFiles", NULL};
    check_keys(v, ln, "logs", known);
    const struct snode *ms = get(ln, "maxSize");
    if (ms) {
        const char *t = scalar(v, ms, "logs.maxSize", "a size such as 10M");
        long long b = t ? parse_size(t) : -1;
        if (t && (b < 1024 || b > (64LL << 30)))
            ERR(v, ms, "logs.maxSize", "expected a size from 1K to 64G such as 10M, got `%s`", t);
        else if (t)
            s->logs.max_bytes = b;
    }
    get_int(v, ln, "logs", "maxFiles", 1, 1000, false, &s->logs.max_files);
}

static void v_executable(struct vctx *v, const struct snode *root)
{
    struct pod_spec *s = v->s;
    const struct snode *en = get_map(v, root, "", "executable");
    if (!en) {
        if (!snode_get(root, "executable") || snode_is_null(snode_get(root, "executable")))
            ERR(v, snode_get(root, "executable") ? key_node(root, "executable") : root,
                "executable", "`executable` with `file` is required for runtime: executable");
        return;
    }
    static const char *const known[] = {"file", "expose", NULL};
    check_keys(v, en, "executable", known);
    const struct snode *fn = get_str(v, en, "executable", "file", true, &s->exec_file);
    if (fn && !s->exec_file[0])
        ERR(v, fn, "executable.file", "must not be empty");
    v_expose(v, en, "executable", EXPOSE_EXEC, &s->exec_expose, &s->n_exec_expose);
}

struct pod_spec *spec_validate(const struct snode *root, const struct spec_opts *opts,
                               struct spec_diags *diags)
{
    struct pod_spec *s = xmalloc(sizeof *s);
    spec_defaults_pod(s);
    struct vctx v = {.opts = opts, .diags = diags, .s = s, .root = root};

    if (opts && opts->pod_name) {
        s->name = xstrdup(opts->pod_name);
        if (!spec_valid_name(s->name))
            spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "",
                          "invalid pod name `%s` (lowercase letters, digits and _, starting "
                          "with a letter, not ending with _)",
                          s->name);
    } else {
        spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "", "no pod name given");
    }
    if (!root || snode_is_null(root)) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 1, 1, "", "the document is empty");
        return s;
    }
    if (root->type != SNODE_MAP) {
        ERR(&v, root, "", "the document must be a mapping (api:, podVersion:, ...), got %s",
            type_name(root));
        return s;
    }
    check_keys(&v, root, "", root_keys);

    const struct snode *an = get_str(&v, root, "", "api", true, &s->api);
    if (an && strcmp(s->api, "1.0.0-beta1") && strcmp(s->api, "1.0.0-beta2"))
        ERR(&v, an, "api", "unsupported api `%s` (supported: 1.0.0-beta1, 1.0.0-beta2)", s->api);

    char *rt = NULL;
    const struct snode *rn = get_str(&v, root, "", "runtime", false, &rt);
    if (rn) {
        if (!strcmp(rt, "executable"))
            s->runtime = SPEC_RUNTIME_EXECUTABLE;
        else if (strcmp(rt, "podman"))
            ERR(&v, rn, "runtime", "expected podman|executable, got `%s`", rt);
    }
    free(rt);

    const struct snode *vn = get_str(&v, root, "", "podVersion", true, &s->version);
    if (vn && !valid_semver(s->version))
        ERR(&v, vn, "podVersion", "expected a semantic version major.minor.patch[-tag], got `%s`",
            s->version);

    int debounce_s = s->config_debounce_ms / 1000;
    get_int(&v, root, "", "configDebounceSeconds", 0, 3600, false, &debounce_s);
    s->config_debounce_ms = debounce_s * 1000;
    v_logs(&v, root);

    if (s->runtime == SPEC_RUNTIME_EXECUTABLE) {
        static const char *const ignored[] = {"containers", "volumes", "labels", NULL};
        for (const char *const *k = ignored; *k; k++)
            if (snode_get(root, *k))
                WARN(&v, key_node(root, *k), *k, "ignored with runtime: executable");
        v_executable(&v, root);
    } else {
        if (snode_get(root, "executable"))
            WARN(&v, key_node(root, "executable"), "executable",
                 "ignored with runtime: podman (only used with runtime: executable)");
        v_kvlist(&v, root, "", "labels", true, &s->labels, &s->n_labels);
        v_volumes(&v, root);
        v_containers(&v, root);
    }
    free(v.hps);
    return s;
}
