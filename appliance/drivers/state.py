"""Device state the app can observe (status bar, `appliance devices`, support bundle).

A state is an enum, never a loose string; listeners are plain callables called from whichever
thread changed the state, so the TUI must hop to its own thread (``call_from_thread``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class DeviceState(StrEnum):
    UNKNOWN = "unknown"  # configured, not yet tried
    ONLINE = "online"
    OFFLINE = "offline"  # cannot be reached; the supervisor keeps retrying
    ERROR = "error"  # reachable but failing (paper out, protocol mismatch)


@dataclass(frozen=True)
class DeviceStatus:
    device: str
    kind: str
    state: DeviceState
    error: str = ""
    since: float = 0.0  # time.monotonic() of the last change


Listener = Callable[[DeviceStatus], None]


class StatusCell:
    """Holds one device's status and tells listeners when it changes (not on every re-set)."""

    def __init__(self, device: str, kind: str) -> None:
        self._lock = threading.Lock()
        self._status = DeviceStatus(device, kind, DeviceState.UNKNOWN, since=time.monotonic())
        self._listeners: list[Listener] = []

    @property
    def status(self) -> DeviceStatus:
        with self._lock:
            return self._status

    @property
    def state(self) -> DeviceState:
        return self.status.state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def set(self, state: DeviceState, error: str = "") -> None:
        with self._lock:
            old = self._status
            if old.state == state and old.error == error:
                return
            self._status = DeviceStatus(old.device, old.kind, state, error, time.monotonic())
            new, listeners = self._status, list(self._listeners)
        # Outside the lock: a listener may read the status again.
        for listener in listeners:
            listener(new)
