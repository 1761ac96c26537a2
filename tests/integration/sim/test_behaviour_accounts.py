"""Golden tests of alpaca-behaviour.md rows 1, 2, 8, 9 and 11 (accounts, buying-power
reservation, error codes, wash-trade protection, rate limit) through alpaca-py or raw HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide
from alpaca.trading.requests import ReplaceOrderRequest

from alpaca_sim.scenario import AccountSpec, BrokerSpec, Scenario, default_scenario
from tests.fixtures.sim import SimFactory
from tests.integration.sim.helpers import limit_order, market_order, paused


def _scenario(**update: Any) -> Scenario:
    return default_scenario().model_copy(update=update)


def _headers(keys: tuple[str, str]) -> dict[str, str]:
    return {"APCA-API-KEY-ID": keys[0], "APCA-API-SECRET-KEY": keys[1]}


def _refusal(call: Any) -> APIError:
    with pytest.raises(APIError) as info:
        call()
    return info.value


# --- row 1: margin accounts ------------------------------------------------------------------


def test_row01_paper_account_is_a_2x_margin_account_with_separate_cash_fields(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    _, client = paused(sim_factory, sim_keys)
    account = client.get_account()
    assert account.multiplier == "2"
    assert Decimal(account.cash) == Decimal(100_000)
    assert Decimal(account.buying_power) == Decimal(200_000)
    assert Decimal(account.regt_buying_power) == Decimal(200_000)
    assert Decimal(account.non_marginable_buying_power) == Decimal(100_000)
    assert Decimal(account.daytrading_buying_power) == 0


@pytest.mark.parametrize(
    "case",
    [
        (AccountSpec(), Decimal(1_500), "1", Decimal(1_500)),
        (AccountSpec(type="cash"), Decimal(100_000), "1", Decimal(100_000)),
        (AccountSpec(pattern_day_trader=True), Decimal(100_000), "4", Decimal(400_000)),
        (AccountSpec(pattern_day_trader=True), Decimal(20_000), "2", Decimal(40_000)),
    ],
    ids=["margin-under-2000", "cash-account", "pdt-over-25k", "pdt-under-25k"],
)
def test_row01_multiplier_follows_account_type_equity_and_pdt(
    sim_factory: SimFactory,
    sim_keys: tuple[str, str],
    case: tuple[AccountSpec, Decimal, str, Decimal],
) -> None:
    account, cash, multiplier, buying_power = case
    _, client = paused(sim_factory, sim_keys, scenario=_scenario(account=account, cash=cash))
    got = client.get_account()
    assert got.multiplier == multiplier
    assert Decimal(got.buying_power) == buying_power
    assert Decimal(got.non_marginable_buying_power) == cash


def test_row01_margin_account_borrows_a_buy_beyond_cash_and_cash_goes_negative(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys, scenario=_scenario(cash=Decimal(10_000)))
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.05"))
    client.submit_order(market_order("SPY", 30, OrderSide.BUY))  # $15,001.50 of $20,000 bp
    running.control.advance_time(5)
    state = running.control.account_state(sim_keys[0])
    assert state.positions == {"SPY": Decimal(30)}
    assert state.cash == Decimal(10_000) - 30 * Decimal("500.05")
    assert state.cash < 0
    assert Decimal(client.get_account().cash) == state.cash


def test_row01_cash_account_refuses_a_buy_beyond_cash(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = _scenario(cash=Decimal(10_000), account=AccountSpec(type="cash"))
    _, client = paused(sim_factory, sim_keys, scenario=scenario)
    error = _refusal(lambda: client.submit_order(limit_order("SPY", 30, OrderSide.BUY, 400)))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "insufficient buying power"


# --- row 2: buying-power reservation ---------------------------------------------------------


def test_row02_open_buys_reserve_and_sells_release_nothing_until_filled(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys, scenario=_scenario(cash=Decimal(10_000)))
    running.control.freeze_market(True)
    running.control.set_quote("TLT", Decimal("92.00"), Decimal("92.02"))
    running.control.set_account(sim_keys[0], positions={"TLT": Decimal(50)})
    client.submit_order(limit_order("TLT", 10, OrderSide.BUY, 91.00))
    account = client.get_account()
    assert Decimal(account.non_marginable_buying_power) == Decimal(10_000) - 910
    assert Decimal(account.buying_power) == 2 * (Decimal(10_000) + 25 * Decimal("92.01")) - 910
    client.submit_order(limit_order("TLT", 20, OrderSide.SELL, 95.00))
    assert Decimal(client.get_account().non_marginable_buying_power) == Decimal(9_090)


def test_row02_market_buy_reserves_an_ask_based_estimate(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"))
    client.submit_order(market_order("SPY", 10, OrderSide.BUY))
    state = running.control.account_state(sim_keys[0])
    assert state.reserved == Decimal("5001.00") * Decimal("1.03")


def test_row02_pending_replace_reserves_the_larger_of_old_and_new(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"))
    old = client.submit_order(limit_order("SPY", 10, OrderSide.BUY, 400))
    running.control.advance_time(1)
    client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=12, limit_price=410))
    assert running.control.account_state(sim_keys[0]).reserved == 12 * Decimal(410)
    running.control.advance_time(1)
    assert running.control.account_state(sim_keys[0]).reserved == 12 * Decimal(410)
    newest = client.get_orders()[0]
    client.replace_order_by_id(newest.id, ReplaceOrderRequest(qty=2))
    assert running.control.account_state(sim_keys[0]).reserved == 12 * Decimal(410)
    running.control.advance_time(1)
    assert running.control.account_state(sim_keys[0]).reserved == 2 * Decimal(410)


# --- row 8: overloaded error codes -----------------------------------------------------------


def test_row08_duplicate_and_other_40010001_refusals_differ_by_message(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    _, client = paused(sim_factory, sim_keys)
    client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 100, client_order_id="dup-1"))
    duplicate = _refusal(
        lambda: client.submit_order(
            limit_order("SPY", 1, OrderSide.BUY, 100, client_order_id="dup-1")
        )
    )
    assert (duplicate.status_code, duplicate.code) == (422, 40010001)
    assert duplicate.message == "client_order_id must be unique"
    too_long = _refusal(
        lambda: client.submit_order(
            limit_order("SPY", 1, OrderSide.BUY, 100, client_order_id="x" * 129)
        )
    )
    assert (too_long.status_code, too_long.code) == (422, 40010001)
    assert too_long.message == "client_order_id must be no more than 128 characters"


def test_row08_sub_penny_and_unknown_asset_are_422_42210000(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    _, client = paused(sim_factory, sim_keys)
    sub_penny = _refusal(
        lambda: client.submit_order(limit_order("SPY", 1, OrderSide.BUY, Decimal("100.001")))
    )
    assert (sub_penny.status_code, sub_penny.code) == (422, 42210000)
    assert "sub-penny increment" in sub_penny.message
    unknown = _refusal(lambda: client.submit_order(market_order("NOPE", 1, OrderSide.BUY)))
    assert (unknown.status_code, unknown.code) == (422, 42210000)


def test_row08_403_40310000_carries_buying_power_and_qty_meanings_by_message(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys)
    running.control.set_account(sim_keys[0], positions={"TLT": Decimal(50)})
    power = _refusal(lambda: client.submit_order(limit_order("SPY", 1000, OrderSide.BUY, 400)))
    assert (power.status_code, power.code, power.message) == (
        403,
        40310000,
        "insufficient buying power",
    )
    qty = _refusal(lambda: client.submit_order(limit_order("TLT", 80, OrderSide.SELL, 200)))
    assert (qty.status_code, qty.code) == (403, 40310000)
    assert qty.message == "insufficient qty available for order (requested: 80, available: 50)"


def test_row08_qty_and_notional_together_is_400(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, _ = paused(sim_factory, sim_keys)
    body = {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day"}
    response = requests.post(
        f"{running.base_url}/v2/orders",
        json={**body, "qty": "1", "notional": "100"},
        headers=_headers(sim_keys),
        timeout=5,
    )
    assert response.status_code == 400


def test_row08_pattern_day_trader_protection_is_403_40310100(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = _scenario(cash=Decimal(20_000), account=AccountSpec(daytrade_count=3))
    running, client = paused(sim_factory, sim_keys, scenario=scenario)
    client.submit_order(market_order("SPY", 2, OrderSide.BUY))
    running.control.advance_time(5)
    error = _refusal(lambda: client.submit_order(market_order("SPY", 2, OrderSide.SELL)))
    assert (error.status_code, error.code) == (403, 40310100)
    client.submit_order(market_order("QQQ", 1, OrderSide.BUY))  # not a day trade: accepted


# --- row 9: wash-trade protection ------------------------------------------------------------


def test_row09_order_that_could_cross_an_open_opposite_order_is_refused(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, client = paused(sim_factory, sim_keys)
    running.control.freeze_market(True)
    running.control.set_quote("SPY", Decimal("500.00"), Decimal("500.10"))
    running.control.set_account(sim_keys[0], positions={"SPY": Decimal(10)})
    client.submit_order(limit_order("SPY", 5, OrderSide.SELL, 510))
    for crossing in (
        limit_order("SPY", 1, OrderSide.BUY, 515),
        market_order("SPY", 1, OrderSide.BUY),
    ):
        error = _refusal(lambda order=crossing: client.submit_order(order))
        assert (error.status_code, error.code) == (403, 40310000)
        assert error.message == "potential wash trade detected. use complex orders"
    below = client.submit_order(limit_order("SPY", 1, OrderSide.BUY, 505))
    assert below.status == "pending_new"


# --- row 11: rate limit ----------------------------------------------------------------------


def test_row11_trading_responses_carry_rate_limit_headers_and_429_over_the_limit(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    scenario = _scenario(broker=BrokerSpec(rate_limit_per_min=3))
    running, _ = paused(sim_factory, sim_keys, scenario=scenario)
    url = f"{running.base_url}/v2/account"
    answers = [requests.get(url, headers=_headers(sim_keys), timeout=5) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    reset = int(answers[0].headers["X-RateLimit-Reset"])
    assert 0 < reset - running.clock.now().timestamp() <= 60
    assert answers[3].json()["code"] == 42910000
    other = requests.get(url, headers=_headers(("OTHERKEY", "S")), timeout=5)
    assert other.status_code == 200  # the limit is per API key
    running.control.advance_time(60)
    assert requests.get(url, headers=_headers(sim_keys), timeout=5).status_code == 200


def test_row11_default_limit_is_200_per_minute(
    sim_factory: SimFactory, sim_keys: tuple[str, str]
) -> None:
    running, _ = paused(sim_factory, sim_keys)
    response = requests.get(f"{running.base_url}/v2/clock", headers=_headers(sim_keys), timeout=5)
    assert response.headers["X-RateLimit-Limit"] == "200"
    assert response.headers["X-RateLimit-Remaining"] == "199"
