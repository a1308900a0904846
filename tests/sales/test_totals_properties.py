"""Properties of the totals engine that must hold for any cart, not just the recorded ones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.sales.erpnext_float import RoundingMethod
from appliance.sales.model import (
    ChargeType,
    DiscountOn,
    InvoiceInput,
    ItemLine,
    TaxLine,
    TotalsSettings,
)
from appliance.sales.totals import TotalsError, compute_totals

CENT = Decimal("0.01")
# ERPNext folds an inclusive-tax or discount residue of up to 5 units of the last place into the
# grand total rather than into a tax row.
RESIDUE = Decimal("0.05")

rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
qtys = st.one_of(
    st.integers(min_value=1, max_value=24).map(Decimal),
    st.decimals(min_value=Decimal("0.005"), max_value=Decimal("60"), places=3),
)
methods = st.sampled_from(list(RoundingMethod))
tax_sets = st.sampled_from(
    [
        (("HST", Decimal(13)),),
        (("GST", Decimal(5)), ("PST", Decimal(7))),
        (("GST", Decimal(5)), ("QST", Decimal("9.975"))),
        (("GST", Decimal(5)),),
    ]
)


def _settings(method: RoundingMethod, rounded: bool = True) -> TotalsSettings:
    return TotalsSettings(rounding_method=method, disable_rounded_total=not rounded)


def _taxes(tax_set: tuple[tuple[str, Decimal], ...], inclusive: bool) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(ChargeType.ON_NET_TOTAL, acc, rate=r, included_in_print_rate=inclusive)
        for acc, r in tax_set
    )


@st.composite
def carts(draw: st.DrawFn) -> tuple[InvoiceInput, TotalsSettings]:
    lines = draw(st.lists(st.tuples(qtys, rates), min_size=1, max_size=8))
    items = tuple(ItemLine(f"I{n}", q, r) for n, (q, r) in enumerate(lines))
    inclusive = draw(st.booleans())
    taxes = _taxes(draw(tax_sets), inclusive) if draw(st.booleans()) else ()
    if draw(st.booleans()):
        taxes += (TaxLine(ChargeType.ACTUAL, "Bag fee", tax_amount=Decimal("0.10")),)
        inclusive = False  # an Actual row may not be included, so keep the set exclusive
        taxes = tuple(TaxLine(t.charge_type, t.account_head, t.rate, t.tax_amount) for t in taxes)
    discount_on = draw(st.sampled_from(list(DiscountOn)))
    pct = draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(5), Decimal("12.5")]))
    invoice = InvoiceInput(
        items=items,
        taxes=taxes,
        apply_discount_on=discount_on,
        additional_discount_percentage=pct,
    )
    return invoice, _settings(draw(methods), draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(carts())
def test_grand_total_is_net_plus_taxes(cart: tuple[InvoiceInput, TotalsSettings]) -> None:
    invoice, cfg = cart
    t = compute_totals(invoice, cfg)
    assert abs(t.grand_total - (t.net_total + t.total_taxes_and_charges)) <= RESIDUE
    if not invoice.taxes:
        assert t.grand_total == t.net_total
    if invoice.apply_discount_on is DiscountOn.NET_TOTAL and not any(
        x.included_in_print_rate for x in invoice.taxes
    ):
        assert abs(t.net_total - (t.total - t.discount_amount)) <= CENT
    assert sum(i.net_amount for i in t.items) == t.net_total
    assert t.taxes == () or t.taxes[-1].total - t.grand_total in _residues()
    if cfg.disable_rounded_total:
        assert t.rounded_total == 0 and t.rounding_adjustment == 0
    else:
        assert t.rounded_total == t.rounded_total.to_integral_value()
        assert t.rounding_adjustment == t.rounded_total - t.grand_total


def _residues() -> set[Decimal]:
    return {Decimal(n) / 100 for n in range(-5, 6)}


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(1, 12).map(Decimal), rates), min_size=1, max_size=6),
    tax_set=tax_sets,
    method=methods,
)
def test_inclusive_price_equals_its_exclusive_twin(
    lines: list[tuple[Decimal, Decimal]],
    tax_set: tuple[tuple[str, Decimal], ...],
    method: RoundingMethod,
) -> None:
    total_rate = sum((r for _, r in tax_set), Decimal(0))
    exclusive = InvoiceInput(
        items=tuple(ItemLine(f"I{n}", q, r) for n, (q, r) in enumerate(lines)),
        taxes=_taxes(tax_set, inclusive=False),
    )
    inclusive = InvoiceInput(
        items=tuple(
            ItemLine(f"I{n}", q, (r * (1 + total_rate / 100)).quantize(CENT))
            for n, (q, r) in enumerate(lines)
        ),
        taxes=_taxes(tax_set, inclusive=True),
    )
    cfg = _settings(method, rounded=False)
    a, b = compute_totals(exclusive, cfg), compute_totals(inclusive, cfg)
    # The shelf price is rounded to the cent per unit; beyond that only per-row rounding differs.
    tolerance = sum(q for q, _ in lines) * Decimal("0.005") + CENT * (len(tax_set) + 1)
    assert abs(a.grand_total - b.grand_total) <= tolerance


@settings(max_examples=300, deadline=None)
@given(cart=carts(), data=st.data())
def test_line_order_does_not_change_totals(
    cart: tuple[InvoiceInput, TotalsSettings], data: st.DataObject
) -> None:
    invoice, cfg = cart
    order = data.draw(st.permutations(range(len(invoice.items))))
    shuffled = InvoiceInput(
        items=tuple(invoice.items[i] for i in order),
        taxes=invoice.taxes,
        apply_discount_on=invoice.apply_discount_on,
        additional_discount_percentage=invoice.additional_discount_percentage,
    )
    a, b = compute_totals(invoice, cfg), compute_totals(shuffled, cfg)
    assert a.total == b.total
    assert abs(a.net_total - b.net_total) <= CENT
    # Each tax row may round its float sum differently at a tie; Actual rows put their remainder
    # on whichever line is last.
    assert abs(a.grand_total - b.grand_total) <= CENT * (len(invoice.taxes) + 1)


def test_discount_larger_than_the_invoice_is_refused() -> None:
    invoice = InvoiceInput(
        items=(ItemLine("A", Decimal(1), Decimal(10)),), discount_amount=Decimal(11)
    )
    with pytest.raises(TotalsError, match="cannot exceed"):
        compute_totals(invoice, TotalsSettings())
