"""Bad requests get the status and body Alpaca would send, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from alpaca_sim.testing import RunningSimulator
from tests.fixtures.sim import SimFactory


def _post(sim: RunningSimulator, keys: tuple[str, str], body: Any) -> requests.Response:
    headers = {"APCA-API-KEY-ID": keys[0], "APCA-API-SECRET-KEY": keys[1]}
    if isinstance(body, bytes):
        return requests.post(f"{sim.base_url}/v2/orders", data=body, headers=headers, timeout=5)
    return requests.post(f"{sim.base_url}/v2/orders", json=body, headers=headers, timeout=5)


BASE = {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day"}


@pytest.mark.parametrize(
    "case",
    [
        ({**BASE, "qty": "-1"}, 422, 40010001, "qty must be > 0"),
        ({**BASE, "qty": "0"}, 422, 40010001, "qty must be > 0"),
        ({**BASE, "qty": "1", "notional": "100"}, 400, 40010000, "only one of qty or notional"),
        ({**BASE}, 422, 40010001, "qty or notional is required"),
        ({**BASE, "symbol": "NOPE", "qty": "1"}, 422, 42210000, "not found"),
        ({**BASE, "symbol": "NOFR", "qty": "1.5"}, 422, 40010001, "not fractionable"),
        ({**BASE, "qty": "1.5", "time_in_force": "gtc"}, 422, 40010001, "DAY"),
        ({**BASE, "qty": "1", "side": "short"}, 422, 40010001, "side"),
        ({**BASE, "qty": "abc"}, 422, 40010001, "qty"),
        ({**BASE, "qty": "1e400"}, 422, 40010001, "qty"),
        ({**BASE, "qty": "NaN"}, 422, 40010001, "qty"),
        ({**BASE, "qty": True}, 422, 40010001, "qty"),
        ({**BASE, "notional": "1e400"}, 422, 40010001, "notional"),
        ({**BASE, "type": "limit", "qty": "1", "limit_price": "1e400"}, 422, 40010001, "limit"),
        ({**BASE, "type": "limit", "qty": "1"}, 422, 40010001, "limit_price"),
        (
            {**BASE, "type": "limit", "qty": "1", "limit_price": "500.001"},
            422,
            42210000,
            "sub-penny",
        ),
        ({**BASE, "type": "stop", "qty": "1"}, 422, 40010001, "type"),
        ({**BASE, "qty": "1000000"}, 403, 40310000, "insufficient buying power"),
        ({**BASE, "qty": "1", "side": "sell"}, 403, 40310000, "insufficient qty"),
        (b"{not json", 400, 40010000, "invalid"),
        (b"[1, 2]", 400, 40010000, "invalid"),
    ],
)
def test_bad_order_requests(
    sim: RunningSimulator, sim_keys: tuple[str, str], case: tuple[Any, int, int, str]
) -> None:
    body, status, code, fragment = case
    response = _post(sim, sim_keys, body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert fragment in response.json()["message"]
    assert sim.control.orders() == []


def test_duplicate_client_order_id_is_422_40010001(alpaca_trading: Any) -> None:
    request = MarketOrderRequest(
        symbol="SPY",
        qty=1,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id="dup-1",
    )
    alpaca_trading.submit_order(request)
    with pytest.raises(APIError) as info:
        alpaca_trading.submit_order(request)
    assert info.value.status_code == 422
    assert info.value.code == 40010001


def test_unknown_order_and_position_are_404(alpaca_trading: Any) -> None:
    with pytest.raises(APIError) as info:
        alpaca_trading.get_order_by_id("00000000-0000-4000-8000-000000000000")
    assert info.value.status_code == 404
    with pytest.raises(APIError) as info:
        alpaca_trading.get_order_by_client_id("never-sent")
    assert info.value.status_code == 404
    with pytest.raises(APIError) as info:
        alpaca_trading.get_open_position("SPY")
    assert info.value.status_code == 404
    with pytest.raises(APIError) as info:
        alpaca_trading.close_position("SPY")
    assert info.value.status_code == 404


def test_cancel_of_filled_order_is_422(sim: RunningSimulator, alpaca_trading: Any) -> None:
    sim.control.pause_clock()
    order = alpaca_trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    sim.control.advance_time(1)
    assert alpaca_trading.get_order_by_id(order.id).status == "filled"
    with pytest.raises(APIError) as info:
        alpaca_trading.cancel_order_by_id(order.id)
    assert info.value.status_code == 422
    assert "filled" in info.value.message


def test_fixed_key_list_rejects_unknown_keys_with_401(sim_factory: SimFactory) -> None:
    running = sim_factory(keys={"GOOD": "SECRET"})
    good: Any = TradingClient("GOOD", "SECRET", paper=True, url_override=running.base_url)
    assert good.get_account().status is not None
    bad: Any = TradingClient("GOOD", "WRONG", paper=True, url_override=running.base_url)
    with pytest.raises(APIError) as info:
        bad.get_account()
    assert info.value.status_code == 401
    assert info.value.code == 40110000
    assert requests.get(f"{running.base_url}/v2/account", timeout=5).status_code == 401


def test_blocked_account_cannot_trade(
    sim: RunningSimulator, alpaca_trading: Any, sim_keys: tuple[str, str]
) -> None:
    sim.control.set_account(sim_keys[0], trading_blocked=True)
    assert alpaca_trading.get_account().trading_blocked is True
    with pytest.raises(APIError) as info:
        alpaca_trading.submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=1,
            )
        )
    assert info.value.status_code == 403
