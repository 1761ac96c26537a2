"""Golden tests of alpaca-behaviour.md rows 3-7, 12 and 13 (replace, acknowledgement, cancel,
statuses, paper partial fills, session, fractional) through alpaca-py, in simulated time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, ReplaceOrderRequest

from alpaca_sim.faults import FaultSpec
from alpaca_sim.scenario import BrokerSpec, default_scenario
from alpaca_sim.session import NEW_YORK
from alpaca_sim.testing import RunningSimulator, running_simulator
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import limit_order, market_order, paused

PATCH = "PATCH /v2/orders/{order_id}"


def _frozen(factory: SimFactory, keys: tuple[str, str], **broker: Any) -> tuple[Any, Any]:
    """A paused simulator with a still SPY quote (500.00 x 500.10) and a client for it."""
    scenario = default_scenario().model_copy(update={"broker": BrokerSpec(**broker)})
    running, client = paused(factory, keys, scenario=scenario)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"))
    return running, client


def _resting_buy(running: RunningSimulator, client: Any, qty: float = 10) -> Any:
    """An acknowledged (``new``) SPY buy far below the market."""
    order = client.submit_order(limit_order("SPY", qty, OrderSide.BUY, 400))
    running.control.advance_time(1)
    return client.get_order_by_id(order.id)


def _refusal(call: Any) -> APIError:
    with pytest.raises(APIError) as info:
        call()
    return info.value


# --- row 3: replace --------------------------------------------------------------------------


def test_row03_replacement_keeps_the_original_qty_of_a_partially_filled_order(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    old = _resting_buy(running, client)
    running.control.force_fill(str(old.id), Decimal(4))
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=401))
    assert Decimal(new.qty) == 10  # the original qty, not the unfilled 6 (Alpaca-API #165)
    assert str(new.replaces) == str(old.id)
    assert new.time_in_force == TimeInForce.DAY
    assert new.status == "pending_new"


def test_row03_old_order_sits_in_pending_replace_and_can_still_fill(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    old = _resting_buy(running, client)
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=401))
    listed = {str(o.id): o.status for o in client.get_orders()}
    assert listed == {str(old.id): "pending_replace", str(new.id): "pending_new"}
    running.control.force_fill(str(old.id), Decimal(3))
    running.control.advance_time(1)
    done = client.get_order_by_id(old.id)
    assert (done.status, Decimal(done.filled_qty), str(done.replaced_by)) == (
        "replaced",
        Decimal(3),
        str(new.id),
    )
    assert client.get_order_by_id(new.id).status == "new"


def test_row03_replacement_is_rejected_when_the_old_order_fills_first(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    old = _resting_buy(running, client)
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(limit_price=401))
    running.control.force_fill(str(old.id))
    running.control.advance_time(1)
    assert client.get_order_by_id(old.id).status == "filled"
    rejected = client.get_order_by_id(new.id)
    assert rejected.status == "rejected"
    assert rejected.failed_at is not None
    assert Decimal(rejected.filled_qty) == 0


def test_row03_replace_is_refused_while_accepted_pending_new_cancel_or_replace(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    fresh = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))
    pending_new = _refusal(
        lambda: client.replace_order_by_id(fresh.id, ReplaceOrderRequest(limit_price=401))
    )
    assert (pending_new.status_code, pending_new.code) == (422, 42210000)
    assert pending_new.message == "unable to replace order, order isn't sent to exchange yet"
    running.control.advance_time(1)
    client.replace_order_by_id(fresh.id, ReplaceOrderRequest(limit_price=401))
    pending_replace = _refusal(
        lambda: client.replace_order_by_id(fresh.id, ReplaceOrderRequest(limit_price=402))
    )
    assert (pending_replace.status_code, pending_replace.code) == (422, 42210000)
    other = _resting_buy(running, client, qty=2)
    client.cancel_order_by_id(other.id)
    pending_cancel = _refusal(
        lambda: client.replace_order_by_id(other.id, ReplaceOrderRequest(limit_price=401))
    )
    assert (pending_cancel.status_code, pending_cancel.code) == (422, 42210000)
    running.control.set_market_open(False)
    queued = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 399))
    assert queued.status == "accepted"
    accepted = _refusal(
        lambda: client.replace_order_by_id(queued.id, ReplaceOrderRequest(limit_price=398))
    )
    assert (accepted.status_code, accepted.code) == (422, 42210000)


def test_row03_no_op_and_fractional_qty_changes_are_refused(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    whole = _resting_buy(running, client)
    no_op = _refusal(
        lambda: client.replace_order_by_id(whole.id, ReplaceOrderRequest(limit_price=400))
    )
    assert (no_op.status_code, no_op.code) == (403, 40310000)
    assert no_op.message == "order parameters are not changed"
    fractional = client.submit_order(limit_order("SPY", 1.5, OrderSide.BUY, 400))
    running.control.advance_time(1)
    refused = _refusal(
        lambda: client.replace_order_by_id(fractional.id, ReplaceOrderRequest(qty=2))
    )
    assert (refused.status_code, refused.code) == (422, 40010001)


def test_row03_an_error_answer_can_hide_a_created_replacement(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    old = _resting_buy(running, client)
    running.control.inject_fault(FaultSpec(endpoint=PATCH, kind="ambiguous_replace", count=1))
    error = _refusal(lambda: client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=8)))
    assert (error.status_code, error.code) == (422, 42210000)
    running.control.advance_time(1)
    replacement = [o for o in client.get_orders() if str(o.replaces) == str(old.id)]
    assert [Decimal(o.qty) for o in replacement] == [8]
    assert client.get_order_by_id(old.id).status == "replaced"


# --- row 4: acknowledgement ------------------------------------------------------------------


def test_row04_post_answers_pending_new_unfilled_and_fills_only_after_the_ack(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys, partial_fill_probability=0.0)
    order = client.submit_order(market_order("SPY", 5, OrderSide.BUY))
    assert (order.status, Decimal(order.filled_qty)) == ("pending_new", Decimal(0))
    latency_s = running.engine.broker.ack_latency_ms / 1000
    assert latency_s > 0.1  # eligible a few hundred ms after submission (SPEC §7.2)
    running.control.advance_time(latency_s - 0.01)  # inside the acknowledgement latency
    assert client.get_order_by_id(order.id).status == "pending_new"
    assert running.control.fills() == []
    running.control.advance_time(0.02)
    done = client.get_order_by_id(order.id)
    assert (done.status, Decimal(done.filled_qty)) == ("filled", Decimal(5))


# --- row 5: cancel ---------------------------------------------------------------------------


def test_row05_cancel_is_a_request_the_order_can_fill_in_pending_cancel(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    order = _resting_buy(running, client)
    client.cancel_order_by_id(order.id)
    assert client.get_order_by_id(order.id).status == "pending_cancel"
    assert [str(o.id) for o in client.get_orders()] == [str(order.id)]  # still open
    running.control.force_fill(str(order.id), Decimal(2))
    running.control.advance_time(1)
    done = client.get_order_by_id(order.id)
    assert (done.status, Decimal(done.filled_qty)) == ("canceled", Decimal(2))


def test_row05_cancel_of_a_filled_order_is_422(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    order = _resting_buy(running, client)
    client.cancel_order_by_id(order.id)
    running.control.force_fill(str(order.id))  # the whole order fills inside the window
    running.control.advance_time(1)
    assert client.get_order_by_id(order.id).status == "filled"
    error = _refusal(lambda: client.cancel_order_by_id(order.id))
    assert (error.status_code, error.code) == (422, 42210000)
    assert error.message == 'order is already in "filled" state'


# --- row 6: statuses -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["held", "pending_review", "suspended", "done_for_day"])
def test_row06_rare_live_statuses_are_open_and_do_not_fill(
    sim_factory: SimFactory, sim_keys: tuple[str, str], status: str
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    order = client.submit_order(limit_order("SPY", 3, OrderSide.BUY, 501))  # marketable
    running.control.force_status(str(order.id), status)
    running.control.advance_time(5)
    seen = client.get_order_by_id(order.id)
    assert (seen.status, Decimal(seen.filled_qty)) == (status, Decimal(0))
    open_ids = [str(o.id) for o in client.get_orders(GetOrdersRequest(status="open"))]
    assert open_ids == [str(order.id)]


def test_row06_stopped_is_not_terminal_and_later_fills(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys, partial_fill_probability=0.0)
    order = _resting_buy(running, client)
    running.control.force_status(str(order.id), "stopped")
    assert client.get_order_by_id(order.id).status == "stopped"
    running.control.set_quote("SPY", Decimal("399.00"), Decimal("399.90"))
    assert client.get_order_by_id(order.id).status == "filled"


def test_row06_calculated_is_closed(sim_factory: SimFactory, sim_keys: tuple[str, str]) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    order = _resting_buy(running, client)
    running.control.force_status(str(order.id), "calculated")
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert [(str(o.id), o.status) for o in closed] == [(str(order.id), "calculated")]
    with pytest.raises(ValueError, match="unknown status"):
        running.control.force_status(str(order.id), "teleported")


# --- row 7: paper partial fills --------------------------------------------------------------


def _partial_run(factory: SimFactory, keys: tuple[str, str], seed: int) -> list[Decimal]:
    scenario = default_scenario().model_copy(
        update={"broker": BrokerSpec(partial_fill_probability=1.0)}
    )
    running, client = paused(factory, keys, seed=seed, scenario=scenario)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"), ask_size=Decimal(500))
    client.submit_order(market_order("SPY", 40, OrderSide.BUY))
    running.control.advance_time(60)
    return [f.qty for f in running.control.fills()]


def test_row07_eligible_fills_are_random_partials_deterministic_per_seed(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    first = _partial_run(sim_factory, sim_keys, seed=5)
    assert len(first) > 1  # with probability 1 every eligible fill is a partial
    assert sum(first) == 40
    assert _partial_run(sim_factory, sim_keys, seed=5) == first
    assert BrokerSpec().partial_fill_probability == pytest.approx(0.10)


# --- row 12: session -------------------------------------------------------------------------


def test_row12_closed_market_queues_orders_as_accepted(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys)
    running.control.set_market_open(False)
    order = client.submit_order(market_order("SPY", 1, OrderSide.BUY))
    running.control.advance_time(30)
    assert client.get_order_by_id(order.id).status == "accepted"


def test_row12_day_orders_expire_at_the_16_00_new_york_close(sim_keys: tuple[str, str]) -> None:
    start = datetime(2026, 3, 2, 15, 59, tzinfo=NEW_YORK)
    with running_simulator(seed=1, start=start) as running:
        running.control.pause_clock()
        client: Any = TradingClient(*sim_keys, paper=True, url_override=running.base_url)
        clock = client.get_clock()
        assert clock.next_close == datetime(2026, 3, 2, 16, 0, tzinfo=NEW_YORK)
        day = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 400))
        gtc = client.submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=400,
            )
        )
        running.control.advance_time(120)
        expired = client.get_order_by_id(day.id)
        assert expired.status == "expired"
        assert expired.expired_at == datetime(2026, 3, 2, 16, 0, tzinfo=NEW_YORK)
        assert client.get_order_by_id(gtc.id).status == "new"
        assert client.get_clock().is_open is False


# --- row 13: fractional ----------------------------------------------------------------------


def test_row13_fractional_orders_are_day_only_and_notional_excludes_qty(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = _frozen(sim_factory, sim_keys, partial_fill_probability=0.0)
    day = client.submit_order(limit_order("SPY", 0.5, OrderSide.BUY, 400))
    assert Decimal(day.qty) == Decimal("0.5")
    gtc = _refusal(
        lambda: client.submit_order(
            LimitOrderRequest(
                symbol="SPY", qty=0.5, side=OrderSide.BUY, time_in_force="gtc", limit_price=400
            )
        )
    )
    assert (gtc.status_code, gtc.code) == (422, 40010001)
    not_fractionable = _refusal(
        lambda: client.submit_order(market_order("NOFR", 0.5, OrderSide.BUY))
    )
    assert (not_fractionable.status_code, not_fractionable.code) == (422, 40010001)
    running.control.advance_time(1)
    assert client.get_order_by_id(day.id).status == "new"
