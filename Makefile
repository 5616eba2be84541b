# wasmgoose — build, test, run, bench. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DENO    := node_modules/@deno/linux-x64-glibc/deno
TSC     := node_modules/.bin/tsc
WASMOPT := node_modules/.bin/wasm-opt
CLANG   := clang-14
# Every module of the core except the native socket driver; every wasm/*.c is
# part of the WebAssembly build (driver.c plus one file of exports per protocol).
CORE_SRC := $(sort $(filter-out %_posix.c,$(wildcard vendor/mongoose/src/*.c)))
# Native builds add the POSIX filesystem (mg_fs_posix); WebAssembly has wasm/fs.c
FS_POSIX := vendor/mongoose/src/fs_posix.c
WASM_SRC := $(sort $(wildcard wasm/*.c))
HDR     := vendor/mongoose/mongoose.h $(wildcard vendor/mongoose/src/*.h)  # + private headers
CWARN   := -Wall -Wextra -Werror
SAN     := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all
APT_PKGS := clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev wrk curl chromium \
  mosquitto mosquitto-clients nginx chrony

.PHONY: bench-api help setup deps apt run test test-c test-wasm test-deno test-node test-native test-cli lint wasm bench bench-full bench-mqtt setup-bench native addon dist clean
.PHONY: test-jsr test-pack test-bun

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t16

# ---- setup: everything a fresh machine needs -------------------------------------
# (npm install, not npm ci: npm 11 leaves the other platforms' optional Deno
# packages out of the lock file, and npm ci then refuses it)
setup: apt deps dist ## install Debian packages and npm dependencies, build dist/

apt: ## install the Debian packages we build and test with (when missing)
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

deps: node_modules/.installed ## npm dependencies (Deno, TypeScript, binaryen)
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@test -x $(DENO) || { echo "Deno binary missing at $(DENO)"; exit 1; }
	@touch $@

# ---- the main job --------------------------------------------------------------
run: deps ## serve the hello JSON on http://0.0.0.0:8000 (Deno)
	$(DENO) run -A mod.ts

# ---- WebAssembly ------------------------------------------------------------------
# Linked without -O so clang never runs whatever wasm-opt is on PATH; npm's
# binaryen optimises. The output is committed and must be reproducible.
WASM_CFLAGS := --target=wasm32-wasi -mexec-model=reactor -O3 -mbulk-memory $(CWARN) \
  -Ivendor/mongoose -DMG_MAX_RECV_SIZE=3145728UL -fno-exceptions \
  -ffile-prefix-map=$(CURDIR)/=
build/wasm/mongoose.wasm: $(CORE_SRC) $(WASM_SRC) $(HDR) | deps
	@mkdir -p build/wasm
	$(CLANG) $(WASM_CFLAGS) -Wl,--strip-all \
	  -o build/wasm/raw.wasm $(CORE_SRC) $(WASM_SRC)
	$(WASMOPT) -O3 --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	  --enable-nontrapping-float-to-int build/wasm/raw.wasm -o $@
build/wasm/embed.ts: build/wasm/mongoose.wasm wasm/embed.mjs
	node wasm/embed.mjs $< $@

wasm: apt build/wasm/embed.ts ## build wasm/mongoose.wasm and wasm/embed.ts
	cp build/wasm/mongoose.wasm wasm/mongoose.wasm
	cp build/wasm/embed.ts wasm/embed.ts
	@ls -l wasm/mongoose.wasm

test-wasm: apt build/wasm/embed.ts ## the committed .wasm is what the sources build
	cmp build/wasm/mongoose.wasm wasm/mongoose.wasm
	cmp build/wasm/embed.ts wasm/embed.ts
	@echo "wasm byte-check: ok ($$(stat -c %s wasm/mongoose.wasm) bytes)"

# ---- native: unit tests under sanitizers, hello server ----------------------------
build/native/test_%: tests/c/test_%.c tests/c/fake_driver.c tests/c/fake_driver.h tests/c/check.h $(CORE_SRC) $(FS_POSIX) $(HDR)
	@mkdir -p build/native
	gcc $(SAN) $(CWARN) -Ivendor/mongoose -Itests/c -o $@ $< tests/c/fake_driver.c $(CORE_SRC) $(FS_POSIX)
build/native/clang_%: tests/c/test_%.c tests/c/fake_driver.c tests/c/fake_driver.h tests/c/check.h $(CORE_SRC) $(FS_POSIX) $(HDR)
	@mkdir -p build/native
	$(CLANG) $(SAN) $(CWARN) -Ivendor/mongoose -Itests/c -o $@ $< tests/c/fake_driver.c $(CORE_SRC) $(FS_POSIX)
bench/native/hello: bench/native/hello.c vendor/mongoose/src/sock_posix.c $(FS_POSIX) $(CORE_SRC) $(HDR)
	gcc -O2 $(CWARN) -Ivendor/mongoose -o $@ $< vendor/mongoose/src/sock_posix.c $(FS_POSIX) $(CORE_SRC)
build/native/hello_san: bench/native/hello.c vendor/mongoose/src/sock_posix.c $(FS_POSIX) $(CORE_SRC) $(HDR)
	@mkdir -p build/native
	$(CLANG) $(SAN) $(CWARN) -Ivendor/mongoose -o $@ $< vendor/mongoose/src/sock_posix.c $(FS_POSIX) $(CORE_SRC)

native: bench/native/hello ## build the native C hello server

# The Node-API addon (native/addon): the core with the epoll driver, for the native
# backend of src/native.ts. Headers come from Debian's nodejs package (/usr/include/node).
ADDON := native/addon/build/Release/wasmgoose_native.node
$(ADDON): native/addon/addon.cc native/addon/binding.gyp vendor/mongoose/src/sock_posix.c $(CORE_SRC) $(HDR) | deps
	node_modules/.bin/node-gyp rebuild --nodedir=$(NODEDIR) -C native/addon --loglevel=warn
NODEDIR ?= $(if $(wildcard /usr/include/node/node_api.h),/usr,$(dir $(shell dirname $$(which node))))
addon: $(ADDON) ## build the Node-API addon (native backend, the benchmarks' native baseline)

C_TESTS := $(sort $(patsubst tests/c/test_%.c,%,$(wildcard tests/c/test_*.c)))
test-c: apt $(patsubst %,build/native/test_%,$(C_TESTS)) $(patsubst %,build/native/clang_%,$(C_TESTS)) ## C unit tests (gcc and clang, ASan+UBSan)
	@for t in $(C_TESTS); do for cc in test clang; do \
	  echo "== $$cc $$t"; ./build/native/$${cc}_$$t || exit 1; done; done

test-native: apt build/native/hello_san ## the epoll driver under sanitizers, against curl
	bash tests/server_test.sh native build/native/hello_san %PORT%

test-cli: deps dist ## the CLI (Deno with only net permission, node, npx) against curl
	bash tests/server_test.sh deno $(DENO) run --allow-net=127.0.0.1 --no-prompt mod.ts --listen http://127.0.0.1:%PORT%
	bash tests/server_test.sh node node dist/src/bin.js --listen http://127.0.0.1:%PORT%
	EXIT_CHECK=0 bash tests/server_test.sh npx npx --no-install wasmgoose --listen http://127.0.0.1:%PORT%

# ---- TypeScript ------------------------------------------------------------------
lint: deps ## deno lint, fmt --check, type check
	$(DENO) lint
	$(DENO) fmt --check
	$(DENO) check mod.ts
	$(DENO) doc --lint mod.ts  # JSR: every exported symbol documented, explicit types

dist: deps ## compile the TypeScript for Node into dist/ (and tests into dist-test/)
	$(TSC) -p tsconfig.json
	rm -rf dist-test  # no compiled tests whose sources are gone
	$(TSC) -p tsconfig.test.json
	chmod +x dist/src/bin.js  # the package's bin (npx wasmgoose); tsc writes 0644

test-deno: deps ## TypeScript tests on Deno
	$(DENO) test -A tests/

test-node: dist ## TypeScript tests on Node
	node --test --test-concurrency=1 dist-test/tests/

# ---- packages: JSR, npm, Bun (issue 9) ------------------------------------------------
BUN := node_modules/@oven/bun-linux-x64/bin/bun
test-jsr: deps ## deno publish --dry-run; the published files alone serve with --allow-net only
	bash tests/jsr_test.sh

test-pack: dist ## npm pack: contents, offline install into an empty project, serves on Node and Bun
	bash tests/pack_test.sh

test-bun: deps ## TypeScript tests on Bun (bun test runs the node:test files), file by file
	BUN=$(BUN) bash tests/bun_test.sh

include tests/fuzz/fuzz.mk

test: setup addon test-wasm test-c test-native fuzz-quick lint test-deno test-node test-cli test-jsr test-pack test-bun ## everything CI runs
	@echo "make test: all green"

.PHONY: soak
soak: deps dist ## long soak: 2M keep-alive requests + 200k connections, Deno and Node (tests/RELIABILITY.md)
	ulimit -n 65536 2>/dev/null || true; $(DENO) run -A --v8-flags=--expose-gc tests/soak.ts
	ulimit -n 65536 2>/dev/null || true; node --expose-gc dist-test/tests/soak.js

# ---- benchmarks --------------------------------------------------------------------
# The Python competitors (cymongoose, aiohttp, FastAPI/uvicorn, Flask) live in a venv
# under build/; wrk and nginx come from Debian (APT_PKGS); Bun from npm.
VENV := build/venv
$(VENV)/.installed: bench/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	@touch $@
setup-bench: apt deps $(VENV)/.installed ## install what the benchmarks need (wrk, nginx, Python competitors)

# bombardier, only for TOOL=bombardier: `go install` into build/bin
build/bin/bombardier:
	GOBIN=$(CURDIR)/build/bin go install github.com/codesenberg/bombardier@latest

BENCH_DEPS := setup setup-bench native addon dist $(if $(filter bombardier,$(TOOL)),build/bin/bombardier)
bench: $(BENCH_DEPS) ## quick benchmark (~5 min): hello, JSON, WebSocket echo, footprint; writes bench/RESULTS.md + charts
	node bench/run.mjs
	$(DENO) fmt -q bench/RESULTS.md bench/charts

bench-full: $(BENCH_DEPS) ## every workload and every server (about an hour), then MQTT brokers
	node bench/run.mjs WORKLOADS=full
	$(DENO) fmt -q bench/RESULTS.md bench/charts
	$(MAKE) bench-mqtt

# 11 rounds: near parity, a server's req/s moves by up to ~20% between 2-s runs here
# (the machine's system time per request switches between ~5.5 and ~7.5 us), and
# 5 rounds left the median to chance (docs/performance.md, fifth session)
API_ROUNDS ?= 11
bench-api: $(BENCH_DEPS) ## the routers and serve() on Deno and Node vs Hono, Fastify, Deno.serve, node:http: hello + 14 API workloads, 11 rounds (~55 min; API_ROUNDS=n) -> bench/API_RESULTS.md
	node bench/run.mjs WORKLOADS=api ROUNDS=$(API_ROUNDS) DURATION=2s WARMUP_ROUNDS=first IDLE_CONNS=0 OUT=bench/API_RESULTS.md CHARTS=bench/charts-api
	$(DENO) fmt -q bench/API_RESULTS.md bench/charts-api

bench-mqtt: dist ## MQTT publish throughput: our broker (Deno, Node) vs aedes and mosquitto -> bench/MQTT_RESULTS.md
	set -o pipefail; node bench/mqtt_bench.mjs --runs 3 | node bench/mqtt_report.mjs

clean: ## remove build outputs
	rm -rf build dist dist-test bench/native/hello native/addon/build
