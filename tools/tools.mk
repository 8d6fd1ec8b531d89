# tools/tools.mk -- the `heapkit` command.
TOOL_SRCS := tools/heapkit.c tools/trace.c tools/replay.c tools/liveset.c tools/pattern.c \
             tools/report.c tools/gen.c
TOOL_SRCS += tools/map.c tools/layout.c tools/svg.c
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
HEAPKIT   := $(BUILD)/heapkit

$(TOOL_OBJS): CPPFLAGS += $(LAB_CPPFLAGS)
# zlib reads gzip-compressed traces; scripts/deps.sh installs it where it is missing.
$(BUILD)/.deps-tools:
	@mkdir -p $(dir $@)
	sh scripts/deps.sh zlib1g-dev
	@touch $@
$(TOOL_OBJS): | $(BUILD)/.deps-tools
$(HEAPKIT): $(TOOL_OBJS) $(LAB_LIB)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ -lz -lm

all: $(HEAPKIT)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(HEAPKIT) $(DESTDIR)$(PREFIX)/bin/heapkit
