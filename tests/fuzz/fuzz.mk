# libFuzzer targets (tests/fuzz/README.md). Included from the top Makefile,
# which defines SHELL (bash), CLANG and CORE_SRC.
#   make fuzz-build   build build/fuzz/<target> for every target
#   make fuzz-quick   FUZZ_QUICK_SECONDS each on a copy of the seed corpus,
#                     plus the regression inputs; fails on any crash
#   make fuzz         FUZZ_SECONDS each; new inputs go to build/fuzz/new/<target>
FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_QUICK_SECONDS ?= 10
FUZZ_SECONDS ?= 300
FUZZ_TIMEOUT ?= 20
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -Werror -Ivendor/mongoose -Itests/c
# The server and client targets run with small limits so that 413/431 and buffer growth
# are reachable with inputs of a few KB.
FUZZ_DEFS_http_server := -DMG_HTTP_MAX_HEAD=512 -DMG_MAX_RECV_SIZE=2048 \
  -DMG_IO_SIZE=64 -DMG_MAX_HTTP_HEADERS=8
FUZZ_DEFS_http_client := $(FUZZ_DEFS_http_server)
FUZZ_DICT_http_parse := tests/fuzz/http.dict
FUZZ_DICT_http_server := tests/fuzz/http.dict
FUZZ_DICT_http_client := tests/fuzz/http.dict
FUZZ_DICT_http_vars := tests/fuzz/vars.dict
FUZZ_DICT_url := tests/fuzz/url.dict
FUZZ_DICT_json := tests/fuzz/json.dict
FUZZ_DICT_rpc := tests/fuzz/json.dict
FUZZ_BINS := $(patsubst %,build/fuzz/%,$(FUZZ_TARGETS))

.PHONY: fuzz-build fuzz-quick fuzz

$(FUZZ_BINS): build/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
    tests/c/fake_driver.c tests/c/fake_driver.h $(CORE_SRC) $(FS_POSIX) vendor/mongoose/mongoose.h
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_DEFS_$*) -o $@ $< tests/c/fake_driver.c $(CORE_SRC) $(FS_POSIX)

fuzz-build: $(FUZZ_BINS) ## build the libFuzzer targets (clang-14)

# $(call fuzz_run,target,seconds,corpus dirs): runs one target, prints its
# summary line, and sets fail=1 on a crash. The log is build/fuzz/log/<t>.log.
define fuzz_run
t=$(1); log=build/fuzz/log/$$t.log; \
dict=$(FUZZ_DICT_$(1)); \
./build/fuzz/$$t -max_total_time=$(2) -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 \
  -artifact_prefix=build/fuzz/artifacts/$$t- $${dict:+-dict=$$dict} $(3) >$$log 2>&1; rc=$$?; \
runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
crashes=$$(( rc == 0 ? 0 : 1 )); \
echo "fuzz $$t: $${runs:-?} runs, $$crashes crashes"; \
if [ $$rc -ne 0 ]; then fail=1; grep -E '^(==[0-9]+==|SUMMARY|FUZZ_CHECK|.*runtime error|artifact_prefix|Test unit written)' $$log | head -n 20; echo "(full log: $$log)"; fi;
endef

# $(call fuzz_regress,target): runs each committed regression input once
define fuzz_regress
t=$(1); set -- tests/fuzz/regressions/$$t/*; \
if [ -e "$$1" ]; then \
  if ./build/fuzz/$$t -timeout=$(FUZZ_TIMEOUT) "$$@" >build/fuzz/log/$$t.regress.log 2>&1; then \
    echo "fuzz $$t regressions: $$# inputs, 0 crashes"; \
  else \
    fail=1; echo "fuzz $$t regressions: FAILED (log: build/fuzz/log/$$t.regress.log)"; \
    grep -E '^(==[0-9]+==|SUMMARY|FUZZ_CHECK|.*runtime error|Running:)' build/fuzz/log/$$t.regress.log | head -n 20; \
  fi; \
fi;
endef

fuzz-quick: fuzz-build ## run each fuzz target for FUZZ_QUICK_SECONDS (default 10) on a copy of its corpus
	@mkdir -p build/fuzz/log build/fuzz/artifacts; fail=0; \
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_regress,$(t))) \
	$(foreach t,$(FUZZ_TARGETS), \
	  rm -rf build/fuzz/corpus/$(t); mkdir -p build/fuzz/corpus/$(t); \
	  cp tests/fuzz/corpus/$(t)/* build/fuzz/corpus/$(t)/; \
	  $(call fuzz_run,$(t),$(FUZZ_QUICK_SECONDS),build/fuzz/corpus/$(t))) \
	exit $$fail

fuzz: fuzz-build ## run each fuzz target for FUZZ_SECONDS (default 300); new inputs in build/fuzz/new/
	@mkdir -p build/fuzz/log build/fuzz/artifacts; fail=0; \
	$(foreach t,$(FUZZ_TARGETS), \
	  mkdir -p build/fuzz/new/$(t); \
	  $(call fuzz_run,$(t),$(FUZZ_SECONDS),build/fuzz/new/$(t) tests/fuzz/corpus/$(t))) \
	exit $$fail
