"""Telling a keyboard-wedge scanner from a person, by the timing of the keys alone.

A wedge scanner "types" its code as a burst of key presses (a 13-digit EAN in a few
milliseconds) and ends it with Enter. A person types far slower. So printable keys are held
back while they come in a burst; Enter closing a long enough burst makes it one scan, and
anything else (a pause, another key, a short burst) gives the held keys back, in order, to
whatever has focus. Pure logic with explicit timestamps, so it is tested without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

E = TypeVar("E")

MAX_GAP = 0.030  # seconds between two keys of one burst (a scanner: ~1-5 ms)
MIN_LENGTH = 6  # shortest code a scanner sends (EAN-8 is 8; receipt numbers are longer)


@dataclass
class Held(Generic[E]):
    """Keys held back from the focused widget while we find out who is typing."""

    keys: list[tuple[E, str, float]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(char for _, char, _ in self.keys)

    @property
    def last(self) -> float:
        return self.keys[-1][2]


@dataclass(frozen=True)
class Scan:
    code: str


@dataclass(frozen=True)
class Release(Generic[E]):
    """Give these keys back, in order, then handle the current key as usual."""

    events: tuple[E, ...]


class WedgeDetector(Generic[E]):
    def __init__(self, max_gap: float = MAX_GAP, min_length: int = MIN_LENGTH) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self._held: Held[E] = Held()

    @property
    def holding(self) -> bool:
        return bool(self._held.keys)

    @property
    def last_key_at(self) -> float:
        """When the last held key came (only while holding)."""
        return self._held.last

    def _release(self) -> Release[E]:
        events = tuple(event for event, _, _ in self._held.keys)
        self._held = Held()
        return Release(events)

    def printable(self, event: E, char: str, at: float) -> Release[E] | None:
        """A printable key: held back (None), after giving back a stale burst if there is one."""
        stale = self.holding and at - self._held.last > self.max_gap
        released = self._release() if stale else None
        self._held.keys.append((event, char, at))
        return released

    def enter(self, at: float) -> Scan | Release[E]:
        """Enter: the held burst is a scan, or the held keys go back before the Enter."""
        held = self._held
        if (
            len(held.keys) >= self.min_length
            and at - held.last <= self.max_gap
            and all(
                b[2] - a[2] <= self.max_gap for a, b in zip(held.keys, held.keys[1:], strict=False)
            )
        ):
            self._held = Held()
            return Scan(held.text)
        return self._release()

    def other(self) -> Release[E]:
        """Any other key: what was held goes back first, so the order is kept."""
        return self._release()

    def tick(self, now: float) -> Release[E] | None:
        """Called a little after the last key: a burst that stopped without Enter was typing."""
        if self.holding and now - self._held.last > self.max_gap:
            return self._release()
        return None
