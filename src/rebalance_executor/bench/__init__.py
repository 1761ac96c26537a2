"""Execution-quality and scale benchmark (SPEC §8)."""
