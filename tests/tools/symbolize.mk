# tests/tools/symbolize.mk -- the symbolizer's test (included by tests/tests.mk).
# -rdynamic puts the test's own functions in its .dynsym, so a stripped copy of the test
# binary still has symbols to find there: that is how the test reaches the .dynsym path.
LAB_TESTS += $(BUILD)/tests/test_symbolize
$(BUILD)/tests/test_symbolize: $(BUILD)/obj/tests/tools/test_symbolize.o \
    $(BUILD)/obj/tools/elffile.o $(BUILD)/obj/tools/elfsym.o $(BUILD)/obj/tools/symbolize.o
$(BUILD)/tests/test_symbolize: LDFLAGS += -rdynamic
$(BUILD)/obj/tests/tools/test_symbolize.o: CPPFLAGS += -Itools
