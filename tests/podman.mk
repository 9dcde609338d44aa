# tests/podman.mk - the real-podman integration test of the podman backend (SPEC.md 7.x):
#   make test-podman-backend      skips (exit 0) when podman is not usable, unless CI=true
# It drives src/backend on the machine's podman with containers named tbe* in a pod
# tbebk<pid>-0.0.1, and removes everything it created.

PODMAN_BE_TEST := $(BUILD)/tests/podman/test_backend_podman

$(PODMAN_BE_TEST): tests/podman/test_backend_podman.c tests/podman/harness.c \
                   tests/podman/harness.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ tests/podman/test_backend_podman.c \
	  tests/podman/harness.c $(LIB) $(LIBS)

.PHONY: test-podman-backend
test-podman-backend: $(PODMAN_BE_TEST)
	$(RUNNER) ./$(PODMAN_BE_TEST)

-include $(PODMAN_BE_TEST).d
