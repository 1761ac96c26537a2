"""Hypothesis strategies for hostile event input (issue 7): shapes, numbers, strings."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

#: Every JSON-ish scalar a producer (or attacker) might send, including Python-only values the
#: Lambda runtime can hand us (NaN/Infinity floats are accepted by ``json.loads``).
hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.sampled_from(["NaN", "-Infinity", "inf", "1e999999999", "-0", "0x10", "1_000", " 5 ", ""]),
)

json_values = st.recursive(
    hostile_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=30,
)

#: Text aimed at log, path, shell and SQL injection, plus unicode look-alikes and controls.
injection_text = st.one_of(
    st.sampled_from(
        [
            "SPY\n",
            "SPY\r\nlevel=ERROR",
            "../../etc/passwd",
            "'; DROP TABLE plans;--",
            "$(rm -rf /)",
            "<script>alert(1)</script>",
            "\u0000",
            "S\u200bPY",
            "\uff33\uff30\uff39",  # full-width SPY
            "\u00dfPY",  # upper-cases to SSPY
            "\u0130BM",
            "%s%s%n",
            "{{7*7}}",
            "A" * 10_000,
        ]
    ),
    st.text(min_size=1, max_size=40),
)

sane_symbols = st.from_regex(r"\A[A-Za-z][A-Za-z0-9.]{0,9}\Z")


def decimal_text(value: Decimal) -> str:
    """A numeric string as a producer would write it."""
    return format(value, "f")


def is_finite_number(value: object) -> bool:
    """True for values the plan accepts as a number before range checks."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int)


def plan(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A minimal valid plan around ``items``."""
    body: dict[str, Any] = {
        "plan_id": "fuzz-plan-1",
        "timestamp": "2024-06-03T14:30:00Z",
        "items": items,
    }
    body.update(fields)
    return body


def item(symbol: str = "SPY", action: str = "BUY", amount: object = "100") -> dict[str, Any]:
    """A plan item."""
    return {"symbol": symbol, "action": action, "trade_amount": amount}
