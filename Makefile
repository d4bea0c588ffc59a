# lakekit: the two commands of the README, and Lambda packaging.
#
#   make tour   runs every seed system end to end on local backends
#   make test   installs what the tests need, then runs the whole suite

GO       ?= go
NODE_DIR := internal/awstest/node
NODE_OK  := $(NODE_DIR)/node_modules/.package-lock.json

# Build tags of the cgo and tool-dependent tests; `make test` runs them all.
TAGS := tesseract mediatools gstreamer

# Nested modules (peer harnesses, heavy dependencies kept out of go.mod;
# examples/kit-user is a user's module whose tests use the public test kit;
# examples/oms-copy/simplot draws s3sim's series with gonum/plot).
NESTED := examples/text-detection/browsertest examples/lake-etl/duckdb internal/deploycheck examples/kit-user examples/oms-copy/simplot

# What internal/deploycheck reads: the CloudFormation resource specification
# and the IAM service reference (npm, pinned by its package-lock.json).
DEPLOYCHECK_NODE    := internal/deploycheck/node
DEPLOYCHECK_NODE_OK := $(DEPLOYCHECK_NODE)/node_modules/.package-lock.json

.PHONY: tour test test-deps lambdas lint

# Linters, pinned; fetched through the Go module proxy, never in go.mod.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEADCODE    := golang.org/x/tools/cmd/deadcode@v0.52.0

tour: $(NODE_OK)
	$(GO) run ./examples/tour

test: test-deps
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) test -count=1 -timeout 15m -tags '$(TAGS)' ./...
	@for m in $(NESTED); do echo "cd $$m && go test ./..."; (cd $$m && $(GO) test -count=1 -timeout 10m ./...) || exit 1; done

# gofmt, vet, staticcheck, and deadcode (functions no main, test or example
# reaches; -test counts tests as roots) for the library with every build tag.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) run $(STATICCHECK) -tags '$(TAGS)' ./...
	@echo "$(GO) run $(DEADCODE) -test -tags '$(TAGS)' ./..."; out=$$($(GO) run $(DEADCODE) -test -tags '$(TAGS)' ./...); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

# npm emulators, pinned by the committed package-lock.json, and the Debian
# packages of the tagged tests.
test-deps: $(NODE_OK) $(DEPLOYCHECK_NODE_OK)
	./scripts/system-deps.sh

$(NODE_OK): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --prefix $(NODE_DIR)

$(DEPLOYCHECK_NODE_OK): $(DEPLOYCHECK_NODE)/package.json $(DEPLOYCHECK_NODE)/package-lock.json $(NODE_OK)
	npm ci --no-audit --no-fund --prefix $(DEPLOYCHECK_NODE)

# Every Lambda main under examples/*/lambda/<name>, built for provided.al2023
# (linux/arm64, -tags lambda.norpc, binary named bootstrap) and zipped.
lambdas:
	$(GO) run ./internal/cmd/lambdas -out dist/lambda
