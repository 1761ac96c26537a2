"""iex vs sip paired offline: two bench JSON documents (one per feed, same seeds) → per-seed
differences sip - iex of slippage and fill with their 95 % interval, and NO_VALID_QUOTE counts."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rebalance_executor.bench.feed_pairs import (
    FeedPairError,
    feed_markdown,
    load_bench,
    pair_feeds,
)
from rebalance_executor.bench.metrics import ItemMeasure, RunRecord
from rebalance_executor.bench.report import ScenarioReport, aggregate, bench_json
from rebalance_executor.cli.main import main

SEEDS = (0, 1, 2)


def _run(policy: str, seed: int, bps: str, *, qty: str = "10", nvq: int = 0) -> RunRecord:
    """One buy of 10 planned, filled ``bps`` above the arrival mid of 100."""
    avg = Decimal(100) + Decimal(bps) / 100
    item = ItemMeasure("X", 1, Decimal(1000), Decimal(10), Decimal(qty), avg, Decimal(100), None, 1)
    record = RunRecord("calm", policy, seed, "SUCCEEDED", (item,), 60.0, 40, 30, 10, None, (), 1.0)
    return dataclasses.replace(record, no_valid_quote=nvq)


def _document(feed: str, runs: dict[str, list[RunRecord]], *, scenarios: int = 2) -> Any:
    """What ``bench --json`` writes for the runs (through a JSON round trip, as from a file)."""
    report = ScenarioReport(
        "calm", "quality", 1, SEEDS, {p: aggregate(r) for p, r in runs.items()}, True, 1.0
    )
    names = ("calm", "wide")[:scenarios]
    document = bench_json([dataclasses.replace(report, scenario=n) for n in names], 1.0, 2)
    document["feed"] = feed
    return json.loads(json.dumps(document))


def _iex() -> Any:
    runs = [_run("market", s, c) for s, c in zip(SEEDS, "231", strict=True)]
    return _document("iex", {"market": runs})


def _sip(costs: str = "121", qty: str = "10", nvq: int = 0) -> Any:
    runs = [_run("market", s, a, qty=qty, nvq=nvq) for s, a in zip(SEEDS, costs, strict=True)]
    return _document("sip", {"market": runs})


def test_slippage_difference_is_sip_minus_iex_per_seed_with_a_t_interval() -> None:
    # iex costs 2, 3, 1 bps; sip 1, 2, 1 → differences -1, -1, 0
    pairs = pair_feeds(_iex(), _sip())
    assert [(p.scenario, p.policy) for p in pairs] == [("calm", "market"), ("wide", "market")]
    diff = pairs[0].slippage
    assert diff is not None
    assert diff.n == 3
    assert diff.mean_bps == pytest.approx(Decimal(-2) / 3, abs=Decimal("1e-9"))
    # sd of (-1, -1, 0) = 0.57735; se = sd / sqrt 3 = 1/3; half width = t(0.975, 2) x se
    assert diff.ci95_bps is not None
    half = Decimal("4.3027") / 3
    assert diff.ci95_bps[0] == pytest.approx(diff.mean_bps - half, abs=Decimal("1e-6"))
    assert diff.ci95_bps[1] == pytest.approx(diff.mean_bps + half, abs=Decimal("1e-6"))
    assert pairs[0].iex.slippage_bps == Decimal(2)
    assert pairs[0].sip.slippage_bps == pytest.approx(Decimal(4) / 3, abs=Decimal("0.01"))


def test_fill_difference_is_in_percentage_points_and_no_valid_quote_counts_per_feed() -> None:
    pairs = pair_feeds(_iex(), _sip(qty="9", nvq=1))
    fill = pairs[0].fill_pp
    assert fill is not None
    assert fill.mean_bps == Decimal(-10)  # 90 % on sip against 100 % on iex, every seed
    assert fill.ci95_bps == (Decimal(-10), Decimal(-10))
    assert pairs[0].iex.fill_pct == 100
    assert pairs[0].sip.fill_pct == 90
    assert (pairs[0].iex.no_valid_quote, pairs[0].sip.no_valid_quote) == (0, 3)


def test_a_single_scenario_document_pairs_too() -> None:
    iex = _document("iex", {"market": [_run("market", s, "2") for s in SEEDS]}, scenarios=1)
    sip = _document("sip", {"market": [_run("market", s, "1") for s in SEEDS]}, scenarios=1)
    (pair,) = pair_feeds(iex, sip)
    assert pair.slippage is not None
    assert pair.slippage.mean_bps == Decimal(-1)


def test_documents_that_do_not_pair_are_refused() -> None:
    with pytest.raises(FeedPairError, match="--feed iex"):
        pair_feeds(_sip(), _sip())
    with pytest.raises(FeedPairError, match="--feed sip"):
        pair_feeds(_iex(), {**_sip(), "feed": None})
    other_seeds = _sip()
    other_seeds["scenarios"][0]["seeds"] = [7, 8, 9]
    with pytest.raises(FeedPairError, match="different seeds"):
        pair_feeds(_iex(), other_seeds)
    with pytest.raises(FeedPairError, match="different scenarios"):
        pair_feeds(_iex(), {**_sip(), "scenarios": _sip()["scenarios"][:1]})
    other_policies = _document("sip", {"smart": [_run("smart", s, "1") for s in SEEDS]})
    with pytest.raises(FeedPairError, match="different policies"):
        pair_feeds(_iex(), other_policies)
    no_policies = _sip()
    del no_policies["scenarios"][1]["policies"]
    with pytest.raises(FeedPairError, match="not a bench --json document"):
        pair_feeds(_iex(), no_policies)


def test_markdown_has_a_row_per_scenario_and_policy_with_the_interval() -> None:
    text = feed_markdown(pair_feeds(_iex(), _sip()))
    lines = text.splitlines()
    assert len(lines) == 2 + 2 + 2  # header, rule, two rows, blank, caption
    assert "| calm | market | 3 | 100.00 | 100.00 | +0.00 [+0.00, +0.00] | +2.00 |" in text
    assert lines[2].endswith("| -0.67 [-2.10, +0.77] | 0 | 0 |")
    assert lines[3].startswith("| wide | market |")
    assert "NO_VALID_QUOTE" in lines[5]


def test_cli_pairs_two_files_and_rejects_an_unreadable_one(tmp_path: Path) -> None:
    iex, sip, out = tmp_path / "iex.json", tmp_path / "sip.json", tmp_path / "feeds.md"
    iex.write_text(json.dumps(_iex()), encoding="utf-8")
    sip.write_text(json.dumps(_sip()), encoding="utf-8")
    assert main(["bench", "--pair-feeds", str(iex), str(sip), "--markdown", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == feed_markdown(pair_feeds(_iex(), _sip()))
    sip.write_text("{not json", encoding="utf-8")
    assert main(["bench", "--pair-feeds", str(iex), str(sip)]) == 2
    with pytest.raises(FeedPairError, match=r"missing\.json"):
        load_bench(tmp_path / "missing.json")
