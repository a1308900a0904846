"""Keeps devices connected: opens them, notices when one is lost and retries with backoff.

Hot-plug without blocking: the till calls a driver, the driver fails fast with
`DeviceOfflineError` and marks itself OFFLINE; this thread does the slow part (reopening with
exponential backoff) so no sale waits on a cable. One thread serves every device; `stop()` wakes
it at once and joins it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from appliance.drivers.errors import DeviceError
from appliance.drivers.interfaces import Device
from appliance.drivers.state import DeviceState

log = logging.getLogger(__name__)


@dataclass
class _Track:
    device: Device
    next_try: float = 0.0
    delay: float = 0.0
    online: bool = False  # what this thread last saw, to spot a driver that went down itself


class Supervisor:
    def __init__(
        self,
        devices: Iterable[Device] = (),
        *,
        first_retry: float = 0.5,
        max_retry: float = 30.0,
        probe_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.probe_interval = probe_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._tracks: dict[str, _Track] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        for device in devices:
            self.add(device)

    def add(self, device: Device) -> None:
        with self._lock:
            self._tracks[device.name] = _Track(device)
        # A device that fails mid-operation marks itself OFFLINE: retry it soon, not at the
        # next probe tick.
        device.status.subscribe(lambda status: self._wake.set())
        self._wake.set()

    @property
    def devices(self) -> list[Device]:
        with self._lock:
            return [t.device for t in self._tracks.values()]

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="device-supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for device in self.devices:
            device.close()

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = self.tick()
            self._wake.wait(wait)
            self._wake.clear()

    def tick(self) -> float:
        """One pass over every device; returns how long the loop may sleep. Public for tests."""
        now = self._clock()
        with self._lock:
            tracks = list(self._tracks.values())
        sleep = self.probe_interval
        for track in tracks:
            if self._stopping.is_set():
                break
            if track.online and track.device.status.state is not DeviceState.ONLINE:
                track.online, track.delay, track.next_try = False, 0.0, now
            if now < track.next_try:
                sleep = min(sleep, track.next_try - now)
                continue
            if track.device.status.state is DeviceState.ONLINE:
                self._probe(track, now)
            else:
                self._reconnect(track, now)
            sleep = min(sleep, max(track.next_try - now, 0.01))
        return sleep

    def _probe(self, track: _Track, now: float) -> None:
        try:
            track.device.probe()
        except DeviceError as exc:
            # The driver marked itself OFFLINE (or ERROR); reconnect on the next pass.
            log.warning("%s lost: %s", track.device.name, exc)
            track.online, track.delay, track.next_try = False, 0.0, now
        else:
            track.next_try = now + self.probe_interval

    def _reconnect(self, track: _Track, now: float) -> None:
        device = track.device
        device.close()
        try:
            device.open()
        except DeviceError as exc:
            track.delay = min(max(track.delay * 2, self.first_retry), self.max_retry)
            track.next_try = now + track.delay
            log.info("%s still offline, retry in %.1fs: %s", device.name, track.delay, exc)
        else:
            track.online, track.delay = True, 0.0
            track.next_try = now + self.probe_interval
            log.info("%s online", device.name)
