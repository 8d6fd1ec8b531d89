# src/src.mk -- libheapkit (issue 3). Defines `lib` (part of `all`), `test-lib` and
# `install-lib` (part of `install`).
#
#   build/libheapkit.so, build/libheapkit.a   the library (with the malloc overrides)
#   make test-lib                             API, stress (+TSan, +ASan/UBSan), fail and
#                                             LD_PRELOAD tests, the layers of the
#                                             include graph (tests/layers.sh)
#   make options-doc                          regenerates the table of docs/OPTIONS.md
.PHONY: lib test-lib install-lib test-lib-tsan test-lib-sanitize test-lib-debug options-doc

LIB_CORE_SRCS := src/size_class.c src/page.c src/segment.c src/ownership.c src/heap.c src/alloc.c src/free.c \
                 src/aligned.c src/realloc.c src/huge.c src/options.c src/output.c src/account.c src/stats.c \
                 src/heapcheck.c src/os/posix.c
LIB_CORE_OBJS := $(LIB_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
# The libraries' own copies of the files with the hot entry points, built with
# HK_OVERRIDE_ALIASES=1 (config.h): malloc, calloc, free and realloc are aliases there.
# The tests link LIB_CORE_OBJS, which must not define them.
LIB_ALIAS_SRCS := src/alloc.c src/free.c src/realloc.c src/override.c
LIB_ALIAS_OBJS := $(LIB_ALIAS_SRCS:%.c=$(BUILD)/obj-alias/%.o)
LIB_OBJS      := $(filter-out $(LIB_ALIAS_SRCS:%.c=$(BUILD)/obj/%.o),$(LIB_CORE_OBJS)) \
                 $(LIB_ALIAS_OBJS)
-include $(LIB_ALIAS_OBJS:.o=.d)
$(BUILD)/obj-alias/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DHK_OVERRIDE_ALIASES=1 $(CFLAGS) -c $< -o $@
LIB_SO        := $(BUILD)/libheapkit.so
LIB_A         := $(BUILD)/libheapkit.a
LIB_CFLAGS    := -fPIC -fvisibility=hidden -ftls-model=initial-exec -pthread \
                 -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free

# (every object built from src/, whether the libraries or the tests link it)
LIB_ALL_OBJS  := $(LIB_CORE_OBJS) $(LIB_ALIAS_OBJS)
$(LIB_ALL_OBJS): CPPFLAGS += -Iinclude -Isrc
$(LIB_ALL_OBJS): CFLAGS += $(LIB_CFLAGS)
ifeq ($(VARIANT),sanitize)
# The library reads the links inside free blocks, which track.h poisons for ASan: it is
# built with UBSan only and calls ASan's runtime to mark its blocks live or free.
$(LIB_ALL_OBJS): CFLAGS := $(filter-out -fsanitize=address%,$(CFLAGS)) -fsanitize=undefined
$(LIB_ALL_OBJS): CPPFLAGS += -DHK_TRACK_ASAN=1
endif

$(LIB_SO): $(LIB_OBJS)
	$(CC) $(LDFLAGS) -shared -pthread -Wl,-soname,libheapkit.so -Wl,-Bsymbolic-functions -o $@ $^
$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

lib: $(LIB_SO) $(LIB_A)
all: lib

# ---- libheapkit-secure.so: the same sources with -DHK_SECURE=1, plus src/secure.c (the
# canary, fill and quarantine; docs/HARDENING.md), objects in $(BUILD)/obj-secure ----
SEC_OBJDIR        := $(BUILD)/obj-secure
LIB_SEC_CORE_OBJS := $(LIB_CORE_SRCS:%.c=$(SEC_OBJDIR)/%.o) $(SEC_OBJDIR)/src/secure.o
LIB_SEC_ALIAS_OBJS := $(LIB_ALIAS_SRCS:%.c=$(SEC_OBJDIR)-alias/%.o)
LIB_SEC_OBJS      := $(filter-out $(LIB_ALIAS_SRCS:%.c=$(SEC_OBJDIR)/%.o),$(LIB_SEC_CORE_OBJS)) \
                     $(LIB_SEC_ALIAS_OBJS)
-include $(LIB_SEC_ALIAS_OBJS:.o=.d)
$(SEC_OBJDIR)-alias/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DHK_SECURE=1 -DHK_OVERRIDE_ALIASES=1 $(CFLAGS) -c $< -o $@
LIB_SEC_SO        := $(BUILD)/libheapkit-secure.so
-include $(LIB_SEC_OBJS:.o=.d)
$(SEC_OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DHK_SECURE=1 $(CFLAGS) -c $< -o $@
$(LIB_SEC_CORE_OBJS) $(LIB_SEC_ALIAS_OBJS): CPPFLAGS += -Iinclude -Isrc
$(LIB_SEC_CORE_OBJS) $(LIB_SEC_ALIAS_OBJS): CFLAGS += $(LIB_CFLAGS)
$(LIB_SEC_SO): $(LIB_SEC_OBJS)
	$(CC) $(LDFLAGS) -shared -pthread -Wl,-soname,libheapkit-secure.so -Wl,-Bsymbolic-functions -o $@ $^
ifeq ($(VARIANT),release) # (the sanitizer builds track blocks that secure.c writes when freed)
lib: $(LIB_SEC_SO)
endif

# ---- docs/OPTIONS.md: its table is printed from src/options.c's by tools/options_doc.c ----
OPTIONS_DOC := $(BUILD)/tools/options_doc
$(BUILD)/obj/tools/options_doc.o: CPPFLAGS += -Iinclude -Isrc
$(OPTIONS_DOC): $(BUILD)/obj/tools/options_doc.o $(LIB_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^

options-doc: $(OPTIONS_DOC)
	sh tests/tools/test_options_doc.sh --update $(OPTIONS_DOC)

# ---- tests ----
LIB_TDIR  := $(BUILD)/tests/lib
LIB_TOBJS := $(BUILD)/obj/tests/api/test_api.o $(BUILD)/obj/tests/api/test_api_libc.o \
             $(BUILD)/obj/tests/stress/test_stress.o $(BUILD)/obj/tests/fail/fail_prog.o \
             $(BUILD)/obj/tests/track/track_prog.o $(BUILD)/obj/tests/faults/test_faults.o
$(LIB_TOBJS): CPPFLAGS += -Iinclude -Itests
$(LIB_TOBJS): CFLAGS += -pthread -fno-builtin-malloc -fno-builtin-free

$(BUILD)/obj/tests/api/test_api_libc.o: tests/api/test_api.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DHK_TEST_LIBC $(CFLAGS) -c $< -o $@

$(LIB_TDIR)/test_api: $(BUILD)/obj/tests/api/test_api.o $(LIB_CORE_OBJS)
$(LIB_TDIR)/test_stress: $(BUILD)/obj/tests/stress/test_stress.o $(LIB_CORE_OBJS)
$(LIB_TDIR)/fail_prog: $(BUILD)/obj/tests/fail/fail_prog.o $(LIB_CORE_OBJS)
$(LIB_TDIR)/track_prog: $(BUILD)/obj/tests/track/track_prog.o $(LIB_CORE_OBJS)
$(LIB_TDIR)/test_faults: $(BUILD)/obj/tests/faults/test_faults.o $(LIB_CORE_OBJS)
$(BUILD)/obj/tests/faults/test_faults.o: CPPFLAGS += -Isrc
$(LIB_TDIR)/test_api_libc: $(BUILD)/obj/tests/api/test_api_libc.o
# the API, stress and fail tests again on the secure build
$(LIB_TDIR)/secure/test_api: $(BUILD)/obj/tests/api/test_api.o $(LIB_SEC_CORE_OBJS)
$(LIB_TDIR)/secure/test_stress: $(BUILD)/obj/tests/stress/test_stress.o $(LIB_SEC_CORE_OBJS)
$(LIB_TDIR)/secure/fail_prog: $(BUILD)/obj/tests/fail/fail_prog.o $(LIB_SEC_CORE_OBJS)
$(LIB_TDIR)/%:
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ -ldl

# The bug-class suite (tests/bugs/): plain malloc calls for any allocator preloaded under
# it, so no sanitizer and no builtins (the compiler must keep every bug as written).
BUG_PROG := $(LIB_TDIR)/bug_prog
$(BUG_PROG): tests/bugs/bug_prog.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize=%,$(CFLAGS)) -fno-builtin $< -o $@

LIB_TESTS := $(LIB_TDIR)/test_api $(LIB_TDIR)/test_api_libc $(LIB_TDIR)/test_stress \
             $(LIB_TDIR)/fail_prog $(BUG_PROG) $(LIB_TDIR)/secure/test_api \
             $(LIB_TDIR)/secure/test_stress $(LIB_TDIR)/secure/fail_prog

# docs/HARDENING.md's table: every case on glibc, the peers and heapkit, default and
# secure (measured here)
.PHONY: bug-table
bug-table: $(BUG_PROG) $(LIB_SO) $(LIB_SEC_SO)
	sh scripts/deps.sh libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0
	HEAPKIT_SECURE_LIBRARY=$(abspath $(LIB_SEC_SO)) sh scripts/bug_table.sh $(BUG_PROG) $(abspath $(LIB_SO))

# The stress test again under ThreadSanitizer (its own build tree, build/tsan).
test-lib-tsan:
	$(MAKE) --no-print-directory VARIANT=tsan build/tsan/tests/lib/test_stress

# The hk_* API tests under ASan+UBSan: the library with UBSan, its blocks tracked for ASan
# (track.h), the tests fully instrumented (build/sanitize).
SAN_TDIR := build/sanitize/tests/lib
test-lib-sanitize:
	$(MAKE) --no-print-directory VARIANT=sanitize $(SAN_TDIR)/test_api $(SAN_TDIR)/test_stress \
	    $(SAN_TDIR)/track_prog

# The API and stress tests in the debug build (HK_DEBUG=3: heap checks on the slow paths),
# and out of memory injected at every OS request (HK_OS_FAULTS=1, build/debug only).
DBG_TDIR := build/debug/tests/lib
test-lib-debug:
	$(MAKE) --no-print-directory VARIANT=debug $(DBG_TDIR)/test_api $(DBG_TDIR)/test_stress \
	    $(DBG_TDIR)/test_faults

test-lib: lib $(LIB_TESTS) $(OPTIONS_DOC) test-lib-tsan test-lib-sanitize test-lib-debug
	sh tests/run.sh "$(LIB_TDIR)/test_api" \
	    "LD_PRELOAD=$(abspath $(LIB_SO)) $(LIB_TDIR)/test_api_libc" \
	    "$(LIB_TDIR)/test_stress" \
	    "setarch $$(uname -m) -R build/tsan/tests/lib/test_stress --threads 4 --rounds 3" \
	    "$(SAN_TDIR)/test_api" "$(SAN_TDIR)/test_stress --threads 4 --rounds 3" \
	    "sh tests/track/run.sh $(SAN_TDIR)/track_prog" \
	    "$(DBG_TDIR)/test_api" "$(DBG_TDIR)/test_stress --threads 4 --rounds 2" \
	    "$(DBG_TDIR)/test_faults" \
	    "sh tests/fail/run.sh $(LIB_TDIR)/fail_prog $(abspath $(LIB_SO))" \
	    "$(LIB_TDIR)/secure/test_api" "$(LIB_TDIR)/secure/test_stress --threads 4 --rounds 2" \
	    "sh tests/fail/run.sh $(LIB_TDIR)/secure/fail_prog $(abspath $(LIB_SEC_SO)) secure" \
	    "sh tests/override/smoke.sh $(abspath $(LIB_SEC_SO))" \
	    "sh tests/override/test_real_programs.sh $(abspath $(LIB_SEC_SO))" \
	    "sh tests/bugs/run.sh $(BUG_PROG) $(abspath $(LIB_SO)) $(abspath $(LIB_SEC_SO))" \
	    "sh tests/override/smoke.sh $(abspath $(LIB_SO))" \
	    "sh tests/override/test_real_programs.sh $(abspath $(LIB_SO))" \
	    "sh tests/tools/test_options_doc.sh $(OPTIONS_DOC)" \
	    "sh tests/layers.sh src"

# ---- install ----
install: install-lib
install-lib: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libheapkit.so
	install -m 755 $(LIB_SEC_SO) $(DESTDIR)$(PREFIX)/lib/libheapkit-secure.so
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libheapkit.a
	install -m 644 include/heapkit.h $(DESTDIR)$(PREFIX)/include/heapkit.h
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: heapkit' 'Description: heapkit production memory allocator' \
	    'Version: 0.1.0' 'Libs: -L$${libdir} -lheapkit' 'Libs.private: -pthread' \
	    'Cflags: -I$${includedir}' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/heapkit.pc
