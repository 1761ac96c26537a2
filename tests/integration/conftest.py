"""Integration tests: SPEC §4.10 is checked after every test (tests/fixtures/invariants.py)."""

import pytest

from tests.fixtures.invariants import CHECKED, invariant_ledger

__all__ = ["invariant_ledger"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if getattr(terminalreporter.config.option, "numprocesses", None):
        return  # under xdist the checks run (and count) in the workers
    terminalreporter.write_line(
        f"SPEC §4.10 invariant checker: {CHECKED[0]} plan executions checked "
        "against the simulators' records"
    )
