"""Builders for store tests: a migrated database, an open shift, plausible paid sales."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance.sales.model import (
    ChargeType,
    InvoiceInput,
    InvoiceTotals,
    ItemLine,
    PaymentLine,
    TaxLine,
    TotalsSettings,
)
from appliance.sales.totals import compute_totals
from appliance.store.db import create_db_engine, unit_of_work
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import PosInvoice
from appliance.store.receipts import next_receipt_no
from appliance.store.sales import CommittedSale, SaleDraft, commit_sale
from appliance.store.shifts import OpeningBalance, ShiftOpening, open_shift

TERMINAL = "T01"
PROFILE = "Main POS"
COMPANY = "POS Test Co"
CASHIER = "cashier@example.com"
WALK_IN = "Walk-in Customer"
SETTINGS = TotalsSettings(currency="CAD")
GST = TaxLine(ChargeType.ON_NET_TOTAL, "GST - PTC", rate=Decimal(5), description="GST 5%")
PST = TaxLine(ChargeType.ON_NET_TOTAL, "PST - PTC", rate=Decimal(7), description="PST 7%")


def migrated_engine(path: Path) -> Engine:
    upgrade_to_head(path)
    return create_db_engine(path)


def new_id() -> str:
    return str(uuid.uuid4())


def open_test_shift(factory: sessionmaker[Session], *, offline_id: str | None = None) -> str:
    shift_id = offline_id or new_id()
    with unit_of_work(factory) as uow:
        open_shift(
            uow.session,
            ShiftOpening(
                offline_id=shift_id,
                pos_profile=PROFILE,
                company=COMPANY,
                user=CASHIER,
                period_start=datetime(2025, 3, 1, 8, 0, 0),
                balance_details=(OpeningBalance("Cash", Decimal("100.00")),),
                payload={"doctype": "POS Opening Entry", "offline_id": shift_id},
            ),
        )
        uow.commit()
    return shift_id


def lines(n: int = 2, *, sign: int = 1) -> tuple[ItemLine, ...]:
    return tuple(
        ItemLine(
            item_code=f"ITEM-{k:03d}",
            item_name=f"Item {k}",
            qty=Decimal(sign * (k + 1)),
            rate=Decimal("1.99") + Decimal(k),
            uom="Nos",
        )
        for k in range(n)
    )


def totals_for(
    items: tuple[ItemLine, ...], *, is_return: bool = False
) -> tuple[InvoiceInput, InvoiceTotals]:
    """Compute totals with the engine, then pay exactly the amount due in cash."""
    draft = InvoiceInput(items=items, taxes=(GST, PST), is_return=is_return)
    due = compute_totals(draft, SETTINGS).amount_due
    invoice = InvoiceInput(
        items=items,
        taxes=(GST, PST),
        payments=(PaymentLine("Cash", due, type="Cash", account="Cash - PTC"),),
        is_return=is_return,
    )
    return invoice, compute_totals(invoice, SETTINGS)


def payload_for(offline_id: str, invoice: InvoiceInput, totals: InvoiceTotals) -> dict[str, Any]:
    return {
        "doctype": "POS Invoice",
        "offline_id": offline_id,
        "pos_profile": PROFILE,
        "customer": WALK_IN,
        "is_pos": 1,
        "items": [
            {"item_code": i.item_code, "qty": i.qty, "rate": i.rate, "uom": i.uom}
            for i in invoice.items
        ],
        "taxes": [
            {"charge_type": t.charge_type.value, "account_head": t.account_head, "rate": t.rate}
            for t in invoice.taxes
        ],
        "payments": [
            {"mode_of_payment": p.mode_of_payment, "amount": p.amount} for p in invoice.payments
        ],
        "paid_amount": totals.paid_amount,
        "base_paid_amount": totals.paid_amount,
    }


def sale_draft(
    shift_offline_id: str,
    receipt_no: str,
    *,
    offline_id: str | None = None,
    n_lines: int = 2,
    customer: str = WALK_IN,
) -> SaleDraft:
    sale_id = offline_id or new_id()
    invoice, totals = totals_for(lines(n_lines))
    return SaleDraft(
        offline_id=sale_id,
        receipt_no=receipt_no,
        shift_offline_id=shift_offline_id,
        customer=customer,
        cashier=CASHIER,
        posting=datetime(2025, 3, 1, 12, 30, 15),
        invoice=invoice,
        totals=totals,
        payload=payload_for(sale_id, invoice, totals),
    )


def return_draft(
    shift_offline_id: str, receipt_no: str, original: PosInvoice, *, offline_id: str | None = None
) -> SaleDraft:
    """Return every line of ``original`` in full."""
    sale_id = offline_id or new_id()
    items = tuple(
        ItemLine(
            item_code=i.item_code,
            item_name=i.item_name,
            qty=-i.qty,
            rate=i.rate,
            uom=i.uom,
        )
        for i in original.items
    )
    invoice, totals = totals_for(items, is_return=True)
    return SaleDraft(
        offline_id=sale_id,
        receipt_no=receipt_no,
        shift_offline_id=shift_offline_id,
        customer=original.customer,
        cashier=CASHIER,
        posting=datetime(2025, 3, 1, 13, 0, 0),
        invoice=invoice,
        totals=totals,
        payload=payload_for(sale_id, invoice, totals) | {"is_return": 1},
        is_return=True,
        return_against=original.offline_id,
        original_item_ids=tuple(i.id for i in original.items),
    )


def commit_one(
    factory: sessionmaker[Session], shift_offline_id: str, **kwargs: Any
) -> CommittedSale:
    with unit_of_work(factory) as uow:
        receipt = next_receipt_no(uow.session, TERMINAL)
        result = commit_sale(uow.session, sale_draft(shift_offline_id, receipt, **kwargs))
        uow.commit()
    return result
