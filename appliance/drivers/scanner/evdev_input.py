"""The kernel's evdev interface, read directly: a USB HID scanner is a keyboard under /dev/input.

No python-evdev: it is a compiled extension that needs kernel headers to build, and a scanner
needs three things from the kernel: `struct input_event` records, key codes and EVIOCGRAB.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
from collections.abc import Iterator

# struct input_event on 64-bit Linux: a struct timeval (two longs), u16 type, u16 code, s32 value.
EVENT = struct.Struct("@llHHi")
EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
# _IOW('E', 0x90, int): exclusive access; other readers (the console, so the TUI) get nothing.
EVIOCGRAB = 0x40044590


def _row(first: int, chars: str) -> dict[int, str]:
    return {first + i: c for i, c in enumerate(chars)}


# Key codes from linux/input-event-codes.h for what a scanner types on a US layout (its factory
# setting), with the keypad for scanners set to send digits as keypad keys. Quirks as data.
CHARS: dict[int, str] = (
    _row(2, "1234567890-=")
    | _row(16, "qwertyuiop")
    | _row(30, "asdfghjkl")
    | _row(44, "zxcvbnm")
    | {51: ",", 52: ".", 53: "/", 57: " "}
    | _row(71, "789-456+1230.")
    | {98: "/", 55: "*"}
)
SHIFTED: dict[str, str] = dict(zip("1234567890-=,./", "!@#$%^&*()_+<>?", strict=True))
SHIFT_CODES = {42, 54}  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
END_CODES = {28, 96, 15}  # KEY_ENTER, KEY_KPENTER, KEY_TAB


class KeyDecoder:
    """Key events in, whole codes out: one code per Enter (or Tab), shift applied."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._shift = False

    def feed(self, code: int, value: int) -> str | None:
        if code in SHIFT_CODES:
            self._shift = value != KEY_UP
            return None
        if value != KEY_DOWN:
            return None
        if code in END_CODES:
            done, self._chars = "".join(self._chars), []
            return done or None
        char = CHARS.get(code)
        if char is not None:
            if self._shift:
                char = SHIFTED.get(char, char.upper())
            self._chars.append(char)
        return None


class InputDevice:
    """One /dev/input/event* node, opened non-blocking; read with a poll so a reader can stop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self._buffer = b""

    def grab(self) -> None:
        """Take the device exclusively. OSError (EBUSY when another program holds it, ENOTTY when
        the node is not an input device) propagates with the path in it."""
        try:
            fcntl.ioctl(self.fd, EVIOCGRAB, 1)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot grab {self.path}: {exc.strerror}") from exc

    def key_events(self, stop_after: float = 0.5) -> Iterator[tuple[int, int] | None]:
        """(code, value) of each key event; None every `stop_after` seconds of silence so the
        caller can check whether to stop. Raises OSError when the device goes away (ENODEV)."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while True:
            if not poller.poll(int(stop_after * 1000)):
                yield None
                continue
            chunk = os.read(self.fd, EVENT.size * 64)
            if not chunk:
                raise OSError(19, f"{self.path}: the device went away")  # ENODEV
            self._buffer += chunk
            whole = len(self._buffer) - len(self._buffer) % EVENT.size
            for _sec, _usec, kind, code, value in EVENT.iter_unpack(self._buffer[:whole]):
                if kind == EV_KEY:
                    yield code, value
            self._buffer = self._buffer[whole:]

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)  # closing also releases the grab
