# tools/tools.mk -- the `heapkit` command, the recorder it preloads and the player it runs.
TOOL_SRCS := tools/heapkit.c tools/lines.c tools/trace.c tools/trace_hkt.c tools/trace_write.c \
             tools/replay.c tools/liveset.c tools/pattern.c tools/report.c tools/gen.c \
             tools/convert.c tools/addrtrace.c tools/rawread.c tools/rawevent.c tools/rawlive.c tools/record.c tools/import.c tools/gzsink.c \
             tools/elffile.c tools/elfsym.c tools/symbolize.c
TOOL_SRCS += tools/map.c tools/layout.c tools/svg.c
TOOL_SRCS += tools/peers.c tools/peerrun.c tools/playwrite.c tools/callgrind.c tools/progress.c \
             tools/cli.c
TOOL_SRCS += tools/htmlreport.c tools/htmlpage.c tools/htmltrace.c tools/htmltable.c \
             tools/htmlmaps.c tools/chart.c tools/timeline.c tools/verdict.c tools/sites.c
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
HEAPKIT   := $(BUILD)/heapkit

$(TOOL_OBJS): CPPFLAGS += $(LAB_CPPFLAGS) -Itools
# zlib reads gzip-compressed traces, libdeflate writes them (three times zlib's speed at
# level 1, which `heapkit record` makes its user wait for); scripts/deps.sh installs them
# where they are missing (again when this file changes: a tree built before has the mark).
$(BUILD)/.deps-tools: tools/tools.mk
	@mkdir -p $(dir $@)
	sh scripts/deps.sh zlib1g-dev libdeflate-dev
	@touch $@
$(TOOL_OBJS): | $(BUILD)/.deps-tools
$(HEAPKIT): $(TOOL_OBJS) $(LAB_LIB)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ -ldeflate -lz -lm

all: $(HEAPKIT)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(HEAPKIT) $(DESTDIR)$(PREFIX)/bin/heapkit

# ---- the recorder library `heapkit record` preloads (tools/recorder/, rawlog.h) ----
# Like libheapkit it runs inside malloc: no sanitizers (they would be malloc too), no
# builtin malloc folding, initial-exec TLS (no allocation on a thread's first access).
REC_SRCS := tools/recorder/log.c tools/recorder/logfile.c tools/recorder/alloc_hooks.c \
            tools/recorder/process_hooks.c tools/recorder/signal_hooks.c
REC_OBJS := $(REC_SRCS:%.c=$(BUILD)/obj/%.o)
RECORDER := $(BUILD)/libheapkit-record.so
$(REC_OBJS): CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS)) -fPIC -fvisibility=hidden \
    -ftls-model=initial-exec -pthread -fno-builtin
$(RECORDER): $(REC_OBJS)
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -shared -pthread -Wl,-soname,libheapkit-record.so \
	    -o $@ $^ -ldl

all: $(RECORDER)

install: install-recorder
.PHONY: install-recorder
install-recorder: $(RECORDER)
	install -d $(DESTDIR)$(PREFIX)/lib/heapkit
	install -m 755 $(RECORDER) $(DESTDIR)$(PREFIX)/lib/heapkit/libheapkit-record.so

# ---- the player `heapkit replay --peer` runs on each real allocator (tools/play/) ----
# It measures the allocator it is preloaded with, so: no sanitizers (ASan would be the
# allocator), no builtin malloc folding (every call in the trace stays a call), and
# symbols bound at start (-z now: no lazy binding inside the timed loop). DWARF 4: it
# runs under valgrind (--callgrind), and Debian 12's cannot read clang 14's DWARF 5.
PLAY_SRCS := tools/play/player.c tools/play/playfile.c tools/play/own.c tools/play/plan.c \
             tools/play/ops.c tools/play/threads.c tools/play/rss.c tools/play/out.c
PLAY_OBJS := $(PLAY_SRCS:%.c=$(BUILD)/obj/%.o)
PLAYER    := $(BUILD)/heapkit-play
$(PLAY_OBJS): CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS)) -gdwarf-4 -pthread -fno-builtin
$(PLAYER): $(PLAY_OBJS)
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -pthread -Wl,-z,now -o $@ $^ -ldl

all: $(PLAYER)

install: install-player
.PHONY: install-player
install-player: $(PLAYER)
	install -d $(DESTDIR)$(PREFIX)/lib/heapkit
	install -m 755 $(PLAYER) $(DESTDIR)$(PREFIX)/lib/heapkit/heapkit-play
