# tests/e2e.mk - end-to-end tests: compiled pods on real podman (tests/e2e/run.sh, lib.sh).
#
#   make e2e [E2E_FILTER=ERE]            as the caller (root in CI)
#   make e2e-rootless [E2E_FILTER=ERE]   as the unprivileged user of ci/rootless-setup.sh, called
#                                        the production way (setpriv, XDG_RUNTIME_DIR unset,
#                                        unreadable cwd)
# Both skip (exit 0) when podman is not usable, unless CI=true.

.PHONY: e2e e2e-rootless
e2e: all
	@bash tests/e2e/run.sh $(BUILD) '$(E2E_FILTER)'

e2e-rootless: all
	@bash tests/e2e/run.sh $(BUILD) --rootless '$(E2E_FILTER)'
