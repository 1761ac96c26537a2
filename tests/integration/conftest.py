"""Integration tests: SPEC §4.10 is checked after every test (tests/fixtures/invariants.py)."""

from tests.fixtures.invariants import invariant_ledger

__all__ = ["invariant_ledger"]
