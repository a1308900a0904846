"""How money, quantities and times read on the counter screen."""

from __future__ import annotations

from decimal import Decimal

from appliance.counter.typed_numbers import NumberStyle, TypedNumberError, parse_typed

CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.quantize(CENT):,.2f}"


def qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def parse_amount(text: str, style: NumberStyle) -> Decimal | None:
    """A number the cashier typed, read as the store writes numbers; None if it is not one
    (:func:`read_amount` says why)."""
    try:
        return read_amount(text, style)
    except TypedNumberError:
        return None


def read_amount(text: str, style: NumberStyle) -> Decimal:
    """A number the cashier typed ("12", "70,00", "1 234,50"), read by the store's style."""
    return parse_typed(text.strip().removeprefix("$"), style)
