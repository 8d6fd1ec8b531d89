# tests/tools/tools_tests.mk -- unit tests of tool modules (included by tests/tests.mk).
# The symbolizer's test. -rdynamic puts the test's own functions in its .dynsym, so a stripped copy of the test
# binary still has symbols to find there: that is how the test reaches the .dynsym path.
LAB_TESTS += $(BUILD)/tests/test_symbolize
$(BUILD)/tests/test_symbolize: $(BUILD)/obj/tests/tools/test_symbolize.o \
    $(BUILD)/obj/tools/elffile.o $(BUILD)/obj/tools/elfsym.o $(BUILD)/obj/tools/symbolize.o
$(BUILD)/tests/test_symbolize: LDFLAGS += -rdynamic
$(BUILD)/obj/tests/tools/test_symbolize.o: CPPFLAGS += -Itools

# The address -> id builder of recorded and imported traces (tools/addrtrace.c).
LAB_TESTS += $(BUILD)/tests/test_addrtrace
$(BUILD)/tests/test_addrtrace: $(BUILD)/obj/tests/tools/test_addrtrace.o \
    $(BUILD)/obj/tools/addrtrace.o $(BUILD)/obj/tools/trace.o $(BUILD)/obj/tools/trace_hkt.o \
    $(BUILD)/obj/tools/trace_write.o $(BUILD)/obj/tools/lines.o $(BUILD)/obj/tools/gzsink.o
$(BUILD)/tests/test_addrtrace: TEST_LIBS := -ldeflate -lz -pthread
$(BUILD)/obj/tests/tools/test_addrtrace.o: CPPFLAGS += -Itools

# The raw log's slots read back (tools/rawevent.c): each kind, cut events, R3/R5 breaches.
LAB_TESTS += $(BUILD)/tests/test_rawevent
$(BUILD)/tests/test_rawevent: $(BUILD)/obj/tests/tools/test_rawevent.o $(BUILD)/obj/tools/rawevent.o
$(BUILD)/obj/tests/tools/test_rawevent.o: CPPFLAGS += -Itools
