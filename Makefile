# heapkit -- one non-recursive GNU Makefile. Each part lists its own files, by hand,
# in its fragment (lab/lab.mk, tools/tools.mk, tests/tests.mk, ...).
#
#   make                      release build into build/
#   make compare              the main job: every policy replays the bundled traces (table)
#   make test                 every test (release, the lab under ASan+UBSan, the library, clang)
#   make fuzz                 every libFuzzer target FUZZ_SECONDS (300) s each (clang)
#   make bench-lab            the policy comparison table (the lab's answer to the seeds)
#   make install PREFIX=...   installs the CLI (and the library)
#   make VARIANT=sanitize     ASan+UBSan build into build/sanitize/ (lab, tools, tests)
#   make CC=clang             any of the above with clang

CC      ?= cc
VARIANT ?= release
PREFIX  ?= /usr/local

ifeq ($(VARIANT),release)
  BUILD   := build
  OPT     := -O2 -g
else ifeq ($(VARIANT),sanitize)
  BUILD   := build/sanitize
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(VARIANT),debug)
  BUILD   := build/debug
  OPT     := -O0 -g -DHK_DEBUG=3 -DHK_OS_FAULTS=1
else ifeq ($(VARIANT),tsan)
  BUILD   := build/tsan
  OPT     := -O1 -g -fsanitize=thread
else
  $(error unknown VARIANT=$(VARIANT): use release, sanitize, debug or tsan)
endif

WARN := -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wcast-align -Wundef \
        -Wvla -Wwrite-strings -Wformat=2 -Wimplicit-fallthrough -Wdouble-promotion
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
CFLAGS   += $(WARN) $(OPT)
LDFLAGS  += $(filter -fsanitize=%,$(OPT))

.PHONY: all test bench-lab install clean compare
all:

include lab/lab.mk
include tools/tools.mk
include tests/tests.mk
include src/src.mk
include tests/robust/robust.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk
include bench/progs/progs.mk

# The main job: the policy comparison over the traces we ship, plus the CS:APP traces
# when ../shared/traces is beside the checkout.
compare: all
	$(HEAPKIT) replay --policy all $(wildcard traces/*.rep) $(wildcard ../shared/traces/*.rep)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
