/* SPDX-License-Identifier: MIT */
/* xalloc.c - allocators that abort on OOM, strings, buffers and string vectors. */
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("fatal: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct pod_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return pod_buf_take(&b);
}

/* ---- buffers ---- */

void pod_buf_reserve(struct pod_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void pod_buf_add(struct pod_buf *b, const void *p, size_t n)
{
    pod_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pod_buf_adds(struct pod_buf *b, const char *s)
{
    pod_buf_add(b, s, strlen(s));
}

void pod_buf_addc(struct pod_buf *b, char c)
{
    pod_buf_add(b, &c, 1);
}

void pod_buf_vprintf(struct pod_buf *b, const char *fmt, va_list ap)
{
    /* Format straight into the free space; only when it does not fit, grow and format again
     * (measuring first with vsnprintf(NULL, 0) is slow in glibc: a byte-wise overflow path). */
    pod_buf_reserve(b, 64);
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        pod_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void pod_buf_printf(struct pod_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *pod_buf_take(struct pod_buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void pod_buf_free(struct pod_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- string vectors ---- */

size_t pod_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void pod_strv_push(char ***v, const char *s)
{
    size_t n = pod_strv_len(*v);
    *v = xrealloc(*v, (n + 2) * sizeof **v);
    (*v)[n] = xstrdup(s);
    (*v)[n + 1] = NULL;
}

char **pod_strv_dup(char *const *v)
{
    if (!v)
        return NULL;
    size_t n = pod_strv_len(v);
    char **r = xcalloc(n + 1, sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

void pod_strv_free(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

bool pod_strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

bool pod_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return false;
    const char *p = s;
    bool neg = false;
    if (*p == '-') {
        if (min >= 0)
            return false;
        neg = true;
        p++;
    }
    if (!*p)
        return false;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (9223372036854775807LL - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}
