"""Decodes an ESC/POS byte stream into printed lines with style, and markers for the rest.

This is the reading side only (python-escpos has no decoder); it understands what python-escpos
emits for our documents and names anything else as an unknown-command marker so a test notices.
Text is decoded in the code page selected with ESC t, using python-escpos' own code page table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from escpos.capabilities import get_profile
from escpos.codepages import CodePages

ESC, GS, DLE, LF, CR, HT, NUL = 0x1B, 0x1D, 0x10, 0x0A, 0x0D, 0x09, 0x00


class Mark(StrEnum):
    TEXT = "text"
    QR = "qr"
    BARCODE = "barcode"
    IMAGE = "image"
    CUT = "cut"
    DRAWER = "drawer"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Style:
    bold: bool = False
    underline: bool = False
    invert: bool = False
    width: int = 1  # character magnification
    height: int = 1
    align: str = "left"


@dataclass(frozen=True)
class Printed:
    """A printed text line, or a marker (`kind` other than TEXT) with its `data`."""

    kind: Mark
    text: str = ""
    style: Style = field(default_factory=Style)
    data: str = ""

    def __str__(self) -> str:
        if self.kind is Mark.TEXT:
            return self.text
        return f"[{self.kind.value.upper()} {self.data}]".replace(" ]", "]")


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data, self.i = data, 0

    def take(self, n: int) -> bytes:
        chunk = self.data[self.i : self.i + n]
        self.i += n
        if len(chunk) < n:
            raise EOFError
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]


_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


def _encodings() -> dict[int, str]:
    table = {}
    for number, name in get_profile().codePages.items():
        try:
            table[int(number)] = CodePages.get_encoding_name(name)
        except Exception:  # "Unknown" code pages: nothing to decode with
            continue
    return table


class EscposDecoder:
    def __init__(self) -> None:
        self.encodings = _encodings()
        self.out: list[Printed] = []
        self._reset()

    def _reset(self) -> None:
        self.style = Style()
        self.encoding = "cp437"
        self._line: list[str] = []
        self._line_style: Style | None = None
        self._qr_data = ""

    def decode(self, data: bytes) -> list[Printed]:
        self.out = []
        self._reset()
        s = _Stream(data)
        try:
            while s.i < len(s.data):
                self._step(s)
        except EOFError:
            self.out.append(Printed(Mark.UNKNOWN, data="truncated command"))
        self._end_line(force=False)
        return self.out

    # -- one command or character --------------------------------------------------------------

    def _step(self, s: _Stream) -> None:
        b = s.byte()
        if b == ESC:
            self._esc(s)
        elif b == GS:
            self._gs(s)
        elif b == DLE:
            s.take(2)  # DLE EOT n (status request) or DLE DC4: nothing printed
        elif b == LF:
            self._end_line(force=True)
        elif b == HT:
            self._text(" " * (8 - len(self._line) % 8))
        elif b in (CR, NUL):
            pass
        elif b < 0x20:
            self.out.append(Printed(Mark.UNKNOWN, data=f"{b:#04x}"))
        else:
            self._text(bytes([b]).decode(self.encoding, errors="replace"))

    def _esc(self, s: _Stream) -> None:
        c = chr(s.byte())
        st = self.style
        if c == "@":
            self._end_line(force=False)
            self._reset()
        elif c == "!":
            n = s.byte()
            self.style = replace(
                st,
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=bool(n & 0x80),
            )
        elif c == "E":
            self.style = replace(st, bold=bool(s.byte() & 1))
        elif c == "-":
            self.style = replace(st, underline=bool(s.byte() & 3))
        elif c == "a":
            self.style = replace(st, align=_ALIGN.get(s.byte(), "left"))
        elif c == "t":
            self.encoding = self.encodings.get(s.byte(), self.encoding)
        elif c == "d":
            self._end_line(force=False)
            for _ in range(s.byte()):
                self._end_line(force=True)
        elif c == "p":
            pin = s.byte()
            s.take(2)
            self._end_line(force=False)
            self.out.append(Printed(Mark.DRAWER, data=f"pin {5 if pin & 1 else 2}"))
        elif c in "GMR{3JV":
            s.byte()  # double-strike, font, charset, flip, spacing, paper feed, rotation
        elif c == "2":
            pass
        else:
            self.out.append(Printed(Mark.UNKNOWN, data=f"ESC {c!r}"))

    def _gs(self, s: _Stream) -> None:
        c = chr(s.byte())
        if c == "!":
            n = s.byte()
            self.style = replace(self.style, width=(n >> 4) + 1, height=(n & 0x0F) + 1)
        elif c == "B":
            self.style = replace(self.style, invert=bool(s.byte() & 1))
        elif c == "V":
            m = s.byte()
            if m in (65, 66, 97, 98, 103, 104):
                s.byte()
            self._end_line(force=False)
            self.out.append(Printed(Mark.CUT, data="partial" if m in (1, 49, 66) else "full"))
        elif c in "hwHfb":
            s.byte()  # barcode height, width, text position, font; smoothing
        elif c == "k":
            self._barcode(s)
        elif c == "(":
            self._gs_paren(s)
        elif c == "v":
            s.byte()  # GS v 0: raster image
            head = s.take(5)  # m xL xH yL yH
            x, y = head[1] | head[2] << 8, head[3] | head[4] << 8
            s.take(x * y)
            self._end_line(force=False)
            self.out.append(Printed(Mark.IMAGE, data=f"{x * 8}x{y}"))
        else:
            self.out.append(Printed(Mark.UNKNOWN, data=f"GS {c!r}"))

    def _barcode(self, s: _Stream) -> None:
        m = s.byte()
        if m <= 6:  # function A: NUL-terminated
            data = bytearray()
            while (b := s.byte()) != NUL:
                data.append(b)
        else:  # function B: length-prefixed
            data = bytearray(s.take(s.byte()))
        text = data.decode("ascii", errors="replace")
        if m == 73 and text[:1] == "{":
            text = text[2:]  # CODE128 code-set selector, not part of the content
        self._end_line(force=False)
        names = {73: "CODE128", 67: "EAN13", 2: "EAN13", 69: "CODE39", 4: "CODE39"}
        self.out.append(Printed(Mark.BARCODE, data=f"{names.get(m, m)} {text}"))

    def _gs_paren(self, s: _Stream) -> None:
        fn_class = chr(s.byte())
        size = s.byte() | s.byte() << 8
        body = s.take(size)
        if fn_class == "k" and len(body) >= 2 and body[0] == ord("1"):
            fn = body[1]
            if fn == 80:  # store the symbol data (after the '0' parameter)
                self._qr_data = body[3:].decode("utf-8", errors="replace")
            elif fn == 81:  # print the stored symbol
                self._end_line(force=False)
                self.out.append(Printed(Mark.QR, data=self._qr_data))
        elif fn_class == "L":
            self._end_line(force=False)
            self.out.append(Printed(Mark.IMAGE, data=f"{size} bytes"))

    # -- lines ---------------------------------------------------------------------------------

    def _text(self, text: str) -> None:
        if self._line_style is None:
            self._line_style = self.style
        self._line.append(text)

    def _end_line(self, *, force: bool) -> None:
        if self._line or force:
            self.out.append(Printed(Mark.TEXT, "".join(self._line), self._line_style or self.style))
        self._line, self._line_style = [], None


def decode(data: bytes) -> list[Printed]:
    return EscposDecoder().decode(data)


def as_text(printed: list[Printed]) -> str:
    return "\n".join(str(p) for p in printed) + "\n"
