"""SPEC §6 safety controls, each through the real handler (simulator + moto).

Every test asserts the outcome the handler returns and what the broker actually received.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from rebalance_executor import handler
from rebalance_executor.adapters.kill_switch import EnvSsmKillSwitch
from rebalance_executor.adapters.s3_results import ResultWriteError
from rebalance_executor.domain.broker import BrokerOrder, BrokerPort, OrderRequest
from rebalance_executor.settings import SettingsError, load_settings
from tests.integration.faults.brokers import CrashInjected, InterceptingBroker
from tests.integration.faults.harness import KEY_ID, Rig

MARKET = {"EXECUTION_POLICY": "market"}


def _item(doc: dict[str, object], symbol: str) -> dict[str, object]:
    items = doc["items"]
    assert isinstance(items, list)
    [found] = [i for i in items if i["symbol"] == symbol]
    assert isinstance(found, dict)
    return found


def _item_blocked(rig: Rig, event: dict[str, Any], symbol: str, reason: str) -> dict[str, Any]:
    """Asserts the fill invariant, that ``symbol``'s item reports ``reason`` and that the broker
    got no order for it. Returns the result document."""
    plan_id = event["detail"]["plan_id"]
    doc = rig.assert_invariant(plan_id)
    assert _item(doc, symbol)["reason"] == reason
    assert all(o["symbol"] != symbol for o in rig.orders(plan_id))
    return doc


# --- plan age ---------------------------------------------------------------------------------


def test_plan_older_than_max_age_is_rejected_after_only_the_reconciliation_listing(
    rig: Rig,
) -> None:
    """SPEC §4.2: even a stale plan looks for earlier attempts' orders first (one listing);
    with none, it is REJECTED and nothing else reaches the broker."""
    rig.rebuild(MAX_PLAN_AGE_S="60")
    event = rig.event([("SPY", "BUY", "1000")])
    stale = (rig.sim.clock.now() - timedelta(seconds=120)).isoformat()
    event["detail"]["timestamp"] = stale
    summary = rig.invoke(event)
    assert summary["status"] == "REJECTED"
    assert "MAX_PLAN_AGE_S=60" in summary["reason"]
    assert rig.sim.control.request_counts() == {"GET /v2/orders": 1}
    assert rig.result_doc(event["detail"]["plan_id"])["status"] == "REJECTED"


def test_regression_stale_redelivery_reports_the_first_attempts_fills(rig: Rig) -> None:
    """Reproduced (issue 15): attempt 1 traded, then its S3 write failed; the retry, now older
    than MAX_PLAN_AGE_S, stored REJECTED with 0 fills. It must report the broker's fills."""
    bucket = rig.resources.bucket
    dropped: list[bool] = []

    def drop_bucket(name: str, _number: int) -> None:
        if name == "submit_order" and not dropped:
            dropped.append(True)
            boto3.client("s3").delete_bucket(Bucket=bucket)

    rig.rebuild(lambda inner: InterceptingBroker(inner, drop_bucket), MAX_PLAN_AGE_S="30", **MARKET)
    event = rig.event([("SPY", "BUY", "2000"), ("QQQ", "BUY", "2000")])
    plan_id = event["detail"]["plan_id"]
    with pytest.raises(ResultWriteError):
        rig.invoke(event)
    assert rig.filled_by_item(plan_id)  # attempt 1 left fills at the broker
    posts = rig.order_posts()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rig.sim.control.advance_time(60)  # the redelivery comes a minute later: stale
    rig.rebuild(MAX_PLAN_AGE_S="30", **MARKET)
    summary = rig.invoke(event)
    doc = rig.assert_invariant(plan_id)  # the result reports exactly the broker's fills
    assert summary["status"] in {"SUCCEEDED", "PARTIAL"}
    assert "MAX_PLAN_AGE_S=30" in summary["reason"]
    assert Decimal(str(summary["filled_notional"])) > 0
    assert doc["status"] == summary["status"]
    assert all(o["status"] in {"filled", "canceled"} for o in rig.orders(plan_id))
    assert rig.order_posts() == posts  # nothing new from the stale redelivery
    assert any(k.startswith("ledger/") and f"plan_id={plan_id}/" in k for k in rig.s3_keys())


class CrashAfterFirstSubmit(InterceptingBroker):
    """The invocation dies once its first order has reached the broker. The items submit
    concurrently, so a second submit waits for the first to land, then dies too (without
    sending): "attempt 1 left exactly one order" holds whatever the threads' timing."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner, lambda _name, _number: None)
        self._first_sent = False
        self._first_landed = asyncio.Event()

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if self._first_sent:
            await self._first_landed.wait()
            raise CrashInjected("invocation died after its first order")
        self._first_sent = True
        try:
            await super().submit_order(request)
        finally:
            self._first_landed.set()
        raise CrashInjected("invocation died after its first order")


@pytest.mark.parametrize(
    ("stop", "env", "reason", "code"),
    [
        ("closed", {}, "market is closed", "MARKET_CLOSED"),
        ("cap", {"MAX_ORDER_NOTIONAL": "1000"}, "MAX_ORDER_NOTIONAL", "ORDER_CAP"),
        ("kill", {"KILL_SWITCH": "true"}, "kill switch is engaged", "KILL_SWITCH"),
    ],
)
def test_regression_early_exit_redelivery_reports_the_first_attempts_fills(
    rig: Rig, stop: str, env: dict[str, str], reason: str, code: str
) -> None:
    """Attempt 1 dies after its first order; the redelivery must stop early (market closed,
    cap, kill switch). It reports attempt 1's fills (PARTIAL), never "REJECTED/SKIPPED, 0"."""
    rig.rebuild(CrashAfterFirstSubmit, **MARKET)
    event = rig.event([("SPY", "BUY", "2000"), ("QQQ", "BUY", "2000")])
    plan_id = event["detail"]["plan_id"]
    with pytest.raises(CrashInjected):
        rig.invoke(event)
    rig.sim.control.advance_time(5)  # attempt 1's market order executes
    assert rig.filled_by_item(plan_id).get(0, Decimal(0)) > 0
    if stop == "closed":
        rig.sim.control.set_market_open(False)
    rig.rebuild(**MARKET, **env)
    summary = rig.invoke(event)
    doc = rig.assert_invariant(plan_id)
    assert summary["status"] == "PARTIAL"
    assert summary["reason"].startswith(reason)
    assert _item(doc, "SPY")["outcome"] == "FILLED"
    assert _item(doc, "QQQ")["reason"] == code
    assert rig.order_posts() == 1
    assert all(o["symbol"] == "SPY" for o in rig.orders(plan_id))


# --- market hours, account state ----------------------------------------------------------------


def test_closed_market_skips_without_orders(rig: Rig) -> None:
    rig.sim.control.set_market_open(False)
    event = rig.event([("SPY", "BUY", "1000")])
    summary = rig.invoke(event)
    assert summary["status"] == "SKIPPED"
    assert "closed" in summary["reason"]
    assert rig.order_posts() == 0


def test_blocked_account_is_rejected_without_orders(rig: Rig) -> None:
    rig.sim.control.set_account(KEY_ID, trading_blocked=True)
    summary = rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert summary["status"] == "REJECTED"
    assert rig.order_posts() == 0


# --- kill switch --------------------------------------------------------------------------------


def test_kill_switch_env_rejects_without_orders(rig: Rig) -> None:
    rig.rebuild(KILL_SWITCH="true")
    summary = rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert summary["status"] == "REJECTED"
    assert "kill switch" in summary["reason"]
    assert rig.order_posts() == 0


@pytest.mark.parametrize(("value", "status"), [("true", "REJECTED"), ("false", "SUCCEEDED")])
def test_kill_switch_parameter_value_decides(rig: Rig, value: str, status: str) -> None:
    boto3.client("ssm").put_parameter(Name="/safety/kill", Value=value, Type="String")
    rig.rebuild(KILL_SWITCH_PARAMETER="/safety/kill", **MARKET)
    summary = rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert summary["status"] == status
    assert (rig.order_posts() == 0) is (status == "REJECTED")


def test_unreadable_kill_switch_parameter_fails_closed(rig: Rig) -> None:
    rig.rebuild(KILL_SWITCH_PARAMETER="/safety/does-not-exist")
    summary = rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert summary["status"] == "REJECTED"
    assert rig.order_posts() == 0


def test_kill_switch_between_phases_blocks_buys(rig: Rig) -> None:
    """The switch flips while the SELL phase runs: sells finish, no BUY order is sent."""
    rig.sim.control.set_account(KEY_ID, positions={"QQQ": Decimal(20)})
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/safety/kill", Value="false", Type="String")

    def flip(name: str, _number: int) -> None:
        if name == "submit_order":
            ssm.put_parameter(Name="/safety/kill", Value="true", Type="String", Overwrite=True)

    def wrap(inner: BrokerPort) -> BrokerPort:
        return InterceptingBroker(inner, flip)

    deps = rig.rebuild(wrap, KILL_SWITCH_PARAMETER="/safety/kill", **MARKET)
    # An uncached switch (the production cache is 5 real seconds; the simulator runs 20x).
    uncached = EnvSsmKillSwitch(env_flag=False, ssm=ssm, parameter="/safety/kill", cache_s=0)
    handler.reset_dependencies(dataclasses.replace(deps, kill_switch=uncached))
    event = rig.event([("QQQ", "SELL", "-4300"), ("SPY", "BUY", "2000")])
    summary = rig.invoke(event)

    doc = rig.assert_invariant(event["detail"]["plan_id"])
    assert summary["status"] == "PARTIAL"
    assert _item(doc, "QQQ")["outcome"] == "FILLED"
    assert _item(doc, "SPY")["reason"] == "KILL_SWITCH"
    sides = {o["side"] for o in rig.orders(event["detail"]["plan_id"])}
    assert sides == {"sell"}


def test_kill_switch_engaged_mid_phase_cancels_the_resting_order(rig: Rig) -> None:
    """The switch flips while a passive limit rests: the next working tick cancels it and no
    further order (re-peg, take) is sent."""
    rig.sim.control.freeze_market(True)  # a passive limit rests
    # a spread wider than one tick, so the passive limit sits inside it rather than at the ask
    rig.sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"))
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/safety/kill", Value="false", Type="String")

    def flip(name: str, _number: int) -> None:
        if name == "submit_order":
            ssm.put_parameter(Name="/safety/kill", Value="true", Type="String", Overwrite=True)

    deps = rig.rebuild(
        lambda inner: InterceptingBroker(inner, flip),
        KILL_SWITCH_PARAMETER="/safety/kill",
        SMART_MIN_PASSIVE_SPREAD_BPS="0",
        # the NBBO the order rests against: on iex a wider single-venue quote can make the
        # policy's passive price marketable against the NBBO, and then nothing rests
        ALPACA_DATA_FEED="sip",
    )
    uncached = EnvSsmKillSwitch(env_flag=False, ssm=ssm, parameter="/safety/kill", cache_s=0)
    handler.reset_dependencies(dataclasses.replace(deps, kill_switch=uncached))
    event = rig.event([("SPY", "BUY", "2000")])
    summary = rig.invoke(event, timeout_s=120.0)
    plan_id = event["detail"]["plan_id"]
    doc = rig.assert_invariant(plan_id)
    assert summary["status"] == "FAILED"
    assert _item(doc, "SPY")["reason"] == "KILL_SWITCH"
    assert [o["status"] for o in rig.orders(plan_id)] == ["canceled"]
    assert rig.order_posts() == 1
    assert float(doc["budget"]["total_s"]) < 30  # not worked for the rest of the window


def test_kill_switch_on_redelivery_cancels_the_plans_live_orders(rig: Rig) -> None:
    """An attempt dies with a resting order; the redelivery finds the switch on, cancels it."""
    rig.sim.control.freeze_market(True)  # no random walk, no takers: a passive limit rests
    # a spread wider than one tick, so the passive limit sits inside it rather than at the ask
    rig.sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"))
    submitted: list[str] = []

    def crash_after_submit(name: str, _number: int) -> None:
        if submitted and name != "submit_order":
            raise CrashInjected("invocation died after submitting")
        if name == "submit_order":
            submitted.append(name)

    # gate 0: SPY's 1 bps spread would otherwise be taken at once instead of resting
    rig.rebuild(
        lambda inner: InterceptingBroker(inner, crash_after_submit),
        SMART_MIN_PASSIVE_SPREAD_BPS="0",
        ALPACA_DATA_FEED="sip",  # rests against the NBBO (see the test above)
    )
    event = rig.event([("SPY", "BUY", "2000")])
    plan_id = event["detail"]["plan_id"]
    with pytest.raises(CrashInjected):
        rig.invoke(event)
    [resting] = rig.orders(plan_id)
    assert resting["status"] in {"new", "accepted"}

    rig.rebuild(KILL_SWITCH="true")
    summary = rig.invoke(event)
    # Attempt 1 sent an order (none filled): FAILED, not "REJECTED, nothing sent" (SPEC §4.2).
    assert summary["status"] == "FAILED"
    assert "kill switch" in summary["reason"]
    assert [o["status"] for o in rig.orders(plan_id)] == ["canceled"]
    assert rig.order_posts() == 1
    doc = rig.result_doc(plan_id)
    assert doc["status"] == "FAILED"
    assert _item(doc, "SPY")["reason"] == "KILL_SWITCH"


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_records_intent_and_sends_nothing(rig: Rig) -> None:
    rig.rebuild(DRY_RUN="true")
    event = rig.event([("SPY", "BUY", "5000"), ("BND", "BUY", "1000")])
    summary = rig.invoke(event)
    assert summary["status"] == "DRY_RUN"
    assert rig.order_posts() == 0
    doc = rig.result_doc(event["detail"]["plan_id"])
    assert doc["dry_run"] is True
    assert Decimal(str(_item(doc, "SPY")["planned_qty"])) > 0


# --- notional caps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "items", "rule"),
    [
        ({"MAX_ORDER_NOTIONAL": "1000"}, [("SPY", "BUY", "5000")], "MAX_ORDER_NOTIONAL"),
        (
            {"MAX_PLAN_NOTIONAL": "5000"},
            [("SPY", "BUY", "3000"), ("QQQ", "BUY", "3000")],
            "MAX_PLAN_NOTIONAL",
        ),
        (
            {"MAX_PLAN_EQUITY_FRACTION": "0.05"},
            [("SPY", "BUY", "3000"), ("QQQ", "BUY", "3000")],
            "MAX_PLAN_EQUITY_FRACTION",
        ),
    ],
)
def test_notional_caps_reject_the_plan_without_orders(
    rig: Rig, env: dict[str, str], items: list[tuple[str, str, str]], rule: str
) -> None:
    rig.rebuild(**env)
    summary = rig.invoke(rig.event(items))
    assert summary["status"] == "REJECTED"
    assert summary["reason"].startswith(rule)
    assert rig.order_posts() == 0


def test_caps_at_their_limit_allow_trading(rig: Rig) -> None:
    rig.rebuild(MAX_ORDER_NOTIONAL="3100", MAX_PLAN_NOTIONAL="6200", **MARKET)
    summary = rig.invoke(rig.event([("SPY", "BUY", "3000"), ("QQQ", "BUY", "3000")]))
    assert summary["status"] == "SUCCEEDED"


def test_default_caps_are_on(rig: Rig) -> None:
    """Safe defaults: caps are set unless explicitly lifted."""
    settings = load_settings()
    assert settings.max_order_notional is not None
    assert settings.max_plan_notional is not None
    assert settings.max_plan_equity_fraction is not None


# --- no accidental shorts -----------------------------------------------------------------------


def test_sell_larger_than_position_is_capped_at_the_position(rig: Rig) -> None:
    rig.sim.control.set_account(KEY_ID, positions={"SPY": Decimal(3)})
    rig.rebuild(**MARKET)
    event = rig.event([("SPY", "SELL", "-10000")])  # ~20 shares wanted, 3 held
    rig.invoke(event)
    rig.assert_invariant(event["detail"]["plan_id"])
    sold = sum(Decimal(str(o["filled_qty"])) for o in rig.orders(event["detail"]["plan_id"]))
    assert sold == Decimal(3)
    assert rig.position("SPY") == 0


def test_sell_without_position_sends_nothing(rig: Rig) -> None:
    rig.rebuild(**MARKET)
    event = rig.event([("TLT", "SELL", "-1000"), ("SPY", "BUY", "1000")])
    rig.invoke(event)
    _item_blocked(rig, event, "TLT", "NO_POSITION")
    assert rig.position("TLT") == 0


# --- buying power -------------------------------------------------------------------------------


def test_buys_are_capped_at_buying_power_minus_reserve(rig: Rig) -> None:
    # Equity ~28k (so the equity-fraction cap passes) but only 10k cash to buy with.
    rig.sim.control.set_account(KEY_ID, cash=Decimal(10_000), positions={"TLT": Decimal(200)})
    rig.rebuild(CASH_RESERVE="1000", **MARKET)
    event = rig.event([("SPY", "BUY", "8000"), ("QQQ", "BUY", "8000")])
    summary = rig.invoke(event)
    doc = rig.assert_invariant(event["detail"]["plan_id"])
    assert summary["status"] == "PARTIAL"
    spent = sum(
        Decimal(str(o["filled_qty"])) * Decimal(str(o["filled_avg_price"] or 0))
        for o in rig.orders(event["detail"]["plan_id"])
    )
    assert Decimal(8000) < spent <= Decimal(9000)
    assert rig.sim.control.account_state(KEY_ID).cash >= Decimal(1000)
    assert {_item(doc, s)["reason"] for s in ("SPY", "QQQ")} == {"BUYING_POWER"}


# --- quotes: spread, staleness, collar ----------------------------------------------------------


def test_wide_spread_blocks_that_item_only(rig: Rig) -> None:
    rig.sim.control.freeze_market(True)
    rig.sim.control.set_quote("SPY", Decimal("490.00"), Decimal("510.00"))  # ~400 bps
    rig.rebuild(**MARKET)
    event = rig.event([("SPY", "BUY", "2000"), ("QQQ", "BUY", "2000")])
    summary = rig.invoke(event)
    doc = _item_blocked(rig, event, "SPY", "NO_VALID_QUOTE")
    assert summary["status"] == "PARTIAL"
    assert _item(doc, "QQQ")["outcome"] == "FILLED"
    assert {o["symbol"] for o in rig.orders(event["detail"]["plan_id"])} == {"QQQ"}


def test_stale_quote_blocks_that_item(rig: Rig) -> None:
    rig.sim.control.halt("SPY")
    rig.rebuild(QUOTE_MAX_AGE_S="2", **MARKET)
    halted_at = rig.sim.control.quote("SPY").at
    while rig.sim.clock.now() - halted_at <= timedelta(seconds=3):  # wait for staleness
        time.sleep(0.01)
    event = rig.event([("SPY", "BUY", "2000"), ("QQQ", "BUY", "2000")])
    rig.invoke(event)
    _item_blocked(rig, event, "SPY", "NO_VALID_QUOTE")


def test_price_collar_stops_chasing_a_runaway_market(rig: Rig) -> None:
    """After the first order the market runs 5% away (> MAX_COLLAR_BPS=150): nothing is bought
    above the collar, and the item reports COLLAR."""
    rig.sim.control.freeze_market(True)
    # a spread wider than one tick, so the first passive limit rests inside it
    arrival = rig.sim.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"))
    moved: list[bool] = []

    def run_away(name: str, _number: int) -> None:
        if name == "submit_order" and not moved:
            moved.append(True)
        elif moved == [True] and name != "submit_order":
            moved.append(True)
            rig.sim.control.set_quote(
                "SPY", arrival.bid * Decimal("1.05"), arrival.ask * Decimal("1.05")
            )

    # gate 0: work SPY passively so the run-away happens while the item is still working
    rig.rebuild(lambda inner: InterceptingBroker(inner, run_away), SMART_MIN_PASSIVE_SPREAD_BPS="0")
    event = rig.event([("SPY", "BUY", "5000")])
    summary = rig.invoke(event)
    plan_id = event["detail"]["plan_id"]
    doc = rig.assert_invariant(plan_id)
    assert summary["status"] in {"FAILED", "PARTIAL"}
    assert _item(doc, "SPY")["reason"] == "COLLAR"
    ceiling = arrival.ask * (1 + Decimal(150) / 10_000)
    for order in rig.orders(plan_id):
        if order["limit_price"] is not None:
            assert Decimal(str(order["limit_price"])) <= ceiling
    assert all(f.price <= ceiling for f in rig.sim.control.fills(KEY_ID))


# --- minimum order, paper unless live ---------------------------------------------------------


def test_below_min_notional_is_not_traded(rig: Rig) -> None:
    rig.rebuild(MIN_ORDER_NOTIONAL="5", **MARKET)
    event = rig.event([("SPY", "BUY", "3"), ("QQQ", "BUY", "1000")])
    rig.invoke(event)
    _item_blocked(rig, event, "SPY", "BELOW_MIN_NOTIONAL")


def test_paper_is_the_default(rig: Rig) -> None:
    assert load_settings().alpaca_paper is True
    assert load_settings().is_live is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPACA_PAPER": "false"}, "ALPACA_ALLOW_LIVE"),
        ({"ALPACA_PAPER": "false", "ALPACA_ALLOW_LIVE": "true"}, "ALPACA_BASE_URL"),
    ],
)
def test_live_needs_explicit_opt_in_and_no_override(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    handler.reset_dependencies()
    with pytest.raises(SettingsError, match=message):
        rig.invoke(rig.event([("SPY", "BUY", "1000")]))
    assert rig.sim.control.total_requests() == 0
