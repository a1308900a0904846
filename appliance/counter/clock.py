"""The store's one clock: every time a person reads is in the store's time zone.

ERPNext compares posting times in its System Settings time zone, and a till's own clock runs in
UTC (the image sets no local zone): receipts, held-sale labels, lock-out ends, the sync time on
the status bar and "Printed" on X/Z reports are all said in the store's zone, through here.

Times the till keeps for itself (the journal, the outbox) stay UTC; they are converted only when
shown. A time said to the minute is a promise: a lock-out "until 05:52" ends at 05:52:00, not at
05:52:40, so its end is put on a whole minute (:func:`on_the_minute`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]
_MINUTE = timedelta(minutes=1)


def store_zone(time_zone: str) -> tzinfo | None:
    """The store's zone (System Settings ``time_zone``); None (the machine's) when unset."""
    if not time_zone:
        return None
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown site time zone {time_zone!r} (System Settings time_zone)"
        ) from None


def site_clock(time_zone: str) -> Clock:
    """A clock giving naive local times in ``time_zone`` (the machine's zone when empty)."""
    zone = store_zone(time_zone)
    if zone is None:
        return lambda: datetime.now().replace(microsecond=0)
    return lambda: datetime.now(zone).replace(tzinfo=None, microsecond=0)


def store_local(moment: datetime, time_zone: str = "") -> datetime:
    """``moment`` (aware; naive is taken as UTC) as the store's naive wall time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    try:
        zone = store_zone(time_zone)
    except ValueError:
        zone = None  # said on screen: the machine's zone rather than no time at all
    return moment.astimezone(zone).replace(tzinfo=None)


def store_time(moment: datetime, time_zone: str = "") -> str:
    """``HH:MM`` in the store's time zone (ERPNext's System Settings), else the machine's."""
    return f"{store_local(moment, time_zone):%H:%M}"


def on_the_minute(moment: datetime) -> datetime:
    """``moment`` moved up to the next whole minute (unchanged when it is one): an end said as
    "until HH:MM" is then exactly that minute."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + _MINUTE
