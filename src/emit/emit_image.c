/* SPDX-License-Identifier: MIT */
/* emit_image.c - the pod executable image: [ELF][payload][trailer].
 *
 * The trailer is 32 bytes, little endian: "PODIMG01", u64 payload length, u32 crc32c of the
 * payload, u32 reserved (0), "PODIMGE1".  The ELF size is computed from the ELF header alone
 * (end of the section header table and of every program segment), so a plain podc binary,
 * a valid pod and a damaged pod are told apart without any marker inside podc itself.
 * Reads only the headers, the trailer and the payload (pread), never the whole executable.
 * No printing; errors go to struct pod_err.
 */
#include "pod/emit.h"
#include "pod/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRAILER_LEN 32u
#define MAGIC_HEAD "PODIMG01"
#define MAGIC_END "PODIMGE1"
/* A payload is a JSON spec; anything beyond this is not one of ours. */
#define MAX_PAYLOAD (64u * 1024u * 1024u)

/* ------------------------------------------------------------------ crc32c */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bytewise table.  crc is the value
 * returned by a previous call (0 to start), so the checksum can be computed in pieces. */
uint32_t emit_crc32c(const void *data, size_t len, uint32_t crc)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
        ready = 1; /* idempotent: a racing second init writes the same values */
    }
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------ little-endian helpers */

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* ------------------------------------------------------------------ ELF size */

/* The size of the ELF image in fd (64-bit little-endian ELF only: the build targets). */
static int elf_size(int fd, const char *path, uint64_t file_size, uint64_t *out,
                    struct pod_err *err)
{
    Elf64_Ehdr eh;
    if (file_size < sizeof eh || pread_all(fd, &eh, sizeof eh, 0) < 0)
        return pod_err_set(err, POD_E_CORRUPT, 0, "`%s` is not an ELF executable (too short)",
                           path);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return pod_err_set(err, POD_E_CORRUPT, 0, "`%s` is not a 64-bit little-endian ELF file",
                           path);
    uint64_t end = sizeof eh;
    if (eh.e_shnum && eh.e_shoff) {
        uint64_t e = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
        if (e > end)
            end = e;
    }
    if (eh.e_phnum) {
        if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > file_size ||
            (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > file_size - eh.e_phoff)
            return pod_err_set(err, POD_E_CORRUPT, 0, "`%s`: damaged ELF program headers", path);
        uint64_t e = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
        if (e > end)
            end = e;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread_all(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) < 0)
                return pod_err_set(err, POD_E_CORRUPT, 0, "`%s`: cannot read program header %u",
                                   path, i);
            if (ph.p_offset + ph.p_filesz > end)
                end = ph.p_offset + ph.p_filesz;
        }
    }
    *out = end;
    return 0;
}

/* ------------------------------------------------------------------ probe */

int emit_image_probe(const char *path, enum emit_image_kind *kind, char **payload, size_t *len,
                     struct pod_err *err)
{
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pod_err_set(err, errno == ENOENT ? POD_E_NOTFOUND : POD_E_IO, errno, "open `%s`",
                           path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        pod_err_set(err, POD_E_IO, errno, "stat `%s`", path);
        goto out;
    }
    uint64_t fsize = (uint64_t)st.st_size, esize;
    if (elf_size(fd, path, fsize, &esize, err) < 0)
        goto out;
    if (fsize == esize) {
        *kind = EMIT_IMAGE_PLAIN;
        rc = 0;
        goto out;
    }
    if (fsize < esize) {
        pod_err_set(err, POD_E_CORRUPT, 0,
                    "damaged pod executable `%s`: truncated (%llu bytes, the ELF image alone "
                    "needs %llu)",
                    path, (unsigned long long)fsize, (unsigned long long)esize);
        goto out;
    }
    unsigned char trailer[TRAILER_LEN];
    if (fsize - esize < TRAILER_LEN ||
        pread_all(fd, trailer, TRAILER_LEN, (off_t)(fsize - TRAILER_LEN)) < 0 ||
        memcmp(trailer, MAGIC_HEAD, 8) != 0 || memcmp(trailer + 24, MAGIC_END, 8) != 0) {
        pod_err_set(err, POD_E_CORRUPT, 0,
                    "damaged pod executable `%s`: %llu bytes after the ELF image but no valid "
                    "pod trailer (truncated or modified; recompile it with podc)",
                    path, (unsigned long long)(fsize - esize));
        goto out;
    }
    uint64_t plen = get_le(trailer + 8, 8);
    uint32_t want = (uint32_t)get_le(trailer + 16, 4);
    if (get_le(trailer + 20, 4) != 0) {
        pod_err_set(err, POD_E_CORRUPT, 0,
                    "damaged pod executable `%s`: unknown trailer flags (modified, or built by a "
                    "newer podc; recompile it with this podc)",
                    path);
        goto out;
    }
    if (plen != fsize - esize - TRAILER_LEN || plen > MAX_PAYLOAD) {
        pod_err_set(err, POD_E_CORRUPT, 0,
                    "damaged pod executable `%s`: payload length %llu does not match the file "
                    "(%llu bytes available; truncated or modified, recompile it with podc)",
                    path, (unsigned long long)plen,
                    (unsigned long long)(fsize - esize - TRAILER_LEN));
        goto out;
    }
    char *buf = xmalloc((size_t)plen + 1);
    if (pread_all(fd, buf, (size_t)plen, (off_t)esize) < 0) {
        free(buf);
        pod_err_set(err, POD_E_IO, errno, "read `%s`", path);
        goto out;
    }
    buf[plen] = '\0';
    uint32_t got = emit_crc32c(buf, (size_t)plen, 0);
    if (got != want) {
        free(buf);
        pod_err_set(err, POD_E_CORRUPT, 0,
                    "damaged pod executable `%s`: payload checksum mismatch (crc32c %08x, "
                    "expected %08x; modified after compilation, recompile it with podc)",
                    path, got, want);
        goto out;
    }
    *kind = EMIT_IMAGE_POD;
    *payload = buf;
    *len = (size_t)plen;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ write */

/* Copies len bytes of in (from offset 0) to out: copy_file_range (lets the kernel share
 * extents), falling back to read/write where the file systems do not support it. */
static int copy_prefix(int in, int out, uint64_t len)
{
    loff_t off_in = 0;
    uint64_t left = len;
    while (left) {
        ssize_t n = copy_file_range(in, &off_in, out, NULL, (size_t)left, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        left -= (uint64_t)n;
    }
    if (!left)
        return 0;
    char chunk[65536];
    while (left) {
        size_t want = left < sizeof chunk ? (size_t)left : sizeof chunk;
        if (pread_all(in, chunk, want, (off_t)off_in) < 0 || pod_write_all(out, chunk, want) < 0)
            return -1;
        off_in += (loff_t)want;
        left -= want;
    }
    return 0;
}

/* What goes into a new image: the ELF part of the runtime, the payload, the trailer. */
struct image_parts {
    int elf_fd;
    uint64_t elf_size;
    const char *payload;
    size_t len;
    unsigned char trailer[TRAILER_LEN];
};

static int fill_image(void *self, int fd)
{
    const struct image_parts *ip = self;
    if (copy_prefix(ip->elf_fd, fd, ip->elf_size) < 0 ||
        pod_write_all(fd, ip->payload, ip->len) < 0 ||
        pod_write_all(fd, ip->trailer, sizeof ip->trailer) < 0)
        return -1;
    return 0;
}

/* Opens the runtime image and measures its ELF part; returns the fd or -1. */
static int open_runtime(const char *self_exe, uint64_t *elf_bytes, struct pod_err *err)
{
    int in = open(self_exe, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return pod_err_set(err, POD_E_IO, errno, "open runtime image `%s`", self_exe);
    struct stat st;
    if (fstat(in, &st) < 0) {
        pod_err_set(err, POD_E_IO, errno, "stat `%s`", self_exe);
        close(in);
        return -1;
    }
    /* Only the ELF part: should podc itself carry a payload, it is not copied. */
    if (elf_size(in, self_exe, (uint64_t)st.st_size, elf_bytes, err) < 0) {
        close(in);
        return -1;
    }
    if (*elf_bytes > (uint64_t)st.st_size) {
        close(in);
        return pod_err_set(err, POD_E_CORRUPT, 0, "runtime image `%s` is truncated", self_exe);
    }
    return in;
}

/* Not fsync'ed: like any compiler output it can be rebuilt, and a pod that a crash left
 * incomplete fails the checksum and refuses to run.  The rename still makes the replacement
 * atomic for every reader (sns, simplenetesd, a running `pod` re-reading itself). */
int emit_image_stage(const char *self_exe, const char *payload, size_t len, const char *out,
                     char **tmp_out, struct pod_err *err)
{
    if (len > MAX_PAYLOAD)
        return pod_err_set(err, POD_E_INVALID, 0, "pod payload too large (%zu bytes)", len);
    struct image_parts ip = {.payload = payload, .len = len};
    ip.elf_fd = open_runtime(self_exe, &ip.elf_size, err);
    if (ip.elf_fd < 0)
        return -1;
    memcpy(ip.trailer, MAGIC_HEAD, 8);
    put_le(ip.trailer + 8, len, 8);
    put_le(ip.trailer + 16, emit_crc32c(payload, len, 0), 4);
    put_le(ip.trailer + 20, 0, 4);
    memcpy(ip.trailer + 24, MAGIC_END, 8);
    int rc = pod_stage_file(out, 0755, POD_SYNC_NONE, fill_image, &ip, tmp_out, err);
    close(ip.elf_fd);
    return rc;
}

int emit_image_write(const char *self_exe, const char *payload, size_t len, const char *out,
                     struct pod_err *err)
{
    char *tmp = NULL;
    if (emit_image_stage(self_exe, payload, len, out, &tmp, err) < 0)
        return -1;
    return pod_commit_file(&tmp, out, err);
}
