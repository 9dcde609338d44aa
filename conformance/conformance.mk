# conformance/conformance.mk - the Pod API conformance suite (SPEC.md section 11).
#
#   make conformance                         self-test: the good fixture passes every case, each
#                                            broken fixture fails exactly its expected-failures,
#                                            and every pod in CONFORMANCE_PODS passes
#   make conformance POD=/abs/path/to/pod [LEVEL=must|should|all] [CONFORMANCE_FILTER=regex]
#                    [CONFORMANCE_FLAGS='--status-wait 30 --json ...']
#                                            the suite on any Pod API executable
#
# The runner, pod-conformance, links only src/util/{xalloc,fsio,err}.c of libpod (so that a
# half-edited module elsewhere cannot break it).

CONF_BUILD := $(BUILD)/conformance
CONF_RUNNER := $(CONF_BUILD)/pod-conformance
CONF_SRC := conformance/run_conformance.c conformance/case_parse.c conformance/proc.c \
            conformance/tree.c
CONF_OBJ := $(CONF_SRC:%.c=$(BUILD)/%.o)
CONF_UTIL_OBJ := $(BUILD)/src/util/xalloc.o $(BUILD)/src/util/fsio.o $(BUILD)/src/util/err.o

# Pod API executables the self-test also runs (they must pass every MUST case and, when they
# ship one, match their expected-failures file).  Adding one is one line plus its build rule:
#   CONFORMANCE_PODS += $(BUILD)/conformance/pods/hello/pod
CONFORMANCE_PODS ?=
CONFORMANCE_PODS += $(CONF_BUILD)/pods/executable/pod
# Our own compiled pod on real podman (conformance/pods/podman): only where podman is installed.
ifneq ($(shell command -v podman 2>/dev/null),)
CONFORMANCE_PODS += $(CONF_BUILD)/pods/podman/pod
endif

# podc output for `runtime: executable` (the release dir holds config/ before podc runs, as
# `sns pod compile` arranges).
$(CONF_BUILD)/pods/executable/pod: $(PODC) conformance/pods/executable/pod.yaml \
                                   conformance/pods/executable/expected-failures \
                                   conformance/fixtures/good/pod
	rm -rf $(dir $@) && mkdir -p $(dir $@)config
	cp -R conformance/fixtures/good/config/app $(dir $@)config/
	cp conformance/pods/executable/expected-failures $(dir $@)
	SPACE_LOG_LEVEL=1 $(PODC) fixture -f conformance/pods/executable/pod.yaml -o $(CURDIR)/$@ \
	  -d $(CURDIR)/conformance/fixtures/good

$(CONF_BUILD)/pods/podman/pod: $(PODC) conformance/pods/podman/pod.yaml
	rm -rf $(dir $@) && mkdir -p $(dir $@)
	SPACE_LOG_LEVEL=1 $(PODC) confpodman -f conformance/pods/podman/pod.yaml -o $(CURDIR)/$@

$(BUILD)/conformance/run_conformance.o: ALL_CFLAGS += -DCF_CASES_DIR='"$(CURDIR)/conformance/cases"'

$(CONF_RUNNER): $(CONF_OBJ) $(CONF_UTIL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^

ifdef POD
conformance: $(CONF_RUNNER)
	$(CONF_RUNNER) --level $(or $(LEVEL),all) $(if $(CONFORMANCE_FILTER),--filter '$(CONFORMANCE_FILTER)') \
	  $(CONFORMANCE_FLAGS) $(POD)
else
conformance: $(CONF_RUNNER) $(CONFORMANCE_PODS)
	@bash conformance/selftest.sh $(CONF_RUNNER) $(CONF_BUILD)/fixtures $(CONFORMANCE_PODS)
endif

# ---- conformance-rootless: our podman pod at --level all as an unprivileged user --------------
# (the production way: setpriv, XDG_RUNTIME_DIR unset; conformance/rootless.sh).  Root only; run
# by .ci/run after make check.
.PHONY: conformance-rootless
conformance-rootless: $(CONF_RUNNER) $(PODC)
	@bash conformance/rootless.sh $(BUILD)

# ---- conformance-podman: the podman behaviour pod relies on (SPEC.md 11.x) ----------------
#   make conformance-podman [PODMAN_SETUP=0] [PODMAN_CONFORMANCE_FLAGS='-v | --json | NAME...']
# Runs ci/podman-setup.sh first (as root; PODMAN_SETUP=0 skips that), then
# podman-conformance.  With CI=true a missing or broken podman is a failure; otherwise each
# check is skipped with the reason.  The runner links only src/util/xalloc.c of libpod, like
# pod-conformance.  runc-norlimit (the OCI runtime wrapper ci/podman-setup.sh installs on
# machines without CAP_SYS_RESOURCE) is built here under the project's warnings and its JSON
# stripper golden-tested (conformance/podman/norlimit/) before podman is touched.
PODMAN_CONF := $(BUILD)/conformance/podman-conformance
PODMAN_RUNC_WRAPPER := $(BUILD)/conformance/runc-norlimit
PODMAN_SETUP ?= 1

$(PODMAN_CONF): conformance/podman/podman_conformance.c $(BUILD)/src/util/xalloc.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/src/util/xalloc.o -ljansson

$(PODMAN_RUNC_WRAPPER): conformance/podman/runc_norlimit.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

conformance-podman: $(PODMAN_CONF) $(PODMAN_RUNC_WRAPPER)
	@sh conformance/podman/norlimit_selftest.sh $(PODMAN_RUNC_WRAPPER)
ifneq ($(PODMAN_SETUP),0)
	@if [ "$$(id -u)" = 0 ]; then sh ci/podman-setup.sh || \
	  echo "conformance-podman: ci/podman-setup.sh failed (see above)" >&2; \
	else echo "conformance-podman: not root, ci/podman-setup.sh not run" >&2; fi
endif
	$(PODMAN_CONF) $(PODMAN_CONFORMANCE_FLAGS)

-include $(PODMAN_CONF).d $(PODMAN_RUNC_WRAPPER).d

-include $(CONF_OBJ:.o=.d)
