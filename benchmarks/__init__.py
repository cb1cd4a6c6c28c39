"""`make bench` and `make bench-big` (benchmarks/bench.py, benchmarks/bench_big.py): run from
the repository, not shipped in the package."""
