# sim/sim.mk - the simulation harness (placeholder until the supervisor lands).
sim: all
	@echo "sim: no scenarios yet"
