"""How money, quantities and times read on the counter screen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.quantize(CENT):,.2f}"


def qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def parse_amount(text: str) -> Decimal | None:
    """A number the cashier typed ("12", "12.5", "1,234.50"); None if it is not one."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
