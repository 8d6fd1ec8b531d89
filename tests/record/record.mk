# tests/record/record.mk -- `heapkit record` end to end (issue 7): the test program it
# records and the test target. Included by tests/tests.mk.
REC_PROG := $(BUILD)/tests/record/rec_prog
# -fno-builtin: the calls the test looks for in the trace must stay calls.
$(BUILD)/obj/tests/record/rec_prog.o: CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS)) -fno-builtin -pthread
$(REC_PROG): $(BUILD)/obj/tests/record/rec_prog.o
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -pthread -o $@ $^ -ldl

.PHONY: test-record
# Real programs in the release build; the test program alone under ASan+UBSan (the
# heapkit command converting the logs is what the sanitizers check there).
test-record: $(HEAPKIT) $(RECORDER) $(REC_PROG)
	sh tests/run.sh "sh tests/record/test_record.sh $(HEAPKIT) $(REC_PROG) $(if $(filter sanitize,$(VARIANT)),--quick)"
