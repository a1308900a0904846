"""Frappe's float rounding, reproduced so offline totals equal ERPNext's to the cent.

This is the one documented place where money is a ``float``: ERPNext computes invoice totals in
IEEE-754 doubles and rounds them with three System Settings methods whose tie-breaking depends on
that representation (FACTS.md §4.1). Re-doing the arithmetic in ``Decimal`` gives different cents
on ties and on long accumulations, so the totals algorithm (``totals.py``) runs on floats through
these helpers and hands ``Decimal`` values back at its boundary. Nothing else may use them.

Behaviour written from Frappe's documented semantics (Frappe is MIT-licensed; no code copied).
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum


class RoundingMethod(StrEnum):
    """System Settings ``rounding_method`` values, spelled exactly as ERPNext stores them."""

    BANKERS_LEGACY = "Banker's Rounding (legacy)"
    BANKERS = "Banker's Rounding"
    COMMERCIAL = "Commercial Rounding"


def _ulp_epsilon(num: float) -> float:
    # The spacing of doubles around num: nudges a tie that binary cannot represent exactly.
    return float(2.0 ** (math.log(abs(num), 2) - 52.0))


def _legacy(num: float, precision: int) -> float:
    multiplier: int = 10**precision
    scaled = round(num * multiplier if precision else num, 8)
    floor = math.floor(scaled)
    fraction = scaled - floor
    if fraction == 0.5:
        # Whole units break ties to even; decimal places break them upwards (toward +inf).
        result = (floor if floor % 2 == 0 else floor + 1) if not precision else floor + 1
    else:
        result = round(scaled)
    return result / multiplier if precision else float(result)


def _bankers(num: float, precision: int) -> float:
    multiplier: int = 10**precision
    scaled = round(num * multiplier, 12)
    if scaled == 0:
        return 0.0
    floor = math.floor(scaled)
    result: int
    if abs((scaled - floor) - 0.5) < _ulp_epsilon(scaled):
        result = floor if floor % 2 == 0 else floor + 1
    else:
        result = round(scaled)
    return result / multiplier


def _commercial(num: float, precision: int) -> float:
    if num == 0:
        return 0.0
    return float(round(num + math.copysign(_ulp_epsilon(num), num), precision))


_METHODS = {
    RoundingMethod.BANKERS_LEGACY: _legacy,
    RoundingMethod.BANKERS: _bankers,
    RoundingMethod.COMMERCIAL: _commercial,
}


def rounded(num: float, precision: int, method: RoundingMethod) -> float:
    """Frappe ``rounded(num, precision, method)``, always returning a float."""
    return float(_METHODS[method](float(num), int(precision)))


def flt(
    value: float | int | Decimal | str | None,
    precision: int | None = None,
    method: RoundingMethod = RoundingMethod.BANKERS,
) -> float:
    """Frappe ``flt``: coerce to float (non-numbers become 0.0), rounding only when asked."""
    try:
        num = float(value) if value is not None and value != "" else 0.0
    except (TypeError, ValueError):
        num = 0.0
    if math.isnan(num) or math.isinf(num):
        return 0.0
    return num if precision is None else rounded(num, precision, method)


def remainder(
    numerator: float, denominator: float, precision: int, method: RoundingMethod
) -> float:
    """Frappe ``remainder``: modulo on the scaled values, then rounded to ``precision``."""
    if precision:
        multiplier = 10**precision
        value = ((numerator * multiplier) % (denominator * multiplier)) / multiplier
    else:
        value = numerator % denominator
    return flt(value, precision, method)


def round_to_smallest_fraction(
    value: float, fraction: float, precision: int, method: RoundingMethod
) -> float:
    """ERPNext's rounded total: to the currency's smallest fraction, else to whole units.

    An exact half of the fraction rounds down (the remainder must exceed half to round up).
    """
    if fraction:
        rest = remainder(value, fraction, precision, method)
        value = value + (fraction - rest) if rest > fraction / 2 else value - rest
    else:
        value = rounded(value, 0, method)
    return flt(value, precision, method)


def to_decimal(value: float, precision: int) -> Decimal:
    """Hand a float result back as an exact Decimal with ``precision`` places (no re-rounding
    beyond what the float already carries: the value was rounded by ``flt`` first)."""
    return Decimal(f"{value:.{precision}f}") if precision >= 0 else Decimal(repr(value))
