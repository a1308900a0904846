"""Serial numbers and batches at the counter (issue 19 item 6, features/NOTES.md §4).

ERPNext does not refuse a serial or batch item sold without its number: it picks one first in,
first out, which is not the one the customer took. So the till asks for it, and checks it as far
as it can offline: against the Serial Nos and Batches pulled for the item, the till's warehouse,
and what this till sold since. A serial sold on another till since the last pull is only found
by ERPNext, which refuses the sale at sync (417 "not present in the warehouse" on 15, "cannot
outward ... Delivered" on 16): it waits in quarantine like any refused sale.

Both ERPNext versions take the number as text (``serial_no`` / ``batch_no`` with
``use_serial_batch_fields: 1``) and build the Serial and Batch Bundle themselves, so the sale
body is the same for 15 and 16 (``sales.payload``).
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError, set_numbers
from appliance.store.models import Batch, OutboxEntry, SerialNo

ACTIVE = "Active"


def sold_here(session: Session, serial: str) -> bool:
    """Whether this till's sales (net of its returns) hold ``serial``, sent or not: 15 keeps a
    sold serial Active until the shift's consolidation, so the pulled status cannot tell."""
    net = 0
    rows = session.scalars(
        select(OutboxEntry.payload).where(OutboxEntry.payload.contains(json.dumps(serial)[1:-1]))
    )
    for payload in rows:
        body = json.loads(payload)
        for item in body.get("items") or []:
            if serial in str(item.get("serial_no") or "").split("\n"):
                net += -1 if body.get("is_return") else 1
    return net > 0


def give_serial(session: Session, warehouse: str, cart: Cart, line_id: int, typed: str) -> Cart:
    """``cart`` whose line ``line_id`` sells the serial the cashier scanned, or a CartError
    saying what is wrong with it."""
    line = cart.line(line_id)
    serial = typed.strip()
    if not line.has_serial_no:
        raise CartError(f"{line.item_name} has no serial numbers")
    if abs(line.qty * line.conversion_factor) != 1:
        raise CartError(f"{line.item_name} is sold by the piece, one serial number per line")
    found = session.get(SerialNo, serial)
    if found is None or found.item_code != line.item_code:
        raise CartError(
            f"{serial} is not a serial number of {line.item_name} this till knows: scan the "
            "number on the item (or it was received after the last sync)"
        )
    if found.status != ACTIVE or found.warehouse != warehouse:
        raise CartError(
            f"Serial {serial} is not in this shop's stock ({found.status or 'no status'})"
        )
    if any(x.serial_no == serial for x in cart.lines if x.line_id != line_id):
        raise CartError(f"Serial {serial} is already on this sale")
    if sold_here(session, serial):
        raise CartError(f"Serial {serial} was sold on this till already")
    return set_numbers(cart, line_id, serial_no=serial, batch_no=found.batch_no or "")


def batches(session: Session, item_code: str, today: date) -> tuple[str, ...]:
    """The item's batches that may be sold today (enabled, not expired), oldest first."""
    return tuple(
        session.scalars(
            select(Batch.name)
            .where(
                Batch.item == item_code,
                Batch.disabled.is_(False),
                (Batch.expiry_date.is_(None)) | (Batch.expiry_date >= today),
            )
            .order_by(Batch.name)
        )
    )


def give_batch(session: Session, cart: Cart, line_id: int, typed: str, today: date) -> Cart:
    """``cart`` whose line ``line_id`` comes from batch ``typed``, or a CartError saying why not.
    How much a batch holds is ERPNext's to check (417 "negative stock" at sync): 15 answers a
    wrong figure mid-shift (NOTES.md §4), so the till does not pull one."""
    line = cart.line(line_id)
    name = typed.strip()
    if not line.has_batch_no:
        raise CartError(f"{line.item_name} has no batches")
    found = session.get(Batch, name)
    if found is None or found.item != line.item_code:
        raise CartError(f"{name} is not a batch of {line.item_name} this till knows")
    if found.disabled:
        raise CartError(f"Batch {name} is disabled in ERPNext")
    if found.expiry_date is not None and found.expiry_date < today:
        raise CartError(f"Batch {name} expired on {found.expiry_date.isoformat()}")
    return set_numbers(cart, line_id, serial_no=line.serial_no, batch_no=found.name)
