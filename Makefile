# joinhintd: `make test` is what CI runs (.ci/run) and what the README tells
# users to run. Nothing here needs more than Go.
GO       ?= go
BIN      ?= bin/joinhintd
FUZZTIME ?= 5s
# A short run explores; minimizing each new input (a minute by default) would
# spend the whole run on the first one. A crash is still written out whole.
FUZZMINIMIZETIME ?= 0

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

# Each fuzz target runs briefly on top of its committed seed corpus
# (testdata/fuzz/); go test -fuzz takes one target at a time.
FUZZ_TARGETS = \
	aliyun:FuzzParseAutoJoin aliyun:FuzzDecodePage \
	daemon:FuzzHandlerQuery daemon:FuzzLoadCache daemon:FuzzAppendJSONString daemon:FuzzAppendHCLString \
	logging:FuzzJournalOneLine

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) ./$$pkg/; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

demo:
	$(GO) run ./cmd/joinhintd demo

clean:
	rm -rf bin
