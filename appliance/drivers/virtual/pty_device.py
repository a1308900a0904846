"""A pseudo-terminal with a stable path, and a device thread reading its host side."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from pathlib import Path
from typing import Self


class PtyDevice:
    """Base of the twins: `on_bytes` gets what the driver wrote; `send` answers it."""

    def __init__(self, link: Path | str) -> None:
        self.link = Path(link)
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def path(self) -> str:
        return str(self.link)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        # Raw: no echo, no CR/LF translation; the driver's bytes arrive as sent.
        tty.setraw(slave)
        tty.setraw(master)
        # Keep our own slave fd open so reads on the master never see a hang-up while the
        # driver is between opens.
        self._master, self._slave = master, slave
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(os.ttyname(slave))
        self._stop = stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(master, stop), name=f"twin-{self.link.name}", daemon=True
        )
        self._thread.start()

    def unplug(self) -> None:
        """Like pulling the cable: the path disappears and the driver's next I/O fails."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def close(self) -> None:
        self.unplug()

    def __enter__(self) -> Self:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()

    def send(self, data: bytes) -> None:
        with self._write_lock:
            if self._master is not None:
                os.write(self._master, data)

    def on_bytes(self, data: bytes) -> None:
        """Called on the twin's thread with every chunk the driver wrote."""

    def _run(self, master: int, stop: threading.Event) -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if data:
                self.on_bytes(data)
