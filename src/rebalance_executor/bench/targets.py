"""The SPEC §8 target verdict for ``smart``, computed from the reports (never hand-written).

Per scenario: smart beats ``market`` and ``anchor`` on notional-weighted slippage (strictly: a
tie is not a beat) and, separately, significantly (the 95% interval of the paired per-seed
difference lies entirely below 0); fill rate >= 99.5%; requests per order <= 4; peak requests
per minute < 200; all policies saw identical quote paths. Across the set: the scale set's
200-item plan keeps its peak under 200 requests per minute. A check that cannot be judged (a
rival not run, nothing filled) is listed as not judged, never counted as met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from rebalance_executor.bench.paired import PairedDiff
from rebalance_executor.bench.report import ScenarioReport, paired, paired_json

FILL_TARGET: Final = Decimal("0.995")
REQUESTS_PER_ORDER_TARGET: Final = Decimal(4)
PEAK_PER_MIN_TARGET: Final = 200
SCALE_PEAK_ITEMS: Final = 200
CANDIDATE: Final = "smart"
RIVALS: Final = ("market", "anchor")


@dataclass(frozen=True)
class Beat:
    """Smart against one rival in one scenario; ``beats`` is None when it cannot be judged."""

    rival: str
    rival_run: bool
    smart_bps: Decimal | None
    rival_bps: Decimal | None
    paired: PairedDiff | None

    @property
    def beats(self) -> bool | None:
        if not self.rival_run or self.rival_bps is None:
            return None
        return self.smart_bps is not None and self.smart_bps < self.rival_bps

    @property
    def significant(self) -> bool | None:
        """Beats on the mean AND the paired 95% interval is entirely below 0."""
        if self.beats is None:
            return None
        return self.beats and self.paired is not None and self.paired.significantly_below_zero


@dataclass(frozen=True)
class ScenarioVerdict:
    scenario: str
    is_scale_200: bool
    beats: tuple[Beat, ...]
    fill_rate: Decimal
    requests_per_order: Decimal | None
    peak_requests_per_min: int
    quote_paths_identical: bool

    @property
    def checks(self) -> dict[str, bool | None]:
        """Every check of the scenario by name; None = could not be judged."""
        rpo = self.requests_per_order
        return {
            **{f"beats_{b.rival}": b.beats for b in self.beats},
            "fill_rate_ok": self.fill_rate >= FILL_TARGET,
            "requests_per_order_ok": None if rpo is None else rpo <= REQUESTS_PER_ORDER_TARGET,
            "peak_ok": self.peak_requests_per_min < PEAK_PER_MIN_TARGET,
            "quote_paths_identical": self.quote_paths_identical,
        }

    @property
    def met(self) -> bool:
        """Every judged check passed (unjudged checks are reported by ``not_judged``)."""
        return all(v is not False for v in self.checks.values())

    @property
    def met_significantly(self) -> bool:
        return self.met and all(b.significant is not False for b in self.beats)

    def misses(self) -> list[str]:
        """One sentence per failed check."""
        name, out = self.scenario, []
        for b in self.beats:
            if b.beats is False:
                out.append(
                    f"{name}: smart slippage {_bps(b.smart_bps)} bps does not beat "
                    f"{b.rival} {_bps(b.rival_bps)} bps"
                )
        if self.fill_rate < FILL_TARGET:
            out.append(f"{name}: smart fill rate {self.fill_rate * 100:.2f}% < 99.5%")
        rpo = self.requests_per_order
        if rpo is not None and rpo > REQUESTS_PER_ORDER_TARGET:
            out.append(f"{name}: smart {rpo:.2f} requests per order > 4")
        if self.peak_requests_per_min >= PEAK_PER_MIN_TARGET:
            out.append(f"{name}: smart peak {self.peak_requests_per_min} requests/min ≥ 200")
        if not self.quote_paths_identical:
            out.append(f"{name}: policies did NOT see identical quote paths")
        return out

    def not_judged(self) -> list[str]:
        out = []
        for b in self.beats:
            if b.beats is None:
                why = "not run" if not b.rival_run else "filled nothing"
                out.append(f"{self.scenario}: {b.rival} {why}, smart not judged against it")
        if self.requests_per_order is None:
            out.append(f"{self.scenario}: smart placed no orders, requests per order not judged")
        return out


@dataclass(frozen=True)
class TargetVerdict:
    scenarios: tuple[ScenarioVerdict, ...]

    @property
    def scale_200(self) -> ScenarioVerdict | None:
        return next((v for v in self.scenarios if v.is_scale_200), None)

    @property
    def met(self) -> bool:
        return all(v.met for v in self.scenarios)

    @property
    def met_significantly(self) -> bool:
        return all(v.met_significantly for v in self.scenarios)

    def misses(self) -> list[str]:
        return [line for v in self.scenarios for line in v.misses()]

    def not_judged(self) -> list[str]:
        out = [line for v in self.scenarios for line in v.not_judged()]
        if self.scale_200 is None:
            out.append("scale set's 200-item plan not run (its peak < 200 requests/min target)")
        return out


def judge(reports: Sequence[ScenarioReport]) -> TargetVerdict | None:
    """The verdict over the scenarios where smart ran; None when it ran in none."""
    verdicts = tuple(_scenario(r) for r in reports if CANDIDATE in r.policies)
    return TargetVerdict(verdicts) if verdicts else None


def _scenario(report: ScenarioReport) -> ScenarioVerdict:
    smart = report.policies[CANDIDATE]
    pairs = paired(report)[CANDIDATE]
    beats = []
    for rival in RIVALS:
        stats = report.policies.get(rival)
        beats.append(
            Beat(
                rival=rival,
                rival_run=stats is not None,
                smart_bps=smart.slippage_bps,
                rival_bps=None if stats is None else stats.slippage_bps,
                paired=pairs.get(rival),
            )
        )
    return ScenarioVerdict(
        scenario=report.scenario,
        is_scale_200=report.kind == "scale" and report.item_count >= SCALE_PEAK_ITEMS,
        beats=tuple(beats),
        fill_rate=smart.fill_rate,
        requests_per_order=smart.requests_per_order,
        peak_requests_per_min=smart.peak_requests_per_min,
        quote_paths_identical=report.quote_paths_identical,
    )


def targets_json(verdict: TargetVerdict | None) -> dict[str, Any] | None:
    """The ``targets`` document; None when smart did not run."""
    if verdict is None:
        return None
    scale = verdict.scale_200
    return {
        "candidate": CANDIDATE,
        "met": verdict.met,
        "met_significantly": verdict.met_significantly,
        "scale_200_peak": None
        if scale is None
        else {
            "scenario": scale.scenario,
            "peak_requests_per_min": scale.peak_requests_per_min,
            "met": scale.peak_requests_per_min < PEAK_PER_MIN_TARGET,
        },
        "scenarios": {v.scenario: _scenario_json(v) for v in verdict.scenarios},
        "misses": verdict.misses(),
        "not_judged": verdict.not_judged(),
    }


def _scenario_json(v: ScenarioVerdict) -> dict[str, Any]:
    return {
        "beats": {
            b.rival: {
                "smart_bps": _float(b.smart_bps),
                "rival_bps": _float(b.rival_bps),
                "beats": b.beats,
                "significant": b.significant,
                "paired": paired_json(b.paired),
            }
            for b in v.beats
        },
        "fill_rate": _float(v.fill_rate, 5),
        "requests_per_order": _float(v.requests_per_order),
        "peak_requests_per_min": v.peak_requests_per_min,
        "checks": v.checks,
        "met": v.met,
        "met_significantly": v.met_significantly,
    }


def _float(value: Decimal | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def _bps(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.2f}"
