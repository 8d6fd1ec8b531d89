# tests/fuzz/fuzz.mk -- libFuzzer targets (issue 8), built with clang into build/fuzz/:
#
#   make fuzz          every target FUZZ_SECONDS (300) seconds: make fuzz FUZZ_SECONDS=3600
#   make test-fuzz     every target FUZZ_QUICK (10) seconds; part of `make test`
#
# Targets (tests/fuzz/*.c, docs/HARDENING.md "Fuzzing"): fuzz_trace (trace_load, both
# formats, plain or gzip), fuzz_mtrace (import mtrace), fuzz_policy (operations on every
# lab policy, its check() after each), fuzz_hk (the hk_* API, hk_heap_check after each).
# Seeds: tests/fuzz/corpus/<target>/ (committed; a crash found becomes a file there);
# what a run learns goes to build/fuzz/corpus/<target>/. Include after src/src.mk and
# lab/lab.mk (it uses LIB_CORE_SRCS and LAB_SRCS). Without clang both targets say so and
# succeed.
.PHONY: fuzz test-fuzz fuzz-build

FUZZ_CC      := clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_QUICK   ?= 10
FUZZ_NAMES   := trace mtrace policy hk
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined
FUZZ_CFLAGS  := $(WARN) -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -Itests/fuzz
FUZZ_HEADERS := $(wildcard tests/fuzz/*.h tools/*.h lab/*.h src/*.h include/*.h)

FUZZ_TRACE_SRCS := tools/lines.c tools/trace.c tools/trace_hkt.c tools/trace_write.c tools/gzsink.c
$(FUZZ_DIR)/fuzz_trace: tests/fuzz/fuzz_trace.c $(FUZZ_TRACE_SRCS) $(FUZZ_HEADERS)
$(FUZZ_DIR)/fuzz_mtrace: tests/fuzz/fuzz_mtrace.c tools/import.c tools/addrtrace.c \
    $(FUZZ_TRACE_SRCS) $(FUZZ_HEADERS)
$(FUZZ_DIR)/fuzz_trace $(FUZZ_DIR)/fuzz_mtrace: FUZZ_INC := -Ilab -Itools
$(FUZZ_DIR)/fuzz_policy: tests/fuzz/fuzz_policy.c $(LAB_SRCS) $(FUZZ_HEADERS)
$(FUZZ_DIR)/fuzz_policy: FUZZ_INC := -Ilab
$(FUZZ_DIR)/fuzz_trace $(FUZZ_DIR)/fuzz_mtrace $(FUZZ_DIR)/fuzz_policy:
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) $(FUZZ_SAN) -pthread -o $@ $(filter %.c,$^) -ldeflate -lz -lm

# The library as the sanitize build has it (src/src.mk): UBSan and coverage but not ASan
# (it reads the links in free blocks), its blocks reported to ASan (HK_TRACK_ASAN).
FUZZ_LIB_OBJS := $(LIB_CORE_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
$(FUZZ_LIB_OBJS): $(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude -Isrc -DHK_TRACK_ASAN=1 $(LIB_CFLAGS) \
	    -fsanitize=fuzzer-no-link,undefined -c $< -o $@
$(FUZZ_DIR)/fuzz_hk: tests/fuzz/fuzz_hk.c $(FUZZ_LIB_OBJS) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude -Isrc $(FUZZ_SAN) -pthread -o $@ $(filter %.c %.o,$^)

fuzz-build: $(FUZZ_BINS)

FUZZ_HAVE_CC := command -v $(FUZZ_CC) >/dev/null 2>&1
FUZZ_NO_CC   := echo "$(FUZZ_CC) not installed: skipping the fuzzers (libFuzzer needs clang)"
fuzz:
	@if $(FUZZ_HAVE_CC); then $(MAKE) --no-print-directory fuzz-build && \
	    sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_NAMES); else $(FUZZ_NO_CC); fi
test-fuzz:
	@if $(FUZZ_HAVE_CC); then $(MAKE) --no-print-directory fuzz-build && \
	    sh tests/fuzz/run.sh $(FUZZ_QUICK) $(FUZZ_DIR) $(FUZZ_NAMES); else $(FUZZ_NO_CC); fi
