"""A printable document: a list of simple operations, independent of any printer.

Layouts build documents; the driver plays them through python-escpos; `as_text()` gives the
plain-text rendering support uses (`appliance receipt render`). Keeping the layout away from
the wire means the same receipt can be printed, previewed and asserted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


class Symbology(StrEnum):
    QR = "qr"
    CODE128 = "code128"


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double: bool = False  # double width and height: totals, the OFFLINE marker
    invert: bool = False


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Code:
    """A machine-readable code, centred: the receipt number for returns."""

    data: str
    symbology: Symbology


@dataclass(frozen=True)
class Cut:
    partial: bool = True


@dataclass(frozen=True)
class KickDrawer:
    pin: int = 2


Op = Text | Feed | Code | Cut | KickDrawer


@dataclass(frozen=True)
class Document:
    columns: int
    ops: tuple[Op, ...]
    title: str = ""  # for logs and the queue: "receipt T01-000123", "Z report"

    def as_text(self) -> str:
        """Plain text, one printed line per line; codes and cuts as [markers]."""
        out: list[str] = []
        for op in self.ops:
            if isinstance(op, Text):
                width = self.columns // 2 if op.double else self.columns
                line = _aligned(op.text, width, op.align)
                out.append(line.rstrip())
            elif isinstance(op, Feed):
                out.extend([""] * op.lines)
            elif isinstance(op, Code):
                out.append(f"[{op.symbology.value.upper()} {op.data}]")
            elif isinstance(op, Cut):
                out.append("[CUT]")
            else:
                out.append(f"[DRAWER pin {op.pin}]")
        return "\n".join(out) + "\n"


def _aligned(text: str, width: int, align: Align) -> str:
    if align is Align.CENTER:
        return text.center(width)
    if align is Align.RIGHT:
        return text.rjust(width)
    return text
