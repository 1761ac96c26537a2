"""The SPEC §8 targets for ``smart``, computed from the reports (never hand-written).

Per scenario where smart ran, every check below is met (✓), missed (✗) or not judged (—):

* gates: smart's fill rate ≥ 99.5 %; zero §4.10 violations in smart's runs; ≤ 4 API requests
  per broker order (a replace is an order);
* ``not_worse_than_market``: the 95 % interval of the paired per-seed smart - market slippage
  is not above zero (its lower end ≤ 0: smart is not significantly worse);
* ``ahead_of_anchor``: the mean over seeds of the paired smart - anchor slippage is below zero
  (smart cheaper on average on the same markets); ``significant`` when its whole 95 % interval
  is below zero (reported, not required);
* ``half_spread_saving``: the saving against market (bench.spread: mean market - smart, in
  smart's pooled arrival half-spread) reaches ½ where the spread is wider than one tick and ¼
  where it is one tick. The class is decided per scenario from smart's arrival spread in ticks
  (filled-notional-weighted mean): one tick when below ``ONE_TICK_BELOW`` (1.5) ticks;
* ``quote_paths_identical``: every policy saw the same market (else no comparison is valid).

The price checks need the held-out sample SPEC §8 asks for: with fewer than ``MIN_SEEDS`` paired
seeds they are not judged. A scenario is *met* when every check is met, *not met* when any is
missed, *not judged* otherwise; the set likewise. Not judged is never reported as met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import ScenarioReport, paired, saving_json
from rebalance_executor.bench.spread import HalfSpreadSaving, saving

FILL_TARGET: Final = Decimal("0.995")
REQUESTS_PER_ORDER_TARGET: Final = Decimal(4)
MIN_SEEDS: Final = 30
ONE_TICK_BELOW: Final = Decimal("1.5")
SAVING_ONE_TICK: Final = Decimal("0.25")
SAVING_WIDER: Final = Decimal("0.5")
CANDIDATE: Final = "smart"


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    NOT_JUDGED = "not judged"


@dataclass(frozen=True)
class Check:
    """One target: ``ok`` None = not judged; ``figure`` is the measured value (a table cell),
    ``detail`` the sentence with the rule, or why it was not judged."""

    name: str
    ok: bool | None
    figure: str
    detail: str


def outcome_of(oks: Sequence[bool | None]) -> Outcome:
    """Any miss → not met; all met → met; otherwise not judged."""
    if any(ok is False for ok in oks):
        return Outcome.NOT_MET
    return Outcome.MET if all(ok is True for ok in oks) else Outcome.NOT_JUDGED


@dataclass(frozen=True)
class ScenarioVerdict:
    scenario: str
    checks: tuple[Check, ...]
    spread_ticks: Decimal | None  # smart's arrival spread in ticks (weighted mean)
    required_fraction: Decimal | None  # ¼ or ½ of the half-spread; None without a spread
    saved_vs_market: HalfSpreadSaving | None
    saved_vs_anchor: HalfSpreadSaving | None
    ahead_significant: bool | None  # smart - anchor interval entirely below zero

    @property
    def outcome(self) -> Outcome:
        return outcome_of([c.ok for c in self.checks])

    def check(self, name: str) -> Check:
        """The named check. Raises KeyError for an unknown name."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def misses(self) -> list[str]:
        return [f"{self.scenario}: {c.name}: {c.detail}" for c in self.checks if c.ok is False]

    def not_judged(self) -> list[str]:
        return [f"{self.scenario}: {c.name}: {c.detail}" for c in self.checks if c.ok is None]


@dataclass(frozen=True)
class TargetVerdict:
    scenarios: tuple[ScenarioVerdict, ...]

    @property
    def outcome(self) -> Outcome:
        return outcome_of([_as_ok(v.outcome) for v in self.scenarios])

    def misses(self) -> list[str]:
        return [line for v in self.scenarios for line in v.misses()]

    def not_judged(self) -> list[str]:
        return [line for v in self.scenarios for line in v.not_judged()]


def _as_ok(outcome: Outcome) -> bool | None:
    return {Outcome.MET: True, Outcome.NOT_MET: False}.get(outcome)


def judge(reports: Sequence[ScenarioReport]) -> TargetVerdict | None:
    """The verdict over the scenarios where smart ran; None when it ran in none."""
    verdicts = tuple(judge_scenario(r) for r in reports if CANDIDATE in r.policies)
    return TargetVerdict(verdicts) if verdicts else None


def judge_scenario(report: ScenarioReport) -> ScenarioVerdict:
    """Every check of one scenario. Raises KeyError when smart did not run in it."""
    smart = report.policies[CANDIDATE]
    pairs = paired(report)[CANDIDATE]
    h = smart.half_spread_bps
    required = required_fraction(smart.spread_ticks)
    vs_market, vs_anchor = pairs.get("market"), pairs.get("anchor")
    saved = saving(vs_market, h)
    checks = (
        _fill(smart.fill_rate),
        Check(
            "violations",
            smart.violations == 0,
            str(smart.violations),
            f"{smart.violations} §4.10 violations in smart's runs",
        ),
        _requests(smart.requests_per_order),
        _not_worse(vs_market, "market" in report.policies),
        _ahead(vs_anchor, "anchor" in report.policies),
        _saving(saved, required, "market" in report.policies),
        _same_market(report.quote_paths_identical),
    )
    return ScenarioVerdict(
        scenario=report.scenario,
        checks=checks,
        spread_ticks=smart.spread_ticks,
        required_fraction=required,
        saved_vs_market=saved,
        saved_vs_anchor=saving(vs_anchor, h),
        ahead_significant=None if vs_anchor is None else vs_anchor.significantly_below_zero,
    )


def required_fraction(spread_ticks: Decimal | None) -> Decimal | None:
    """¼ of the half-spread for a one-tick scenario (< 1.5 ticks on average), ½ otherwise."""
    if spread_ticks is None:
        return None
    return SAVING_ONE_TICK if spread_ticks < ONE_TICK_BELOW else SAVING_WIDER


def _fill(rate: Decimal) -> Check:
    ok = rate >= FILL_TARGET
    figure = f"{rate * 100:.2f} %"
    return Check("fill", ok, figure, f"fill {figure} {'≥' if ok else '<'} 99.5 %")


def _requests(rpo: Decimal | None) -> Check:
    if rpo is None:
        return Check("requests_per_order", None, "—", "smart placed no orders")
    ok = rpo <= REQUESTS_PER_ORDER_TARGET
    return Check("requests_per_order", ok, f"{rpo:.2f}", f"{rpo:.2f} {'≤' if ok else '>'} 4")


def _interval(diff: PairedDiff) -> str:
    ci = diff.ci95_bps
    return f"{diff.mean_bps:+.2f}" + ("" if ci is None else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]")


def _why_not_judged(rival: str, rival_run: bool, n: int | None) -> str | None:
    """Why a comparison with ``rival`` over ``n`` paired seeds cannot be judged; None if it can."""
    if not rival_run:
        return f"{rival} not run"
    if n is None or n < 2:
        return f"fewer than 2 seeds where smart and {rival} both filled"
    if n < MIN_SEEDS:
        return f"{n} paired seeds < {MIN_SEEDS} (SPEC §8: held-out sample)"
    return None


def _not_worse(diff: PairedDiff | None, market_run: bool) -> Check:
    name = "not_worse_than_market"
    figure = "—" if diff is None else _interval(diff)
    why = _why_not_judged("market", market_run, None if diff is None else diff.n)
    if why is not None or diff is None or diff.ci95_bps is None:
        return Check(name, None, figure, why or "no paired interval")
    ok = diff.ci95_bps[0] <= 0
    verb = "not above" if ok else "above"
    return Check(name, ok, figure, f"smart - market {figure} bps: interval {verb} zero")


def _ahead(diff: PairedDiff | None, anchor_run: bool) -> Check:
    name = "ahead_of_anchor"
    figure = "—" if diff is None else _interval(diff)
    why = _why_not_judged("anchor", anchor_run, None if diff is None else diff.n)
    if why is not None or diff is None:
        return Check(name, None, figure, why or "no paired difference")
    ok = diff.mean_bps < 0
    return Check(name, ok, figure, f"smart - anchor {figure} bps: mean {'<' if ok else '≥'} 0")


def _saving(saved: HalfSpreadSaving | None, required: Decimal | None, market_run: bool) -> Check:
    name = "half_spread_saving"
    figure = "—" if saved is None else f"{saved.fraction:+.2f}"
    why = _why_not_judged("market", market_run, None if saved is None else saved.n)
    if why is not None or saved is None or required is None:
        return Check(name, None, figure, why or "no arrival half-spread")
    ok = saved.fraction >= required
    sign = "≥" if ok else "<"
    return Check(name, ok, figure, f"saved {figure} of the half-spread vs market {sign} {required}")


def _same_market(identical: bool) -> Check:
    detail = (
        "every policy saw the same quote path"
        if identical
        else ("policies saw different quote paths: no comparison is valid")
    )
    return Check("quote_paths_identical", identical, "yes" if identical else "no", detail)


def targets_json(verdict: TargetVerdict | None) -> dict[str, Any] | None:
    """The ``targets`` document; None when smart did not run."""
    if verdict is None:
        return None
    return {
        "candidate": CANDIDATE,
        "outcome": verdict.outcome.value,
        "scenarios": {v.scenario: _scenario_json(v) for v in verdict.scenarios},
        "misses": verdict.misses(),
        "not_judged": verdict.not_judged(),
    }


def _scenario_json(v: ScenarioVerdict) -> dict[str, Any]:
    ticks, required = v.spread_ticks, v.required_fraction
    return {
        "outcome": v.outcome.value,
        "arrival_spread_ticks": None if ticks is None else round(float(ticks), 3),
        "spread_class": None if required is None else _spread_class(required),
        "required_fraction": None if required is None else float(required),
        "saved_vs_market": saving_json(v.saved_vs_market),
        "saved_vs_anchor": saving_json(v.saved_vs_anchor),
        "ahead_of_anchor_significant": v.ahead_significant,
        "checks": {c.name: {"ok": c.ok, "figure": c.figure, "detail": c.detail} for c in v.checks},
    }


def _spread_class(required: Decimal) -> str:
    return "one-tick" if required == SAVING_ONE_TICK else "wider-than-one-tick"
