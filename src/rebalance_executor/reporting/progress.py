"""Live progress of items done for long local runs (``run``, ``bench``).

The executor reports through the :class:`~rebalance_executor.domain.progress.ProgressSink` port;
the CLI passes a :class:`RichProgress`, everything else (Lambda, tests) the ``NullProgress``
default. Sinks are called from the event-loop thread; rich's ``Progress`` is internally locked,
so bench workers in other threads may share one sink too.
"""

from __future__ import annotations

from collections import Counter
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from rebalance_executor.domain.progress import NullProgress, ProgressSink
from rebalance_executor.domain.result import ItemOutcome


class ProgressError(RuntimeError):
    """A sink was used out of order (``item_done`` before ``start``): a wiring bug."""


class RichProgress:
    """A live bar per run: ``label ━━━━ 3/10 FILLED 2 PARTIAL 1 last: SPY 0:00:04``.

    On a non-interactive console (a pipe, CI log) rich prints the final state once on close.
    Usable as a context manager that closes on exit.
    """

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[outcomes]}"),
            TextColumn("[dim]{task.fields[last]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID | None = None
        self._counts: Counter[ItemOutcome] = Counter()
        self._live = False

    def start(self, total_items: int, label: str = "items") -> None:
        """Add a bar for a new run; the previous run's bar stays as its record."""
        if total_items < 0:
            raise ValueError(f"total_items must be >= 0, got {total_items}")
        if not self._live:
            self._progress.start()
            self._live = True
        self._counts = Counter()
        self._task = self._progress.add_task(label, total=total_items, outcomes="", last="")

    def item_done(self, symbol: str, outcome: ItemOutcome) -> None:
        """Advance the current bar. Raises :class:`ProgressError` before :meth:`start`."""
        if self._task is None:
            raise ProgressError("item_done called before start")
        self._counts[outcome] += 1
        summary = " ".join(f"{o.value} {n}" for o, n in sorted(self._counts.items()))
        self._progress.update(self._task, advance=1, outcomes=summary, last=f"last: {symbol}")

    def close(self) -> None:
        if self._live:
            self._progress.stop()
            self._live = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress_for(console: Console) -> ProgressSink:
    """A live bar on an interactive terminal; nothing on a pipe or CI log, where a redrawn bar
    would only add noise around the report."""
    if console.is_terminal:
        return RichProgress(console)
    return NullProgress()


__all__ = ["NullProgress", "ProgressError", "ProgressSink", "RichProgress", "progress_for"]
