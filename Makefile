# joinhintd: `make test` is what CI runs (.ci/run) and what the README tells
# users to run. Nothing here needs more than Go.
GO       ?= go
BIN      ?= bin/joinhintd
FUZZTIME ?= 10s

.PHONY: build test vet fmt-check race fuzz bench demo clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/joinhintd

test: fmt-check vet race fuzz

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 ./...

# Each fuzz target runs briefly on top of its committed seed corpus.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseAutoJoin$$' -fuzztime=$(FUZZTIME) ./aliyun/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

demo:
	$(GO) run ./cmd/joinhintd demo

clean:
	rm -rf bin
