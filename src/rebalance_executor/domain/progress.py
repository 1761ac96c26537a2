"""Progress of an execution, item by item (SPEC §3.5: live progress on long local runs).

The executor reports through this port; the CLI plugs in a terminal display
(``rebalance_executor.reporting.progress.RichProgress``), the Lambda the silent default.
"""

from __future__ import annotations

from typing import Protocol

from rebalance_executor.domain.result import ItemOutcome


class ProgressSink(Protocol):
    """Receives item completions of one or more runs. Must not raise."""

    def start(self, total_items: int, label: str = "items") -> None:
        """Begin a run of ``total_items`` items (called again for each run of a benchmark)."""
        ...

    def item_done(self, symbol: str, outcome: ItemOutcome) -> None:
        """One item of the current run reached its final outcome."""
        ...

    def close(self) -> None:
        """Stop any live display; idempotent."""
        ...


class NullProgress:
    """A sink that shows nothing (the default outside the CLI)."""

    def start(self, total_items: int, label: str = "items") -> None:
        return None

    def item_done(self, symbol: str, outcome: ItemOutcome) -> None:
        return None

    def close(self) -> None:
        return None
