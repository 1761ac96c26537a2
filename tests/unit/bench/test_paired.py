"""Paired per-seed differences: hand-computed mean, standard error and 95% t interval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.bench.paired import PairedDiff, comparisons, paired_diff, t_quantile_975

D = Decimal


def _seeds(*values: str | None) -> dict[int, Decimal | None]:
    return {seed: None if v is None else D(v) for seed, v in enumerate(values)}


def test_mean_se_and_interval_match_the_hand_computation() -> None:
    # diffs -1, 0, -1, -2: mean -1, SS 2, var 2/3, SE sqrt(2/3)/2 = 0.408248..., t(3) 3.1824
    diff = paired_diff(_seeds("1", "2", "3", "6"), _seeds("2", "2", "4", "8"))
    assert diff is not None
    assert diff.n == 4
    assert diff.mean_bps == D(-1)
    assert diff.se_bps is not None
    assert abs(diff.se_bps - D("0.4082483")) < D("1e-7")
    assert diff.ci95_bps is not None
    lo, hi = diff.ci95_bps
    assert abs(lo - D("-2.2992")) < D("1e-4")
    assert abs(hi - D("0.2992")) < D("1e-4")
    assert not diff.significantly_below_zero


def test_an_interval_entirely_below_zero_is_significant() -> None:
    # diffs -1, -2, -1, -2: mean -1.5, SE sqrt(1/3)/2 = 0.288675, half-width 0.918680
    diff = paired_diff(_seeds("0", "0", "0", "0"), _seeds("1", "2", "1", "2"))
    assert diff is not None
    assert diff.mean_bps == D("-1.5")
    assert diff.ci95_bps is not None
    assert abs(diff.ci95_bps[1] - D("-0.5813")) < D("1e-4")
    assert diff.significantly_below_zero


def test_an_interval_touching_zero_is_not_significant() -> None:
    assert not PairedDiff(D(-1), D("0.5"), (D(-2), D(0)), 5).significantly_below_zero
    assert PairedDiff(D(-1), D("0.5"), (D(-2), D("-0.0001")), 5).significantly_below_zero
    assert not PairedDiff(D(-1), None, None, 1).significantly_below_zero


def test_only_seeds_both_policies_measured_are_paired() -> None:
    mine = _seeds("1", None, "3", "5")
    other = {0: D(2), 1: D(2), 3: D(4)}  # seed 2 not run, seed 1 smart filled nothing
    diff = paired_diff(mine, other)
    assert diff is not None
    assert diff.n == 2  # seeds 0 and 3: diffs -1, +1
    assert diff.mean_bps == 0
    assert diff.se_bps == 1
    assert diff.ci95_bps == (D("-12.7062"), D("12.7062"))


def test_one_seed_has_a_mean_but_no_interval_and_none_has_nothing() -> None:
    single = paired_diff(_seeds("1"), _seeds("3"))
    assert single == PairedDiff(D(-2), None, None, 1)
    assert paired_diff(_seeds(None), _seeds("3")) is None
    assert paired_diff({}, {}) is None


def test_t_quantiles_table_and_expansion() -> None:
    assert t_quantile_975(1) == D("12.7062")
    assert t_quantile_975(9) == D("2.2622")
    assert t_quantile_975(30) == D("2.0423")
    # past the table: Cornish-Fisher, against the true quantiles to 4 decimals
    for df, expected in ((31, "2.0395"), (40, "2.0211"), (60, "2.0003"), (120, "1.9799")):
        assert abs(t_quantile_975(df) - D(expected)) < D("0.0001"), df
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile_975(0)


def test_comparisons_pair_each_policy_with_every_other_in_report_order() -> None:
    assert comparisons(["smart", "market", "anchor"]) == [
        ("market", "anchor"),
        ("market", "smart"),
        ("anchor", "market"),
        ("anchor", "smart"),
        ("smart", "market"),
        ("smart", "anchor"),
    ]
    assert comparisons(["smart"]) == []
    assert comparisons(["smart", "market"]) == [("market", "smart"), ("smart", "market")]
