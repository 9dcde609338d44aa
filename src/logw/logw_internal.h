/* SPDX-License-Identifier: MIT */
/* logw_internal.h - what logw.c (the writer) and logw_files.c (reading the files back) share:
 * the names of rotated files.  Private to src/logw. */
#ifndef POD_LOGW_INTERNAL_H
#define POD_LOGW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* Rotated files are <base>.log.<N>, N written with at least this many digits. */
#define LOGW_ARCHIVE_DIGITS 8

/* "<dir>/<base>.log.<N>" (new string). */
char *logw_archive_path(const char *dir, const char *base, uint64_t n);
/* If name is "<base>.log.<N>" with N written as the writer writes it (8 digits, or more
 * without a leading zero), stores N.  Other names are not ours and are left alone. */
bool logw_archive_number(const char *base, const char *name, uint64_t *n);
/* qsort comparator for uint64_t. */
int logw_cmp_u64(const void *a, const void *b);

#endif
