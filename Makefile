# Stagecast: `make run` starts a single-node server, `make test` runs the tests.
GO      ?= go
BIN     := bin/stagecast
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/stagecast/stagecast/internal/cli.Version=$(VERSION)

.PHONY: all build run test test-short lint bench fuzz e2e generate check-generated deps test-deps apt tools clean

all: build

## deps: install what the build and the server need: Go modules, and ffmpeg
## (transcoding, thumbnails, composition) from Debian when it is missing
deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required: https://go.dev/dl/"; exit 1; }
	$(GO) mod download
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || $(MAKE) --no-print-directory apt PKGS="ffmpeg"

## test-deps: what only the tests need: chromium and firefox-esr (stage page e2e in both browsers), versitygw (S3 recording tests)
test-deps: deps
	@command -v chromium >/dev/null || $(MAKE) --no-print-directory apt PKGS="chromium"
	@command -v firefox-esr >/dev/null || $(MAKE) --no-print-directory apt PKGS="firefox-esr"
	@if [ -x .ci/install-versitygw ]; then .ci/install-versitygw; fi

# apt installs Debian packages (we run as root on our machines; otherwise say what to do).
apt:
	@if [ "$$(id -u)" = 0 ]; then echo "installing $(PKGS) from Debian..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PKGS); \
	else echo "please install: $(PKGS) (e.g. sudo apt-get install $(PKGS))"; exit 1; fi

## build: compile bin/stagecast
build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/stagecast

## run: build and start a complete single-node server with embedded defaults (data in ./data)
run: build
	./$(BIN) serve $(ARGS)

## test: vet, check generated code, run every test with the race detector
test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -race -timeout 20m ./...

## test-short: quick run without the race detector
test-short: deps
	$(GO) test -count=1 ./...

## lint: golangci-lint when installed (config in .golangci.yml), else gofmt + vet
lint:
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; \
	else echo "golangci-lint not installed; running gofmt and go vet"; \
	  test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }; \
	  $(GO) vet ./...; fi

## bench: Go micro-benchmarks and the token API benchmark (figures go in docs/benchmarks.md)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	./$(BIN) bench tokens --duration 10s --baseline

## fuzz: run every fuzz target for FUZZTIME each (default 30s, about 20 min in all; .ci/fuzz);
## a failing input is saved under its package's testdata/fuzz, where make test replays it
FUZZTIME ?= 30s
fuzz: deps
	GO=$(GO) FUZZTIME=$(FUZZTIME) .ci/fuzz

## e2e: whole-binary tests (built binary + CLI against a live server)
e2e: build
	$(GO) test -count=1 ./test/e2e/...

## generate: regenerate API shapes from the AWS models
generate:
	$(GO) generate ./...

clean:
	rm -rf bin
