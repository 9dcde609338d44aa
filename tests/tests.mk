# tests/tests.mk - cmocka unit tests (one binary per tests/test_<module>.c), golden tests, fuzz.
# A test may list extra link flags (e.g. --wrap at OS seams) in TEST_LDFLAGS_<name> and extra
# compile flags in TEST_CFLAGS_<name>.  Every test links the simulator's library (the test
# doubles fs_mem and clk_fake live there) before libpod.

TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
RUNNER ?=
# test_logpump makes the writer thread's creation fail.
TEST_LDFLAGS_test_logpump := -Wl,--wrap=pthread_create

$(BUILD)/tests/%: tests/%.c $(SIM_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS_$*) $(ALL_LDFLAGS) $(TEST_LDFLAGS_$*) -o $@ $< $(SIM_LIB) \
	  $(LIB) $(LIBS) -lcmocka

# The modules built on pidfds (children, the supervisor's processes, the agent's server) run
# under valgrind like every other test: valgrind 3.19 (Debian 12) does not implement
# pidfd_open (syscall 434, ENOSYS), so they take the emulated pidfds of src/util/pidfd.c there
# on their own (SPEC 7.8.1; valgrind prints one `unhandled syscall` warning per process).
# test_ctl runs without valgrind: it bounds each loop round of the control server at 500 ms
# while 3 MB requests cross, which memcheck's slowdown exceeds.
TEST_NO_VALGRIND := test_ctl

test: deps $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; \
	  case " $(TEST_NO_VALGRIND) " in *" $${t##*/} "*) \
	    case "$(RUNNER)" in *valgrind*) \
	      echo "(without valgrind: a timing bound memcheck cannot meet)"; ./$$t; \
	      continue;; esac;; esac; \
	  $(RUNNER) ./$$t; done

# The tests of the pidfd users again, with emulated pidfds forced (POD_PIDFD_EMULATE=1, SPEC
# 7.8.1): the runtime on the fallback a kernel without pidfd_open or a seccomp profile refusing
# it gets.  Not in check (make valgrind covers the fallback); ~50 s.
TEST_PIDFD_EMU := test_pidfd test_proc test_ctl test_ident test_holder test_spawn test_daemon \
                  test_agent_server test_rt test_life test_daemon_agent test_podman_backend
.PHONY: test-pidfd-emu
test-pidfd-emu: deps $(TEST_PIDFD_EMU:%=$(BUILD)/tests/%)
	@$(MAKE) --no-print-directory all
	@set -e; for t in $(TEST_PIDFD_EMU); do echo "== $$t (POD_PIDFD_EMULATE=1)"; \
	  POD_PIDFD_EMULATE=1 $(RUNNER) ./$(BUILD)/tests/$$t; done

-include $(TEST_BIN:%=%.d)

# Golden tests of the podc command line and the compiled pod (tests/golden/run.sh documents
# the case format; UPDATE=1 regenerates expected files).  RUNNER prefixes the podc runs.
golden: all
	@RUNNER="$(RUNNER)" bash tests/golden/run.sh $(PODC) $(BUILD)/golden

# Benchmarks (not tests: no thresholds asserted).  Built into $(BUILD)/tests/bench/ (ci/bench.sh
# wipes $(BUILD)/bench); `make bench` builds them and ci/bench.sh runs them.
BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/bench/%)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The supervisor's memory is measured as the pod executable runs: statically linked.
$(BUILD)/tests/bench/bench_daemon: tests/bench/bench_daemon.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(STATIC_LDFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

bench: $(BENCH_BIN)

# The `pod` command line's fuzz target parses through src/cli/pod.c (not in libpod.a).
FUZZ_EXTRA_fuzz_cmdline = $(BUILD)/src/cli/pod.o
