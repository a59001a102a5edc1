"""Helpers shared by test suites and benchmarks."""
