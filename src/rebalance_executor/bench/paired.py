"""Paired comparisons between policies over the same seeds (SPEC §8).

Every policy sees the identical quote path for a given seed, so two policies are compared by the
per-seed difference of their notional-weighted slippage: the seed-to-seed market variation
cancels, and what is left is the policy effect plus its own noise. For n seeds with both runs
measured: mean of the differences, its standard error (sample SD / sqrt(n)) and a 95% interval
``mean ± t(0.975, n-1) x SE``. Statistics stay in Decimal like the rest of the bench figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

# t(0.975, df) for df = 1..30 (checked against numerical integration of the t density).
_T975: Final = tuple(
    Decimal(v)
    for v in [
        "12.7062",
        "4.3027",
        "3.1824",
        "2.7764",
        "2.5706",
        "2.4469",
        "2.3646",
        "2.3060",
        "2.2622",
        "2.2281",
        "2.2010",
        "2.1788",
        "2.1604",
        "2.1448",
        "2.1314",
        "2.1199",
        "2.1098",
        "2.1009",
        "2.0930",
        "2.0860",
        "2.0796",
        "2.0739",
        "2.0687",
        "2.0639",
        "2.0595",
        "2.0555",
        "2.0518",
        "2.0484",
        "2.0452",
        "2.0423",
    ]
)
_Z975: Final = Decimal("1.959963985")
# Report order of the policies (unknown policies rank last, by name).
RANK: Final = ("market", "anchor", "smart")


@dataclass(frozen=True)
class PairedDiff:
    """Mean over seeds of (policy - other) slippage in bps; se/interval None when n < 2."""

    mean_bps: Decimal
    se_bps: Decimal | None
    ci95_bps: tuple[Decimal, Decimal] | None
    n: int

    @property
    def significantly_below_zero(self) -> bool:
        """True only when the whole 95% interval is below 0 (touching 0 is not significant)."""
        return self.ci95_bps is not None and self.ci95_bps[1] < 0


def t_quantile_975(df: int) -> Decimal:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom. Raises ValueError < 1.

    Exact table to df 30; beyond it the Cornish-Fisher expansion, which matches the table at
    30 and the true quantile to 4 decimals from there on.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1 (got {df})")
    if df <= len(_T975):
        return _T975[df - 1]
    z, v = _Z975, Decimal(df)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum((term / v ** (k + 1) for k, term in enumerate(terms)), Decimal(0))


def paired_diff(
    mine: Mapping[int, Decimal | None], other: Mapping[int, Decimal | None]
) -> PairedDiff | None:
    """Paired difference over the seeds both policies measured; None when there is none.

    A seed where either run filled nothing (slippage None) is left out of the pairing.
    """
    diffs = [
        m - o for seed, m in mine.items() if m is not None and (o := other.get(seed)) is not None
    ]
    n = len(diffs)
    if n == 0:
        return None
    mean = sum(diffs, Decimal(0)) / n
    if n < 2:
        return PairedDiff(mean, None, None, n)
    variance = sum(((d - mean) ** 2 for d in diffs), Decimal(0)) / (n - 1)
    se = variance.sqrt() / Decimal(n).sqrt()
    half = t_quantile_975(n - 1) * se
    return PairedDiff(mean, se, (mean - half, mean + half), n)


def comparisons(policies: Sequence[str]) -> list[tuple[str, str]]:
    """Every ordered (policy, other) pair of distinct policies (SPEC §8: each policy is paired
    with every other policy run), both in report order."""
    ordered = sorted(policies, key=_rank)
    return [(p, o) for p in ordered for o in ordered if o != p]


def _rank(policy: str) -> tuple[int, str]:
    return (RANK.index(policy) if policy in RANK else len(RANK), policy)
