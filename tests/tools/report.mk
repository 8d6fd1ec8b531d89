# tests/tools/report.mk -- the parts of `heapkit report` that compute (included by
# tests/tests.mk): the verdict rule and the call-site counts, on rows and traces built in
# memory. test_sites links the trace module (for trace_peak_live), hence zlib.
REPORT_TESTS := $(BUILD)/tests/test_verdict $(BUILD)/tests/test_sites
$(BUILD)/tests/test_verdict: $(BUILD)/obj/tests/tools/test_verdict.o $(BUILD)/obj/tools/verdict.o
$(BUILD)/tests/test_sites: $(BUILD)/obj/tests/tools/test_sites.o $(BUILD)/obj/tools/sites.o \
    $(BUILD)/obj/tools/trace.o $(BUILD)/obj/tools/trace_hkt.o $(BUILD)/obj/tools/lines.o
$(REPORT_TESTS):
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lz -lm
LAB_TESTS += $(REPORT_TESTS)
