# SPDX-License-Identifier: MIT
# pod/podc - hand-written GNU Makefile.  Every variant builds out of tree into build/<variant>/.
#
#   make                 podc (static multi-call binary: compiler + pod runtime) and tools
#   make check           deps, unit tests, golden tests, simulation, conformance (+ podman)
#   make demo            the guided tour (README.md)
#   make asan|tsan|valgrind|fuzz|lint|format|format-check|bench|install|clean
#   make stress|soak|load  long runs, not in check (tests/stress.mk, README "Reliability")
#
# Areas add their own rules in tests/tests.mk, sim/sim.mk and conformance/conformance.mk.

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
VARIANT ?= $(notdir $(CC))
BUILD := build/$(VARIANT)
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60
# STATIC=1 links podc (and so every compiled pod) statically; sanitizer builds cannot.
STATIC ?= 1

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wold-style-definition \
        -Wimplicit-fallthrough -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude $(CFLAGS) $(SAN_CFLAGS) -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) $(SAN_LDFLAGS)
LIBS := -lyaml -ljansson -pthread

ifneq ($(SAN_CFLAGS),)
STATIC := 0
endif
ifeq ($(STATIC),1)
STATIC_LDFLAGS := -static
# The code a holder and an idle daemon run, packed together at the start of the text
# (src/idle-text.ld, made by tests/bench/idle-text.sh): their RSS after holder_trim_text.
IDLE_TEXT_LD := src/idle-text.ld
IDLE_TEXT_LDFLAGS := -Wl,-T,$(IDLE_TEXT_LD)
endif

# Library: every module under src/ except the program entry points in src/cli.
LIB_SRC := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libpod.a
# The simulated world and the test doubles (sim/: fs_mem, the fake clock, the simulated podman,
# the scenario runner): linked before $(LIB) by podsim, the tests and the fuzz targets, never by
# podc, so no program a user runs carries them.  Built by sim/sim.mk.
SIM_LIB := $(BUILD)/libpodsim.a
CLI_SRC := $(sort $(wildcard src/cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
PODC := $(BUILD)/podc

.PHONY: all deps test check demo install asan tsan valgrind fuzz fuzz-run fuzz-build fuzz-bins fuzz-replay san-suites format format-check lint \
        bench clean sim conformance conformance-podman golden
.DEFAULT_GOAL := all

all: $(PODC)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The static podc is also the runtime image copied into every compiled pod: its debug info
# and symbols go to podc.debug (found by gdb through the debuglink), so each pod and each
# compile carry ~1/3 fewer bytes.  Sanitizer/valgrind builds keep everything in place.
$(PODC): $(CLI_OBJ) $(LIB) $(IDLE_TEXT_LD)
	$(CC) $(ALL_CFLAGS) $(STATIC_LDFLAGS) $(IDLE_TEXT_LDFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) \
	  $(LIB) $(LIBS)
ifeq ($(STATIC),1)
	objcopy --only-keep-debug $@ $@.debug
	objcopy --strip-all --add-gnu-debuglink=$@.debug $@
endif

# Installs missing Debian packages (no-op when everything is present).
deps:
	@bash ci/install-deps.sh --if-missing

include tests/tests.mk
include tests/agent.mk
include tests/podman.mk
include tests/e2e.mk
include sim/sim.mk
include conformance/conformance.mk
include tests/stress.mk

# `check` is the README's test command: everything, on this machine, in one go.
# Suites run one after another (compiles inside each may still use -j).
CHECK_SUITES := test golden sim conformance conformance-podman e2e e2e-rootless load-short
check: deps
	@$(MAKE) --no-print-directory all
	@set -e; t0=$$(date +%s); for s in $(CHECK_SUITES); do echo "==== make $$s"; \
	  t=$$(date +%s); $(MAKE) --no-print-directory $$s; \
	  echo "==== make $$s: $$(( $$(date +%s) - t )) s"; done; \
	  echo "make check: all suites passed ($(VARIANT)) in $$(( $$(date +%s) - t0 )) s"

demo: deps
	@$(MAKE) --no-print-directory all $(PODSIM)
	@bash ci/demo.sh $(BUILD)

# Timings (podc compile, compiled pod); areas append sections to ci/bench.sh.
bench: deps
	@$(MAKE) --no-print-directory all
	@bash ci/bench.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PODC) $(DESTDIR)$(PREFIX)/bin/podc

# Sanitizers: the whole non-podman suite under ASan+UBSan.
asan:
	$(MAKE) VARIANT=asan CC=clang STATIC=0 \
	  SAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  SAN_LDFLAGS="-fsanitize=address,undefined" CFLAGS="-O1 -g" san-suites

# ThreadSanitizer over the tests of the threaded modules (the log pump, and the daemon's log
# sink on it; the emulated pidfds' watcher thread, forced in test_pidfd, whose fork child starts
# a watcher of its own: die_after_fork=0); the rest is single-threaded and covered by
# asan/valgrind.
TSAN_TESTS := test_logpump test_dsink test_pidfd
tsan:
	$(MAKE) VARIANT=tsan CC=clang STATIC=0 SAN_CFLAGS="-fsanitize=thread" \
	  SAN_LDFLAGS="-fsanitize=thread" CFLAGS="-O1 -g" \
	  $(TSAN_TESTS:%=build/tsan/tests/%)
	@set -e; for t in $(TSAN_TESTS); do echo "== build/tsan/tests/$$t"; \
	  TSAN_OPTIONS=halt_on_error=1:die_after_fork=0 ./build/tsan/tests/$$t; done

# POD_SELF_EXE_BY_PATH=1: a test that starts the holder or a daemon (an exec of the test binary
# itself) execs its path, not /proc/self/exe, which is valgrind's tool under valgrind (SPEC
# 7.8.1); the pidfd users take the emulated pidfds there on their own (valgrind 3.19 has no
# pidfd_open).
valgrind:
	$(MAKE) VARIANT=valgrind STATIC=0 CFLAGS="-O0 -g" \
	  RUNNER="env POD_SELF_EXE_BY_PATH=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no" \
	  san-suites

# The suites that run under sanitizers and valgrind (everything but podman), one by one.
SAN_SUITES := test golden sim
san-suites: deps
	@$(MAKE) --no-print-directory all
	@set -e; for s in $(SAN_SUITES); do echo "==== make $$s ($(VARIANT))"; \
	  $(MAKE) --no-print-directory $$s; done

# Fuzzing: every tests/fuzz/fuzz_<name>.c is a libFuzzer target with a seed corpus in
# tests/fuzz/<name>_corpus/.  Areas may add objects a target needs in FUZZ_EXTRA_<target>.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB) $$(FUZZ_EXTRA_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< $(FUZZ_EXTRA_$*) $(LIB) $(LIBS)

# The same targets linked with a plain main (tests/fuzz/replay_main.c) replay their corpora in
# `make test` (and so under asan and valgrind), so a seed that crashes can never slip in.
FUZZ_REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(LIB) $$(FUZZ_EXTRA_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(FUZZ_EXTRA_$*) \
	  $(LIB) $(LIBS)

fuzz-replay: $(FUZZ_REPLAY_BIN)
	@set -e; for f in $(FUZZ_REPLAY_BIN); do n=$${f##*/fuzz_}; \
	  echo "== replay tests/fuzz/$${n}_corpus"; \
	  $(RUNNER) ./$$f tests/fuzz/$${n}_corpus/*; done
test: fuzz-replay

FUZZ_VARS := VARIANT=fuzz CC=clang STATIC=0 CFLAGS="-O1 -g" \
  SAN_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
  SAN_LDFLAGS="-fsanitize=address,undefined"
fuzz:
	$(MAKE) $(FUZZ_VARS) fuzz-run
# Only builds the targets (into build/fuzz/fuzz/; tests/stress/part_fuzz.sh).
fuzz-build:
	$(MAKE) $(FUZZ_VARS) fuzz-bins
fuzz-bins: $(FUZZ_BIN)

# tests/fuzz/run.sh prints `FUZZ <name> execs=N seconds=S execs_per_s=R crashes=C` per target
# and a total line; it fails when any target crashed.
fuzz-run: $(FUZZ_BIN)
	@bash tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format -i $$(git ls-files '*.c' '*.h')
	git diff --exit-code

lint:
	cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 -Iinclude \
	  --suppress=missingIncludeSystem --suppress=unusedFunction src sim conformance
	@bash ci/lint-includes.sh
	scan-build-14 --status-bugs $(MAKE) VARIANT=scan STATIC=0 all

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
