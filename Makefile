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
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)

export PROMOBOT_REPO_ROOT := $(CURDIR)

.PHONY: all build test vet lint tidy-check fmt-check bench demo fuzz clean npm-deps

all: build

## build: a reproducible static binary in bin/promobot
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/promobot

## npm-deps: Azurite and the @octokit payload/schema corpora from package-lock.json
npm-deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

## vet: go vet
vet:
	$(GO) vet $(PKGS)

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(TOOLS)/staticcheck $@

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

## lint: gofmt, go vet, staticcheck and go mod tidy leave nothing to say
lint: fmt-check vet tidy-check $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

## test: lint, then every test with the race detector, Azurite required
test: npm-deps lint
	PROMOBOT_REQUIRE_AZURITE=1 $(GO) test -race -count=1 $(PKGS)

## bench: the benchmarks named in the issues, among them the audit's cold and
## warm ratios to git log (internal/audit) and validate's peak live heap
## (internal/validate); BENCH_LARGE=1 adds the 100,000-commit audit history
## (a minute to generate the first time, then cached under $TMPDIR)
bench: npm-deps
	PROMOBOT_BENCH_LARGE=$(BENCH_LARGE) $(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: a short fuzzing pass over the parsers
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 20s ./internal/manifest

## demo: the whole story on loopback: Azurite, a GitHub emulator, the bot, promote, review, resolve, audit
demo: build npm-deps
	./$(BIN) validate
	$(GO) build -o bin/promobot-demo ./cmd/promobot-demo
	./bin/promobot-demo --promobot $(BIN) --out demo-output

clean:
	rm -rf bin
