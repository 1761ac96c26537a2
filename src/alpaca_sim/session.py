"""The regular US equity session in simulated time: 09:30-16:00 America/New_York.

The simulator does not model holidays or weekends (a scenario says whether the market starts
open); it does model the close, where DAY orders expire (README "Session").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
OPEN_TIME = time(9, 30)
CLOSE_TIME = time(16, 0)


def trading_day(at: datetime) -> date:
    """The New York calendar date of an instant."""
    return at.astimezone(NEW_YORK).date()


def _next_at(after: datetime, wall: time) -> datetime:
    local = after.astimezone(NEW_YORK)
    candidate = datetime.combine(local.date(), wall, tzinfo=NEW_YORK)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), wall, tzinfo=NEW_YORK)
    return candidate.astimezone(UTC)


def next_close(after: datetime) -> datetime:
    """The first 16:00 New York time strictly after ``after`` (UTC)."""
    return _next_at(after, CLOSE_TIME)


def next_open(after: datetime) -> datetime:
    """The first 09:30 New York time strictly after ``after`` (UTC)."""
    return _next_at(after, OPEN_TIME)
