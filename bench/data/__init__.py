"""Seeded benchmark data sets, generated on first use and cached under bench/out/ (gitignored)."""
