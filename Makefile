# promobot build, test and demo. Everything a test needs is installed here:
# Go modules through the module proxy, Azurite and the GitHub payload corpora
# through npm (pinned in package-lock.json).

GO        ?= go
NPM       ?= npm
PKGS      ?= ./...
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X main.version=$(VERSION)
BIN       := bin/promobot

export PROMOBOT_REPO_ROOT := $(CURDIR)

.PHONY: all build test vet lint bench demo fuzz clean npm-deps

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

## test: vet and every test, with the race detector, Azurite required
test: npm-deps vet
	PROMOBOT_REQUIRE_AZURITE=1 $(GO) test -race -count=1 $(PKGS)

## bench: the benchmarks named in the issues
bench: npm-deps
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: a short fuzzing pass over the parsers
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 20s ./internal/manifest

## demo: validate the sample repository
demo: build
	./$(BIN) validate

clean:
	rm -rf bin
