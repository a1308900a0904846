"""Site-local wall time: ERPNext compares posting times in its System Settings time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def site_clock(time_zone: str) -> Clock:
    """A clock giving naive local times in ``time_zone`` (the machine's zone when empty)."""
    if not time_zone:
        return lambda: datetime.now().replace(microsecond=0)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown site time zone {time_zone!r} (System Settings time_zone)"
        ) from None
    return lambda: datetime.now(zone).replace(tzinfo=None, microsecond=0)
