# latchkey — make targets. `make run` and `make test` are all a fresh machine needs.
GO       ?= go
SPEC     := openapi/latchkey.yaml
BIN      := bin/latchkey
SPECTRAL := .tools/node_modules/.bin/spectral
PG_DSN   ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: all build run test test-postgres bench generate check fmt-check vet lint tools tidy-check clean

all: build

build: ## build the server binary
	$(GO) build -o $(BIN) ./impl/cmd/latchkey

run: build ## serve on the embedded SQLite default (bootstraps an admin on first start)
	./$(BIN) serve

test: ## all tests on SQLite (PostgreSQL too when LATCHKEY_TEST_POSTGRES_DSN is set)
	$(GO) test -count=1 ./...

test-postgres: ## the whole suite against PostgreSQL as well
	LATCHKEY_TEST_POSTGRES_DSN='$(PG_DSN)' $(GO) test -count=1 ./...

bench: ## benchmarks, each reported against its baseline measured in the same run
	$(GO) test -run '^$$' -bench . -benchmem ./...

generate: ## regenerate gen/ from the contract
	$(GO) tool oapi-codegen -config oapi-codegen.yaml $(SPEC)

tools: $(SPECTRAL)

$(SPECTRAL): .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $(SPECTRAL)

lint: tools ## lint the contract with Spectral (spectral:oas), zero errors allowed
	$(SPECTRAL) lint -r .spectral.yaml --fail-severity=error $(SPEC)

fmt-check:
	@out=$$(gofmt -l impl tests gen); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tidy-check:
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum

check: generate fmt-check vet lint tidy-check ## what CI gates on: generated code in sync, formatted, vetted, linted, tidy
	git diff --exit-code gen/
	@test -z "$$(git status --porcelain gen/)" || (echo "gen/ has untracked or changed files"; git status --porcelain gen/; exit 1)

clean:
	rm -rf bin
