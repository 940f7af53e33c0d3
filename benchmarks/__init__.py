"""Scale benchmarks behind `make bench`."""
