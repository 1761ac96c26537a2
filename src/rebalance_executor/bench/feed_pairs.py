"""iex vs sip on the same seeds, paired offline (issue 15: "report both").

Input: two ``bench --json`` documents, one run with ``--feed iex`` and one with ``--feed sip``,
over the same scenarios, policies and seeds. A seed's quote path does not depend on the feed
the executor reads, so for each (scenario, policy) the two runs of a seed trade the same market
and their per-seed difference (sip - iex) cancels the market noise, exactly like the policy
comparisons (bench.paired, reused here). Reported per (scenario, policy): each feed's pooled
fill % and slippage as its run reported them, the paired sip - iex difference of slippage (bps)
and of fill (percentage points) with its 95 % interval, and each feed's NO_VALID_QUOTE items.
Per-seed slippage comes from the JSON rounded to 0.01 bps, which the difference inherits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from rich.table import Table

from rebalance_executor.bench.paired import PairedDiff, paired_diff

IEX: Final = "iex"
SIP: Final = "sip"
_PCT: Final = Decimal(100)


class FeedPairError(ValueError):
    """The two documents cannot be paired (unreadable, wrong feed, different runs)."""


@dataclass(frozen=True)
class FeedSide:
    """One feed's figures for a (scenario, policy), as its bench run reported them."""

    fill_pct: Decimal | None
    slippage_bps: Decimal | None
    no_valid_quote: int | None  # None: the document predates the count


@dataclass(frozen=True)
class FeedPair:
    scenario: str
    policy: str
    iex: FeedSide
    sip: FeedSide
    slippage: PairedDiff | None  # sip - iex, bps
    fill_pp: PairedDiff | None  # sip - iex, percentage points


def load_bench(path: Path) -> dict[str, Any]:
    """A ``bench --json`` document. Raises FeedPairError when unreadable or not JSON."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FeedPairError(f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise FeedPairError(f"{path}: not a bench document")
    return document


def pair_feeds(iex: Mapping[str, Any], sip: Mapping[str, Any]) -> list[FeedPair]:
    """Every (scenario, policy) of the iex document paired with the sip one, in iex order.

    Raises FeedPairError unless ``iex`` was run on iex and ``sip`` on sip over the same
    scenarios, policies and seeds, or when a document lacks a bench key.
    """
    try:
        return _pairs(iex, sip)
    except (KeyError, TypeError, AttributeError) as exc:
        raise FeedPairError(f"not a bench --json document ({type(exc).__name__}: {exc})") from exc


def _pairs(iex: Mapping[str, Any], sip: Mapping[str, Any]) -> list[FeedPair]:
    _expect_feed(iex, IEX)
    _expect_feed(sip, SIP)
    left, right = _scenarios(iex), _scenarios(sip)
    if list(left) != list(right):
        raise FeedPairError(f"different scenarios: {list(left)} vs {list(right)}")
    pairs = []
    for name, doc in left.items():
        other = right[name]
        if doc.get("seeds") != other.get("seeds"):
            seeds = (doc.get("seeds"), other.get("seeds"))
            raise FeedPairError(f"{name}: different seeds {seeds[0]} vs {seeds[1]}")
        if list(doc["policies"]) != list(other["policies"]):
            raise FeedPairError(f"{name}: different policies")
        for policy, mine in doc["policies"].items():
            pairs.append(_pair(name, policy, doc["seeds"], mine, other["policies"][policy]))
    return pairs


def _expect_feed(document: Mapping[str, Any], feed: str) -> None:
    found = document.get("feed")
    if found != feed:
        raise FeedPairError(f"expected a document run with --feed {feed}, found feed={found!r}")


def _scenarios(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    docs: Sequence[Mapping[str, Any]] = document.get("scenarios", [document])
    return {str(d["scenario"]): d for d in docs}


def _pair(
    scenario: str,
    policy: str,
    seeds: Sequence[int],
    iex: Mapping[str, Any],
    sip: Mapping[str, Any],
) -> FeedPair:
    return FeedPair(
        scenario=scenario,
        policy=policy,
        iex=_side(iex),
        sip=_side(sip),
        slippage=paired_diff(*(_by_seed(seeds, s, "seed_slippage_bps") for s in (sip, iex))),
        fill_pp=paired_diff(*(_by_seed(seeds, s, "seed_fill_rate", _PCT) for s in (sip, iex))),
    )


def _side(stats: Mapping[str, Any]) -> FeedSide:
    fill = _decimal(stats.get("fill_rate"))
    return FeedSide(
        fill_pct=None if fill is None else fill * _PCT,
        slippage_bps=_decimal(stats.get("slippage_bps")),
        no_valid_quote=stats.get("no_valid_quote_items"),
    )


def _by_seed(
    seeds: Sequence[int], stats: Mapping[str, Any], key: str, scale: Decimal = Decimal(1)
) -> dict[int, Decimal | None]:
    """Per-seed figures keyed by seed; empty when the document lacks them (nothing pairs)."""
    values = stats.get(key) or []
    return {
        seed: None if (d := _decimal(v)) is None else d * scale
        for seed, v in zip(seeds, values, strict=False)
    }


def _decimal(value: float | int | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


_HEADERS: Final = (
    "scenario",
    "policy",
    "n",
    "fill % iex",
    "fill % sip",
    "Δ fill pp [95 %]",
    "slip iex",
    "slip sip",
    "Δ slip bps [95 %]",
    "NVQ iex",
    "NVQ sip",
)
_CAPTION: Final = (
    "Δ = paired per-seed sip - iex over n seeds; slip in bps vs arrival mid (+ is a cost); "
    "NVQ = items not traded, NO_VALID_QUOTE (all seeds)"
)


def feed_rows(pairs: Sequence[FeedPair]) -> list[tuple[str, ...]]:
    """The table's cells, scenario named on its first row only; n counts the seeds paired on
    slippage (a seed where either run filled nothing has no slippage)."""
    rows: list[tuple[str, ...]] = []
    last = None
    for p in pairs:
        rows.append(
            (
                p.scenario if p.scenario != last else "",
                p.policy,
                "—" if p.slippage is None else str(p.slippage.n),
                _fmt(p.iex.fill_pct, ".2f"),
                _fmt(p.sip.fill_pct, ".2f"),
                _diff(p.fill_pp),
                _fmt(p.iex.slippage_bps, "+.2f"),
                _fmt(p.sip.slippage_bps, "+.2f"),
                _diff(p.slippage),
                _fmt(p.iex.no_valid_quote, "d"),
                _fmt(p.sip.no_valid_quote, "d"),
            )
        )
        last = p.scenario
    return rows


def feed_table(pairs: Sequence[FeedPair]) -> Table:
    table = Table(title="iex vs sip on the same seeds", caption=_CAPTION)
    for header in _HEADERS:
        numeric = header not in ("scenario", "policy")
        table.add_column(header, justify="right" if numeric else "left", no_wrap=numeric)
    for row in feed_rows(pairs):
        table.add_row(*row)
    return table


def feed_markdown(pairs: Sequence[FeedPair]) -> str:
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * 2 + "---:|" * (len(_HEADERS) - 2)]
    lines += ["| " + " | ".join(row) + " |" for row in feed_rows(pairs)]
    return "\n".join(lines) + f"\n\n{_CAPTION}\n"


def _fmt(value: Decimal | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _diff(diff: PairedDiff | None) -> str:
    if diff is None:
        return "—"
    if diff.ci95_bps is None:
        return f"{diff.mean_bps:+.2f}"
    low, high = diff.ci95_bps
    return f"{diff.mean_bps:+.2f} [{low:+.2f}, {high:+.2f}]"
