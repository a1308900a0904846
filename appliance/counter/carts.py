"""The sales domain's cart as the screens use it: its value types and the pure changes a
screen makes to it without the store (quantities, discounts, payments, held carts).

Screens import these names from here, never from ``appliance.sales``: the counter is their one
door (the import contracts in pyproject.toml check it). Catalog work (scans, prices, customer
taxes) runs on the counter's ``Till`` through ``Counter.on_till``.
"""

from __future__ import annotations

from appliance.sales.cart import (
    Cart,
    CartError,
    CartLine,
    Counter,
    HeldCart,
    TaxExemption,
    add_payment,
    check_whole,
    clear_payments,
    hold,
    missing_numbers,
    override_price,
    recall,
    remove_line,
    set_cart_discount,
    set_line_discount,
    set_note,
)
from appliance.sales.catalog import CatalogItem, CustomerInfo
from appliance.sales.model import DiscountOn, PaymentLine, discount_after_taxes
from appliance.sales.shift import ShiftReport as ShiftTotals
from appliance.sales.till import PaymentMode, Till

__all__ = [
    "Cart",
    "CartError",
    "CartLine",
    "CatalogItem",
    "Counter",
    "CustomerInfo",
    "DiscountOn",
    "HeldCart",
    "PaymentLine",
    "PaymentMode",
    "ShiftTotals",
    "TaxExemption",
    "Till",
    "add_payment",
    "check_whole",
    "clear_payments",
    "discount_after_taxes",
    "hold",
    "missing_numbers",
    "override_price",
    "recall",
    "remove_line",
    "set_cart_discount",
    "set_line_discount",
    "set_note",
]
