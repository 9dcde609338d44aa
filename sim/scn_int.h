/* SPDX-License-Identifier: MIT */
/* scn_int.h - what the two files of the scenario parser share (sim/scn*.c only): the tokenized
 * line, the parser state and its helpers.
 *   scn.c       tokenizer, numbers, durations, ranges, filters, the top level, scn_free
 *   scn_stmt.c  container rules, faults, user actions, expectations
 * Every helper reports the first problem as "file:line:col: message" and returns -1. */
#ifndef POD_SIM_SCN_INT_H
#define POD_SIM_SCN_INT_H

#include "scn.h"

#include "pod/util.h"

#define MAX_TOKS 64

struct tok {
    char *s; /* NUL-terminated copy (quotes removed) */
    int col; /* 1-based */
    bool quoted;
};

struct parser {
    const char *file;
    int line;
    struct tok t[MAX_TOKS];
    size_t n;
    struct scn *scn;
    struct pod_err *err;
};

/* scn.c */
int scnp_err(struct parser *p, int col, const char *fmt, ...) POD_PRINTF(3, 4);
int scnp_want_dur(struct parser *p, size_t i, int64_t *ms);
int scnp_want_int(struct parser *p, size_t i, long long min, long long max, long long *v);
int scnp_want_range(struct parser *p, size_t i, uint64_t *lo, uint64_t *hi); /* A..B, A.., A */
/* Trailing filter words from token i on; with fault: nth/times/p/ctr/type too. */
int scnp_filter(struct parser *p, size_t i, struct scn_filter *f, struct scn_fault *fault);
bool scnp_is_name(const char *s);

/* scn_stmt.c */
char *scnp_join(struct parser *p, size_t from, size_t to); /* tokens from..to-1, new string */
int scnp_rule(struct parser *p, struct scn_ctr *c);        /* an indented container rule */
int scnp_fault(struct parser *p);                          /* fault ... */
int scnp_action(struct parser *p);                         /* at T ... */
int scnp_expect(struct parser *p);                         /* expect ... */

#endif
