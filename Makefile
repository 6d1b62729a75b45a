# Tako: build, test and install.
PREFIX ?= /usr/local
BINDIR := $(PREFIX)/bin
SWIFT ?= swift
PRODUCTS := tako tako-server tako-dev-server
# Release builds skip Swift's run-time exclusivity checks: on the proxy's hot path they cost
# about a third of its CPU, almost all inside SwiftNIO. Debug builds (and so every test) keep
# them, so an overlapping access still traps where it can be found. See docs/proxy.md.
#
# On Linux the Swift runtime and Foundation are linked in (--static-swift-stdlib): a host needs
# no Swift installed to run tako-server, and the proxy keeps fewer pages resident than with
# the shared libraries (docs/benchmarks.md). The toolchain's lld links them without
# exporting every symbol (Swift's static-stdlib arguments ask for --export-dynamic, which
# nothing here looks up): the loader then no longer walks a 2 MB symbol table at start-up,
# 1.2 MiB less resident. RELR-packed relocations would save 2.8 MiB more but need glibc 2.36
# on the host (not Ubuntu 22.04), so they are left out.
LINUX_RELEASE_FLAGS := --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic
RELEASE_FLAGS ?= -c release -Xswiftc -enforce-exclusivity=unchecked $(if $(filter Linux,$(shell uname -s)),$(LINUX_RELEASE_FLAGS))

.PHONY: all build release test test-deps install uninstall clean bench bench-proxy bench-runtime tls-audit demo fuzz

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build $(RELEASE_FLAGS)

test-deps:
	./scripts/install-test-deps.sh

# The CLI tests run the built binaries, so build everything (tests included) first.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Measurements, not tests: each writes its section of docs/benchmarks.md.
bench: bench-proxy bench-runtime

# The proxy beside nginx in one run.
bench-proxy:
	RELEASE_FLAGS="$(RELEASE_FLAGS)" ./scripts/bench.sh

# tako-server's runtime: cold starts, crash and hang detection, rolling deploys.
bench-runtime: release
	./scripts/runtime-bench.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/tako-server" >"$${TMPDIR:-/tmp}/tako-runtime-bench.md"
	./scripts/update-section.py runtime docs/benchmarks.md <"$${TMPDIR:-/tmp}/tako-runtime-bench.md"

# The main job end to end on this machine: a throwaway host (sshd + tako-server), tako deploy
# of examples/hello, an HTTPS fetch through the proxy. Prints how to stop the host.
demo:
	./scripts/demo.sh

# libFuzzer + AddressSanitizer on every parser of outside input, FUZZ_SECONDS (60) per target;
# FUZZ_RECORD=1 writes the results into docs/reliability.md. See scripts/fuzz.sh.
fuzz:
	./scripts/fuzz.sh

# testssl.sh and sslscan against a real HTTPS listener; writes its section of docs/security.md.
tls-audit: build
	./scripts/tls-audit.sh

install: release
	install -d "$(DESTDIR)$(BINDIR)"
	for product in $(PRODUCTS); do \
		install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/$$product" "$(DESTDIR)$(BINDIR)/$$product"; \
	done

uninstall:
	for product in $(PRODUCTS); do rm -f "$(DESTDIR)$(BINDIR)/$$product"; done

clean:
	rm -rf .build
