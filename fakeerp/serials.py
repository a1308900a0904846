"""Serial and batch items on a sale, as ERPNext 15 and 16 answered them (features/NOTES.md §4,
401-470).

- A serial sent as text (``serial_no``, newline-separated) must exist (417 LinkValidationError
  "Could not find Row #1: Serial No: X", 414/417), be in the row's warehouse and not sold: 15
  answers 417 SerialNoWarehouseError even while its Serial No still says Active (416), 16 a
  ValidationError naming it Delivered (419). Fewer serials than the quantity: 417 (437, 440).
- A serial item sent without one is **accepted**: the server picks one first in, first out; 15
  writes it in ``serial_no``, 16 keeps it in the bundle only (420, 421). Batches alike (459, 464);
  an unknown batch answers 417 "Could not find Row #1: Batch No: X" (460, 465).
- At submit each such row gets a ``serial_and_batch_bundle`` (a Serial and Batch Bundle document
  with the numbers). 16 marks a sold serial Delivered with no warehouse at once (427); 15 only at
  the shift's consolidation (722). A return brings it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakeerp import errors
from fakeerp.errors import FrappeError

if TYPE_CHECKING:
    from fakeerp.site import Site

Doc = dict[str, Any]
SERIAL, BATCH, BUNDLE = "Serial No", "Batch", "Serial and Batch Bundle"


def _flags(site: Site, row: Doc) -> tuple[bool, bool]:
    item = site.docs.get("Item", {}).get(str(row.get("item_code")), {})
    return bool(int(item.get("has_serial_no") or 0)), bool(int(item.get("has_batch_no") or 0))


def _listed(text: Any) -> list[str]:
    return [s.strip() for s in str(text or "").split("\n") if s.strip()]


def _sold(site: Site, serial: str) -> bool:
    """Outward in a submitted bundle more often than back in."""
    net = 0
    for bundle in site.docs.get(BUNDLE, {}).values():
        for entry in bundle.get("entries") or []:
            if entry.get("serial_no") == serial:
                net += 1 if float(entry.get("qty") or 0) < 0 else -1
    return net > 0


def _in_stock(site: Site, serial: str, warehouse: Any) -> bool:
    doc = site.docs.get(SERIAL, {}).get(serial, {})
    if doc.get("status") not in (None, "Active") or doc.get("warehouse") != warehouse:
        return False
    return not _sold(site, serial)


def _not_here(site: Site, serial: str, warehouse: Any) -> FrappeError:
    if site.version >= 16:
        return errors.validation(
            "You cannot outward following Serial No as either they are Delivered, Inactive or "
            f"located in a different warehouse.<hr>{serial}"
        )
    return FrappeError(
        417,
        "SerialNoWarehouseError",
        f"Serial No <strong>{serial}</strong> is not present in the warehouse <strong>"
        f"{warehouse}</strong>.",
        module=errors.ERPNEXT_MODULE,
        exc_source="erpnext (app)",
    )


def check_rows(site: Site, doc: Doc) -> None:
    """Check the numbers of a sale's rows; fill the missing ones first in, first out."""
    if int(doc.get("is_return") or 0):
        return  # a return brings its numbers back: not checked here
    for n, row in enumerate(doc.get("items") or [], 1):
        has_serial, has_batch = _flags(site, row)
        if has_serial:
            _serial_row(site, n, row)
        if has_batch:
            _batch_row(site, n, row)


def _serial_row(site: Site, n: int, row: Doc) -> None:
    code, warehouse = row.get("item_code"), row.get("warehouse")
    serials = _listed(row.get("serial_no"))
    for serial in serials:
        site._link(SERIAL, serial, f"Row #{n}: Serial No")
    for serial in serials:
        if not _in_stock(site, serial, warehouse):
            raise _not_here(site, serial, warehouse)
    need = _need(row)
    if not serials:
        picked = _fifo_serials(site, row)
        if site.version < 16:
            row["serial_no"] = "\n".join(picked)
            row["use_serial_batch_fields"] = 1
        else:
            row["serial_no"], row["use_serial_batch_fields"] = None, 0
        return
    if len(serials) < need:
        raise errors.validation(
            f"For the item <strong>{code}</strong>, the Available qty <strong>"
            f"{float(len(serials))}</strong> is less than the Required Qty <strong>{float(need)}"
            f"</strong> in the warehouse <strong>{warehouse}</strong>."
        )


def _need(row: Doc) -> int:
    return int(abs(float(row.get("stock_qty") or row.get("qty") or 0)))


def _fifo_serials(site: Site, row: Doc) -> list[str]:
    """The serials the server picks for a row sent without any: the oldest in stock."""
    return sorted(
        s
        for s, d in site.docs.get(SERIAL, {}).items()
        if d.get("item_code") == row.get("item_code") and _in_stock(site, s, row.get("warehouse"))
    )[: _need(row)]


def _fifo_batch(site: Site, row: Doc) -> list[str]:
    return sorted(
        name
        for name, d in site.docs.get(BATCH, {}).items()
        if d.get("item") == row.get("item_code") and not int(d.get("disabled") or 0)
    )[:1]


def _batch_row(site: Site, n: int, row: Doc) -> None:
    batch = row.get("batch_no")
    if batch:
        site._link(BATCH, batch, f"Row #{n}: Batch No")
        return
    first = _fifo_batch(site, row)
    if site.version < 16 and first:
        row["batch_no"] = first[0]
        row["use_serial_batch_fields"] = 1
    else:
        row["batch_no"], row["use_serial_batch_fields"] = None, 0


def on_submit(site: Site, doctype: str, doc: Doc) -> None:
    """Each numbered row's bundle; a serial sold on a Sales Invoice is Delivered at once."""
    back = bool(int(doc.get("is_return") or 0))
    for row in doc.get("items") or []:
        has_serial, has_batch = _flags(site, row)
        if not (has_serial or has_batch):
            continue
        # 16 kept its first-in-first-out pick out of the row: it is in the bundle only.
        serials = _listed(row.get("serial_no")) or (
            _fifo_serials(site, row) if has_serial and not back else []
        )
        batch = row.get("batch_no") or next(iter(_fifo_batch(site, row) if has_batch else []), None)
        bundles = site.docs.setdefault(BUNDLE, {})
        name = f"SABB-{len(bundles) + 1:08d}"
        entries = [{"serial_no": s, "batch_no": batch, "qty": 1 if back else -1} for s in serials]
        if not serials:
            entries = [{"batch_no": batch, "qty": float(row.get("stock_qty") or 0)}]
        bundles[name] = {
            "doctype": BUNDLE,
            "name": name,
            "item_code": row.get("item_code"),
            "warehouse": row.get("warehouse"),
            "type_of_transaction": "Inward" if back else "Outward",
            "voucher_type": doctype,
            "voucher_no": doc.get("name"),
            "entries": entries,
            "docstatus": 1,
            "modified": site._stamp(),
        }
        row["serial_and_batch_bundle"] = name
        if doctype == "Sales Invoice" and site.version >= 16:
            for serial in serials:
                if serial in site.docs.get(SERIAL, {}):
                    warehouse = row.get("warehouse") if back else None
                    status = "Active" if back else "Delivered"
                    site.touch(SERIAL, serial, status=status, warehouse=warehouse)


def deliver(site: Site, invoices: list[Doc]) -> None:
    """15's consolidation: the serials its POS Invoices sold become Delivered (722)."""
    for inv in invoices:
        back = bool(int(inv.get("is_return") or 0))
        for row in inv.get("items") or []:
            for serial in _listed(row.get("serial_no")):
                if serial in site.docs.get(SERIAL, {}):
                    warehouse = row.get("warehouse") if back else None
                    site.touch(
                        SERIAL,
                        serial,
                        status="Active" if back else "Delivered",
                        warehouse=warehouse,
                    )
