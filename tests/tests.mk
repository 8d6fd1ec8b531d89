# tests/tests.mk -- every test program; `make test` runs them all through tests/run.sh.
POLICY_TESTS := pad list implicit dlist bins segfit buddy slab pagemeta vm gnu libc hkfit
LAB_TESTS := $(BUILD)/tests/test_mem $(BUILD)/tests/test_policies \
             $(POLICY_TESTS:%=$(BUILD)/tests/test_%)
$(BUILD)/tests/test_mem: $(BUILD)/obj/tests/unit/test_mem.o $(LAB_LIB)
$(BUILD)/tests/test_policies: $(BUILD)/obj/tests/policy/test_policies.o $(LAB_LIB)
# Focused per-policy tests: tests/policy/test_<x>.c builds as $(BUILD)/tests/test_<x>.
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/policy/test_%.o $(LAB_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lm
$(LAB_TESTS):
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lm
$(BUILD)/obj/tests/%.o: CPPFLAGS += $(LAB_CPPFLAGS) -Itests

tests: $(LAB_TESTS)

# The lab and its tools, under whatever VARIANT this make runs with.
test-lab: $(LAB_TESTS) $(HEAPKIT)
	sh tests/run.sh $(LAB_TESTS)

test: all
	$(MAKE) --no-print-directory test-lab
	$(MAKE) --no-print-directory VARIANT=sanitize test-lab
	$(MAKE) --no-print-directory test-lib
