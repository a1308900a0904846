"""A serial scanner twin: `scan()` sends a code framed the way the real one is set up."""

from __future__ import annotations

from pathlib import Path

from appliance.drivers.virtual.pty_device import PtyDevice


class VirtualScanner(PtyDevice):
    def __init__(self, link: Path | str, prefix: str = "", suffix: str = "\r") -> None:
        super().__init__(link)
        self.prefix, self.suffix = prefix, suffix

    def scan(self, code: str) -> None:
        self.send(f"{self.prefix}{code}{self.suffix}".encode("ascii"))
