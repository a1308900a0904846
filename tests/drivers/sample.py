"""A sale with three tax rates, a line discount, an invoice discount, split payment and change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from appliance.drivers.printer.receipt import (
    ReceiptData,
    ReceiptLine,
    ReceiptPayment,
    ReceiptTax,
    StoreHeader,
)


def sample_receipt(*, offline: bool = True) -> ReceiptData:
    lines = (
        ReceiptLine("Organic bananas", D("1.250"), D("2.49"), D("3.11"), uom="kg"),
        ReceiptLine(
            "Coffee beans, single origin Ethiopia Yirgacheffe 500 g",
            D(2),
            D("11.25"),
            D("22.50"),
            price_list_rate=D("12.50"),
            discount_percentage=D(10),
        ),
        ReceiptLine("Children's book", D(1), D("9.99"), D("9.99")),
        ReceiptLine("Sparkling water 6x1L", D(1), D("4.80"), D("4.80")),
    )
    total = sum((line.amount for line in lines), D(0))  # 40.40
    discount = D("2.00")
    taxes = (
        ReceiptTax("GST", D(5), D("1.82")),
        ReceiptTax("PST", D(7), D("1.89")),
        ReceiptTax("Reduced rate", D("2.5"), D("0.25")),
    )
    grand = total - discount + sum((t.amount for t in taxes), D(0))  # 42.36
    return ReceiptData(
        store=StoreHeader(
            "Corner Market",
            ("12 Harbour Street", "Halifax NS B3H 1A1"),
            tax_id="123456789 RT0001",
            phone="902-555-0100",
        ),
        receipt_no="T01-000123",
        terminal_id="T01",
        cashier="Alice",
        posted_at=datetime(2026, 11, 3, 14, 5),
        lines=lines,
        taxes=taxes,
        payments=(ReceiptPayment("Card", D("20.00")), ReceiptPayment("Cash", D("25.00"))),
        total=total,
        discount_amount=discount,
        grand_total=grand,
        rounding_adjustment=D("-0.01"),
        rounded_total=D("42.35"),
        paid_amount=D("45.00"),
        change_amount=D("2.65"),
        currency="CAD",
        offline=offline,
        footer_lines=("Thank you! Returns within 30 days with this receipt.",),
    )
