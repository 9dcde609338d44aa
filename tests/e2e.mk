# tests/e2e.mk - end-to-end tests: compiled pods on real podman (tests/e2e/run.sh, lib.sh).
#
#   make e2e [E2E_FILTER=ERE]            as the caller (root in CI); the ERE is quoted: `parity|faketime`
#   make e2e-rootless [E2E_FILTER=ERE]   as the unprivileged user of ci/rootless-setup.sh, called
#                                        the production way (setpriv, XDG_RUNTIME_DIR unset,
#                                        unreadable cwd)
#   make e2e-asan [E2E_FILTER=ERE]       a subset with pods of an ASan+UBSan podc (below)
#   make e2e-valgrind [E2E_FILTER=ERE]   a smaller subset, the pod's actions under valgrind (below)
# All skip (exit 0) when podman is not usable, unless CI=true.

# t_faketime.sh needs a pod that LD_PRELOAD reaches: the same sources linked dynamically, as
# the variant <variant>-dyn (STATIC=0), passed to run.sh as E2E_PODC_DYN.
E2E_DYN := build/$(VARIANT)-dyn

.PHONY: e2e e2e-rootless e2e-dyn
e2e-dyn:
	@$(MAKE) --no-print-directory VARIANT=$(VARIANT)-dyn STATIC=0 all

e2e: all e2e-dyn
	@E2E_PODC_DYN=$(CURDIR)/$(E2E_DYN)/podc bash tests/e2e/run.sh $(BUILD) '$(E2E_FILTER)'

# The rootless run leaves out the tests whose subject is not the user: a misbehaving podman
# (faulty/, through tests/e2e/faulty-podman), the output flood, the daemon kills (chaos/ and the
# warm standby's two), the libfaketime clock tests and the comparisons with the original
# (parity/): they run as root in `make e2e`; E2E_ROOTLESS_EXCLUDE= runs everything.  (This keeps `make
# check` near 17 min with load-short in it: 19 min with them.)
E2E_ROOTLESS_EXCLUDE ?= ^(faulty/|hostile/output|chaos/|faketime/|parity/|warm/warm_daemon_(kill9|dies))
e2e-rootless: all e2e-dyn
	@E2E_EXCLUDE='$(E2E_ROOTLESS_EXCLUDE)' E2E_PODC_DYN=$(CURDIR)/$(E2E_DYN)/podc bash tests/e2e/run.sh $(BUILD) --rootless '$(E2E_FILTER)'

# make e2e-asan: a subset of the e2e tests (life cycle, restart, probes, config, logs, recovery
# after kill -9, shell, confinement) with pods compiled by an ASan+UBSan podc (clang, STATIC=0,
# the flags of `make asan`, the same build/asan/ it builds): the sanitized runtime runs in
# every action, the holder and the daemon (not in the agent: a dynamic pod cannot run in the
# static test image).  Any sanitizer report (ASAN_OPTIONS/UBSAN_OPTIONS log_path, leaks at exit
# included) fails the test that caused it (tests/e2e/run.sh, E2E_SANITIZE=asan).  Root only.
E2E_ASAN_FILTER ?= ^(life/(run_detaches|stop_start_rm|create_start_kill|run_during_stop)|restart/|probes/|config/|logs/|recover/|shell/shell_keeps|confine/|warm/)
E2E_ASAN_FLAGS := VARIANT=asan CC=clang STATIC=0 CFLAGS="-O1 -g" \
  SAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
  SAN_LDFLAGS="-fsanitize=address,undefined"

.PHONY: e2e-asan
e2e-asan:
	@$(MAKE) --no-print-directory $(E2E_ASAN_FLAGS) all
	@E2E_SANITIZE=asan bash tests/e2e/run.sh build/asan '$(or $(E2E_FILTER),$(E2E_ASAN_FILTER))'

# make e2e-valgrind: a smaller subset with pods of the -O0 dynamic podc of `make valgrind`
# (build/valgrind/), whose actions ps, readiness, logs, info, signal, reload-configs and the life
# cycle (run, create, start, stop, kill, rm, rerun; through the tests' `p`) run under valgrind
# memcheck, and with them the holder and the daemon they start (valgrind --trace-children=yes;
# podman and everything under /usr, /bin, /sbin left out): they exec the pod by its path
# (POD_SELF_EXE_BY_PATH=1: valgrind cannot follow an exec of /proc/self/exe) and take emulated
# pidfds (POD_PIDFD_EMULATE=1: valgrind 3.19 has no pidfd_open; SPEC 7.8.1).  Any error,
# definite leak (at the daemon's and the holder's exit too) or unhandled system call fails the
# test (SPEC 11.7).  ~3 min here (24 tests; 2 cores shared with other runs).
E2E_VALGRIND_FILTER ?= ^(life/(run_detaches|stop_start_rm|create_start_kill|never_created|run_during_stop|other_name|usage)|restart/|config/|logs/|probes/|recover/|multi/|cli/|warm/warm_(restart_from_standby|stop_rm|daemon_kill9))
.PHONY: e2e-valgrind
e2e-valgrind:
	@$(MAKE) --no-print-directory VARIANT=valgrind STATIC=0 CFLAGS="-O0 -g" all
	@E2E_VALGRIND=1 bash tests/e2e/run.sh build/valgrind '$(or $(E2E_FILTER),$(E2E_VALGRIND_FILTER))'
