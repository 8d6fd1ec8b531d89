# bench/progs/progs.mk -- the allocator benchmarks behind `make bench` (issue 3): plain C
# programs that call malloc/free; scripts/bench.py runs each under every allocator.
BENCH_PROGS := churn larson prodcons realloc_grow large false_sharing trace_replay fastpath \
               thread_churn seq_threads
BENCH_BINS  := $(BENCH_PROGS:%=$(BUILD)/bench/%)

# -fno-builtin: the compiler must not fold or drop the malloc/free pairs we measure.
$(BUILD)/obj/bench/progs/%.o: CFLAGS += -fno-builtin -pthread
$(BUILD)/bench/%: $(BUILD)/obj/bench/progs/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -pthread -o $@ $^

.PHONY: bench bench-progs
bench-progs: $(BENCH_BINS)

# The library comparison (glibc, jemalloc, tcmalloc, mimalloc, heapkit); installs the peers.
# Then the same allocators on real programs, recorded and live (issue 9), and what
# recording costs: heapkit record against heaptrack on real programs (issue 7).
bench: all bench-progs
	python3 scripts/bench.py --build $(BUILD)
	python3 scripts/bench_real.py --build $(BUILD)
	python3 scripts/bench_record.py --build $(BUILD)

.PHONY: bench-real
bench-real: all
	python3 scripts/bench_real.py --build $(BUILD)

.PHONY: bench-record
bench-record: all
	python3 scripts/bench_record.py --build $(BUILD)
