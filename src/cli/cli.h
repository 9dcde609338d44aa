/* SPDX-License-Identifier: MIT */
/* cli.h - the two command-line front ends of the multi-call binary (private to src/cli):
 * main.c looks at its own image and hands over to podc's command line (no payload) or to the
 * compiled pod's action table.  Each returns the process exit code; they print, the library
 * modules they call do not. */
#ifndef POD_CLI_H
#define POD_CLI_H

#include "pod/spec.h"

/* podc's command line (podc.c): parses argv, compiles, prints diagnostics on stderr.
 * self_exe is the running podc binary (the runtime image carried into every pod). */
int podc_main(int argc, char **argv, const char *self_exe);

/* The compiled pod's command line, the Pod API (pod.c): runs one action.  self_path is the pod
 * executable (its directory is the pod directory); spec, its embedded spec, is borrowed. */
int pod_main(int argc, char **argv, const char *self_path, const struct pod_spec *spec);

/* pod_main's parse step alone, nothing run (tests/fuzz/fuzz_cmdline.c): the action (or the
 * hidden `__daemon`), its argument count, then the action's own parser(s) with the names it
 * checks against spec.  0, or -1 with err (a usage error, or an unknown container/config). */
int pod_parse_args(int argc, char **argv, const struct pod_spec *spec, struct pod_err *err);

#endif
