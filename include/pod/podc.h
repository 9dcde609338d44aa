/* SPDX-License-Identifier: MIT */
/* podc.h - the podc compiler driver (command line, preprocessing, validation, outputs). */
#ifndef POD_PODC_H
#define POD_PODC_H

#define PODC_VERSION "0.5.0"
#define PODC_API_VERSION "1.0.0-beta2"

/* podc's main: parses argv, compiles, prints diagnostics on stderr, returns the exit code.
 * self_exe is the path of the running podc binary (the runtime image carried into outputs). */
int podc_main(int argc, char **argv, const char *self_exe);

#endif
