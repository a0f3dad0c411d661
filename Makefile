# promobot build, test and demo. Everything a test needs is installed here:
# Go modules through the module proxy, Azurite and the GitHub payload corpora
# through npm (pinned in package-lock.json).

GO        ?= go
NPM       ?= npm
PKGS      ?= ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X main.version=$(VERSION)
BIN       := bin/promobot
TOOLS     := $(CURDIR)/.tools
BENCH_LARGE ?=
BENCH_COUNT ?= 1
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)
COSIGN_VERSION := v2.4.3
COSIGN := $(TOOLS)/cosign-$(COSIGN_VERSION)
# Releases: the Go of the Dockerfile, so that the image's binary and the
# released linux binaries are the same bytes.
GO_VERSION := $(shell sed -n 's/^ARG GO_VERSION=//p' Dockerfile)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST      := dist

export PROMOBOT_REPO_ROOT := $(CURDIR)

.PHONY: all build dist pins check-pins test vet lint actionlint tidy-check fmt-check bench bench-scale demo fuzz clean npm-deps python-deps interop chromium

all: build

## build: a reproducible static binary in bin/promobot
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/promobot

## dist: the release binaries for every platform of PLATFORMS, built by
## `make build` with the Go of the Dockerfile, as dist/promobot_VERSION_OS_ARCH
## with their dist/SHA256SUMS
dist:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		echo "build $(DIST)/promobot_$(VERSION)_$${p%/*}_$${p#*/}"; \
		GOTOOLCHAIN=go$(GO_VERSION) GOOS=$${p%/*} GOARCH=$${p#*/} \
			$(MAKE) -s --no-print-directory build VERSION=$(VERSION) BIN=$(DIST)/promobot_$(VERSION)_$${p%/*}_$${p#*/} || exit 1; \
	done
	cd $(DIST) && for f in promobot_$(VERSION)_*; do \
		echo "$$(sh ../scripts/action-binaries.sh sha256 $$f)  $$f" || exit 1; \
	done >SHA256SUMS

## pins: pin the binaries of dist/ as release VERSION in action-binaries.txt,
## which the Action downloads and verifies (before tagging; docs/deploy.md)
pins:
	sh scripts/action-binaries.sh pin $(VERSION) $(DIST)

## check-pins: fail unless dist/ holds exactly the binaries pinned for VERSION
check-pins:
	sh scripts/action-binaries.sh check $(VERSION) $(DIST)

## npm-deps: Azurite and the @octokit payload/schema corpora from
## package-lock.json; a no-op when node_modules already holds exactly the
## packages of the lock (npm's record of them, node_modules/.package-lock.json)
npm-deps: node_modules/.installed

NPM_INSTALLED := const f = p => { const x = require(p).packages; delete x[""]; \
	return JSON.stringify(Object.keys(x).sort().map(k => [k, x[k].version, x[k].integrity])) }; \
	process.exit(f("./package-lock.json") === f("./node_modules/.package-lock.json") ? 0 : 1)

node_modules/.installed: package.json package-lock.json
	@if ! node -e '$(NPM_INSTALLED)' 2>/dev/null; then $(NPM) ci --no-audit --no-fund --loglevel=error; fi
	@touch $@

## python-deps: the Python `cryptography` package for the attestation
## verifier example, from Debian (python3-cryptography) when /usr/bin/python3
## lacks it; the tests run the example with every python3 that has it
python-deps:
	@if ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-cryptography >/dev/null; \
		else echo "python-deps: run as root, or: sudo apt-get install python3-cryptography"; exit 1; fi; \
	fi

## chromium: Debian's headless Chromium, for the test that lays the audit
## page out in a real browser; apt-get only when /usr/bin/chromium is missing
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium: run as root, or: sudo apt-get install chromium"; exit 1; fi; \
	fi

## vet: go vet
vet:
	$(GO) vet $(PKGS)

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(TOOLS)/staticcheck $@

$(ACTIONLINT):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@mv $(TOOLS)/actionlint $@

## actionlint: lint the workflows in .github/workflows, and through them the
## inputs they pass to the Action (uses: ./). Without shellcheck and pyflakes,
## so that every machine reports the same.
actionlint: $(ACTIONLINT)
	$(ACTIONLINT) -shellcheck= -pyflakes=

## fmt-check: fail when gofmt would change a file
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## tidy-check: fail when go mod tidy would change go.mod or go.sum
tidy-check:
	@cp go.mod $(TOOLS)/go.mod.orig 2>/dev/null || { mkdir -p $(TOOLS); cp go.mod $(TOOLS)/go.mod.orig; }
	@cp go.sum $(TOOLS)/go.sum.orig
	@$(GO) mod tidy
	@if ! cmp -s go.mod $(TOOLS)/go.mod.orig || ! cmp -s go.sum $(TOOLS)/go.sum.orig; then \
		echo "go mod tidy changes go.mod/go.sum; run it and commit"; \
		cp $(TOOLS)/go.mod.orig go.mod; cp $(TOOLS)/go.sum.orig go.sum; exit 1; fi

## lint: gofmt, go vet, staticcheck, go mod tidy and actionlint leave nothing to say
lint: fmt-check vet tidy-check actionlint $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

# The packages of PKGS: the repository root's packaging tests (Dockerfile,
# Makefile, Action) apart from the others. They have no code of their own
# for the race detector to watch, only builds and scripts to run, so they
# run without it.
MODULE        = $(shell $(GO) list -m)
TEST_PKGS     = $(shell $(GO) list $(PKGS))
RACE_PKGS     = $(filter-out $(MODULE),$(TEST_PKGS))
PACKAGING_PKG = $(filter $(MODULE),$(TEST_PKGS))
TEST_ENV      := PROMOBOT_REQUIRE_AZURITE=1 PROMOBOT_REQUIRE_PYTHON_CRYPTOGRAPHY=1 PROMOBOT_REQUIRE_CHROMIUM=1 \
	PROMOBOT_TEST_ARTIFACTS=$(CURDIR)/test-artifacts

## test: lint, then every test with the race detector (the packaging tests
## of the repository root without it, alongside), Azurite and Chromium
## required; screenshots and other artifacts are kept in test-artifacts/.
## -vet=off: lint has just run all of go vet, of which go test would repeat
## a part. GORACE's atexit_sleep_ms: a race test binary otherwise sleeps a
## second before it exits, once per package, whatever its tests found
test: npm-deps python-deps chromium lint
	@mkdir -p $(TOOLS); status=0; \
	$(if $(PACKAGING_PKG),$(TEST_ENV) $(GO) test -count=1 -vet=off $(PACKAGING_PKG) > $(TOOLS)/packaging-test.log 2>&1 & packaging=$$!;) \
	$(if $(RACE_PKGS),$(TEST_ENV) GORACE=atexit_sleep_ms=100 $(GO) test -race -count=1 -vet=off $(RACE_PKGS) || status=1;) \
	$(if $(PACKAGING_PKG),wait $$packaging || status=1; cat $(TOOLS)/packaging-test.log;) \
	exit $$status

## bench: the benchmarks named in the issues, among them the audit's cold and
## warm ratios to git log (internal/audit) and validate's peak live heap
## (internal/validate) and the scale-out run of three serve replicas under
## SIGKILL (internal/testing/scalebench); BENCH_LARGE=1 adds the 100,000-commit audit history
## (a minute to generate the first time, then cached under $TMPDIR);
## BENCH_COUNT=3 runs each benchmark three times
bench: npm-deps
	PROMOBOT_BENCH_LARGE=$(BENCH_LARGE) $(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 30m $(PKGS)

## bench-scale: only the scale-out benchmark (internal/testing/scalebench):
## three serve replicas, 1,000 deliveries, a kill every 10 seconds; minutes
bench-scale: npm-deps
	$(GO) test -run '^$$' -bench '^BenchmarkScaleOut$$' -count 1 -timeout 30m ./internal/testing/scalebench

$(COSIGN):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/sigstore/cosign/v2/cmd/cosign@$(COSIGN_VERSION)
	@mv $(TOOLS)/cosign $@

## interop: cosign (built once from the Go module proxy into .tools; slow)
## verifies a promotion attestation bundle with the public key alone. Not
## part of make test.
interop: $(COSIGN)
	PROMOBOT_COSIGN=$(COSIGN) $(GO) test -count=1 -run '^TestCosignVerifiesBundle$$' ./internal/attest

## fuzz: a short fuzzing pass over the parsers, the shared fast manifest
## reader among them (held to the YAML decoder behind repoconfig), and the
## audit's readers (held to repoconfig.LoadManifest) and the schema walk
## that spares the library valid documents (held to the library)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoadManifest$$' -fuzztime 20s ./internal/repoconfig
	$(GO) test -run '^$$' -fuzz '^FuzzLoadPolicy$$' -fuzztime 20s ./internal/repoconfig
	$(GO) test -run '^$$' -fuzz '^FuzzQuickManifest$$' -fuzztime 20s ./internal/yamldoc/quickyaml
	$(GO) test -run '^$$' -fuzz '^FuzzAccepts$$' -fuzztime 20s ./internal/schema
	$(GO) test -run '^$$' -fuzz '^FuzzReadManifest$$' -fuzztime 20s ./internal/audit

## demo: the whole story on loopback: Azurite, a GitHub emulator, the bot, promote, review, resolve, audit
demo: build npm-deps
	./$(BIN) validate
	$(GO) build -o bin/promobot-demo ./cmd/promobot-demo
	./bin/promobot-demo --promobot $(BIN) --out demo-output

clean:
	rm -rf bin $(DIST) test-artifacts
