"""Alpaca's error body ``{"code", "message"}`` with its HTTP status, raised by the engine."""

from __future__ import annotations

BAD_REQUEST = 40010000
INVALID = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
PATTERN_DAY_TRADER = 40310100
NOT_FOUND = 40410000
UNPROCESSABLE = 42210000
RATE_LIMITED = 42910000
INTERNAL = 50010000
# alpaca-trade-api-python #306: the refusal of a replace of an order not yet routed; also sent
# (the injectable "ambiguous_replace" fault) although the replacement was in fact created
NOT_SENT_YET = "unable to replace order, order isn't sent to exchange yet"


class ApiError(Exception):
    """An error response exactly as Alpaca would send it."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


def invalid(message: str) -> ApiError:
    """422 / 40010001: the request is well-formed but not an acceptable order."""
    return ApiError(422, INVALID, message)


def forbidden(message: str) -> ApiError:
    """403 / 40310000: insufficient buying power or quantity, or a blocked account."""
    return ApiError(403, FORBIDDEN, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)
