"""Benchmarks (not collected by pytest: no file here is named test_*.py)."""
