/* SPDX-License-Identifier: MIT */
/* agent_proto.c - the agent protocol's frames, shared by the agent and the daemon's client
 * (see pod/agent.h).  Pure: no I/O.  Every function here is fed bytes from the other side of a
 * socket and treats them as hostile: lengths are checked before use, nothing is read past len.
 */
#include "pod/agent.h"

#include <string.h>

#include "pod/util.h"

void agent_frame_put(char **buf, size_t *len, size_t *cap, const char *const *f, size_t n)
{
    size_t plen = 0;
    for (size_t i = 0; i < n; i++)
        plen += strlen(f[i]) + 1;
    if (*len + 4 + plen > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < *len + 4 + plen)
            nc *= 2;
        *buf = xrealloc(*buf, nc);
        *cap = nc;
    }
    unsigned char *p = (unsigned char *)*buf + *len;
    uint32_t l = (uint32_t)plen;
    p[0] = (unsigned char)(l & 0xff);
    p[1] = (unsigned char)((l >> 8) & 0xff);
    p[2] = (unsigned char)((l >> 16) & 0xff);
    p[3] = (unsigned char)((l >> 24) & 0xff);
    p += 4;
    for (size_t i = 0; i < n; i++) {
        size_t sl = strlen(f[i]) + 1;
        memcpy(p, f[i], sl);
        p += sl;
    }
    *len += 4 + plen;
}

int agent_frame_next(const char *buf, size_t len, size_t max, size_t *plen, size_t *used)
{
    if (len < 4)
        return 0;
    const unsigned char *p = (const unsigned char *)buf;
    uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (l == 0 || l > max)
        return -1;
    if (len - 4 < l)
        return 0;
    *plen = l;
    *used = 4 + (size_t)l;
    return 1;
}

int agent_fields(char *payload, size_t plen, char **f, size_t max)
{
    if (plen == 0 || payload[plen - 1] != '\0')
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < plen;) {
        if (n == max)
            return -1;
        f[n++] = payload + i;
        i += strlen(payload + i) + 1; /* stops at the NUL found above at the latest */
    }
    return (int)n;
}

bool agent_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || (s[0] == '0' && s[1]))
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

const char *agent_state_name(enum agent_state st)
{
    switch (st) {
    case AGENT_OK:
        return "ok";
    case AGENT_CANCELLED:
        return "cancelled";
    case AGENT_TIMEOUT:
        return "timeout";
    case AGENT_LOST:
        return "lost";
    case AGENT_ERROR:
        return "error";
    }
    return "?";
}
