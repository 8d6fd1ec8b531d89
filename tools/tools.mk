# tools/tools.mk -- the `heapkit` command.
TOOL_SRCS := tools/heapkit.c tools/gen.c
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
HEAPKIT   := $(BUILD)/heapkit

$(TOOL_OBJS): CPPFLAGS += $(LAB_CPPFLAGS)
$(HEAPKIT): $(TOOL_OBJS) $(LAB_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lz -lm

all: $(HEAPKIT)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(HEAPKIT) $(DESTDIR)$(PREFIX)/bin/heapkit
