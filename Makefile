# swanling: see README.md. Go 1.26 is expected at /usr/local/go.
export PATH := /usr/local/go/bin:$(PATH)
export GOTOOLCHAIN := local

GO       ?= go
VERSION  ?= $(shell git describe --always --dirty --tags 2>/dev/null || echo dev)
LDFLAGS  := -s -w -buildid= -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build test cross size repro demo fuzz-smoke clean

all: build

# Host binary ./swanling.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o swanling .

# Everything: deps, vet, unit tests (network tests too as root), integration scripts.
test:
	scripts/test-all.sh

# Router builds into build/ (mips/mipsle softfloat, arm v5/v7, arm64, amd64, riscv64).
cross:
	VERSION=$(VERSION) scripts/cross.sh build

# Two builds of one target, byte for byte.
repro:
	VERSION=$(VERSION) scripts/cross.sh repro linux-mipsle-softfloat

# Stripped and xz -9 sizes per target, as a markdown table.
size: cross
	scripts/cross.sh size

# The main job: opportunistic encryption between gateways in network
# namespaces, with a signed DNS (knot) and a validating resolver (unbound):
# the first ping to a host that publishes its gateway's key brings the tunnel
# up and is answered through it; then `swanling status`. Needs root.
demo: build
	scripts/install-deps.sh
	SWANLING_BIN=$(CURDIR)/swanling scripts/demo.sh

# A short run of every fuzz target (FUZZTIME each).
fuzz-smoke:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		d=$$(dirname $$f); \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== $$d $$t"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$d; \
		done; \
	done

clean:
	rm -rf build swanling
