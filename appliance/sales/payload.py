"""The exact POS Invoice body the sync agent will send for a paid cart (FACTS §5.4).

Built once, at commit time, and stored beside the sale: what ERPNext receives is what the counter
computed and printed. ``ignore_pricing_rule`` is set because the counter already applied the
pricing rules, and ``set_posting_time`` keeps the offline time of sale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from appliance.sales.cart import Cart
from appliance.sales.model import ZERO

# The unique custom field on POS Invoice, POS Opening/Closing Entry and Customer that carries
# the counter's id for a document (created by `appliance erpnext setup`).
OFFLINE_ID_FIELD = "offline_id"
# Which till made a document: ERPNext lists and filters by it (`erpnext setup` adds the field).
TERMINAL_FIELD = "appliance_terminal"
# The audit journal entry a sale was committed with, ``<seq>:<hash>``: filled by the agent when it
# sends the sale, so ERPNext keeps a copy of the till's chain (`journal verify --against-erpnext`).
JOURNAL_FIELD = "appliance_journal"
# A tax-exempt sale's exemption certificate number, as typed at the till (`erpnext setup` adds
# the field to POS and Sales Invoice; the remarks say it too, for a site without the field).
EXEMPTION_FIELD = "appliance_exemption_certificate"
# Returns refer to their original by offline id until the agent knows its ERPNext name.
RETURN_AGAINST_OFFLINE_FIELD = "offline_return_against"


@dataclass(frozen=True)
class InvoiceContext:
    """What the POS Profile and the terminal contribute to every invoice."""

    company: str
    pos_profile: str
    currency: str
    selling_price_list: str
    warehouse: str
    terminal_id: str
    cost_center: str | None = None
    income_account: str | None = None
    account_for_change_amount: str | None = None
    payment_accounts: Mapping[str, str] | None = None  # mode of payment -> account
    naming_series: str = "ACC-PSINV-.YYYY.-"


def _num(value: Decimal) -> float | int:
    # JSON numbers: exact for the 2-3 decimals these fields carry.
    return int(value) if value == value.to_integral_value() else float(value)


def invoice_payload(
    cart: Cart,
    ctx: InvoiceContext,
    *,
    offline_id: str,
    customer: str,
    posted_at: datetime,
    cashier: str,
) -> dict[str, Any]:
    if cart.totals is None:
        raise ValueError("an empty cart has no invoice")
    totals = cart.totals
    accounts = ctx.payment_accounts or {}
    items = []
    for line, result in zip(cart.lines, totals.items, strict=True):
        row: dict[str, Any] = {
            "item_code": line.item_code,
            "item_name": line.item_name,
            "qty": _num(result.qty),
            "uom": line.uom or None,
            "conversion_factor": _num(line.conversion_factor),
            "price_list_rate": _num(line.price_list_rate),
            "discount_percentage": _num(result.discount_percentage),
            "rate": _num(result.rate),
            "warehouse": ctx.warehouse,
            "item_tax_template": line.item_tax_template,
        }
        if line.barcode:
            row["barcode"] = line.barcode
        if line.serial_no or line.batch_no:
            # The text fields, as both 15 and 16 take them: the server builds the Serial and
            # Batch Bundle itself (features/NOTES.md §4). Left out, it would pick one FIFO.
            row["serial_no"] = line.serial_no or None
            row["batch_no"] = line.batch_no or None
            row["use_serial_batch_fields"] = 1
        if line.is_free_item:
            # Exactly as ERPNext builds a free line (features/NOTES.md §3): marked free and
            # naming its rule, so the server keeps it and never adds a second one.
            row["is_free_item"] = 1
            row["pricing_rules"] = ",".join(line.pricing_rules)
        if ctx.income_account:
            row["income_account"] = ctx.income_account
        if ctx.cost_center:
            row["cost_center"] = ctx.cost_center
        items.append({k: v for k, v in row.items() if v is not None})
    taxes = []
    for tax in cart.taxes:
        trow: dict[str, Any] = {
            "charge_type": tax.charge_type.value,
            "account_head": tax.account_head,
            "description": tax.description or tax.account_head,
            "rate": _num(tax.rate),
            "included_in_print_rate": int(tax.included_in_print_rate),
        }
        if tax.charge_type.value == "Actual":
            trow["tax_amount"] = _num(tax.tax_amount)
        if tax.row_id is not None:
            trow["row_id"] = str(tax.row_id)
        if tax.cost_center or ctx.cost_center:
            trow["cost_center"] = tax.cost_center or ctx.cost_center
        taxes.append(trow)
    payments = [
        {
            "mode_of_payment": p.mode_of_payment,
            "amount": _num(p.amount),
            **({"account": accounts[p.mode_of_payment]} if p.mode_of_payment in accounts else {}),
        }
        for p in cart.payments
    ]
    body: dict[str, Any] = {
        OFFLINE_ID_FIELD: offline_id,
        TERMINAL_FIELD: ctx.terminal_id,
        "naming_series": ctx.naming_series,
        "company": ctx.company,
        "pos_profile": ctx.pos_profile,
        "customer": customer,
        "is_pos": 1,
        "is_return": int(cart.is_return),
        "update_stock": 1,
        "posting_date": posted_at.date().isoformat(),
        "posting_time": posted_at.time().replace(microsecond=0).isoformat(),
        "set_posting_time": 1,
        "currency": ctx.currency,
        "conversion_rate": 1,
        "selling_price_list": ctx.selling_price_list,
        "price_list_currency": ctx.currency,
        "plc_conversion_rate": 1,
        "ignore_pricing_rule": 1,
        "set_warehouse": ctx.warehouse,
        "taxes_and_charges": cart.taxes_and_charges,
        "items": items,
        "taxes": taxes,
        "apply_discount_on": cart.apply_discount_on.value,
        "additional_discount_percentage": _num(cart.additional_discount_percentage),
        "discount_amount": _num(totals.discount_amount),
        "payments": payments,
        "paid_amount": _num(totals.paid_amount),
        "base_paid_amount": _num(totals.paid_amount),
        "change_amount": _num(totals.change_amount),
        "base_change_amount": _num(totals.change_amount),
        "write_off_amount": _num(totals.write_off_amount),
        "account_for_change_amount": ctx.account_for_change_amount,
        # The cashier's note first: ERPNext shows remarks as they are sent (NOTES.md §6).
        "remarks": (f"{cart.note}\n" if cart.note else "")
        + f"Till {ctx.terminal_id}, cashier {cashier}",
        "docstatus": 1,
    }
    if cart.is_return and cart.return_against:
        body[RETURN_AGAINST_OFFLINE_FIELD] = cart.return_against
    if cart.coupon_code and not cart.is_return:
        # The Coupon Code document's name (not its printed code): ERPNext checks it and counts
        # its use when the invoice is submitted (features/NOTES.md §2).
        body["coupon_code"] = cart.coupon_code
        if cart.coupon_approved_by:
            body["remarks"] += (
                f"; coupon {cart.coupon_code} taken offline, approved by {cart.coupon_approved_by}"
            )
    exemption = cart.tax_exemption
    if exemption is not None:
        body[EXEMPTION_FIELD] = exemption.certificate
        body["remarks"] += (
            f"; tax exempt ({exemption.tax_category}), certificate {exemption.certificate}, "
            f"approved by {exemption.approved_by}"
        )
    if cart.sales_person:
        # One sales person takes the whole sale: ERPNext refuses a team whose shares do not
        # add up to 100 (NOTES.md §6); it computes the commission itself (16) or not (15).
        body["sales_team"] = [{"sales_person": cart.sales_person, "allocated_percentage": 100}]
    if cart.loyalty_points and not cart.is_return:
        # ERPNext books the loyalty_amount it is sent without checking it (features/NOTES.md,
        # surprise 1): the till's own figure goes, and paid_amount above already includes it,
        # which ERPNext 15 needs (surprise 2). The server_mode drops paid_amount for a Sales
        # Invoice, which computes it itself.
        body["redeem_loyalty_points"] = 1
        body["loyalty_points"] = cart.loyalty_points
        body["loyalty_amount"] = _num(cart.loyalty_amount)
        body["loyalty_program"] = cart.loyalty_program
    if totals.change_amount == ZERO:
        body.pop("account_for_change_amount")
    return {k: v for k, v in body.items() if v is not None}
