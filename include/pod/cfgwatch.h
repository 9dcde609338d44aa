/* SPDX-License-Identifier: MIT */
/* cfgwatch.h - change detection for the config volumes containers mount (SPEC.md 8.7).
 *
 * For each watched volume <name>: the tree config/<name>/ (recursively: a new subdirectory gets
 * its watch as soon as it appears), and in config/ itself the entry <name> (a directory
 * created, deleted or replaced by a rename) and the cluster-managed checksum file
 * config/<name>.txt; the pod directory's entry `config` is watched too (config/ replaced
 * whole).  inotify events become callbacks: (volume index, is_checksum_file,
 * has_checksum_file), coalesced per read to at most one directory change and one
 * checksum-file change per volume, the directory change first.  A same-size edit is a change
 * (IN_MODIFY, IN_CLOSE_WRITE).
 *
 * Without inotify (none, or out of watches: ENOSPC/EMFILE) the watcher polls instead: every
 * CFGWATCH_POLL_MS it computes a content checksum per volume (relative names, types, sizes,
 * mtimes in ns, modes and the bytes of every file; the checksum file separately) and reports
 * what differs.  A checksum reads at most CFGWATCH_SUM_MAX_DEPTH directory levels below the
 * volume, CFGWATCH_SUM_MAX_ENTRIES entries and CFGWATCH_SUM_MAX_BYTES file bytes (beyond them,
 * entries are not seen and files count by their metadata only); the checksum file is read up to
 * CFGWATCH_SUM_MAX_BYTES too.  After an inotify queue overflow (events were lost) it computes the
 * checksums once and reports the volumes that differ from the last known ones (a volume changed
 * since its checksum was last taken counts as changed), then re-adds the watches of new
 * subdirectories and goes on with inotify.
 * The loop owns no timers: the owner calls cfgwatch_run() at cfgwatch_next_deadline().
 * Ownership: strings in the config are copied; loop and clock are borrowed.
 */
#ifndef POD_CFGWATCH_H
#define POD_CFGWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/clk.h"
#include "pod/err.h"
#include "pod/loop.h"

#define CFGWATCH_POLL_MS 2000
#define CFGWATCH_SUM_MAX_DEPTH 64
#define CFGWATCH_SUM_MAX_ENTRIES 10000
#define CFGWATCH_SUM_MAX_BYTES (16u << 20)

typedef void cfgwatch_fn(void *arg, size_t volume, bool checksum_file, bool has_checksum_file);

struct cfgwatch_vol {
    size_t index;     /* passed back to fn (the spec's volume index) */
    const char *name; /* config/<name>/, config/<name>.txt */
};

struct cfgwatch_cfg {
    struct loop *loop;
    const struct clk *clk;
    const char *dir; /* the pod directory (holds config/) */
    const struct cfgwatch_vol *vols;
    size_t n;
    cfgwatch_fn *fn;
    void *arg;
    int64_t poll_ms;    /* 0 = CFGWATCH_POLL_MS */
    bool force_poll;    /* tests: behave as without inotify */
    size_t max_watches; /* tests: act as out of watches beyond this many (0 = no limit) */
};

struct cfgwatch;

int cfgwatch_new(const struct cfgwatch_cfg *cfg, struct cfgwatch **out,
                 struct pod_err *err) POD_WUR;
/* INT64_MAX while inotify works; the next poll otherwise. */
int64_t cfgwatch_next_deadline(const struct cfgwatch *w);
/* Polls when due (no-op otherwise). */
void cfgwatch_run(struct cfgwatch *w);
bool cfgwatch_polling(const struct cfgwatch *w);
/* The content checksums of the volume with spec index `index`, computed now (as the fallback
 * compares them: *dir of config/<name>/, *txt of config/<name>.txt, 0 when it is missing).
 * False when no watched volume has that index. */
bool cfgwatch_sums(const struct cfgwatch *w, size_t index, uint64_t *dir, uint64_t *txt);
size_t cfgwatch_watches(const struct cfgwatch *w);
/* Overflows handled so far (for tests). */
unsigned cfgwatch_overflows(const struct cfgwatch *w);
void cfgwatch_free(struct cfgwatch *w);

/* The checksums the watcher compares for config volume <name> of pod directory dir: of the
 * tree config/<name>/ (0 when it is missing) and of the checksum file config/<name>.txt (0 when
 * there is none).  Within the limits above; for tests and the fuzzer (fuzz_cfgsum). */
void cfgwatch_checksums(const char *dir, const char *name, uint64_t *sum_dir, uint64_t *sum_txt);

#endif
