"""Benchmark harness: metrics, peer systems and the driver (see bench/README.md)."""
