# Every target names go commands only; .ci/run calls `make test`, the README's test command.
GO ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test lint unit bench fuzz demo detection scoreboard eval

## test: everything CI checks — formatting, vet, staticcheck, tidy, race tests, allocation ceilings.
test: lint unit

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff

# unit runs the allocation ceilings a second time without the race detector, under
# which sync.Pool drops a share of what is put back and pooled paths allocate (the
# ceilings that depend on a pool skip there).
unit:
	$(GO) test -race -shuffle=on -timeout 20m ./...
	$(GO) test -count=1 -run 'Allocs' ./...

## bench: the hot-path benchmarks with allocations.
bench:
	$(GO) test -run '^$$' -bench 'Guard' -benchmem -count 5 .

## fuzz: a short run of every fuzz target (FUZZTIME per target, default 10s).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

demo:
	$(GO) run ./cmd/vigil demo

## detection: detection and false-positive rates on the OWASP CRS regression requests.
detection:
	$(GO) run ./bench/detection -data ../shared/data/requests.jsonl

## scoreboard: the performance report (docs/benchmarks.md): wrk rounds against bare
## net/http, the guard, vigil proxy, nginx, Coraza + CRS and httprate; benchstat.
scoreboard:
	cd bench/peers && $(GO) run ./scoreboard

## eval: the detection report (docs/detection.md): Vigil beside Coraza + CRS on ../shared/data.
eval:
	cd eval && $(GO) run .
