# conformance/conformance.mk - the Pod API conformance suite (placeholder).
conformance: all
	@echo "conformance: no cases yet"
conformance-podman: all
	@echo "conformance-podman: no cases yet"
