"""Deterministic client order ids (SPEC §4.2): ``<plan_key>-<item_index>-<seq>``, at most 48 chars.

The same plan always yields the same ids, so a retried or duplicated execution finds its own
earlier orders at the broker and the broker's uniqueness rule refuses a second copy of any of them.
"""

from __future__ import annotations

import hashlib

PLAN_KEY_LEN = 16
MAX_CLIENT_ORDER_ID_LEN = 48


def plan_key(plan_id: str) -> str:
    """Short stable hash of the plan id (hex, 16 chars)."""
    return hashlib.sha256(plan_id.encode("utf-8")).hexdigest()[:PLAN_KEY_LEN]


def client_order_id(key: str, item_index: int, seq: int) -> str:
    """The id of the ``seq``-th order (0-based) of item ``item_index``.

    Raises ValueError for negative numbers or an id longer than Alpaca accepts.
    """
    if item_index < 0 or seq < 0:
        raise ValueError("item index and sequence must be non-negative")
    coid = f"{key}-{item_index}-{seq}"
    if len(coid) > MAX_CLIENT_ORDER_ID_LEN:
        raise ValueError(f"client order id too long: {coid}")
    return coid


def parse_client_order_id(key: str, coid: str) -> tuple[int, int] | None:
    """``(item_index, seq)`` when ``coid`` belongs to the plan with this key, else ``None``."""
    prefix, sep, rest = coid.partition("-")
    if prefix != key or not sep:
        return None
    index, sep, seq = rest.partition("-")
    if not sep or not index.isdecimal() or not seq.isdecimal():
        return None
    return int(index), int(seq)
