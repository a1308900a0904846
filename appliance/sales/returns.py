"""Returns against an earlier sale: some or all of its lines, refunded as ERPNext expects.

ERPNext builds a return as a copy of the original with negative quantities, the same tax rows
(Actual amounts negated) and the discount negated (FACTS §3.13). The till does the same, with one
refinement ERPNext leaves to the user: on a partial return, fixed amounts (an Actual charge such
as a bag fee, a cart discount given as an amount) are refunded in proportion to what comes back,
so a partial return never refunds the whole bag fee or more discount than the lines carried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from appliance.sales.cart import Cart, CartError, CartLine, check_whole, recompute
from appliance.sales.model import ZERO, ChargeType


def make_return(
    original: Cart,
    original_id: str,
    quantities: Mapping[int, Decimal],
    already_returned: Mapping[int, Decimal] | None = None,
) -> Cart:
    """A return cart for ``quantities`` (original line id -> positive qty to take back)."""
    if original.is_return:
        raise CartError("A return cannot itself be returned")
    already = already_returned or {}
    lines: list[CartLine] = []
    for line_id, qty in quantities.items():
        if qty == 0:
            continue
        source = original.line(line_id)
        returned = already.get(line_id, ZERO)
        left = source.qty - returned
        if qty < 0 or qty > left:
            raise CartError(
                f"{source.item_name}: at most {left.normalize()} can be returned "
                f"(sold {source.qty.normalize()}, returned {returned.normalize()})"
            )
        check_whole(source, qty)  # half a bag of coffee cannot come back either
        lines.append(
            replace(source, line_id=len(lines) + 1, qty=-qty, return_of=f"{original_id}:{line_id}")
        )
    if not lines:
        raise CartError("Choose at least one line to return")

    share = _returned_share(original, lines)
    cent = Decimal(1).scaleb(-original.settings.currency_precision)

    def part(amount: Decimal) -> Decimal:
        return (amount * share).quantize(cent, rounding=ROUND_HALF_UP)

    taxes = tuple(
        replace(t, tax_amount=-part(t.tax_amount)) if t.charge_type is ChargeType.ACTUAL else t
        for t in original.taxes
    )
    return recompute(
        Cart(
            settings=original.settings,
            lines=tuple(lines),
            customer=original.customer,
            taxes_and_charges=original.taxes_and_charges,
            taxes=taxes,
            apply_discount_on=original.apply_discount_on,
            additional_discount_percentage=original.additional_discount_percentage,
            discount_amount=ZERO
            if original.additional_discount_percentage
            else -part(original.discount_amount),
            is_return=True,
            return_against=original_id,
            next_line_id=len(lines) + 1,
        )
    )


def _returned_share(original: Cart, lines: list[CartLine]) -> Decimal:
    """The part of the original's value coming back, by line amounts (1 for a full return)."""
    sold = sum((line.qty * line.base_rate for line in original.lines), ZERO)
    back = sum((-line.qty * line.base_rate for line in lines), ZERO)
    full = all(
        any(
            r.return_of and r.return_of.endswith(f":{o.line_id}") and -r.qty == o.qty for r in lines
        )
        for o in original.lines
    )
    if full or not sold:
        return Decimal(1)
    return back / sold
