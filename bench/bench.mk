# bench/bench.mk -- benchmarks: `make bench-lab` (the lab) and `make bench` (the library).
