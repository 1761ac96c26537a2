"""Property tests: hostile input to the event parser is REJECTED with a clear reason, never a crash.

Each property runs at most 200 examples; the whole module stays well under a minute.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebalance_executor.events import InvalidEventError, PlanEvent, parse_any_event, parse_event
from tests.fuzz.strategies import (
    hostile_scalars,
    injection_text,
    is_finite_number,
    item,
    json_values,
    plan,
    sane_symbols,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYMBOL_RE = re.compile(r"[A-Z][A-Z0-9.]{0,9}")
ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MONEY_LIMIT = Decimal(10) ** 12
# Hypothesis wants naive bounds for naive datetimes; built from aware values to say so.
NAIVE_MIN = datetime(1971, 1, 1, tzinfo=UTC).replace(tzinfo=None)
NAIVE_MAX = datetime(2200, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def assert_clear(error: InvalidEventError, field: str | None = None) -> None:
    """A rejection is one sentence that names its field."""
    assert error.reason
    assert "\n" not in error.reason
    assert error.reason.startswith(f"{error.field}: ")
    assert "pydantic" not in error.reason.lower()
    if field is not None:
        assert error.field == field


def parse_or_reason(raw: object) -> InvalidEventError | None:
    """Parse with the full dispatcher; return the rejection, or None when accepted."""
    try:
        parse_any_event(raw)
    except InvalidEventError as error:
        assert_clear(error)
        return error
    return None


@FUZZ
@given(json_values)
def test_any_json_shape_is_accepted_or_rejected_cleanly(raw: Any) -> None:
    parse_or_reason(raw)


@FUZZ
@given(st.dictionaries(st.text(max_size=15), json_values, max_size=8))
def test_any_envelope_detail_is_accepted_or_rejected_cleanly(detail: dict[str, Any]) -> None:
    raw = {"id": "e-1", "detail-type": "RebalancePlanned", "detail": detail}
    parse_or_reason(raw)
    parse_or_reason({"id": "e-1", "detail": {"rebalance_plan": detail}})


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_any_text_or_bytes_is_rejected_cleanly(raw: str | bytes) -> None:
    # A valid plan needs plan_id, timestamp and items: short random text is never one.
    assert parse_or_reason(raw) is not None


@FUZZ
@given(
    field=st.sampled_from(["plan_id", "timestamp", "items", "correlation_id", "metadata",
                           "max_drift_tolerance", "total_portfolio_value", "schema_version"]),
    value=json_values,
)  # fmt: skip
def test_wrong_types_in_plan_fields(field: str, value: Any) -> None:
    error = parse_or_reason(plan([item()]) | {field: value})
    if error is not None:
        assert error.field.split(".")[0] == field


@FUZZ
@given(
    field=st.sampled_from(["symbol", "action", "trade_amount", "target_weight", "priority",
                           "current_value", "weight_diff"]),
    value=json_values,
)  # fmt: skip
def test_wrong_types_in_item_fields(field: str, value: Any) -> None:
    raw_item = item() | {field: value}
    error = parse_or_reason(plan([item("AAA", "HOLD", 0), raw_item]))
    if error is not None:
        assert error.field.startswith(("items.1", "items"))


@FUZZ
@given(value=hostile_scalars)
def test_money_must_be_finite_bounded_number(value: Any) -> None:
    error = parse_or_reason(plan([item("SPY", "BUY", value)]))
    if not is_finite_number(value) and not isinstance(value, str):
        assert error is not None
        assert error.field == "items.0.trade_amount"
    if error is None:
        accepted = parse_event(plan([item("SPY", "BUY", value)])).plan.items[0].trade_amount
        assert accepted.is_finite()
        assert Decimal(0) < accepted <= MONEY_LIMIT


@FUZZ
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not abs(f) < 1e12),
        st.integers(min_value=10**12 + 1, max_value=10**30),
        st.booleans(),
        st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "sNaN", "1e13", "-1e400"]),
    ),
    negate=st.booleans(),
)
def test_nan_infinity_booleans_and_huge_amounts_are_rejected(value: Any, negate: bool) -> None:
    if negate and isinstance(value, int | float) and not isinstance(value, bool):
        value = -value
    with pytest.raises(InvalidEventError) as caught:
        parse_event(plan([item("SPY", "SELL" if negate else "BUY", value)]))
    assert_clear(caught.value, "items.0.trade_amount")


@FUZZ
@given(
    amount=st.one_of(
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.decimals(min_value=-(10**12), max_value=10**12, places=4).map(str),
    ),
    action=st.sampled_from(["BUY", "SELL", "HOLD", "buy", "Sell", "hold"]),
)
def test_action_must_agree_with_sign(amount: Any, action: str) -> None:
    exact = Decimal(str(amount))
    consistent = {"BUY": exact > 0, "SELL": exact < 0, "HOLD": exact == 0}[action.upper()]
    raw = plan([item("SPY", action, amount)])
    if consistent:
        parsed = parse_event(raw).plan.items[0]
        assert parsed.trade_amount == exact  # floats via str(): no binary noise
        assert parsed.action.value == action.upper()
    else:
        with pytest.raises(InvalidEventError) as caught:
            parse_event(raw)
        assert_clear(caught.value, "items.0.trade_amount")
        assert f"for action {action.upper()}" in caught.value.reason


@FUZZ
@given(symbol=st.one_of(injection_text, sane_symbols))
def test_symbols_are_upper_ascii_tickers_or_rejected(symbol: str) -> None:
    raw = plan([item(symbol)])
    try:
        parsed = parse_event(raw).plan.items[0].symbol
    except InvalidEventError as error:
        assert_clear(error, "items.0.symbol")
        assert not (symbol.isascii() and SYMBOL_RE.fullmatch(symbol.upper()))
    else:
        assert symbol.isascii()
        assert parsed == symbol.upper()
        assert SYMBOL_RE.fullmatch(parsed)


@FUZZ
@given(
    field=st.sampled_from(["plan_id", "correlation_id", "causation_id"]),
    value=st.one_of(injection_text, st.from_regex(r"\A[A-Za-z0-9._:-]{1,128}\Z")),
)
def test_ids_are_restricted_to_the_plan_id_alphabet(field: str, value: str) -> None:
    try:
        parsed = parse_event(plan([item()], **{field: value})).plan
    except InvalidEventError as error:
        assert_clear(error, field)
        assert ID_RE.fullmatch(value) is None
    else:
        assert getattr(parsed, field) == value
        assert ID_RE.fullmatch(value)


@FUZZ
@given(event_id=injection_text)
def test_hostile_event_id_never_becomes_the_correlation_id(event_id: str) -> None:
    raw = {"id": event_id, "detail-type": "RebalancePlanned", "detail": plan([item()])}
    try:
        event = parse_event(raw)
    except InvalidEventError as error:
        assert_clear(error, "id")
    else:
        assert event.plan.correlation_id == event_id
        assert ID_RE.fullmatch(event_id)


@FUZZ
@given(
    symbols=st.lists(sane_symbols, min_size=2, max_size=8).filter(
        lambda names: len({n.upper() for n in names}) < len(names)
    )
)
def test_duplicate_symbols_are_rejected_case_insensitively(symbols: list[str]) -> None:
    items = [item(name, "BUY", index + 1) for index, name in enumerate(symbols)]
    with pytest.raises(InvalidEventError) as caught:
        parse_event(plan(items))
    assert_clear(caught.value, "items")
    assert "appears twice" in caught.value.reason


@FUZZ
@given(moment=st.datetimes(min_value=NAIVE_MIN, max_value=NAIVE_MAX))
def test_naive_timestamps_are_rejected(moment: datetime) -> None:
    for text in (moment.isoformat(), moment.isoformat(sep=" ")):
        with pytest.raises(InvalidEventError) as caught:
            parse_event(plan([item()], timestamp=text))
        assert_clear(caught.value, "timestamp")
        assert "timezone-aware" in caught.value.reason


@FUZZ
@given(
    moment=st.datetimes(min_value=NAIVE_MIN, max_value=NAIVE_MAX),
    offset_minutes=st.integers(min_value=-23 * 60, max_value=23 * 60),
)
def test_aware_timestamps_are_normalised_to_utc(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    parsed = parse_event(plan([item()], timestamp=aware.isoformat())).plan.timestamp
    assert parsed.tzinfo is UTC
    assert parsed == aware


@FUZZ
@given(count=st.integers(min_value=6, max_value=300), limit=st.integers(min_value=1, max_value=5))
def test_item_lists_above_the_limit_are_rejected(count: int, limit: int) -> None:
    items = [item(f"S{index}", "HOLD", 0) for index in range(count)]
    with pytest.raises(InvalidEventError) as caught:
        parse_event(plan(items), max_items=limit)
    assert_clear(caught.value, "items")
    assert f"at most {limit} items" in caught.value.reason


def test_a_huge_item_list_is_rejected_before_item_validation() -> None:
    items = [{"symbol": None}] * 1_000_000  # every item invalid: the count check must come first
    with pytest.raises(InvalidEventError) as caught:
        parse_event(plan(items))
    assert caught.value.reason == "items: must hold at most 500 items (MAX_PLAN_ITEMS), got 1000000"


def test_huge_json_text_is_rejected() -> None:
    text = json.dumps(plan([item()], metadata={"pad": "x" * (2 * 1024 * 1024)}))
    with pytest.raises(InvalidEventError, match="at most 1048576 bytes"):
        parse_event(text)


def test_deeply_nested_json_is_rejected() -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event('{"a":' * 50_000 + "1" + "}" * 50_000)
    assert_clear(caught.value, "event")


@FUZZ
@given(
    items=st.lists(
        st.tuples(
            sane_symbols,
            st.sampled_from(["BUY", "SELL", "HOLD"]),
            st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2),
            st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=4)),
        ),
        max_size=20,
        unique_by=lambda entry: entry[0].upper(),
    ),
    nested=st.booleans(),
)
def test_valid_plans_parse_and_round_trip(
    items: list[tuple[str, str, Decimal, Decimal | None]], nested: bool
) -> None:
    sign = {"BUY": 1, "SELL": -1, "HOLD": 0}
    raw_items = [
        {"symbol": symbol, "action": action, "trade_amount": str(amount * sign[action]),
         "target_weight": None if weight is None else str(weight)}
        for symbol, action, amount, weight in items
    ]  # fmt: skip
    detail: dict[str, Any] = plan(raw_items)
    raw = {"id": "evt-1", "detail-type": "RebalancePlanned",
           "detail": {"rebalance_plan": detail} if nested else detail}  # fmt: skip
    event = parse_event(json.dumps(raw))
    assert isinstance(event, PlanEvent)
    assert [entry.symbol for entry in event.plan.items] == [entry[0].upper() for entry in items]
    assert event.plan.correlation_id == "evt-1"
    again = parse_event(event.plan.model_dump(mode="json")).plan
    assert again == event.plan
