"""Numbers a cashier types, read the way the store writes them.

The store's style is ERPNext's System Settings ``number_format`` ("#,###.##" in Ontario, "# ###,##"
in Quebec, "#.###,##" in most of Europe, "#,##,###.##" in India). A typed number is read by it, and
what can be read two ways is refused rather than guessed:

- the store's decimal separator, once: "70,00" is 70 in Quebec;
- the store's group separator, only where groups go: "1 234,50", "1.234.567" (comma stores);
- the other of "." and "," once, where it cannot be a group separator ("70,00" in Ontario, "4.99"
  typed on a numeric keypad in Quebec): the cashier meant decimals;
- refused: "1.500" in Quebec (no group separator there: 1500 or 1.5?), "1,2,3", "12.34,5", letters.

Amounts at or above ERPNext's storable limit (decimal(21,9): 10^12) are refused too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from appliance.sales.model import ERPNEXT_LIMIT as LIMIT

DEFAULT_FORMAT = "#,###.##"
_SEPARATORS = ".,"
_ALLOWED = re.compile(r"^-?[0-9.,' \u00a0\u202f]+$")


class TypedNumberError(ValueError):
    """Why the text is not a number the till can take, in words for the cashier."""


@dataclass(frozen=True)
class NumberStyle:
    """How a store writes numbers: its decimal and group separators."""

    decimal: str = "."
    group: str = ","
    indian: bool = False  # "#,##,###.##": groups of two before the last three digits

    @classmethod
    def from_format(cls, number_format: str | None) -> NumberStyle:
        """The style of a Frappe number format ("#,###.##", "# ###,##", "#.###", "#'###.##")."""
        fmt = (number_format or DEFAULT_FORMAT).strip()
        marks = [c for c in fmt if c != "#"]
        tail = re.search(r"([.,])#+$", fmt)
        # "#,###" and "#.###" have one separator followed by three digits: a group separator
        # (Frappe's three-decimal formats have both separators).
        if tail and not (len(tail.group(0)) == 4 and len(set(marks) - {" "}) == 1):
            decimal = tail.group(1)
            group_marks = fmt[: tail.start()].replace("#", "")
        else:
            group_marks = fmt.replace("#", "")
            decimal = "," if group_marks.strip() == "." else "."
        group = group_marks.strip()[:1] or (" " if " " in group_marks else "")
        return cls(decimal=decimal, group=group, indian=bool(re.search(r"#,##,###", fmt)))

    def example(self) -> str:
        return format_number(Decimal("1234.50"), self, 2)


@functools.cache
def style_of(number_format: str | None) -> NumberStyle:
    """The style of a store's number format, parsed once (screens ask on every check)."""
    return NumberStyle.from_format(number_format)


def parse_typed(text: str, style: NumberStyle, *, allow_negative: bool = False) -> Decimal:
    """The number in ``text``; :class:`TypedNumberError` saying why when it is not one."""
    raw = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not raw:
        raise TypedNumberError("Type a number")
    if not _ALLOWED.match(raw):
        raise TypedNumberError(f"'{_shown(raw)}' is not a number (for example {style.example()})")
    negative = raw.startswith("-")
    if negative and not allow_negative:
        raise TypedNumberError("Type an amount without a minus sign")
    body = raw.removeprefix("-")
    integer, fraction = _split(body, style)
    digits = integer + ("." + fraction if fraction is not None else "")
    if not digits.strip(".") or not digits.replace(".", "").isdigit():
        raise TypedNumberError(f"'{_shown(raw)}' is not a number (for example {style.example()})")
    try:
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only digits and a dot
        raise TypedNumberError(f"'{_shown(raw)}' is not a number") from None
    if abs(value) >= LIMIT:
        raise TypedNumberError(f"{_shown(raw)} is too large for the till")
    return -value if negative else value


def _split(body: str, style: NumberStyle) -> tuple[str, str | None]:
    """(integer digits, fraction digits or None), separators read by the style."""
    ambiguous = TypedNumberError(
        f"'{_shown(body)}' can be read two ways: type it as {style.example()} is written here"
    )
    if body.count(style.decimal) > 1:
        raise ambiguous
    integer, sep, fraction = body.partition(style.decimal)
    if sep and fraction and not fraction.isdigit():
        raise ambiguous
    marks = {c for c in integer if not c.isdigit()}
    if not marks:
        return integer, fraction if sep else None
    other = "," if style.decimal == "." else "."
    if not sep and marks == {other} and integer.count(other) == 1:
        head, _, tail = integer.partition(other)
        if len(tail) != 3:
            # Where it cannot be a group separator, the other mark is a decimal one: "70,00" in
            # Ontario, "4.99" typed on a numeric keypad in Quebec.
            return head, tail
        if style.group != other:
            raise ambiguous  # "1.500" where "." groups nothing: 1500 or 1.5?
    # Anything else before the decimal separator must be the store's grouping, where groups go.
    parts = integer.split(style.group) if style.group else [integer]
    if marks != {style.group} or not _groups_ok(parts, style):
        raise ambiguous
    return "".join(parts), fraction if sep else None


def _groups_ok(parts: list[str], style: NumberStyle) -> bool:
    """ "1,234,567" (or "12,34,567" in an Indian style): a head of 1-3 digits, then threes."""
    if len(parts) < 2 or not all(p.isdigit() for p in parts) or len(parts[-1]) != 3:
        return False
    width = 2 if style.indian else 3
    head_ok = 1 <= len(parts[0]) <= (width if len(parts) > 2 else 3)
    return head_ok and all(len(p) == width for p in parts[1:-1])


def format_number(value: Decimal, style: NumberStyle, places: int) -> str:
    """``value`` as the store writes it, with ``places`` decimals."""
    text = f"{abs(value):.{places}f}"
    integer, _, fraction = text.partition(".")
    groups: list[str] = []
    last = 3  # the last group; before it, threes (twos in an Indian style)
    while len(integer) > last:
        groups.insert(0, integer[-last:])
        integer = integer[:-last]
        last = 2 if style.indian else 3
    groups.insert(0, integer)
    out = style.group.join(groups) + (style.decimal + fraction if places else "")
    return ("-" if value < 0 else "") + out


def _shown(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


# A tender this far above what is due is confirmed before it is taken: "70,00" read as 7,000.00
# once told a cashier to hand back 6,934.40. Paying 100 for 5.00 or 20 for 0.99 is ordinary.
LARGEST_NOTE = Decimal(100)


def tender_needs_confirming(tendered: Decimal, due: Decimal) -> bool:
    """Whether ``tendered`` for ``due`` is more than a customer hands over by habit: more than
    twice what is due and more than the largest note above it."""
    return tendered > 2 * due and tendered > due + LARGEST_NOTE
