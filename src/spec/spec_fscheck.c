/* SPDX-License-Identifier: MIT */
/* spec_fscheck.c - the file-system side of the front end, kept out of the pure validator:
 * makes host binds and executable.file absolute (against opts->srcdir, else the working
 * directory; lexical, no symlink resolution, like the original's FILE_REALPATH) and, with
 * opts->check_files, checks that config directories (<builddir>/config/<name>) and the
 * executable exist.  Reads nothing else and writes nothing.
 */
#include "pod/util.h"
#include "spec_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Joins base and p (when p is relative) and removes "." / ".." / "//" lexically. */
static char *absolute(const char *base, const char *p)
{
    char *joined;
    if (p[0] == '/') {
        joined = xstrdup(p);
    } else {
        char cwd[PATH_MAX];
        if (!base || !*base)
            base = getcwd(cwd, sizeof cwd) ? cwd : "/";
        if (base[0] != '/') {
            char *b2 = NULL;
            if (getcwd(cwd, sizeof cwd))
                b2 = pod_path_join(cwd, base);
            joined = xasprintf("%s/%s", b2 ? b2 : base, p);
            free(b2);
        } else {
            joined = xasprintf("%s/%s", base, p);
        }
    }
    /* normalise */
    size_t n = strlen(joined);
    char *out = xmalloc(n + 2);
    size_t o = 0;
    const char *s = joined;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 1 && s[0] == '.') {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the slash */
        } else {
            out[o++] = '/';
            memcpy(out + o, s, len);
            o += len;
        }
        s += len;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(joined);
    return out;
}

static const struct snode *find_in(const struct snode *root, const char *list, int line, int col,
                                   size_t *idx)
{
    const struct snode *l = snode_get(root, list);
    for (size_t i = 0; l && l->type == SNODE_SEQ && i < l->n; i++)
        if (l->items[i]->line == line && l->items[i]->col == col) {
            *idx = i;
            return l->items[i];
        }
    return NULL;
}

void spec_resolve_paths(struct pod_spec *s, const struct snode *root, const struct spec_opts *opts,
                        struct spec_diags *diags)
{
    const char *srcdir = opts ? opts->srcdir : NULL;
    bool check = opts && opts->check_files;
    for (size_t i = 0; i < s->n_volumes; i++) {
        struct spec_volume *v = &s->volumes[i];
        if (v->type == SPEC_VOL_HOST && v->bind && v->bind[0]) {
            char *abs = absolute(srcdir, v->bind);
            free(v->bind);
            v->bind = abs;
        }
        if (check && v->type == SPEC_VOL_CONFIG && v->name) {
            const char *bd = opts->builddir && *opts->builddir ? opts->builddir : ".";
            char *dir = xasprintf("%s/config/%s", bd, v->name);
            struct stat st;
            size_t idx = i;
            find_in(root, "volumes", v->line, v->col, &idx);
            char *path = xasprintf("volumes[%zu]", idx);
            if (stat(dir, &st) != 0)
                spec_diag_add(diags, SPEC_SEV_ERROR, v->line, v->col, path,
                              "config directory `%s` does not exist (%s)", dir, strerror(errno));
            else if (!S_ISDIR(st.st_mode))
                spec_diag_add(diags, SPEC_SEV_ERROR, v->line, v->col, path,
                              "config `%s` is not a directory", dir);
            free(path);
            free(dir);
        }
    }
    if (s->exec_file && s->exec_file[0]) {
        char *abs = absolute(srcdir, s->exec_file);
        free(s->exec_file);
        s->exec_file = abs;
        if (check) {
            const struct snode *f = snode_get(snode_get(root, "executable"), "file");
            struct stat st;
            if (stat(abs, &st) != 0)
                spec_diag_add(diags, SPEC_SEV_ERROR, f ? f->line : 0, f ? f->col : 0,
                              "executable.file", "the executable file `%s` does not exist (%s)",
                              abs, strerror(errno));
            else if (!S_ISREG(st.st_mode))
                spec_diag_add(diags, SPEC_SEV_ERROR, f ? f->line : 0, f ? f->col : 0,
                              "executable.file", "`%s` is not a regular file", abs);
        }
    }
}
