/* SPDX-License-Identifier: MIT */
/* spec_parse.c - YAML text -> node tree (struct spec_tree), with line:col on every node.
 *
 * Built from libyaml *events* (not its document loader) so that the limits are checked
 * before anything grows: nesting depth (SPEC_MAX_DEPTH), node count and alias expansion
 * (SPEC_MAX_NODES; aliases share nodes, their expanded size is what is bounded), anchors
 * (SPEC_MAX_ANCHORS).  No recursion.  Also reports duplicate keys, non-scalar keys and
 * multiple documents.  Pure: no I/O.  Positions are mapped through opts->map.
 */
#include "pod/util.h"
#include "spec_internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void spec_tree_free(struct spec_tree *tree)
{
    if (!tree)
        return;
    for (size_t i = 0; i < tree->n_all; i++) {
        free(tree->all[i]->value);
        free(tree->all[i]->items);
        free(tree->all[i]);
    }
    free(tree->all);
    memset(tree, 0, sizeof *tree);
}

bool snode_is_null(const struct snode *n)
{
    if (!n || n->type != SNODE_SCALAR || !n->plain)
        return false;
    const char *v = n->value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

const struct snode *snode_get(const struct snode *map, const char *key)
{
    if (!map || map->type != SNODE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct snode *k = map->items[i];
        if (k->type == SNODE_SCALAR && strcmp(k->value, key) == 0)
            return map->items[i + 1];
    }
    return NULL;
}

/* ------------------------------------------------------------------ builder */

struct anchor {
    char *name;
    struct snode *node;
};

struct builder {
    const struct spec_opts *opts;
    struct spec_diags *diags;
    struct spec_tree *tree;
    const char *text;
    size_t len;
    size_t *line_start; /* byte offset of each line, for character -> byte columns */
    size_t n_lines;
    size_t cache_line, cache_chars, cache_off; /* last character -> byte conversion */
    struct snode *stack[SPEC_MAX_DEPTH + 1];
    size_t depth;
    struct anchor *anchors;
    size_t n_anchors;
    int documents;
    bool failed;
};

static void pos_of(struct builder *b, yaml_mark_t m, int *line, int *col)
{
    /* libyaml counts columns in characters; diagnostics use bytes.  Events arrive in
     * increasing position order, so continue from the last conversion on the same line
     * (a 4 MiB single-line document must not cost O(n^2)). */
    size_t byte_col = m.column;
    if (m.line < b->n_lines) {
        size_t start = b->line_start[m.line], off = start, chars = 0;
        if (b->cache_line == m.line && b->cache_chars <= m.column) {
            off = b->cache_off;
            chars = b->cache_chars;
        }
        while (off < b->len && chars < m.column && b->text[off] != '\n') {
            off++;
            while (off < b->len && ((unsigned char)b->text[off] & 0xC0) == 0x80)
                off++;
            chars++;
        }
        b->cache_line = m.line;
        b->cache_chars = chars;
        b->cache_off = off;
        byte_col = off - start;
    }
    int l = (int)m.line + 1, c = (int)byte_col + 1;
    spec_map_pos(b->opts ? b->opts->map : NULL, l, c, line, col);
}

static void berror(struct builder *b, yaml_mark_t m, const char *fmt, ...) POD_PRINTF(3, 4);
static void berror(struct builder *b, yaml_mark_t m, const char *fmt, ...)
{
    int line, col;
    pos_of(b, m, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    spec_diag_vadd(b->diags, SPEC_SEV_ERROR, line, col, "", fmt, ap);
    va_end(ap);
}

static struct snode *node_new(struct builder *b, enum snode_type t, yaml_mark_t m)
{
    struct spec_tree *tree = b->tree;
    if (tree->n_all >= SPEC_MAX_NODES) {
        berror(b, m, "the document has more than %u nodes", SPEC_MAX_NODES);
        b->failed = true;
        return NULL;
    }
    if (tree->n_all == tree->cap_all) {
        tree->cap_all = tree->cap_all ? tree->cap_all * 2 : 64;
        tree->all = xrealloc(tree->all, tree->cap_all * sizeof *tree->all);
    }
    struct snode *n = xcalloc(1, sizeof *n);
    n->type = t;
    n->weight = 1;
    pos_of(b, m, &n->line, &n->col);
    tree->all[tree->n_all++] = n;
    return n;
}

static void push_item(struct snode *parent, struct snode *child)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->items = xrealloc(parent->items, parent->cap * sizeof *parent->items);
    }
    parent->items[parent->n++] = child;
}

/* Attaches a finished (or just started) node to the open collection, or as the root. */
static void attach(struct builder *b, struct snode *n, yaml_mark_t m)
{
    if (b->depth == 0) {
        if (!b->tree->root)
            b->tree->root = n;
        return;
    }
    struct snode *parent = b->stack[b->depth - 1];
    if (parent->type == SNODE_MAP && parent->n % 2 == 0) {
        /* n is a key */
        if (n->type != SNODE_SCALAR) {
            berror(b, m, "only plain scalar mapping keys are supported");
        } else {
            for (size_t i = 0; i < parent->n; i += 2) {
                const struct snode *k = parent->items[i];
                if (k->type == SNODE_SCALAR && strcmp(k->value, n->value) == 0) {
                    berror(b, m, "duplicate key `%s` (first defined at line %d)", n->value,
                           k->line);
                    break;
                }
            }
        }
    }
    push_item(parent, n);
}

static void add_anchor(struct builder *b, const yaml_char_t *name, struct snode *n, yaml_mark_t m)
{
    if (!name)
        return;
    for (size_t i = 0; i < b->n_anchors; i++)
        if (strcmp(b->anchors[i].name, (const char *)name) == 0) {
            b->anchors[i].node = n; /* a redefined anchor: later aliases see the new node */
            return;
        }
    if (b->n_anchors >= SPEC_MAX_ANCHORS) {
        berror(b, m, "more than %u anchors", SPEC_MAX_ANCHORS);
        b->failed = true;
        return;
    }
    if (b->n_anchors % 16 == 0)
        b->anchors = xrealloc(b->anchors, (b->n_anchors + 16) * sizeof *b->anchors);
    b->anchors[b->n_anchors++] = (struct anchor){xstrdup((const char *)name), n};
}

static unsigned long sat_add(unsigned long a, unsigned long c)
{
    return a > SPEC_MAX_NODES || c > SPEC_MAX_NODES ? SPEC_MAX_NODES + 1ul : a + c;
}

static void handle(struct builder *b, const yaml_event_t *ev)
{
    yaml_mark_t m = ev->start_mark;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1) {
            berror(b, m, "only one YAML document is allowed (found a second `---`)");
            b->failed = true;
        }
        break;
    case YAML_SCALAR_EVENT: {
        struct snode *n = node_new(b, SNODE_SCALAR, m);
        if (!n)
            return;
        n->value_len = ev->data.scalar.length;
        n->value = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->complete = true;
        add_anchor(b, ev->data.scalar.anchor, n, m);
        attach(b, n, m);
        if (b->depth > 0) {
            struct snode *p = b->stack[b->depth - 1];
            p->weight = sat_add(p->weight, 1);
        }
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (b->depth >= SPEC_MAX_DEPTH) {
            berror(b, m, "nesting deeper than %d levels", SPEC_MAX_DEPTH);
            b->failed = true;
            return;
        }
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        struct snode *n = node_new(b, seq ? SNODE_SEQ : SNODE_MAP, m);
        if (!n)
            return;
        add_anchor(b, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor, n, m);
        attach(b, n, m);
        b->stack[b->depth++] = n;
        break;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        if (b->depth == 0)
            return;
        struct snode *n = b->stack[--b->depth];
        n->complete = true;
        if (n->weight > SPEC_MAX_NODES) {
            berror(b, m, "the document expands to more than %u nodes (alias bomb?)",
                   SPEC_MAX_NODES);
            b->failed = true;
            return;
        }
        if (b->depth > 0) {
            struct snode *p = b->stack[b->depth - 1];
            p->weight = sat_add(p->weight, n->weight);
        }
        break;
    }
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        struct snode *target = NULL;
        for (size_t i = 0; i < b->n_anchors; i++)
            if (strcmp(b->anchors[i].name, name) == 0)
                target = b->anchors[i].node;
        if (!target) {
            berror(b, m, "alias `*%s` refers to an unknown anchor", name);
            b->failed = true;
            return;
        }
        if (!target->complete) {
            berror(b, m, "alias `*%s` refers to its own enclosing node (recursive alias)", name);
            b->failed = true;
            return;
        }
        attach(b, target, m);
        if (b->depth > 0) {
            struct snode *p = b->stack[b->depth - 1];
            p->weight = sat_add(p->weight, target->weight);
        }
        break;
    }
    default:
        break;
    }
}

int spec_parse(const char *text, size_t len, const struct spec_opts *opts, struct spec_diags *diags,
               struct spec_tree *tree)
{
    memset(tree, 0, sizeof *tree);
    size_t errors_before = diags->n_errors;
    if (len > SPEC_MAX_INPUT_BYTES) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "", "input is larger than %u bytes",
                      SPEC_MAX_INPUT_BYTES);
        return -1;
    }
    struct builder b = {.opts = opts,
                        .diags = diags,
                        .tree = tree,
                        .text = text,
                        .len = len,
                        .cache_line = (size_t)-1};
    size_t cap = 64;
    b.line_start = xmalloc(cap * sizeof *b.line_start);
    b.line_start[b.n_lines++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            if (b.n_lines == cap) {
                cap *= 2;
                b.line_start = xrealloc(b.line_start, cap * sizeof *b.line_start);
            }
            b.line_start[b.n_lines++] = i + 1;
        }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        spec_diag_add(diags, SPEC_SEV_ERROR, 0, 0, "", "cannot initialise the YAML parser");
        free(b.line_start);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_mark_t m = parser.problem_mark;
            const char *hint = "";
            if (m.line < b.n_lines) {
                size_t off = b.line_start[m.line] + m.column;
                if (off < len && text[off] == '\t')
                    hint = " (tabs cannot be used for indentation)";
            }
            if (parser.context)
                berror(&b, m, "YAML syntax error: %s (%s)%s",
                       parser.problem ? parser.problem : "unknown problem", parser.context, hint);
            else
                berror(&b, m, "YAML syntax error: %s%s",
                       parser.problem ? parser.problem : "unknown problem", hint);
            break;
        }
        handle(&b, &ev);
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (end || b.failed)
            break;
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < b.n_anchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    free(b.line_start);
    return diags->n_errors > errors_before ? -1 : 0;
}
