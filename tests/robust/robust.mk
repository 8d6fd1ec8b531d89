# tests/robust/robust.mk -- robustness tests of libheapkit (issue 3's promises):
# fork, start-up (constructors, dlsym interposer), out of memory, thread exit/adoption,
# frees staying local when threads hand tables over (handoff), a new thread continuing
# the heap of the thread that exited before it (heir), memory bounded when
# threads each leave a block behind (leftover), huge blocks moved by
# mremap while segments come and go (remap), buffers realloc grew reused without
# faulting their pages in again (regrow), spans other threads freed going back to
# their owner (spans),
# purge/trim, statistics and mallinfo2, C++, no system malloc/stdio inside, and
# hk_heap_check seeing a corrupted abandoned list, registry or huge cache (corrupt).
#
#   make test-robust     builds into $(BUILD)/tests/robust/ and runs everything (~20 s)
#
# Include it after src/src.mk (it uses LIB_A and LIB_SO in prerequisites). Each run is
# bounded by `timeout 60` and the programs' own alarm() (a deadlock is a failure).
# Most programs are built twice from one source: *_static linked with libheapkit.a
# (-DRB_STATIC; the standard names come from the archive) and *_dyn, run with
# LD_PRELOAD=libheapkit.so. Meant for the release variant (sanitizers bring their own
# malloc).
.PHONY: test-robust

RB_DIR    := $(BUILD)/tests/robust
RB_SO     := $(abspath $(LIB_SO))
RB_CFLAGS := $(CPPFLAGS) -Iinclude -Itests $(CFLAGS) -pthread -fno-builtin
RB_STATIC := -Wl,--whole-archive $(LIB_A) -Wl,--no-whole-archive
RB_PROGS  := fork oom adopt handoff heir leftover purge stats remap regrow spans
RB_BINS   := $(RB_PROGS:%=$(RB_DIR)/%_static) $(RB_PROGS:%=$(RB_DIR)/%_dyn) \
             $(RB_DIR)/librbctor.so $(RB_DIR)/librbinterpose.so $(RB_DIR)/librbinterpose_min.so \
             $(RB_DIR)/startup_static $(RB_DIR)/startup_dyn $(RB_DIR)/startup_interpose \
             $(RB_DIR)/startup_interpose_min $(RB_DIR)/cxx $(RB_DIR)/cxx_static \
             $(RB_DIR)/corrupt_static

$(RB_PROGS:%=$(RB_DIR)/%_static): $(RB_DIR)/%_static: tests/robust/%.c tests/robust/robust.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -DRB_STATIC $< $(LDFLAGS) $(RB_STATIC) -o $@ -ldl
$(RB_PROGS:%=$(RB_DIR)/%_dyn): $(RB_DIR)/%_dyn: tests/robust/%.c tests/robust/robust.h include/heapkit.h
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) $< $(LDFLAGS) -o $@ -ldl

# corrupt: static only, it reaches into the library's internal headers
$(RB_DIR)/corrupt_static: tests/robust/corrupt.c tests/robust/robust.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -Isrc -DRB_STATIC $< $(LDFLAGS) $(RB_STATIC) -o $@ -ldl

# start-up: a library with an allocating constructor, linked into the program; two
# interposers preloaded before libheapkit
$(RB_DIR)/librbctor.so: tests/robust/startup_lib.c
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -fPIC -shared $< $(LDFLAGS) -o $@
$(RB_DIR)/librbinterpose.so: tests/robust/interpose.c
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -fPIC -shared $< $(LDFLAGS) -o $@ -ldl
$(RB_DIR)/librbinterpose_min.so: tests/robust/interpose.c
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -DRB_MINIMAL -fPIC -shared $< $(LDFLAGS) -o $@ -ldl
RB_WITH_CTOR := -L$(RB_DIR) -Wl,-rpath,'$$ORIGIN' -lrbctor
$(RB_DIR)/startup_static: tests/robust/startup.c tests/robust/robust.h $(RB_DIR)/librbctor.so $(LIB_A)
	$(CC) $(RB_CFLAGS) -DRB_STATIC $< $(LDFLAGS) $(RB_STATIC) $(RB_WITH_CTOR) -o $@ -ldl
$(RB_DIR)/startup_dyn: tests/robust/startup.c tests/robust/robust.h $(RB_DIR)/librbctor.so
	$(CC) $(RB_CFLAGS) $< $(LDFLAGS) $(RB_WITH_CTOR) -o $@ -ldl
$(RB_DIR)/startup_interpose: tests/robust/startup.c tests/robust/robust.h $(RB_DIR)/librbctor.so
	$(CC) $(RB_CFLAGS) -DRB_INTERPOSE $< $(LDFLAGS) $(RB_WITH_CTOR) -o $@ -ldl
$(RB_DIR)/startup_interpose_min: tests/robust/startup.c tests/robust/robust.h
	@mkdir -p $(dir $@)
	$(CC) $(RB_CFLAGS) -DRB_INTERPOSE -DRB_NO_LIB $< $(LDFLAGS) -o $@ -ldl

# C++ (the static one with -rdynamic, so that it can look up hk_is_owned)
RB_CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -pthread
# The C++ test needs g++, which a machine with only gcc lacks: install it when missing.
$(RB_DIR)/.deps-cxx:
	@mkdir -p $(dir $@)
	sh scripts/deps.sh g++
	@touch $@
$(RB_DIR)/cxx $(RB_DIR)/cxx_static: | $(RB_DIR)/.deps-cxx
$(RB_DIR)/cxx: tests/robust/cxx.cc
	@mkdir -p $(dir $@)
	$(CXX) $(RB_CXXFLAGS) $< $(LDFLAGS) -o $@ -ldl
$(RB_DIR)/cxx_static: tests/robust/cxx.cc $(LIB_A)
	@mkdir -p $(dir $@)
	$(CXX) $(RB_CXXFLAGS) -rdynamic $< $(LDFLAGS) $(RB_STATIC) -o $@ -ldl

RB_T   := timeout 60
RB_PRE := $(RB_T) env LD_PRELOAD=$(RB_SO)
test-robust: lib $(RB_BINS)
	sh tests/run.sh \
	    "$(RB_T) $(RB_DIR)/fork_static" \
	    "$(RB_PRE) $(RB_DIR)/fork_dyn" \
	    "$(RB_T) $(RB_DIR)/startup_static" \
	    "$(RB_PRE) $(RB_DIR)/startup_dyn" \
	    "$(RB_T) env LD_PRELOAD='$(abspath $(RB_DIR))/librbinterpose.so $(RB_SO)' $(RB_DIR)/startup_interpose" \
	    "$(RB_T) env LD_PRELOAD='$(abspath $(RB_DIR))/librbinterpose_min.so $(RB_SO)' $(RB_DIR)/startup_interpose_min" \
	    "$(RB_T) $(RB_DIR)/oom_static" \
	    "$(RB_PRE) $(RB_DIR)/oom_dyn" \
	    "$(RB_T) $(RB_DIR)/adopt_static" \
	    "$(RB_PRE) $(RB_DIR)/adopt_dyn" \
	    "$(RB_T) $(RB_DIR)/handoff_static" \
	    "$(RB_PRE) $(RB_DIR)/handoff_dyn" \
	    "$(RB_T) $(RB_DIR)/heir_static malloc" \
	    "$(RB_PRE) $(RB_DIR)/heir_dyn malloc" \
	    "$(RB_T) $(RB_DIR)/heir_static free" \
	    "$(RB_PRE) $(RB_DIR)/heir_dyn free" \
	    "$(RB_T) $(RB_DIR)/leftover_static" \
	    "$(RB_PRE) $(RB_DIR)/leftover_dyn" \
	    "HEAPKIT_PURGE_DELAY=0 HEAPKIT_HUGE_CACHE=0 $(RB_T) $(RB_DIR)/remap_static" \
	    "HEAPKIT_PURGE_DELAY=0 HEAPKIT_HUGE_CACHE=0 $(RB_PRE) $(RB_DIR)/remap_dyn" \
	    "HEAPKIT_PURGE_DELAY=600000 $(RB_T) $(RB_DIR)/regrow_static" \
	    "HEAPKIT_PURGE_DELAY=600000 $(RB_PRE) $(RB_DIR)/regrow_dyn" \
	    "$(RB_T) $(RB_DIR)/spans_static" \
	    "$(RB_PRE) $(RB_DIR)/spans_dyn" \
	    "HEAPKIT_PURGE_DELAY=0 $(RB_T) $(RB_DIR)/purge_static zero" \
	    "$(RB_T) $(RB_DIR)/purge_static trim" \
	    "HEAPKIT_PURGE_DELAY=200 $(RB_T) $(RB_DIR)/purge_static delay" \
	    "HEAPKIT_PURGE_DELAY=-1 $(RB_T) $(RB_DIR)/purge_static never" \
	    "$(RB_T) $(RB_DIR)/purge_static thread" \
	    "HEAPKIT_PURGE_DELAY=0 $(RB_PRE) $(RB_DIR)/purge_dyn zero" \
	    "$(RB_PRE) $(RB_DIR)/purge_dyn trim" \
	    "sh tests/robust/stats.sh '$(RB_T) $(RB_DIR)/stats_static'" \
	    "sh tests/robust/stats.sh '$(RB_PRE) $(RB_DIR)/stats_dyn'" \
	    "sh tests/robust/cxx.sh $(RB_DIR)/cxx $(RB_DIR)/cxx_static $(RB_SO)" \
	    "sh tests/robust/symbols.sh $(LIB_SO) $(LIB_A)" \
	    "HEAPKIT_PURGE_DELAY=600000 $(RB_T) $(RB_DIR)/corrupt_static"
