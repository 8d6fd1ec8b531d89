# bench/bench.mk -- benchmarks: `make bench-lab` (the lab) and `make bench` (the library,
# in bench/progs/progs.mk).
#
# bench-lab: every policy replays the CS:APP traces (../shared/traces, when present) and
# the shipped synthetic ones (traces/) at both alignments; hkfit against glibc on the
# graded traces in 7 alternating batches (scripts/lab_vs_libc.py); then the scaling benchmark
# shows which policies keep a flat cost per operation as the live block count grows 100x.
# Measure release builds only: numbers from VARIANT=sanitize or debug mean nothing.
LAB_SCALING := $(BUILD)/bench/lab_scaling
LAB_TRACES  := $(wildcard ../shared/traces/*.rep) $(wildcard traces/*.rep)

$(BUILD)/obj/bench/lab_scaling.o: CPPFLAGS += $(LAB_CPPFLAGS)
# An explicit recipe, so the bench/progs pattern rule for $(BUILD)/bench/% never applies.
$(LAB_SCALING): $(BUILD)/obj/bench/lab_scaling.o $(LAB_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lm

.PHONY: bench-lab
# Every step runs even when an earlier one reports a failing policy (a half-written
# policy should not hide the rest of the table); the target fails at the end if any did.
bench-lab: $(HEAPKIT) $(LAB_SCALING)
	@test "$(VARIANT)" = release || echo "warning: VARIANT=$(VARIANT): timings are not meaningful"
	@echo "commit $$(git rev-parse --short HEAD 2>/dev/null || echo unknown), CC=$(CC), OPT=$(OPT)"
	@grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
	@status=0; \
	for align in 8 16; do \
	    echo "== $(HEAPKIT) replay --policy all --align $$align <$(words $(LAB_TRACES)) traces>"; \
	    $(HEAPKIT) replay --policy all --align $$align $(LAB_TRACES) || status=1; \
	done; \
	echo "== python3 scripts/lab_vs_libc.py $(HEAPKIT) <graded traces>"; \
	python3 scripts/lab_vs_libc.py $(HEAPKIT) $(LAB_TRACES) || status=1; \
	echo "== $(LAB_SCALING)"; \
	$(LAB_SCALING) || status=1; \
	exit $$status
