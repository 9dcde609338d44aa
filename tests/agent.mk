# tests/agent.mk - the in-container exec agent on real podman (src/agent; SPEC 7.9).
#
#   make test-agent    confinement proof (root, rootless, restricted container) and behaviour
#                      (cancel, timeout, disconnect, 50 at once, garbage): tests/agent/podman.sh
#   make bench-agent   CPU/wall per probe through the agent vs `podman exec`, the agent's RSS
# Both skip (exit 0) when podman is not usable, unless CI=true.  The unit tests of the agent
# and its client are ordinary cmocka tests (tests/test_agent_*.c, `make test`).

AGENT_TOOLS := $(BUILD)/tests/agent/agentctl $(BUILD)/tests/agent/bench_agent

$(BUILD)/tests/agent/%: tests/agent/%.c tests/agent/agent_sync.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

.PHONY: test-agent bench-agent
test-agent: all $(AGENT_TOOLS)
	@sh tests/agent/podman.sh $(BUILD)

bench-agent: all $(AGENT_TOOLS)
	@sh tests/agent/podman.sh $(BUILD) bench
