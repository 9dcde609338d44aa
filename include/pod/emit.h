/* SPDX-License-Identifier: MIT */
/* emit.h - what podc writes: the spec as canonical JSON (embedded in the pod executable), the
 * pod.portmappings.conf / pod.ingress.conf texts, and the executable image itself.
 *
 * The pod executable is the podc multi-call binary with a payload appended:
 *     [ELF image][payload bytes][trailer: magic "PODIMG01", u64 payload length, u32 crc32c,
 *      u32 reserved, magic "PODIMGE1"]
 * emit_image_probe() tells a plain podc binary (no bytes past the ELF end), a valid pod image,
 * and a damaged/truncated one apart.  Ownership: returned strings/specs belong to the caller.
 */
#ifndef POD_EMIT_H
#define POD_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/spec.h"

/* Canonical JSON of a validated spec (new string). */
char *emit_spec_json(const struct pod_spec *s);
/* Inverse of emit_spec_json. */
int emit_spec_from_json(const char *json, size_t len, struct pod_spec **out,
                        struct pod_err *err) POD_WUR;

/* File contents per SPEC.md "Output files"; empty string when the file must not exist. */
char *emit_portmappings(const struct pod_spec *s);
char *emit_ingress(const struct pod_spec *s);

enum emit_image_kind {
    EMIT_IMAGE_PLAIN = 0, /* no payload: this is podc itself */
    EMIT_IMAGE_POD,       /* valid payload */
};

uint32_t emit_crc32c(const void *data, size_t len, uint32_t crc);

/* Inspects the executable at path.  On EMIT_IMAGE_POD, *payload (malloc'd, NUL-terminated) and
 * *len are set.  A damaged or truncated image is an error (POD_E_CORRUPT). */
int emit_image_probe(const char *path, enum emit_image_kind *kind, char **payload, size_t *len,
                     struct pod_err *err) POD_WUR;
/* Stages a new image for out (pod_stage_file, mode 0755, not fsync'ed): runtime image self_exe
 * (its ELF part only) + payload + trailer.  *tmp_out names the temporary; the caller renames it
 * over out (podc does, with the other outputs) or unlinks it. */
int emit_image_stage(const char *self_exe, const char *payload, size_t len, const char *out,
                     char **tmp_out, struct pod_err *err) POD_WUR;
/* emit_image_stage, then the rename: writes the image to out atomically. */
int emit_image_write(const char *self_exe, const char *payload, size_t len, const char *out,
                     struct pod_err *err) POD_WUR;

#endif
