"""Helpers for the local fake servers that stand in for outside services in tests and benchmarks."""
