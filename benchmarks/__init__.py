"""Benchmarks: `make bench` (python -m benchmarks) measures and writes docs/benchmarks.md."""
