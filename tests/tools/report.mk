# tests/tools/report.mk -- the parts of `heapkit report` that compute (included by
# tests/tests.mk): the verdict rule, the call-site counts and the curves against replay,
# on rows and traces built in memory. They link the trace module (for trace_peak_live),
# hence zlib, and replay's fork and threads, hence -pthread: their own link rule.
REPORT_TESTS := $(BUILD)/tests/test_verdict $(BUILD)/tests/test_sites $(BUILD)/tests/test_timeline
$(BUILD)/tests/test_verdict: $(BUILD)/obj/tests/tools/test_verdict.o $(BUILD)/obj/tools/verdict.o
$(BUILD)/tests/test_sites: $(BUILD)/obj/tests/tools/test_sites.o $(BUILD)/obj/tools/sites.o \
    $(BUILD)/obj/tools/trace.o $(BUILD)/obj/tools/trace_hkt.o $(BUILD)/obj/tools/lines.o
$(BUILD)/tests/test_timeline: $(BUILD)/obj/tests/tools/test_timeline.o \
    $(BUILD)/obj/tools/timeline.o $(BUILD)/obj/tools/replay.o $(BUILD)/obj/tools/liveset.o \
    $(BUILD)/obj/tools/pattern.o $(BUILD)/obj/tools/trace.o $(BUILD)/obj/tools/trace_hkt.o \
    $(BUILD)/obj/tools/lines.o $(LAB_LIB)
$(REPORT_TESTS):
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ -lz -lm
LAB_TESTS += $(REPORT_TESTS)
