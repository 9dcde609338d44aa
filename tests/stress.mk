# tests/stress.mk - long runs, not part of `make check` (README "Reliability").
#
#   make stress   every tests/stress/part_*.sh with a time budget (tests/stress/run.sh; ≤ 90 min)
#   make soak     one pod on real podman for SOAK_SECONDS (1800): RSS, fds, zombies, log loss
#   make load     tests/stress/part_load.sh alone: many pods on a fake podman (+ real podman)
#   make load-short  5 pods on the fake podman, 20 s idle, 10 s storm (~1 min; for make check)
#
# The fake podman (tests/load/fakepodman.c) is a test tool: built here, linked into nothing
# else.

FAKEPODMAN := $(BUILD)/tests/load/fakepodman
SOAK_SECONDS ?= 1800
LOAD_BUDGET ?= 900

.PHONY: stress soak load load-short fakepodman
fakepodman: $(FAKEPODMAN)

$(FAKEPODMAN): tests/load/fakepodman.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

stress: all $(FAKEPODMAN) $(PODSIM)
	@bash tests/stress/run.sh $(BUILD)

soak: all
	@SOAK_SECONDS=$(SOAK_SECONDS) bash tests/stress/soak.sh $(BUILD)

load: all $(FAKEPODMAN)
	@bash tests/stress/part_load.sh $(BUILD) $(LOAD_BUDGET)

load-short: all $(FAKEPODMAN)
	@bash tests/load/load.sh $(BUILD) fake 5 20 10
