"""One clock: what a person reads is in the store's time zone, and a time said is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.counter.auth import MAX_FAILURES, Outcome
from appliance.counter.clock import on_the_minute, store_local, store_time
from tests.counter.test_pin_limits import ANA, PINS, STORE_ZONE, Till

# 13:47:20 UTC is 05:47:20 in Vancouver: the till's own clock and the store's are 8 hours apart.
WRONG_AT = datetime(2026, 12, 7, 13, 47, 20, tzinfo=UTC)


def _when(said: str, day: datetime) -> datetime:
    """The moment an "HH:MM" said in the store's zone stands for, on ``day``'s local date."""
    local = store_local(day, STORE_ZONE)
    hour, minute = map(int, said.split(":"))
    wall = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return wall.replace(tzinfo=ZoneInfo(STORE_ZONE)).astimezone(UTC)


def test_a_lock_out_until_hh_mm_ends_at_hh_mm_store_time(data_dir: Path) -> None:
    till = Till(data_dir / "pos.db")
    for n in range(MAX_FAILURES):
        result = till.sign_in(ANA, "0000", WRONG_AT + timedelta(seconds=n))
    assert result.outcome is Outcome.LOCKED
    said = result.message.rsplit("until ", 1)[1].rstrip(")")
    assert said == "05:53", result.message  # store time, not the machine's 13:53
    ends = _when(said, WRONG_AT)
    assert result.locked_until == ends
    # Locked one second before the minute it names, open on that minute.
    assert till.sign_in(ANA, PINS[ANA], ends - timedelta(seconds=1)).outcome is Outcome.LOCKED
    assert till.sign_in(ANA, PINS[ANA], ends).ok


def test_times_are_said_in_the_store_zone() -> None:
    assert store_time(WRONG_AT, STORE_ZONE) == "05:47"
    assert store_local(WRONG_AT.replace(tzinfo=None), STORE_ZONE) == datetime(
        2026, 12, 7, 5, 47, 20
    )
    assert store_time(WRONG_AT, "Not/AZone") == store_time(WRONG_AT)  # the machine's, not none
    assert on_the_minute(WRONG_AT) == datetime(2026, 12, 7, 13, 48, tzinfo=UTC)
    assert on_the_minute(WRONG_AT.replace(second=0)) == WRONG_AT.replace(second=0)
