"""Receipt, X/Z report and test-page layouts for 32- and 48-column paper.

Rows are built from two helpers: `_pair` (label left, amount right) and `_wrap` (long names
wrap onto the next line). Widths come from the printer's config, never from a global.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from appliance.drivers.printer.document import (
    Align,
    Code,
    Cut,
    Document,
    Feed,
    Op,
    Symbology,
    Text,
)
from appliance.drivers.printer.receipt import ReceiptData, ReceiptTax, ShiftReport, StoreHeader


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def quantity(value: Decimal) -> str:
    # 2 not 2.000; 1.25 kg stays 1.25
    text = f"{value.normalize():f}"
    return text


def percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def tax_label(tax: ReceiptTax) -> str:
    """A tax as a person reads it: its name and rate, a levy per unit of what it is charged on
    ("Carbon levy 0.1761/Litre"), never a per-litre amount as a percentage."""
    if "%" in tax.description or not tax.rate:
        return tax.description
    rate = f"{quantity(tax.rate)}/{tax.unit or 'unit'}" if tax.per_unit else percent(tax.rate)
    return f"{tax.description} {rate}"


@dataclass(frozen=True)
class ReceiptLayout:
    columns: int = 48
    code: Symbology | None = Symbology.QR
    cut: bool = True

    def render(self, r: ReceiptData) -> Document:
        ops: list[Op] = [*self._header(r.store)]
        if r.offline:
            ops.append(Text(" OFFLINE SALE ", Align.CENTER, bold=True, invert=True))
        title = "RETURN" if r.is_return else "RECEIPT"
        if r.reprint:
            title += " (COPY)"
        ops += [Text(title, Align.CENTER, bold=True), self._rule()]
        ops += self._meta(r)
        ops.append(self._rule())
        for line in r.lines:
            ops += [Text(t) for t in self._wrap(line.item_name)]
            label = f"  {quantity(line.qty)}{' ' + line.uom if line.uom else ''}"
            if line.discount_amount:
                ops.append(
                    self._pair(
                        f"{label} x {money(line.price_list_rate)}",
                        money(line.price_list_rate * line.qty),
                    )
                )
                off = (
                    f"  less {percent(line.discount_percentage)}"
                    if line.discount_percentage
                    else "  discount"
                )
                ops.append(self._pair(off, money(-line.discount_amount)))
            else:
                ops.append(self._pair(f"{label} x {money(line.rate)}", money(line.amount)))
        ops.append(self._rule())
        ops.append(self._pair("Subtotal", money(r.total)))
        discount = [self._pair("Discount", money(-r.discount_amount))] if r.discount_amount else []
        if not r.discount_after_taxes:
            ops += discount
        for tax in r.taxes:
            if not tax.amount:
                continue  # a row that charged nothing (a zero-rated levy) is noise on paper
            name = tax_label(tax)
            if tax.included_in_print_rate:
                name += " (incl.)"
            ops.append(self._pair(name, money(tax.amount)))
        if r.discount_after_taxes:
            ops += discount
        if r.exemption_certificate:
            ops += [
                Text(t) for t in self._wrap(f"Tax exempt: certificate {r.exemption_certificate}")
            ]
        ops.append(self._pair("Total", money(r.grand_total), bold=True))
        if r.rounding_adjustment:
            ops.append(self._pair("Rounding", money(r.rounding_adjustment)))
        label = "TO REFUND" if r.is_return else "TO PAY"
        cur = f" {r.currency}" if r.currency else ""
        ops.append(self._pair(f"{label}{cur}", money(r.to_pay), double=True))
        ops.append(self._rule())
        if r.is_return:
            # What went back by each tender, as the cashier hands it over: cards, then cash.
            back = [p for p in r.payments if not p.cash] + [p for p in r.payments if p.cash]
            for p in back:
                label = "Cash handed back" if p.cash else f"Back to {p.mode_of_payment}"
                ops.append(self._pair(label, money(-p.amount)))
            if r.payments:
                ops.append(self._pair("Refunded", money(-r.paid_amount)))
        else:
            if r.loyalty_points:
                points = f"Points redeemed {r.loyalty_points}"
                ops.append(self._pair(points, money(r.loyalty_amount)))
            for p in r.payments:
                ops.append(self._pair(p.mode_of_payment, money(p.amount)))
            if r.payments or r.loyalty_points:
                ops.append(self._pair("Paid", money(r.paid_amount)))
        if r.change_amount:
            ops.append(self._pair("Change", money(r.change_amount), bold=True))
        if r.loyalty_earned:
            ops.append(self._pair("Points earned", str(r.loyalty_earned)))
        ops.append(Feed())
        if self.code is not None:
            ops.append(Code(r.receipt_no, self.code))
        ops.append(Text(r.receipt_no, Align.CENTER))
        ops += [Text(t, Align.CENTER) for line in r.footer_lines for t in self._wrap(line)]
        return self._finish(ops, f"receipt {r.receipt_no}")

    def _meta(self, r: ReceiptData) -> list[Op]:
        ops: list[Op] = [
            self._pair("Receipt", r.receipt_no),
            self._pair("Date", r.posted_at.strftime("%Y-%m-%d %H:%M")),
            self._pair("Terminal", r.terminal_id),
            self._pair("Cashier", r.cashier),
        ]
        if r.customer:
            ops.append(self._pair("Customer", r.customer))
        if r.return_against:
            ops.append(self._pair("Return of", r.return_against))
        return ops

    def _header(self, store: StoreHeader) -> list[Op]:
        ops: list[Op] = [
            Text(t, Align.CENTER, bold=True, double=True)
            for t in textwrap.wrap(store.name, self.columns // 2) or [""]
        ]
        ops += [Text(t, Align.CENTER) for line in store.address_lines for t in self._wrap(line)]
        if store.phone:
            ops.append(Text(f"Tel {store.phone}", Align.CENTER))
        if store.tax_id:
            ops.append(Text(f"Tax ID: {store.tax_id}", Align.CENTER))
        ops.append(Feed())
        return ops

    def _pair(self, label: str, value: str, *, bold: bool = False, double: bool = False) -> Text:
        width = self.columns // 2 if double else self.columns
        room = width - len(value) - 1
        if len(label) > room:
            label = label[: max(room, 0)]
        return Text(
            f"{label}{' ' * (width - len(label) - len(value))}{value}", bold=bold, double=double
        )

    def _wrap(self, text: str) -> list[str]:
        return textwrap.wrap(text, self.columns) or [""]

    def _rule(self) -> Text:
        return Text("-" * self.columns)

    def _finish(self, ops: list[Op], title: str) -> Document:
        ops.append(Feed())
        if self.cut:
            ops.append(Cut())
        return Document(self.columns, tuple(ops), title)


@dataclass(frozen=True)
class ShiftReportLayout(ReceiptLayout):
    def render_report(self, s: ShiftReport) -> Document:
        kind = "Z REPORT - SHIFT CLOSE" if s.closing else "X REPORT"
        ops: list[Op] = [*self._header(s.store), Text(kind, Align.CENTER, bold=True), self._rule()]
        ops += [
            self._pair("Terminal", s.terminal_id),
            self._pair("Cashier", s.cashier),
            self._pair("Opened", s.opened_at.strftime("%Y-%m-%d %H:%M")),
            self._pair("Printed", s.printed_at.strftime("%Y-%m-%d %H:%M")),
        ]
        if s.shift_name:
            ops.append(self._pair("Shift", s.shift_name))
        # Two sums that each give the grand total: sales + returns, and net + taxes.
        ops += [
            self._rule(),
            self._pair("Sales", str(s.invoice_count)),
            self._pair("Returns", str(s.return_count)),
            self._pair("Sales total", money(s.sales_total)),
            self._pair("Returns total", money(s.returns_total)),
            self._rule(),
            self._pair("Net total", money(s.net_total)),
        ]
        ops += [self._pair(f"  {tax_label(t)}", money(t.amount)) for t in s.taxes if t.amount]
        ops += [
            self._pair("Taxes", money(s.total_taxes)),
            self._pair("Grand total", money(s.grand_total), bold=True),
        ]
        if s.rounding:
            ops.append(self._pair("Rounding", money(s.rounding)))
        ops += [self._rule(), self._pair("Opening float", money(s.opening_float))]
        for p in s.payments:
            ops.append(self._pair(p.mode_of_payment, money(p.expected)))
            if p.counted is not None:
                ops.append(self._pair("  counted", money(p.counted)))
                ops.append(self._pair("  difference", money(p.counted - p.expected)))
        ops += [self._rule(), self._pair("No-sale drawer openings", str(s.drawer_openings))]
        if s.unsynced_count:
            ops.append(
                Text(
                    f" {s.unsynced_count} SALES NOT YET SYNCED ",
                    Align.CENTER,
                    bold=True,
                    invert=True,
                )
            )
        return self._finish(ops, "Z report" if s.closing else "X report")


def printer_test_page(columns: int, device: str, now: datetime, code: Symbology | None) -> Document:
    """Everything a printer must get right, on one page: widths, styles, code, cut."""
    ops: list[Op] = [
        Text("TEST PAGE", Align.CENTER, bold=True, double=True),
        Text(device, Align.CENTER),
        Text(now.strftime("%Y-%m-%d %H:%M:%S"), Align.CENTER),
        Text("-" * columns),
        Text("".join(str(i % 10) for i in range(1, columns + 1))),
        Text("left"),
        Text("centre", Align.CENTER),
        Text("right", Align.RIGHT),
        Text("bold", bold=True),
        Text("inverted", invert=True),
        Text("double", double=True),
        Text("Accents: é à ü ç ñ"),
    ]
    if code is not None:
        ops.append(Code("TEST-0001", code))
    ops += [Feed(), Cut()]
    return Document(columns, tuple(ops), "test page")
