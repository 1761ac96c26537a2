"""Every attempt reconciles before it decides anything (SPEC §4.2; issue 15 item 3): an attempt
that stops early cancels what earlier attempts left live and reports the broker's fills."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalance_executor.domain.broker import OrderStatus
from rebalance_executor.domain.config import ExecutionConfig
from rebalance_executor.domain.plan import Action
from rebalance_executor.domain.result import ExecutionResult, ExecutionStatus, ItemOutcome, Reason
from rebalance_executor.executor import EarlyStop
from tests.fakes.broker import FakeBroker
from tests.fakes.kill_switch import FakeKillSwitch
from tests.unit.executor.helpers import MARKET, leave_order, plan, run, stocked_broker

PLAN = plan(("AAA", Action.BUY, "1000"), ("BBB", Action.SELL, "-500"))
STALE = EarlyStop(
    ExecutionStatus.REJECTED,
    "timestamp: plan is 135s old, older than MAX_PLAN_AGE_S=120s",
    Reason.STALE_PLAN,
)


def _attempt_one_left_six_filled_and_live(broker: FakeBroker) -> None:
    """Attempt 1 filled 6 of 10 AAA and died (its S3 write failed): the DAY order rests."""
    leave_order(
        broker, PLAN, 0, qty="10", filled="6", price="100", status=OrderStatus.PARTIALLY_FILLED
    )
    broker.fills = False  # nothing more fills: what is reported is what attempt 1 left


def _assert_reports_attempt_one(result: ExecutionResult, broker: FakeBroker, code: Reason) -> None:
    assert broker.submits == []
    assert all(o.status.is_terminal for o in broker.orders.values())
    assert broker.orders["earlier-0"].status is OrderStatus.CANCELED
    assert result.status is ExecutionStatus.PARTIAL
    aaa, bbb = result.items
    assert aaa.filled_qty == Decimal(6)
    assert aaa.filled_notional == Decimal(600)
    assert aaa.outcome is ItemOutcome.PARTIAL
    assert aaa.reason is code
    assert [o.broker_order_id for o in aaa.orders] == ["earlier-0"]
    assert bbb.outcome is ItemOutcome.NOT_TRADED
    assert bbb.reason is code


def test_regression_stale_retry_reports_attempt_one_fills_and_cancels_its_order() -> None:
    """Reproduced: attempt 1 filled 6 shares, S3 write failed; the retry 2 minutes later was
    stale -> stored REJECTED with 0 fills and attempt 1's live DAY order kept working."""
    broker = stocked_broker()
    _attempt_one_left_six_filled_and_live(broker)
    result = run(PLAN, broker, refusal=STALE)
    _assert_reports_attempt_one(result, broker, Reason.STALE_PLAN)
    assert result.reason is not None
    assert result.reason.startswith("timestamp: plan is 135s old")
    assert "get_account" not in broker.calls  # a refused attempt reads only its orders


def test_regression_kill_switch_retry_reports_fills() -> None:
    broker = stocked_broker()
    _attempt_one_left_six_filled_and_live(broker)
    result = run(PLAN, broker, kill=FakeKillSwitch([True]))
    _assert_reports_attempt_one(result, broker, Reason.KILL_SWITCH)
    assert "kill switch" in (result.reason or "")


def test_regression_market_closed_retry_reports_fills() -> None:
    broker = stocked_broker()
    _attempt_one_left_six_filled_and_live(broker)
    broker.market_open = False
    result = run(PLAN, broker)
    _assert_reports_attempt_one(result, broker, Reason.MARKET_CLOSED)


def test_regression_blocked_account_retry_reports_fills() -> None:
    broker = stocked_broker()
    _attempt_one_left_six_filled_and_live(broker)
    broker.blocked = True
    result = run(PLAN, broker)
    _assert_reports_attempt_one(result, broker, Reason.ACCOUNT_BLOCKED)
    assert "trading_blocked" in (result.reason or "")


def test_regression_cap_retry_reports_fills() -> None:
    broker = stocked_broker()
    _attempt_one_left_six_filled_and_live(broker)
    capped = MARKET.model_copy(update={"max_order_notional": Decimal(300)})  # BBB's $500
    result = run(PLAN, broker, capped)
    _assert_reports_attempt_one(result, broker, Reason.ORDER_CAP)
    assert (result.reason or "").startswith("MAX_ORDER_NOTIONAL")


def test_early_exit_after_a_completed_attempt_reports_success() -> None:
    broker = stocked_broker()
    leave_order(broker, PLAN, 0, qty="10", filled="10", price="100", status=OrderStatus.FILLED)
    leave_order(broker, PLAN, 1, qty="10", filled="10", price="50", status=OrderStatus.FILLED)
    result = run(PLAN, broker, refusal=STALE)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert [i.filled_qty for i in result.items] == [Decimal(10), Decimal(10)]
    assert "cancel_order" not in broker.calls


def test_early_exit_with_orders_but_no_fills_is_failed_not_rejected() -> None:
    """Orders were sent (by attempt 1), so "REJECTED, nothing sent" would be false."""
    broker = stocked_broker()
    leave_order(broker, PLAN, 0, qty="10", filled="0", price="100", status=OrderStatus.NEW)
    broker.fills = False
    result = run(PLAN, broker, refusal=STALE)
    assert result.status is ExecutionStatus.FAILED
    assert broker.orders["earlier-0"].status is OrderStatus.CANCELED
    assert result.items[0].outcome is ItemOutcome.NOT_FILLED


@pytest.mark.parametrize(
    "config", [MARKET, MARKET.model_copy(update={"kill_switch": True})], ids=["stale", "kill"]
)
def test_early_exit_without_earlier_orders_is_rejected_and_sends_nothing(
    config: ExecutionConfig,
) -> None:
    broker = stocked_broker()
    refusal = STALE if not config.kill_switch else None
    result = run(PLAN, broker, config, refusal=refusal)
    assert result.status is ExecutionStatus.REJECTED
    assert broker.submits == []
    assert "cancel_order" not in broker.calls
    assert all(i.filled_qty == 0 for i in result.items)
