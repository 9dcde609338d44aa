/* SPDX-License-Identifier: MIT */
/* version.h - the versions the two programs report: `podc -V` and `pod version` (SPEC.md 2, 7).
 * Constants only; no code. */
#ifndef POD_VERSION_H
#define POD_VERSION_H

#define PODC_VERSION "0.5.0"               /* this podc */
#define PODC_API_VERSION "1.0.0-beta2"     /* the newest pod.yaml api it accepts */
#define POD_RUNTIME_VERSION "podman 1.0.0" /* what `pod version` reports as its runtime */

#endif
