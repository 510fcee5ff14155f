"""Benchmarks and seeded data generators (see bench/data)."""
