/* SPDX-License-Identifier: MIT */
/* logw_files.c - the log writer's files read back (include/pod/logw.h, SPEC.md section 9):
 * which files belong to a stream (<base>.log and its rotated <base>.log.<N>, oldest first)
 * and the record format of a line.  Used by the writer's recovery, `pod logs` and the
 * simulator's checks.  Like logw.c: no clock, no OS calls; listing goes through struct fs.
 */
#include "logw_internal.h"
#include "pod/logw.h"
#include "pod/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

char *logw_archive_path(const char *dir, const char *base, uint64_t n)
{
    return xasprintf("%s/%s.log.%0*llu", dir, base, LOGW_ARCHIVE_DIGITS, (unsigned long long)n);
}

bool logw_archive_number(const char *base, const char *name, uint64_t *n)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".log.", 5) != 0)
        return false;
    const char *d = name + bl + 5;
    size_t dl = strlen(d);
    if (dl < LOGW_ARCHIVE_DIGITS || dl > 19 || (dl > LOGW_ARCHIVE_DIGITS && d[0] == '0'))
        return false;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        v = v * 10 + (uint64_t)(*d - '0');
    }
    *n = v;
    return true;
}

int logw_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- records ---- */

static bool digits(const char **p, const char *e, uint64_t *v, int max)
{
    const char *s = *p;
    uint64_t x = 0;
    int n = 0;
    while (s < e && *s >= '0' && *s <= '9' && n < max) {
        x = x * 10 + (uint64_t)(*s - '0');
        s++;
        n++;
    }
    if (n == 0 || (s < e && *s >= '0' && *s <= '9'))
        return false;
    *p = s;
    *v = x;
    return true;
}

bool logw_parse_line(const char *line, size_t len, struct logw_rec *out)
{
    const char *p = line, *e = line + len;
    uint64_t sec, ns = 0, seq;
    if (!digits(&p, e, &sec, 11))
        return false;
    if (p < e && *p == '.') {
        p++;
        const char *f = p;
        if (!digits(&p, e, &ns, 9))
            return false;
        for (size_t i = (size_t)(p - f); i < 9; i++)
            ns *= 10; /* ".5" is half a second */
    }
    if (p >= e || *p != ' ')
        return false;
    p++;
    if (!digits(&p, e, &seq, 20))
        return false;
    char mark = 0;
    if (p < e && (*p == '+' || *p == '!'))
        mark = *p++;
    if (p >= e || *p != ' ')
        return false;
    p++;
    out->ts_wall_ns = (int64_t)sec * 1000000000 + (int64_t)ns;
    out->seq = seq;
    out->mark = mark;
    out->msg = p;
    out->msg_len = (size_t)(e - p);
    return true;
}

int logw_files(const struct fs *fs, const char *dir, const char *base, char ***paths,
               struct pod_err *err)
{
    char **names = NULL;
    if (fs_list(fs, dir, &names, err) < 0)
        return -1;
    size_t cnt = pod_strv_len(names);
    uint64_t *nums = xcalloc(cnt + 1, sizeof *nums);
    size_t k = 0;
    bool cur = false;
    char *cur_name = xasprintf("%s.log", base);
    for (size_t i = 0; i < cnt; i++) {
        if (logw_archive_number(base, names[i], &nums[k]))
            k++;
        else if (strcmp(names[i], cur_name) == 0)
            cur = true;
    }
    pod_strv_free(names);
    qsort(nums, k, sizeof *nums, logw_cmp_u64);
    char **v = xcalloc(1, sizeof *v);
    for (size_t i = 0; i < k; i++) {
        char *p = logw_archive_path(dir, base, nums[i]);
        pod_strv_push(&v, p);
        free(p);
    }
    if (cur) {
        char *p = pod_path_join(dir, cur_name);
        pod_strv_push(&v, p);
        free(p);
    }
    free(cur_name);
    free(nums);
    *paths = v;
    return 0;
}
