# tests/e2e.mk - end-to-end tests: compiled pods on real podman (tests/e2e/run.sh, lib.sh).
#
#   make e2e [E2E_FILTER=ERE]            as the caller (root in CI); the ERE is quoted: `parity|faketime`
#   make e2e-rootless [E2E_FILTER=ERE]   as the unprivileged user of ci/rootless-setup.sh, called
#                                        the production way (setpriv, XDG_RUNTIME_DIR unset,
#                                        unreadable cwd)
# Both skip (exit 0) when podman is not usable, unless CI=true.

# t_faketime.sh needs a pod that LD_PRELOAD reaches: the same sources linked dynamically, as
# the variant <variant>-dyn (STATIC=0), passed to run.sh as E2E_PODC_DYN.
E2E_DYN := build/$(VARIANT)-dyn

.PHONY: e2e e2e-rootless e2e-dyn
e2e-dyn:
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT)-dyn STATIC=0 all

e2e: all e2e-dyn
	@E2E_PODC_DYN=$(CURDIR)/$(E2E_DYN)/podc bash tests/e2e/run.sh $(BUILD) '$(E2E_FILTER)'

e2e-rootless: all e2e-dyn
	@E2E_PODC_DYN=$(CURDIR)/$(E2E_DYN)/podc bash tests/e2e/run.sh $(BUILD) --rootless '$(E2E_FILTER)'
