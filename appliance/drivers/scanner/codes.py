"""Where scanned codes go: a listener callback, else a queue the app drains."""

from __future__ import annotations

import queue

from appliance.drivers.interfaces import CodeListener


class CodeSink:
    def __init__(self) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self._listener: CodeListener | None = None

    def set_listener(self, listener: CodeListener | None) -> None:
        self._listener = listener

    def deliver(self, code: str) -> None:
        listener = self._listener
        if listener is not None:
            listener(code)
        else:
            self._queue.put(code)

    def get_code(self, timeout: float | None = None) -> str | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Framer:
    """Cuts a byte stream into codes: optional prefix, mandatory suffix (usually CR)."""

    def __init__(self, prefix: str, suffix: str, encoding: str = "ascii") -> None:
        self.prefix = prefix.encode(encoding)
        self.suffix = suffix.encode(encoding)
        self.encoding = encoding
        self._buffer = b""

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        codes = []
        while (end := self._buffer.find(self.suffix)) >= 0:
            frame, self._buffer = self._buffer[:end], self._buffer[end + len(self.suffix) :]
            if self.prefix:
                start = frame.rfind(self.prefix)
                if start < 0:
                    continue  # noise before the scanner's first prefix: not a code
                frame = frame[start + len(self.prefix) :]
            # Scanners configured for CR LF leave the LF at the front of the next code.
            code = frame.decode(self.encoding, errors="replace").strip("\r\n")
            if code:
                codes.append(code)
        return codes

    def reset(self) -> None:
        self._buffer = b""
