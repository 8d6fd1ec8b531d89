# tests/tests.mk -- every test program; `make test` runs them all through tests/run.sh.
POLICY_TESTS := pad list implicit dlist bins segfit buddy slab pagemeta vm gnu libc hkfit
LAB_TESTS := $(BUILD)/tests/test_mem $(BUILD)/tests/test_walk $(BUILD)/tests/test_bitbins \
             $(BUILD)/tests/test_policies \
             $(POLICY_TESTS:%=$(BUILD)/tests/test_%) $(BUILD)/tests/test_layout
$(BUILD)/tests/test_mem: $(BUILD)/obj/tests/unit/test_mem.o $(LAB_LIB)
$(BUILD)/tests/test_walk: $(BUILD)/obj/tests/unit/test_walk.o $(LAB_LIB)
$(BUILD)/tests/test_bitbins: $(BUILD)/obj/tests/unit/test_bitbins.o $(LAB_LIB)
# The layouts of `heapkit map`: tools/layout.c alone, on traces built in memory.
$(BUILD)/tests/test_layout: $(BUILD)/obj/tests/tools/test_layout.o $(BUILD)/obj/tools/layout.o \
    $(LAB_LIB)
include tests/tools/tools_tests.mk
# Focused per-policy tests: tests/policy/test_<x>.c builds as $(BUILD)/tests/test_<x>.
$(BUILD)/tests/test_policies $(POLICY_TESTS:%=$(BUILD)/tests/test_%): \
    $(BUILD)/tests/test_%: $(BUILD)/obj/tests/policy/test_%.o $(LAB_LIB)
$(LAB_TESTS):
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) -lm
$(BUILD)/obj/tests/%.o: CPPFLAGS += $(LAB_CPPFLAGS) -Itests
$(BUILD)/obj/tests/tools/%.o: CPPFLAGS += -Itools
include tests/tools/report.mk

tests: $(LAB_TESTS)
.PHONY: tests test-lab test-clang

# Every trace we have, replayed on every policy with full checking (check() every 50 ops,
# contents, overlap, alignment); the CS:APP traces only where ../shared/traces exists.
TEST_TRACES := $(wildcard ../shared/traces/*.rep) $(wildcard traces/*.rep)

# A broken allocator for test_peers.sh to preload into the player (no sanitizers: it is
# malloc; no builtins: its calls into glibc's malloc must stay calls).
BAD_PEER := $(BUILD)/tests/bad_peer.so
$(BUILD)/obj/tests/tools/bad_peer.o: CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS)) -fPIC -fno-builtin
$(BAD_PEER): $(BUILD)/obj/tests/tools/bad_peer.o
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -shared -o $@ $^
# The peers test plays on the release libheapkit: a sanitize build's needs ASan first.
PEERS_TEST_LIB := $(if $(filter sanitize,$(VARIANT)),HEAPKIT_LIBRARY=build/libheapkit.so)

# The lab and its tools, under whatever VARIANT this make runs with.
test-lab: $(LAB_TESTS) $(HEAPKIT) $(PLAYER) $(RECORDER) $(BUILD)/tests/record/rec_prog $(BAD_PEER)
	sh tests/run.sh $(LAB_TESTS) \
	    "sh tests/tools/test_cli.sh $(HEAPKIT)" \
	    "sh tests/tools/test_map.sh $(HEAPKIT)" \
	    "sh tests/tools/test_report.sh $(HEAPKIT)" \
	    "sh tests/tools/test_gen.sh $(HEAPKIT)" \
	    "sh tests/tools/test_hkt.sh $(HEAPKIT)" \
	    "sh tests/tools/test_hygiene.sh $(HEAPKIT)" \
	    "$(PEERS_TEST_LIB) sh tests/tools/test_peers.sh $(HEAPKIT) $(BUILD)/tests/record/rec_prog $(BAD_PEER)" \
	    "$(HEAPKIT) replay --policy all --check-every 50 --repeat 1 $(TEST_TRACES)"

# Warning-free under clang too (a separate build tree; compile and link only).
test-clang:
	@if command -v clang >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory CC=clang BUILD=build/clang all; \
	else echo "clang not installed: skipping the clang build"; fi

test: all
	$(MAKE) --no-print-directory test-lab
	$(MAKE) --no-print-directory VARIANT=sanitize test-lab
	$(MAKE) --no-print-directory test-record
	$(MAKE) --no-print-directory VARIANT=sanitize test-record
	$(MAKE) --no-print-directory test-lib
	$(MAKE) --no-print-directory test-robust
	sh tests/run.sh "sh tests/tools/test_install.sh"
	$(MAKE) --no-print-directory test-clang
	$(MAKE) --no-print-directory test-fuzz
include tests/record/record.mk
