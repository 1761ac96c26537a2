"""The money invariants of SPEC §4.10, checked against the broker's own records.

One checker for every integration test, fault test and benchmark run. It reads what the
simulator recorded (its orders, its fills, the account's final cash and positions, its quote
path) and the plan; the executor's result is only ever the thing being checked, never a source:

1. ``overfill`` — no item filled beyond its plan plus the §3.3 tolerance (max of $1 and 0.5 % of
   its notional), valued at the broker's mid when the item's first order reached it; a
   liquidation (SELL with ``target_weight == 0``) at most the position held before the plan;
2. ``margin`` — no buy of the plan leaves cash below ``CASH_RESERVE`` (so no margin debt), unless
   margin is allowed; ``short`` — no sell of the plan leaves a position below zero;
3. ``live_order`` — no order of the plan is live at the broker once the handler has returned;
4. ``result_mismatch`` — the result's filled quantities, average prices and orders are the
   broker's.

Orders belong to a plan through their deterministic client order id (SPEC §4.2).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from alpaca_sim.control import SimControl
from rebalance_executor.domain.plan import Action, RebalancePlan
from rebalance_executor.domain.result import ExecutionResult, ItemResult
from rebalance_executor.executor.ids import parse_client_order_id, plan_key

# Statuses after which no fill can happen (alpaca-behaviour.md row 6); anything else is live.
TERMINAL_STATUSES = frozenset(
    {"filled", "canceled", "expired", "replaced", "rejected", "done_for_day", "calculated"}
)
_TOLERANCE_SHARE = Decimal("0.005")
_TOLERANCE_MIN = Decimal(1)
# Relative difference allowed between a reported average price and the broker's VWAP (the
# broker's own average is a rounded decimal string).
_PRICE_EPSILON = Decimal("0.000001")
_QTY_EPSILON = Decimal("0.000000001")


class InvariantKind(StrEnum):
    OVERFILL = "overfill"
    MARGIN = "margin"
    SHORT = "short"
    LIVE_ORDER = "live_order"
    RESULT_MISMATCH = "result_mismatch"


@dataclass(frozen=True)
class Violation:
    kind: InvariantKind
    plan_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value} [{self.plan_id}]: {self.detail}"


@dataclass(frozen=True)
class BrokerFill:
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    at: datetime


@dataclass(frozen=True)
class BrokerOrderFact:
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    status: str
    filled_qty: Decimal
    submitted_at: datetime


@dataclass(frozen=True)
class BrokerRecords:
    """One account's orders and fills (oldest first), final cash and positions, and the mid
    the broker showed for a symbol at an instant (None when it has no quote then)."""

    orders: tuple[BrokerOrderFact, ...]
    fills: tuple[BrokerFill, ...]
    cash: Decimal
    positions: Mapping[str, Decimal]
    mids: Mapping[str, tuple[tuple[datetime, Decimal], ...]]

    def mid_at(self, symbol: str, at: datetime) -> Decimal | None:
        """The last mid at or before ``at`` (the first one when ``at`` precedes the path)."""
        path = self.mids.get(symbol, ())
        found = path[0][1] if path else None
        for when, mid in path:
            if when > at:
                break
            found = mid
        return found

    def initial_cash(self) -> Decimal:
        """Cash before the first recorded fill: final cash less every fill's cash effect."""
        return self.cash - sum((_cash_effect(f) for f in self.fills), Decimal(0))

    def initial_position(self, symbol: str) -> Decimal:
        net = sum((_qty_effect(f) for f in self.fills if f.symbol == symbol), Decimal(0))
        return self.positions.get(symbol, Decimal(0)) - net


def records_from_sim(control: SimControl, api_key: str) -> BrokerRecords:
    """Read one account's records from a running simulator's control interface."""
    orders = tuple(
        BrokerOrderFact(
            order_id=str(o["id"]),
            client_order_id=str(o["client_order_id"]),
            symbol=str(o["symbol"]),
            side=str(o["side"]),
            status=str(o["status"]),
            filled_qty=Decimal(str(o.get("filled_qty") or 0)),
            submitted_at=datetime.fromisoformat(str(o["submitted_at"]).replace("Z", "+00:00")),
        )
        for o in control.orders(api_key)
    )
    fills = tuple(
        BrokerFill(f.order_id, f.client_order_id, f.symbol, f.side, f.qty, f.price, f.at)
        for f in control.fills(api_key)
    )
    state = control.account_state(api_key)
    symbols = {o.symbol for o in orders}
    mids = {s: tuple((q.at, q.mid) for q in control.quote_path(s)) for s in sorted(symbols)}
    return BrokerRecords(orders, fills, state.cash, dict(state.positions), mids)


def check_execution(
    plan: RebalancePlan | None,
    result: ExecutionResult | None,
    records: BrokerRecords,
    *,
    cash_reserve: Decimal = Decimal(0),
    allow_margin: bool = False,
) -> list[Violation]:
    """Every §4.10 violation of one plan's execution. ``plan`` defaults to ``result.plan``;
    ``result`` is None when the last invocation raised (the result checks are then skipped).

    Raises ValueError when neither names the plan.
    """
    plan = plan or (result.plan if result is not None else None)
    if plan is None:
        raise ValueError("check_execution needs the plan or a result that carries it")
    key = plan_key(plan.plan_id)
    found = [
        *_overfills(plan, key, records),
        *_account_violations(records, {key: plan.plan_id}, cash_reserve, allow_margin),
        *_live_orders(records, {key: plan.plan_id}),
    ]
    if result is not None:
        found.extend(_result_mismatches(plan.plan_id, key, result, records))
    return found


def check_account(
    records: BrokerRecords,
    plan_ids: Mapping[str, str],
    *,
    cash_reserve: Decimal = Decimal(0),
    allow_margin: bool = False,
) -> list[Violation]:
    """The plan-independent checks (margin, shorts, live orders) for orders of the plans whose
    keys are in ``plan_ids`` (plan key -> plan id)."""
    return [
        *_account_violations(records, plan_ids, cash_reserve, allow_margin),
        *_live_orders(records, plan_ids),
    ]


def plan_keys_in(records: BrokerRecords) -> set[str]:
    """Keys of every plan with at least one order at the broker (ids shaped as in §4.2)."""
    keys = set()
    for order in records.orders:
        key = order.client_order_id.partition("-")[0]
        if parse_client_order_id(key, order.client_order_id) is not None:
            keys.add(key)
    return keys


def _item_index(key: str, client_order_id: str) -> int | None:
    parsed = parse_client_order_id(key, client_order_id)
    return None if parsed is None else parsed[0]


def _fills_by_item(key: str, fills: Iterable[BrokerFill]) -> dict[int, list[BrokerFill]]:
    by_item: dict[int, list[BrokerFill]] = defaultdict(list)
    for fill in fills:
        index = _item_index(key, fill.client_order_id)
        if index is not None:
            by_item[index].append(fill)
    return by_item


def _tolerance(notional: Decimal) -> Decimal:
    return max(_TOLERANCE_MIN, abs(notional) * _TOLERANCE_SHARE)


def _overfills(plan: RebalancePlan, key: str, records: BrokerRecords) -> list[Violation]:
    found = []
    first_order: dict[int, BrokerOrderFact] = {}
    for order in records.orders:
        index = _item_index(key, order.client_order_id)
        if index is not None and index not in first_order:
            first_order[index] = order
    for index, fills in sorted(_fills_by_item(key, records.fills).items()):
        if index >= len(plan.items):
            detail = f"fills for item {index}, which the plan does not have"
            found.append(Violation(InvariantKind.OVERFILL, plan.plan_id, detail))
            continue
        item = plan.items[index]
        filled = sum((f.qty for f in fills), Decimal(0))
        if item.action is Action.SELL and item.target_weight == 0:
            held = records.initial_position(item.symbol)
            if filled > held + _QTY_EPSILON:
                detail = f"item {index} {item.symbol}: liquidation sold {filled} of {held} held"
                found.append(Violation(InvariantKind.OVERFILL, plan.plan_id, detail))
            continue
        mid = records.mid_at(item.symbol, first_order[index].submitted_at)
        if mid is None:
            continue
        value = filled * mid
        allowed = abs(item.trade_amount) + _tolerance(item.trade_amount)
        if item.action is Action.HOLD or value > allowed:
            detail = (
                f"item {index} {item.symbol} {item.action.value}: filled {filled} "
                f"(${value:.2f} at mid {mid}) > plan ${abs(item.trade_amount)} + tolerance"
            )
            found.append(Violation(InvariantKind.OVERFILL, plan.plan_id, detail))
    return found


def _account_violations(
    records: BrokerRecords,
    plan_ids: Mapping[str, str],
    cash_reserve: Decimal,
    allow_margin: bool,
) -> list[Violation]:
    """Walk the account's fills in order: the first plan buy that leaves cash below the reserve
    (one margin violation per plan) and every plan sell that leaves a position short."""
    found: list[Violation] = []
    cash = records.initial_cash()
    positions = {s: records.initial_position(s) for s in {f.symbol for f in records.fills}}
    margin_seen: set[str] = set()
    for fill in records.fills:
        cash += _cash_effect(fill)
        positions[fill.symbol] += _qty_effect(fill)
        owner = plan_ids.get(fill.client_order_id.partition("-")[0])
        if owner is None:
            continue
        in_debt = fill.side == "buy" and not allow_margin and cash < cash_reserve
        if in_debt and owner not in margin_seen:
            margin_seen.add(owner)
            detail = f"buy {fill.qty} {fill.symbol} @ {fill.price} left cash {cash:.2f}"
            found.append(Violation(InvariantKind.MARGIN, owner, detail))
        if fill.side == "sell" and positions[fill.symbol] < -_QTY_EPSILON:
            detail = f"sell {fill.qty} {fill.symbol} left position {positions[fill.symbol]}"
            found.append(Violation(InvariantKind.SHORT, owner, detail))
    return found


def _live_orders(records: BrokerRecords, plan_ids: Mapping[str, str]) -> list[Violation]:
    found = []
    for order in records.orders:
        owner = plan_ids.get(order.client_order_id.partition("-")[0])
        if owner is not None and order.status not in TERMINAL_STATUSES:
            detail = f"order {order.client_order_id} ({order.symbol}) is {order.status}"
            found.append(Violation(InvariantKind.LIVE_ORDER, owner, detail))
    return found


def _result_mismatches(
    plan_id: str, key: str, result: ExecutionResult, records: BrokerRecords
) -> list[Violation]:
    found = []
    fills = _fills_by_item(key, records.fills)
    orders = [o for o in records.orders if _item_index(key, o.client_order_id) is not None]
    reported = {item.index: item for item in result.items}
    for index in sorted(set(fills) | set(reported)):
        problem = _item_mismatch(index, reported.get(index), fills.get(index, []), orders, key)
        if problem is not None:
            found.append(Violation(InvariantKind.RESULT_MISMATCH, plan_id, problem))
    return found


def _item_mismatch(
    index: int,
    item: ItemResult | None,
    fills: Sequence[BrokerFill],
    orders: Sequence[BrokerOrderFact],
    key: str,
) -> str | None:
    broker_qty = sum((f.qty for f in fills), Decimal(0))
    if item is None:
        return f"item {index}: broker filled {broker_qty}, the result has no such item"
    if item.filled_qty != broker_qty:
        return f"item {index} {item.symbol}: result filled {item.filled_qty}, broker {broker_qty}"
    if broker_qty > 0:
        vwap = sum((f.qty * f.price for f in fills), Decimal(0)) / broker_qty
        avg = item.avg_fill_price
        if avg is None or abs(avg - vwap) > vwap * _PRICE_EPSILON:
            return f"item {index} {item.symbol}: result avg price {avg}, broker {vwap}"
    mine = {o.order_id: o for o in orders if _item_index(key, o.client_order_id) == index}
    listed = {o.broker_order_id: o for o in item.orders}
    missing = sorted(o.client_order_id for oid, o in mine.items() if oid not in listed)
    if missing:
        return f"item {index} {item.symbol}: broker orders missing from the result: {missing}"
    for oid, record in listed.items():
        fact = mine.get(oid)
        if fact is None:
            return f"item {index}: result order {record.client_order_id} unknown at the broker"
        if record.filled_qty != fact.filled_qty:
            return (
                f"item {index}: order {record.client_order_id} filled {record.filled_qty} in "
                f"the result, {fact.filled_qty} at the broker"
            )
    return None


def _cash_effect(fill: BrokerFill) -> Decimal:
    value = fill.qty * fill.price
    return -value if fill.side == "buy" else value


def _qty_effect(fill: BrokerFill) -> Decimal:
    return fill.qty if fill.side == "buy" else -fill.qty
