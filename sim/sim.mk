# sim/sim.mk - the simulation harness: libpodsim.a (every sim/*.c but podsim.c: the simulated
# podman, the scenario runner and the test doubles fs_mem and clk_fake), podsim (podsim.c +
# libpodsim.a + libpod.a), the scenario corpus and the explore campaign.  `make sim` = every scenario against its golden trace, every scenario
# run twice with identical traces (determinism), and `podsim explore` over SIM_SEEDS seeds.
# Under `make asan` / `make valgrind` every podsim invocation is prefixed with $(RUNNER).

SIM_SRC := $(filter-out sim/podsim.c,$(sort $(wildcard sim/*.c)))
SIM_OBJ := $(SIM_SRC:%.c=$(BUILD)/%.o)
PODSIM := $(BUILD)/podsim
SIM_SCN := $(sort $(wildcard sim/scenarios/*.scn))
SIM_EXPLORE := $(sort $(wildcard sim/scenarios/explore-*.scn))
# Seeds per explore scenario (the total over all of them is >= 1000).
SIM_SEEDS ?= 0..499
# valgrind is ~50x slower: a smaller campaign there and no second determinism pass (both run in
# full in every other variant; `check` already runs every scenario under valgrind).
SIM_DET := 1
# Values of k per fault kind that `make sim` sweeps in every scenario (podsim sweep --limit;
# the whole sweep is tests/stress/part_sweep.sh in `make stress`).
SIM_SWEEP_LIMIT ?= 8
ifneq ($(findstring valgrind,$(RUNNER)),)
SIM_SEEDS := 0..9
SIM_DET := 0
SIM_SWEEP_LIMIT := 1
endif

$(SIM_LIB): $(SIM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(PODSIM): $(BUILD)/sim/podsim.o $(SIM_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/sim/podsim.o $(SIM_LIB) $(LIB) $(LIBS)

FUZZ_EXTRA_fuzz_scenario = $(SIM_LIB)
FUZZ_EXTRA_fuzz_agent_client = $(SIM_LIB)

sim: $(PODSIM)
	@echo "== podsim check ($(words $(SIM_SCN)) scenarios)"
	@$(RUNNER) ./$(PODSIM) check $(SIM_SCN)
	@echo "== determinism: every scenario twice, traces compared"
	@set -e; [ "$(SIM_DET)" = 1 ] || { echo "(skipped under valgrind)"; exit 0; }; \
	  mkdir -p $(BUILD)/sim/det; for f in $(SIM_SCN); do \
	  n=$$(basename $$f .scn); \
	  $(RUNNER) ./$(PODSIM) run $$f > $(BUILD)/sim/det/$$n.1 2>/dev/null || true; \
	  $(RUNNER) ./$(PODSIM) run $$f > $(BUILD)/sim/det/$$n.2 2>/dev/null || true; \
	  cmp -s $(BUILD)/sim/det/$$n.1 $(BUILD)/sim/det/$$n.2 || \
	    { echo "nondeterministic trace: $$f"; exit 1; }; done; \
	  echo "$(words $(SIM_SCN)) scenarios: identical traces"
	@echo "== podsim run --dump: the simulated pod directory written to disk"
	@set -e; d=$(BUILD)/sim/dump; rm -rf $$d; \
	  $(RUNNER) ./$(PODSIM) run sim/scenarios/demo-nr5.scn --dump $$d > /dev/null; \
	  grep -qx 'readiness: 0' $$d/pod/.pod.status; grep -qx 'status: exited' $$d/pod/.pod.status; \
	  test "$$(grep -c ' web stdout ' $$d/pod/log/web-simpod-0.1.0-stdout.log)" -gt 200; \
	  echo "dump ok: $$(find $$d -type f | wc -l) files"
	@set -e; for f in $(SIM_EXPLORE); do \
	  $(RUNNER) ./$(PODSIM) explore $$f --seeds $(SIM_SEEDS); done
	@echo "== podsim sweep --limit $(SIM_SWEEP_LIMIT): the k-th podman call fails / hangs (whole sweep: make stress)"
	@mkdir -p $(BUILD)/sim
	@$(RUNNER) ./$(PODSIM) sweep --limit $(SIM_SWEEP_LIMIT) $(SIM_SCN) > $(BUILD)/sim/sweep.out || \
	  { grep -v '^SWEEP .* violations=0$$' $(BUILD)/sim/sweep.out; exit 1; }
	@tail -n 1 $(BUILD)/sim/sweep.out

-include $(BUILD)/sim/podsim.d $(SIM_OBJ:.o=.d)

# `make bench` runs `podsim bench` (section in ci/bench.sh).
bench: $(PODSIM)
FUZZ_EXTRA_fuzz_state = $(SIM_LIB)
