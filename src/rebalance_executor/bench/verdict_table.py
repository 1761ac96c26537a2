"""The computed SPEC §8 verdict for smart as a table (rich terminal and markdown): one row per
scenario, each check ✓ met / ✗ missed / — not judged with its figure (bench.targets)."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from rich.table import Table

from rebalance_executor.bench.spread import HalfSpreadSaving
from rebalance_executor.bench.targets import (
    SAVING_ONE_TICK,
    Check,
    Outcome,
    ScenarioVerdict,
    TargetVerdict,
)

TITLE: Final = (
    "SPEC §8 targets for smart (computed): gates fill ≥ 99.5 %, 0 violations, ≤ 4 req/order; "
    "smart - market 95 % interval not above 0; ahead of anchor = mean smart - anchor < 0; "
    "saved ≥ ¼ (one tick) / ½ (wider) of the half-spread vs market"
)
HEADERS: Final = (
    "scenario",
    "spread",
    "fill",
    "viol.",
    "req/order",
    "smart - market bps [95%]",
    "smart - anchor bps [95%]",
    "saved/h vs market (need)",
    "saved/h vs anchor",
    "verdict",
)
_MARK: Final = {True: "✓", False: "✗", None: "—"}
_STYLE: Final = {Outcome.MET: "green", Outcome.NOT_MET: "red", Outcome.NOT_JUDGED: "yellow"}


def _cell(check: Check) -> str:
    return f"{_MARK[check.ok]} {check.figure}"


def _fraction(value: HalfSpreadSaving | None) -> str:
    if value is None:
        return "—"
    ci = value.ci95
    interval = "" if ci is None else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    return f"{value.fraction:+.2f}{interval}"


def _spread(v: ScenarioVerdict) -> str:
    if v.spread_ticks is None:
        return "—"
    label = "1 tick" if v.required_fraction == SAVING_ONE_TICK else "wider"
    return f"{v.spread_ticks:.2f} ticks ({label})"


def cells(v: ScenarioVerdict) -> list[str]:
    """The row of one scenario."""
    need = "" if v.required_fraction is None else f" (≥ {v.required_fraction:.2f})"
    saving = v.check("half_spread_saving")
    return [
        v.scenario,
        _spread(v),
        *(_cell(v.check(n)) for n in ("fill", "violations", "requests_per_order")),
        _cell(v.check("not_worse_than_market")),
        _cell(v.check("ahead_of_anchor")),
        f"{_MARK[saving.ok]} {_fraction(v.saved_vs_market)}{need}",
        _fraction(v.saved_vs_anchor),
        v.outcome.value,
    ]


def verdict_table(verdict: TargetVerdict) -> Table:
    table = Table(title=TITLE)
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("scenario", "verdict") else "right")
    for v in verdict.scenarios:
        style = _STYLE[v.outcome]
        table.add_row(*cells(v)[:-1], f"[{style}]{v.outcome.value}[/{style}]")
    return table


def summary(verdict: TargetVerdict) -> str:
    """One line: the set's outcome and the count per outcome."""
    counts = {o: sum(v.outcome is o for v in verdict.scenarios) for o in Outcome}
    total = len(verdict.scenarios)
    parts = ", ".join(f"{counts[o]}/{total} {o.value}" for o in Outcome)
    return f"smart against the SPEC §8 targets: {verdict.outcome.value} ({parts})"


def print_verdict(verdict: TargetVerdict, console: Console) -> None:
    """The table, every miss and every check not judged (never hidden), then the summary."""
    console.print(verdict_table(verdict))
    for line in verdict.misses():
        console.print(f"  [red]missed:[/red] {line}")
    for line in verdict.not_judged():
        console.print(f"  [yellow]not judged:[/yellow] {line}")
    style = _STYLE[verdict.outcome]
    console.print(f"[bold {style}]{summary(verdict)}[/bold {style}]")


def verdict_markdown(verdict: TargetVerdict) -> str:
    lines = [
        f"{TITLE}; ✓ met, ✗ missed, — not judged.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|---|" + "---:|" * (len(HEADERS) - 2) + "---|",
    ]
    lines += ["| " + " | ".join(cells(v)) + " |" for v in verdict.scenarios]
    lines += ["", *(f"- missed: {m}" for m in verdict.misses())]
    lines += [f"- not judged: {m}" for m in verdict.not_judged()]
    lines += ["", f"**{summary(verdict)}**"]
    return "\n".join(lines) + "\n"
