/* SPDX-License-Identifier: MIT */
/* main.c - the multi-call entry point.  The same static binary is podc (no payload) and every
 * compiled pod (payload = the validated spec appended by podc).  A damaged or truncated pod
 * executable refuses to run. */
#include "cli.h"
#include "pod/agent.h"
#include "pod/daemon.h"
#include "pod/emit.h"
#include "pod/holder.h"
#include "pod/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    /* hidden actions that must stay tiny (the in-container agent, the fd holder): dispatched
     * before the payload is read (no spec, no JSON) */
    if (argc >= 2 && strcmp(argv[1], AGENT_ACTION) == 0)
        return agent_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "__holder") == 0)
        return holder_main(argc, argv);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        fprintf(stderr, "[ERROR] cannot locate own executable (/proc/self/exe)\n");
        return POD_EXIT_SYSTEM;
    }
    self[n] = '\0';

    struct pod_err err = POD_ERR_ZERO;
    enum emit_image_kind kind;
    char *payload = NULL;
    size_t len = 0;
    if (emit_image_probe(self, &kind, &payload, &len, &err) < 0) {
        fprintf(stderr, "[ERROR] %s\n", err.msg); /* the message names the file */
        return err.code == POD_E_CORRUPT ? POD_EXIT_REJECTED : POD_EXIT_SYSTEM;
    }
    if (kind == EMIT_IMAGE_PLAIN)
        return podc_main(argc, argv, self);

    struct pod_spec *spec = NULL;
    if (emit_spec_from_json(payload, len, &spec, &err) < 0) {
        free(payload);
        fprintf(stderr, "[ERROR] %s: damaged pod executable: %s\n", self, err.msg);
        return POD_EXIT_REJECTED;
    }
    free(payload);
    /* argv[0] as invoked keeps the pod's own name; the pod directory comes from self. */
    int rc = argc > 1 && strcmp(argv[1], "__daemon") == 0 ? daemon_main(argc, argv, spec)
                                                          : pod_main(argc, argv, self, spec);
    spec_free(spec);
    return rc;
}
