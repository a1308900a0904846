"""ERPNext 16's POS rules for the fake site (../shared/erpnext/v16/NOTES.md and recordings).

A site made with ``version=16`` reports Frappe 16.9.0 / ERPNext 16.9.1 and has ``POS Settings.
invoice_type`` ("Sales Invoice" on a fresh site, NOTES §1). On top of the v15 behaviour:

- the doctype must match the setting (417, 29 and 51); returns are exempt;
- a POS Sales Invoice (``is_created_using_pos: 1``) needs an open opening and an account on each
  payment row (417 "Account is required", 27); its ``paid_amount`` is computed; the POST answer
  says ``status: "Draft"`` although it is submitted (31, a later GET says "Paid");
- a POS sale against an opening that did not start today (site time) answers 417 "Outdated POS
  Opening Entry" (71, 72, 78); a second open opening for a profile answers 417 (83), and so
  does one for a user who has an opening open on another profile ("Cannot Assign Cashier");
- the closing entry's invoices are in ``pos_invoices`` and ``sales_invoices``; the v15 name
  ``pos_transactions`` is no field any more and is dropped silently (44, 85-87);
- ``invoice_type`` cannot change while an opening is open (36);
- a return row that does not name the original's row (``sales_invoice_item`` /
  ``pos_invoice_item``) is accepted with a warning in ``_server_messages`` (40).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakeerp import errors, loyalty, offers, returns, sales_team, serials
from fakeerp.errors import FrappeError

if TYPE_CHECKING:
    from fakeerp.site import Doc, Site

POS_INVOICE = "POS Invoice"
SALES_INVOICE = "Sales Invoice"
POS_SETTINGS = "POS Settings"
VERSIONS = {
    15: {
        "frappe": {"title": "Frappe Framework", "version": "15.79.0", "branch": "version-15"},
        "erpnext": {"title": "ERPNext", "version": "15.70.1", "branch": "version-15"},
    },
    16: {  # recorded 01: tags, no branch
        "frappe": {"title": "Frappe Framework", "version": "16.9.0", "branch": ""},
        "erpnext": {"title": "ERPNext", "version": "16.9.1", "branch": ""},
    },
}
# table field -> (invoice doctype, link field) per major version
CLOSING_TABLES = {
    15: {"pos_transactions": (POS_INVOICE, "pos_invoice")},
    16: {
        "pos_invoices": (POS_INVOICE, "pos_invoice"),
        "sales_invoices": (SALES_INVOICE, "sales_invoice"),
    },
}


def install(site: Site, invoice_type: str) -> None:
    settings = site.docs.setdefault(POS_SETTINGS, {}).setdefault(
        POS_SETTINGS, {"doctype": POS_SETTINGS, "name": POS_SETTINGS, "docstatus": 0}
    )
    settings.setdefault("invoice_type", invoice_type)
    settings.setdefault("modified", site._stamp())


def invoice_type(site: Site) -> str:
    return str(site.docs.get(POS_SETTINGS, {}).get(POS_SETTINGS, {}).get("invoice_type") or "")


def check_pos_sale(site: Site, doctype: str, doc: Doc, pos_profile: str) -> None:
    """The mode and opening checks of a POS sale on 16 (before its totals)."""
    mode = invoice_type(site)
    if not int(doc.get("is_return") or 0):
        if doctype == POS_INVOICE and mode == SALES_INVOICE:
            raise errors.validation(
                "Sales Invoice mode is activated in POS. Please create Sales Invoice instead."
            )
        if doctype == SALES_INVOICE and mode == POS_INVOICE:
            raise errors.validation("Transactions using Sales Invoice in POS are disabled.")
    opening = site._open_opening(pos_profile)
    if opening is None:
        raise errors.validation(
            f"No open POS Opening Entry found for POS Profile <strong>{pos_profile}</strong>.",
            "POS Opening Entry Missing",
        )
    # The server compares the opening's start date with today in the site's time zone.
    if str(opening.get("period_start_date") or "")[:10] != site.now().date().isoformat():
        raise errors.validation(
            f"POS Opening Entry - {opening['name']} is outdated. Please close the POS and "
            "create a new POS Opening Entry.",
            "Outdated POS Opening Entry",
        )


def check_opening(site: Site, doc: Doc) -> None:
    """One open opening per POS Profile, then one per user (README "Stock deployments")."""
    if int(doc.get("docstatus") or 0) != 1:
        return
    other = site._open_opening(str(doc.get("pos_profile")))
    if other is not None and other["name"] != doc.get("name"):
        raise errors.validation(
            f"<strong>{doc['pos_profile']}</strong> is open. Close the POS or cancel the "
            "existing POS Opening Entry to create a new POS Opening Entry.",
            "POS Opening Entry Exists",
        )
    for opening in site.docs.get("POS Opening Entry", {}).values():
        if (opening.get("user"), opening.get("status"), opening.get("docstatus")) == (
            doc.get("user"),
            "Open",
            1,
        ) and opening["name"] != doc.get("name"):
            raise errors.validation(
                "Cashier is currently assigned to another POS.", "Cannot Assign Cashier"
            )


def check_settings(site: Site, doc: Doc) -> None:
    if doc.get("invoice_type") == invoice_type(site):
        return
    if any(
        o.get("status") == "Open" and o.get("docstatus") == 1
        for o in site.docs.get("POS Opening Entry", {}).values()
    ):
        raise errors.validation(
            "<strong>Invoice Type</strong> cannot be changed with opened Opening Entries.",
            "Invoice Document Type Selection Error",
        )


def validate_sales_invoice(site: Site, doc: Doc) -> None:
    """A Sales Invoice as a POS client sends it (is_pos, maybe is_created_using_pos)."""
    if not doc.get("customer"):
        raise errors.validation("Please select Customer first")
    site._link("Customer", doc.get("customer"))
    site._link("Company", doc.get("company"))
    site._link("POS Profile", doc.get("pos_profile"))
    doc.setdefault("posting_date", site.now().date().isoformat())
    site._require(SALES_INVOICE, doc, ["company", "posting_date", "currency", "items"])
    is_return = bool(int(doc.get("is_return") or 0))
    submit = int(doc.get("docstatus") or 0) == 1
    profile = site.docs.get("POS Profile", {}).get(str(doc.get("pos_profile") or ""), {})
    site._sale_rows(doc, doc.get("set_warehouse") or profile.get("warehouse"))
    if is_return:
        site._link(SALES_INVOICE, doc.get("return_against"), "Return Against")
    offers.check_coupon(site, doc)
    loyalty.validate(site, doc)
    if int(doc.get("is_created_using_pos") or 0) and profile:
        check_pos_sale(site, SALES_INVOICE, doc, str(profile["name"]))
    if int(doc.get("set_posting_time") or 0) != 1:
        now = site.now()
        doc["posting_date"] = now.date().isoformat()
        doc["posting_time"] = now.time().isoformat()
    payments = doc.get("payments") or []
    if int(doc.get("is_pos") or 0) and not payments:
        raise errors.validation("At least one mode of payment is required for POS invoice.")
    disable = doc.get("disable_rounded_total")
    site._compute_totals(doc, None if disable is None else bool(int(disable)))
    sales_team.apply(site, doc)
    if submit and not is_return:
        site._check_stock(doc)
    # A Sales Invoice computes what was paid from its payment rows (NOTES §2).
    paid = round(sum(float(p.get("amount") or 0) for p in payments), 9)
    if submit:
        # Points redeemed count as paid once submitted; a draft shows them outstanding (118,
        # 120, 136).
        paid = round(paid + loyalty.loyalty_amount(doc), 9)
    total = float(doc.get("rounded_total") or 0) or float(doc.get("grand_total") or 0)
    if is_return:
        original = site.docs[SALES_INVOICE][doc["return_against"]]
        if original.get("customer") != doc["customer"]:
            raise errors.validation(
                f"Customer {doc['customer']} does not belong to {original['name']}"
            )
        returns.check_returnable(site.docs[SALES_INVOICE], SALES_INVOICE, doc)
        if any(float(p.get("amount") or 0) > 0 for p in payments):
            raise errors.validation("Row #1 (Payment Table): Amount must be negative")
    doc["paid_amount"] = doc["base_paid_amount"] = paid
    change = round(paid - total, 9) if not is_return and paid > total else 0.0
    doc["change_amount"] = doc["base_change_amount"] = change
    doc["outstanding_amount"] = round(total - paid + change, 9) if not is_return else 0.0
    if submit and int(doc.get("is_pos") or 0):
        for row in payments:
            if not row.get("account"):
                # GL posting needs the account (recorded 27, 98).
                raise errors.validation("Account is required")
    doc["is_pos"] = int(doc.get("is_pos") or 0)
    doc.setdefault("pos_closing_entry", None)
    # The POST answer shows the status set before submit (recorded 31); see on_submit.
    doc["status"] = "Draft"


def on_submit_sales_invoice(site: Site, doc: Doc) -> None:
    """Stock moves at submit; the stored document says Paid/Return, the answer still Draft."""
    serials.on_submit(site, SALES_INVOICE, doc)
    offers.count_coupon(site, doc)
    loyalty.on_submit(site, doc)
    if int(doc.get("update_stock") or 0):
        for row in doc.get("items") or []:
            code = str(row.get("item_code"))
            item = site.docs.get("Item", {}).get(code, {})
            if item.get("is_stock_item"):
                actual = site.stock.get(code, site.default_stock)
                site.stock[code] = actual - float(row.get("stock_qty") or 0)
    stored = dict(doc)
    stored["status"] = "Return" if int(doc.get("is_return") or 0) else "Paid"
    site.docs[SALES_INVOICE][doc["name"]] = stored


# The return row's link to the original's row, per invoice doctype (NOTES §2 "Return").
RETURN_ITEM_LINK = {SALES_INVOICE: "sales_invoice_item", POS_INVOICE: "pos_invoice_item"}


def return_notes(site: Site, doctype: str, doc: Doc) -> list[dict[str, Any]]:
    """The warnings a return gets for rows not linked to a row of its original (recorded 40:
    "Row # 1: Returned Item SKU-0001 does not exist in Sales Invoice ACC-SINV-2026-00001")."""
    link = RETURN_ITEM_LINK.get(doctype)
    if link is None or not int(doc.get("is_return") or 0):
        return []
    original = site.docs.get(doctype, {}).get(str(doc.get("return_against") or ""), {})
    rows = {r.get("name"): r.get("item_code") for r in original.get("items") or []}
    return [
        {
            "message": f"Row # {n}: Returned Item {row.get('item_code')} does not exist in "
            f"{doctype} {doc.get('return_against')}",
            "as_table": False,
            "title": "Message",
        }
        for n, row in enumerate(doc.get("items") or [], 1)
        if rows.get(row.get(link)) != row.get("item_code") or not row.get(link)
    ]


def closing_rows(site: Site, doc: Doc) -> list[tuple[str, str, dict[str, Any]]]:
    """(invoice doctype, link field, row) of a closing's invoice tables, for the site's version;
    the other version's tables are no fields and are dropped."""
    tables = CLOSING_TABLES[16 if site.version >= 16 else 15]
    for other in set().union(*CLOSING_TABLES.values()) - set(tables):
        doc.pop(other, None)
    return [
        (doctype, link, row)
        for field, (doctype, link) in tables.items()
        for row in doc.get(field) or []
    ]


def get_single_value(site: Site, doctype: str, field: str) -> Any:
    doc = site.docs.get(doctype, {}).get(doctype)
    if doc is None or field not in doc:
        # recorded 05: a Frappe error (no _exc_source).
        raise FrappeError(
            417,
            "ValidationError",
            f"Field <strong>{field}</strong> does not exist on <strong>{doctype}</strong>",
        )
    return doc[field]
