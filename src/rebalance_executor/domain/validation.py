"""Shared parsing rules for untrusted numbers and identifiers (SPEC §3.2).

Every validator here raises ``ValueError`` with a short phrase ("must be a finite number") that
the caller prefixes with the field path, so a rejection always names the field and the rule.
Type mismatches raise ValueError too (ruff TRY004 is silenced on purpose): pydantic turns only
ValueError/AssertionError into validation errors; a TypeError would escape as a crash.
The annotated types (:data:`Money`, :data:`Weight`, ...) plug these rules into pydantic models.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Final

from pydantic import BeforeValidator

#: Dollar amounts beyond this are a bug or an attack, never a real rebalance (SPEC §3.2).
MAX_ABS_DOLLARS: Final = Decimal(10) ** 12
#: A numeric string longer than this is not a price or a weight; refusing it early keeps
#: ``Decimal`` arithmetic on hostile input cheap.
MAX_NUMBER_CHARS: Final = 40
#: Identifier alphabet of ``plan_id`` (SPEC §3.2); also used for correlation and event ids.
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ID_RULE: Final = "must be 1-128 characters of A-Z a-z 0-9 . _ : -"
SYMBOL_PATTERN: Final = re.compile(r"[A-Z][A-Z0-9.]{0,9}")
SYMBOL_RULE: Final = "must match ^[A-Z][A-Z0-9.]{0,9}$ after upper-casing"


def parse_decimal(value: object) -> Decimal:
    """Convert a JSON number or numeric string to an exact, finite ``Decimal``.

    Floats go through ``str()`` so ``0.1`` becomes ``Decimal("0.1")``, not its binary expansion.
    Raises ValueError for booleans, NaN, ±Infinity, non-numeric strings and any other type.
    """
    if isinstance(value, bool):
        # bool is an int subclass: `true` as a dollar amount is a producer bug, not 1.
        raise ValueError("must be a number, not a boolean")  # noqa: TRY004
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        result = Decimal(str(value))
    elif isinstance(value, str):
        result = _decimal_from_text(value)
    else:
        raise ValueError("must be a number or a numeric string")  # noqa: TRY004
    if not result.is_finite():
        raise ValueError("must be a finite number")
    return result


def _decimal_from_text(text: str) -> Decimal:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_NUMBER_CHARS or not stripped.isascii():
        raise ValueError(f"must be a numeric string of at most {MAX_NUMBER_CHARS} characters")
    try:
        return Decimal(stripped)
    except InvalidOperation:
        raise ValueError("must be a number or a numeric string") from None


def parse_money(value: object) -> Decimal:
    """A signed dollar amount; raises ValueError beyond ±10^12 or when not a finite number."""
    result = parse_decimal(value)
    # copy_abs ignores the decimal context: abs() would raise Overflow for 1e999999999.
    if result.copy_abs() > MAX_ABS_DOLLARS:
        raise ValueError("must be at most 1e12 dollars in magnitude")
    return result


def parse_non_negative_money(value: object) -> Decimal:
    """A dollar amount >= 0; raises ValueError otherwise (see :func:`parse_money`)."""
    result = parse_money(value)
    if result < 0:
        raise ValueError("must be >= 0")
    return result


def parse_weight(value: object) -> Decimal:
    """A portfolio weight in [0, 1]; raises ValueError otherwise."""
    result = parse_decimal(value)
    if not Decimal(0) <= result <= Decimal(1):
        raise ValueError("must be a weight in [0, 1]")
    return result


def parse_weight_diff(value: object) -> Decimal:
    """A weight difference in [-1, 1]; raises ValueError otherwise."""
    result = parse_decimal(value)
    if not Decimal(-1) <= result <= Decimal(1):
        raise ValueError("must be in [-1, 1]")
    return result


def parse_strict_int(value: object, *, low: int, high: int) -> int:
    """An integer in [low, high] from an int, an integral float/Decimal or a digit string.

    Raises ValueError for booleans, fractions and anything out of range.
    """
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError("must be a whole number")
    if not low <= number <= high:
        raise ValueError(f"must be between {low} and {high}")
    return int(number)


def parse_identifier(value: object) -> str:
    """An id in the plan_id alphabet (SPEC §3.2); raises ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("must be a string")  # noqa: TRY004
    if ID_PATTERN.fullmatch(value) is None:
        raise ValueError(ID_RULE)
    return value


def parse_symbol(value: object) -> str:
    """An upper-cased ticker; raises ValueError for non-strings and anything off the pattern.

    Non-ASCII input is refused before upper-casing: ``"ß".upper() == "SS"`` would otherwise let
    a look-alike string turn into a real ticker.
    """
    if not isinstance(value, str):
        raise ValueError("must be a string")  # noqa: TRY004
    if not value.isascii():
        raise ValueError(SYMBOL_RULE)
    symbol = value.upper()
    if SYMBOL_PATTERN.fullmatch(symbol) is None:
        raise ValueError(SYMBOL_RULE)
    return symbol


Money = Annotated[Decimal, BeforeValidator(parse_money)]
NonNegativeMoney = Annotated[Decimal, BeforeValidator(parse_non_negative_money)]
Weight = Annotated[Decimal, BeforeValidator(parse_weight)]
WeightDiff = Annotated[Decimal, BeforeValidator(parse_weight_diff)]
Identifier = Annotated[str, BeforeValidator(parse_identifier)]
Symbol = Annotated[str, BeforeValidator(parse_symbol)]
