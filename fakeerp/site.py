"""The fake ERPNext site: documents in memory and the validation a POS client meets.

It behaves like the real ERPNext 15 site the recordings come from (../shared/erpnext/): naming
series, ``docstatus: 1`` = insert and submit, mandatory and link checks, the unique custom field
``offline_id``, renamed duplicate customers, the open-opening-entry rule, ``paid_amount`` and
full payment, a stock check at submit, returns refunding at most the total, and a closing entry
that consolidates its invoices and closes the opening. Totals are computed with the same
algorithm ERPNext uses (FACTS §4, ``appliance.sales.totals``) from the site's own settings, so a
settings drift between site and till shows up as different totals, as it would on a real server.

Every public method takes the site lock: requests are serialised like database transactions.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from appliance.sales.quote import QuoteInputError, fill_document, parse_invoice, parse_settings
from appliance.sales.totals import TotalsError, compute_totals
from fakeerp import errors, loyalty, offers, returns, sales_team, serials, v16
from fakeerp.closing import Consolidation
from fakeerp.errors import FrappeError
from fakeerp.meta import Meta
from fakeerp.query import (
    DEFAULT_PAGE,
    ORDER_CLAUSE,
    conditions,
    matcher,
    page,
    parse_json_param,
    project,
    sort,
    sort_key_of,
)

Doc = dict[str, Any]

OFFLINE_ID = "offline_id"
MODIFIED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
SINGLES = {"System Settings", "Global Defaults", "POS Settings", "Accounts Settings"}
SUBMITTABLE = {"POS Invoice", "POS Opening Entry", "POS Closing Entry", "Sales Invoice"}
# doctype -> {table field: child doctype}
TABLES: dict[str, dict[str, str]] = {
    "Item": {"barcodes": "Item Barcode", "uoms": "UOM Conversion Detail", "taxes": "Item Tax"},
    "Item Group": {"taxes": "Item Tax"},
    "POS Profile": {
        "payments": "POS Payment Method",
        "applicable_for_users": "POS Profile User",
        "item_groups": "POS Item Group",
        "customer_groups": "POS Customer Group",
    },
    "Mode of Payment": {"accounts": "Mode of Payment Account"},
    "Sales Invoice": {
        "items": "Sales Invoice Item",
        "taxes": "Sales Taxes and Charges",
        "payments": "Sales Invoice Payment",
        "sales_team": "Sales Team",
    },
    "DocType": {"fields": "DocField", "permissions": "DocPerm"},
    "Address": {"links": "Dynamic Link"},
    "Loyalty Program": {"collection_rules": "Loyalty Program Collection"},
    "Sales Taxes and Charges Template": {"taxes": "Sales Taxes and Charges"},
    "Item Tax Template": {"taxes": "Item Tax Template Detail"},
    "Pricing Rule": {
        "items": "Pricing Rule Item Code",
        "item_groups": "Pricing Rule Item Group",
        "brands": "Pricing Rule Brand",
    },
    "POS Invoice": {
        "items": "POS Invoice Item",
        "taxes": "Sales Taxes and Charges",
        "payments": "Sales Invoice Payment",
        "sales_team": "Sales Team",
    },
    "POS Opening Entry": {"balance_details": "POS Opening Entry Detail"},
    "POS Closing Entry": {
        "pos_transactions": "POS Invoice Reference",  # ERPNext 15
        "pos_invoices": "POS Invoice Reference",  # ERPNext 16
        "sales_invoices": "Sales Invoice Reference",  # ERPNext 16
        "payment_reconciliation": "POS Closing Entry Detail",
        "taxes": "POS Closing Entry Taxes",
    },
}
CHILD_PARENTS = {child: parent for parent, tables in TABLES.items() for child in tables.values()}
# Doctypes every site has, listable (empty) before the first document exists.
ALWAYS_LISTABLE = {
    "User Permission",
    "Deleted Document",
    "Address",
    "User",
    "Coupon Code",
    "Sales Person",
    "Serial No",
    "Batch",
    "Loyalty Program",
    "Loyalty Point Entry",
}
# Lists this long are read through a sorted copy, as a database reads through its index on
# ``modified``/``creation``/``name`` (Frappe indexes them); shorter ones are filtered whole.
INDEXED_FROM = 2000
INDEXED_COLUMNS = ("modified", "creation", "name")
SERIES = {
    "POS Invoice": "ACC-PSINV-{year}-",
    "POS Opening Entry": "POS-OPE-{year}-",
    "POS Closing Entry": "POS-CLO-{year}-",
    "Sales Invoice": "ACC-SINV-{year}-",
}
OFFLINE_ID_DOCTYPES = {
    "POS Invoice",
    "POS Opening Entry",
    "POS Closing Entry",
    "Customer",
    "Sales Invoice",
}
_NUMERIC_HEADER = (
    "paid_amount",
    "base_paid_amount",
    "change_amount",
    "base_change_amount",
    "write_off_amount",
    "grand_total",
    "net_total",
    "total_quantity",
)


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals become floats, as Frappe answers."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _flt(value: Any) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _parents_wanted(raw_filters: str | None) -> list[str] | None:
    """The names of a ``["parent", "in", [...]]`` filter, to build only those parents' rows."""
    for fieldname, op, value in conditions(parse_json_param(raw_filters, None)):
        if fieldname == "parent" and op == "in" and isinstance(value, list):
            return list(dict.fromkeys(str(v) for v in value))
    return None


class Site:
    def __init__(
        self,
        masters: Iterable[Doc] = (),
        *,
        users: Mapping[str, tuple[str, str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        default_stock: float = 10_000.0,
        set_up: bool = True,
        version: int = 15,
        invoice_type: str = "Sales Invoice",
    ) -> None:
        self.lock = threading.RLock()
        self.version = version  # 15, or 16 with ERPNext 16's POS rules (fakeerp.v16)
        self.docs: dict[str, dict[str, Doc]] = {}
        # api_key -> (api_secret, user)
        self.users = dict(users or {"agent-key": ("agent-secret", "pos-agent@example.com")})
        self.stock: dict[str, float] = {}
        self.files: dict[str, bytes] = {}  # File name -> content (fakeerp.files)
        self.default_stock = default_stock
        self.meta = Meta(self.docs, self._known_doctype)
        self._series: dict[str, int] = {}
        self._last_modified = datetime(2000, 1, 1)
        self._clock = clock
        self.consolidation = Consolidation()  # POS Closing Entries queued for the worker
        self._versions: dict[str, int] = {}  # doctype -> writes so far
        # (doctype, order_by) -> (what it was sorted from, the sorted documents)
        self._sorted: dict[tuple[str, str], tuple[tuple[Any, ...], list[Doc]]] = {}
        for doc in masters:
            self._load(doc)
        self._derive_implicit()
        if set_up:  # as `appliance erpnext setup` leaves a site; else as ERPNext ships
            for doc in self.meta.installed():
                self._load(doc)
            self.meta.install_grants()
        self.meta.give_roles(user for _, user in self.users.values())
        if version >= 16:
            v16.install(self, invoice_type)

    @property
    def offline_id_doctypes(self) -> set[str]:
        """The doctypes that have the ``offline_id`` custom field (a copy)."""
        with self.lock:
            return self.meta.doctypes_with(OFFLINE_ID)

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Site-local wall time (System Settings ``time_zone``), naive, as Frappe stores it."""
        if self._clock is not None:
            return self._clock()
        settings = self.docs.get("System Settings", {}).get("System Settings", {})
        tz = ZoneInfo(settings.get("time_zone") or "UTC")
        return datetime.now(tz).replace(tzinfo=None)

    def _stamp(self) -> str:
        now = self.now()
        if now <= self._last_modified:
            now = self._last_modified + timedelta(microseconds=1)
        self._last_modified = now
        return now.strftime(MODIFIED_FORMAT)

    def _seen(self, modified: Any) -> None:
        try:
            stamp = datetime.strptime(str(modified), MODIFIED_FORMAT)
        except ValueError:
            try:
                stamp = datetime.strptime(str(modified), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return
        self._last_modified = max(self._last_modified, stamp)

    # -- documents as tests and the demo set them up --------------------------------------------
    def _load(self, doc: Doc) -> None:
        doc = copy.deepcopy(doc)
        doctype = doc["doctype"]
        doc.setdefault("docstatus", 0)
        doc.setdefault("modified", self._stamp())
        self._seen(doc["modified"])
        self.docs.setdefault(doctype, {})[doc["name"]] = doc
        self._changed(doctype)

    def _changed(self, doctype: str) -> None:
        """A document of ``doctype`` was written: its sorted copy is stale."""
        self._versions[doctype] = self._versions.get(doctype, 0) + 1

    def load(self, docs: Iterable[Doc]) -> None:
        with self.lock:
            for doc in docs:
                self._load(doc)
            self._derive_implicit()

    def touch(self, doctype: str, name: str, **changes: Any) -> str:
        """Change a document as a user in ERPNext would: fields updated, ``modified`` bumped."""
        with self.lock:
            doc = self._get(doctype, name)
            doc.update(copy.deepcopy(changes))
            doc["modified"] = self._stamp()
            self._changed(doctype)
            return str(doc["modified"])

    def delete(self, doctype: str, name: str) -> None:
        """Delete as Frappe's ``delete_doc`` does: the document goes, a Deleted Document stays."""
        with self.lock:
            doc = self.docs.get(doctype, {}).pop(name, None)
            if doc is not None:
                self._changed(doctype)
                self._record_deletion(doctype, name, doc)

    def _record_deletion(self, doctype: str, name: str, doc: Doc) -> None:
        # frappe/model/delete_doc.py add_to_deleted_document: one row per deletion, read by
        # System Manager only (FACTS §1.8); the listing is ordered by its ``creation``.
        stamp = self._stamp()
        entry = {
            "doctype": "Deleted Document",
            "name": secrets.token_hex(5),
            "deleted_doctype": doctype,
            "deleted_name": name,
            "data": json.dumps(_plain(doc), default=str),
            "restored": 0,
            "docstatus": 0,
            "creation": stamp,
            "modified": stamp,
        }
        self.docs.setdefault("Deleted Document", {})[str(entry["name"])] = entry

    def set_stock(self, item_code: str, qty: float) -> None:
        with self.lock:
            self.stock[item_code] = qty

    def all(self, doctype: str) -> list[Doc]:
        with self.lock:
            return [copy.deepcopy(d) for d in self.docs.get(doctype, {}).values()]

    def find(self, doctype: str, **fields: Any) -> list[Doc]:
        return [d for d in self.all(doctype) if all(d.get(k) == v for k, v in fields.items())]

    def _derive_implicit(self) -> None:
        """Companies, warehouses, accounts, cost centres, users and UOMs the masters link to."""
        implicit: dict[str, set[str]] = {
            "Company": set(),
            "Warehouse": set(),
            "Account": set(),
            "Cost Center": set(),
            "User": {u for _, u in self.users.values()},
            "UOM": set(),
        }
        for p in self.docs.get("POS Profile", {}).values():
            implicit["Company"].add(p.get("company") or "")
            implicit["Warehouse"].add(p.get("warehouse") or "")
            for f in ("write_off_account", "account_for_change_amount", "income_account"):
                implicit["Account"].add(p.get(f) or "")
            for f in ("cost_center", "write_off_cost_center"):
                implicit["Cost Center"].add(p.get(f) or "")
            for row in p.get("applicable_for_users") or []:
                implicit["User"].add(row.get("user") or "")
        for m in self.docs.get("Mode of Payment", {}).values():
            for row in m.get("accounts") or []:
                implicit["Account"].add(row.get("default_account") or "")
        for t in self.docs.get("Sales Taxes and Charges Template", {}).values():
            implicit["Company"].add(t.get("company") or "")
            for row in t.get("taxes") or []:
                implicit["Account"].add(row.get("account_head") or "")
        for t in self.docs.get("Item Tax Template", {}).values():
            for row in t.get("taxes") or []:
                implicit["Account"].add(row.get("tax_type") or "")
        for i in self.docs.get("Item", {}).values():
            implicit["UOM"].add(i.get("stock_uom") or "")
            for row in i.get("uoms") or []:
                implicit["UOM"].add(row.get("uom") or "")
        for doctype, names in implicit.items():
            table = self.docs.setdefault(doctype, {})
            for name in names - {""}:
                if name not in table:
                    table[name] = {
                        "doctype": doctype,
                        "name": name,
                        "docstatus": 0,
                        "modified": self._stamp(),
                    }

    # -- auth ----------------------------------------------------------------------------------
    def authenticate(self, header: str | None) -> str | None:
        """The user a request runs as; None for Guest. Raises 401 for a bad key or secret."""
        if not header:
            return None
        parts = header.split(" ")
        if len(parts) != 2:
            return None
        kind, token = parts
        if kind.lower() == "basic":
            try:
                token = base64.b64decode(token, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise FrappeError(
                    400, "InvalidAuthorizationToken", "Invalid authorization token"
                ) from None
        elif kind.lower() != "token":
            return None
        key, _, secret = token.partition(":")
        with self.lock:
            known = self.users.get(key)
        if known is None or not secrets.compare_digest(known[0], secret):
            raise FrappeError(401, "AuthenticationError", "", show_message=False)
        return known[1]

    # -- reading -------------------------------------------------------------------------------
    def _get(self, doctype: str, name: str) -> Doc:
        doc = self.docs.get(doctype, {}).get(name)
        if doc is None:
            raise errors.not_found(doctype, name)
        return doc

    def get(self, doctype: str, name: str, user: str | None = None) -> Doc:
        """A document as ``user`` may read it (a User Permission may fence it: 403)."""
        with self.lock:
            doc = self._get(doctype, name)
            if user is not None:
                self.meta.permit_record(doctype, name, user)
            return _plain(copy.deepcopy(doc))  # type: ignore[no-any-return]

    def _known_doctype(self, doctype: str) -> bool:
        known = doctype in self.docs or doctype in TABLES or doctype in CHILD_PARENTS
        return known or doctype in ALWAYS_LISTABLE or self.meta.is_doctype(doctype)

    def list_docs(
        self, doctype: str, params: Mapping[str, str], user: str | None = None
    ) -> list[Doc]:
        """Rows of a listing; ``user``'s User Permissions leave out the records it is fenced
        from, as Frappe's list query does."""
        with self.lock:
            if not self._known_doctype(doctype):
                raise errors.not_found("DocType", doctype)
            fenced = None if user is None else self.meta.fenced_to(user, doctype)
            if user is not None:
                self.meta.permit_listing(doctype, user)
            if doctype in CHILD_PARENTS:
                rows = self._child_rows(
                    doctype, params.get("parent"), _parents_wanted(params.get("filters"))
                )
            else:
                rows = list(self.docs.get(doctype, {}).values())
            if fenced is not None:
                rows = [r for r in rows if r.get("name") in fenced]
            known_fields = self._field_test(doctype, rows)
            and_conds = conditions(parse_json_param(params.get("filters"), None))
            test = matcher(
                and_conds,
                conditions(parse_json_param(params.get("or_filters"), None)),
                known_fields,
            )
            length = params.get("limit_page_length", params.get("limit"))
            indexed = None
            if doctype not in CHILD_PARENTS and len(rows) >= INDEXED_FROM:
                indexed = self._index_scan(doctype, params, and_conds, test)
            if indexed is not None:
                found = indexed
            else:
                found = sort([d for d in rows if test(d)], params.get("order_by"))
                found = page(found, params.get("limit_start"), length)
            fields = parse_json_param(params.get("fields"), ["name"])
            tables = set(TABLES.get(doctype, {}))
            return _plain(copy.deepcopy(project(found, fields, tables)))  # type: ignore[no-any-return]

    def _index_scan(
        self,
        doctype: str,
        params: Mapping[str, str],
        and_conds: list[tuple[str, str, Any]],
        test: Callable[[Doc], bool],
    ) -> list[Doc] | None:
        """A page read the way MariaDB reads it through an index on the order column: from the
        first row the keyset condition (``modified >= c``) admits, stopping once the page is
        full. The same rows as filtering and sorting everything (which costs the whole table on
        every page and made the fake, not the client, the bench's bottleneck). None: no index
        applies (descending orders, other sort columns, all rows)."""
        order_by = params.get("order_by") or "modified desc"
        clauses = [ORDER_CLAUSE.match(c) for c in order_by.split(",") if c.strip()]
        if not clauses or any(m is None or (m.group(2) or "asc").lower() != "asc" for m in clauses):
            return None
        columns = [m.group(1) for m in clauses if m is not None]
        if columns[0] not in INDEXED_COLUMNS:
            return None
        start = int(params.get("limit_start") or 0)
        raw = params.get("limit_page_length", params.get("limit"))
        length = DEFAULT_PAGE if raw in (None, "") else int(raw)
        if length <= 0:
            return None
        table = self.docs.get(doctype, {})
        # Masters change only through the methods above; documents the site changes as it
        # works (submitting, closing) are re-sorted after any change anywhere.
        changed_anywhere = self._last_modified if doctype in SUBMITTABLE else None
        stamp = (doctype, order_by, len(table), self._versions.get(doctype, 0), changed_anywhere)
        ordered = self._sorted.get((doctype, order_by))
        if ordered is None or ordered[0] != stamp:
            ordered = (stamp, sort(list(table.values()), order_by))
            self._sorted[(doctype, order_by)] = ordered
        docs = ordered[1]
        first = 0
        for fieldname, op, value in and_conds:
            if fieldname == columns[0] and op in (">=", ">") and isinstance(value, str):
                # Rows before this sort below ``value``: the condition refuses all of them.
                first = max(first, bisect.bisect_left(docs, (2, value), key=sort_key_of(fieldname)))
        after = _keyset(columns, conditions(parse_json_param(params.get("or_filters"), None)))
        if after is not None:
            # ``modified > c or name > n`` after ``modified >= c``: InnoDB's index on
            # ``modified`` holds the primary key (name) too, so MariaDB seeks straight to
            # (c, n) instead of reading every row sharing ``modified = c`` (a catalog imported
            # at one instant shares it: without this each page re-read them all).
            key0, key1 = sort_key_of(columns[0]), sort_key_of(columns[1])
            seek = (key0({columns[0]: after[0]}), key1({columns[1]: after[1]}))
            first = max(first, bisect.bisect_right(docs, seek, key=lambda d: (key0(d), key1(d))))
        out: list[Doc] = []
        skipped = 0
        for doc in itertools.islice(docs, first, None):
            if not test(doc):
                continue
            if skipped < start:
                skipped += 1
                continue
            out.append(doc)
            if len(out) == length:
                break
        return out

    def _field_test(self, doctype: str, rows: list[Doc]) -> Callable[[str], bool]:
        def known(fieldname: str) -> bool:
            # Custom fields once created; the fake has no full schema of the other fields, which
            # read as empty when absent.
            return self.meta.knows(doctype, fieldname)

        return known

    def _child_rows(
        self, child: str, parent: str | None, only: list[str] | None = None
    ) -> list[Doc]:
        parent_doctype = parent or ""
        if child not in TABLES.get(parent_doctype, {}).values():
            # recorded/05: a bare PermissionError, no message.
            raise FrappeError(403, "PermissionError", "", show_message=False)
        rows = []
        parents = self.docs.get(parent_doctype, {})
        # Only the parents a ``parent in [...]`` filter names (the filter still runs after).
        chosen = parents.values() if only is None else [parents[n] for n in only if n in parents]
        for doc in chosen:
            for fieldname, table_doctype in TABLES[parent_doctype].items():
                if table_doctype != child:
                    continue
                for n, row in enumerate(doc.get(fieldname) or [], 1):
                    rows.append(
                        {
                            "name": row.get("name") or f"{doc['name']}-{fieldname}-{n}",
                            "idx": n,
                            **row,
                            "parent": doc["name"],
                            "parentfield": fieldname,
                            "parenttype": parent_doctype,
                            "modified": doc.get("modified"),
                        }
                    )
        return rows

    # -- writing -------------------------------------------------------------------------------
    def insert(self, doctype: str, body: Doc, user: str) -> tuple[Doc, list[dict[str, Any]]]:
        """``POST /api/resource/<doctype>``: the new document and the notes printed on the way."""
        with self.lock:
            if doctype in SINGLES or doctype in CHILD_PARENTS:
                raise FrappeError(417, "ValidationError", f"Cannot insert {doctype}")
            self._changed(doctype)
            doc = copy.deepcopy(dict(body))
            if doctype in SERIES or doctype == "Customer":
                doc.pop("name", None)  # v1 REST ignores a client name for series (FACTS §1.11)
            doc["doctype"] = doctype
            docstatus = int(doc.get("docstatus") or 0)
            if docstatus not in (0, 1) or (docstatus == 1 and doctype not in SUBMITTABLE):
                raise FrappeError(
                    417,
                    "DocstatusTransitionError",
                    f"Cannot change docstatus from 0 to {docstatus}",
                )
            notes: list[dict[str, Any]] = []
            name = self._new_name(doctype, doc, notes)
            doc["name"] = name
            handler = getattr(self, "_validate_" + doctype.lower().replace(" ", "_"), None)
            if handler is not None:
                handler(doc, user)
            if self.version >= 16:
                notes += v16.return_notes(self, doctype, doc)
            self.meta.validate(doctype, doc, user)
            self._check_unique(doctype, doc, notes)
            if name in self.docs.get(doctype, {}):
                raise errors.duplicate_name(doctype, name)
            now = self._stamp()
            doc.update(owner=user, modified_by=user, creation=now, modified=now, idx=0)
            self._name_children(doctype, doc)
            self._commit_name(doctype, name)
            self.docs.setdefault(doctype, {})[name] = doc
            on_submit = getattr(self, "_on_submit_" + doctype.lower().replace(" ", "_"), None)
            if docstatus == 1 and on_submit is not None:
                notes += on_submit(doc, user) or []
            return _plain(copy.deepcopy(doc)), notes

    def update(self, doctype: str, name: str, body: Doc, user: str) -> Doc:
        """``PUT``: field changes; ``{"docstatus": 1}`` submits a draft."""
        with self.lock:
            self._changed(doctype)
            current = self._get(doctype, name)
            if current.get("docstatus") == 2:
                raise FrappeError(417, "ValidationError", "Cannot edit cancelled document")
            changed = {**copy.deepcopy(current), **copy.deepcopy(body)}
            # A draft posted without ``docstatus`` is a draft too (Frappe stores 0).
            was = int(current.get("docstatus") or 0)
            submit = was == 0 and int(body.get("docstatus") or 0) == 1
            if current.get("docstatus") == 1 and body.get("docstatus") not in (None, 1):
                raise FrappeError(417, "ValidationError", "Use cancel to cancel a document")
            handler = getattr(self, "_validate_" + doctype.lower().replace(" ", "_"), None)
            if handler is not None and changed.get("docstatus") in (0, 1):
                handler(changed, user, existing=True)
            self.meta.validate(doctype, changed, user, existing=True)
            self.meta.strip_unknown(doctype, changed, TABLES.get(doctype, {}))
            self.meta.check_unique(doctype, changed, [], existing=True)
            self._name_children(doctype, changed)  # rows without a name are new (FACTS §1.6)
            changed["modified"] = self._stamp()
            changed["modified_by"] = user
            self.docs[doctype][name] = changed
            on_submit = getattr(self, "_on_submit_" + doctype.lower().replace(" ", "_"), None)
            if submit and on_submit is not None:
                on_submit(changed, user)
            return _plain(copy.deepcopy(changed))  # type: ignore[no-any-return]

    def _new_name(self, doctype: str, doc: Doc, notes: list[dict[str, Any]]) -> str:
        named = self.meta.name_for(doctype, doc)
        if named is not None:
            return named
        if doctype in SERIES:
            prefix = SERIES[doctype].format(year=self.now().year)
            return f"{prefix}{self._series.get(prefix, 0) + 1:05d}"
        if doctype == "Customer":
            # Selling Settings "Customer Name" naming: a taken name gets " - 1", " - 2" ...
            base = str(doc.get("customer_name") or "").strip()
            if not base:
                return f"CUST-{self.now().year}-{len(self.docs.get('Customer', {})) + 1:05d}"
            name, n = base, 0
            while name in self.docs.get("Customer", {}):
                n += 1
                name = f"{base} - {n}"
            if n:
                notes.append(
                    {
                        "message": f"Changed customer name to '{name}' as '{base}' already exists.",
                        "title": "Note",
                        "indicator": "yellow",
                    }
                )
            return name
        if doctype == "Item" and doc.get("item_code"):
            return str(doc["item_code"])
        return str(doc.get("name") or secrets.token_hex(5))

    def _commit_name(self, doctype: str, name: str) -> None:
        if doctype in SERIES:
            prefix = SERIES[doctype].format(year=self.now().year)
            if name.startswith(prefix):
                self._series[prefix] = int(name[len(prefix) :])

    def _name_children(self, doctype: str, doc: Doc) -> None:
        for fieldname, child in TABLES.get(doctype, {}).items():
            rows = doc.get(fieldname) or []
            for n, row in enumerate(rows, 1):
                row.setdefault("name", secrets.token_hex(5))
                row.update(
                    idx=n,
                    parent=doc["name"],
                    parentfield=fieldname,
                    parenttype=doctype,
                    doctype=child,
                    docstatus=doc.get("docstatus", 0),
                )
            doc[fieldname] = rows

    def _check_unique(self, doctype: str, doc: Doc, notes: list[dict[str, Any]]) -> None:
        self.meta.strip_unknown(doctype, doc, TABLES.get(doctype, {}))  # no such column
        self.meta.check_unique(doctype, doc, notes)

    def _require(self, doctype: str, doc: Doc, fields: Iterable[str]) -> None:
        missing = [f for f in fields if doc.get(f) in (None, "", [])]
        if missing:
            raise errors.mandatory(doctype, doc.get("name") or "", missing)

    def _link(self, doctype: str, value: Any, label: str | None = None) -> None:
        if value in (None, ""):
            return
        if str(value) not in self.docs.get(doctype, {}):
            raise errors.link_error(label or doctype, str(value))

    def _sale_rows(self, doc: Doc, warehouse: Any) -> None:
        """A sale's rows as ERPNext validates and fills them (POS Invoice, and 16's Sales
        Invoice): free items added, every Link of a row checked, an item row filled from its
        Item (``warehouse``: the default for rows without one)."""
        offers.add_free_items(self, doc)
        for n, row in enumerate(doc["items"], 1):
            code = row.get("item_code")
            if code not in self.docs.get("Item", {}):
                raise errors.not_found("Item", str(code))
            self._link("Warehouse", row.get("warehouse"), f"Row #{n}: Warehouse")
            self._link(
                "Item Tax Template", row.get("item_tax_template"), f"Row #{n}: Item Tax Template"
            )
            item = self.docs["Item"][code]
            row.setdefault("item_name", item.get("item_name"))
            row.setdefault("uom", item.get("stock_uom"))
            row.setdefault("conversion_factor", 1)
            row.setdefault("warehouse", warehouse)
            row["stock_qty"] = _flt(row.get("qty")) * _flt(row.get("conversion_factor") or 1)
            row["item_tax_rate"] = json.dumps(self._item_tax_map(row.get("item_tax_template")))
        serials.check_rows(self, doc)
        for n, row in enumerate(doc.get("taxes") or [], 1):
            self._link("Account", row.get("account_head"), f"Row #{n}: Account Head")
        for n, row in enumerate(doc.get("payments") or [], 1):
            self._link("Mode of Payment", row.get("mode_of_payment"), f"Row #{n}: Mode of Payment")

    # -- Customer ------------------------------------------------------------------------------
    def _validate_customer(self, doc: Doc, user: str, existing: bool = False) -> None:
        self._require("Customer", doc, ["customer_name"])
        doc.setdefault("customer_type", "Company")
        doc.setdefault("disabled", 0)
        self._link("Customer Group", doc.get("customer_group"))
        self._link("Territory", doc.get("territory"))

    # -- POS Opening Entry ---------------------------------------------------------------------
    def _validate_pos_opening_entry(self, doc: Doc, user: str, existing: bool = False) -> None:
        doc.setdefault("posting_date", self.now().date().isoformat())
        self._require(
            "POS Opening Entry",
            doc,
            ["period_start_date", "posting_date", "company", "pos_profile", "user"],
        )
        self._require("POS Opening Entry", doc, ["balance_details"])
        self._link("Company", doc["company"])
        self._link("POS Profile", doc["pos_profile"])
        self._link("User", doc["user"])
        for n, row in enumerate(doc["balance_details"], 1):
            self._link("Mode of Payment", row.get("mode_of_payment"), f"Row #{n}: Mode of Payment")
            row["opening_amount"] = _flt(row.get("opening_amount"))
        profile = self.docs["POS Profile"][doc["pos_profile"]]
        if profile.get("disabled"):
            raise errors.validation(f"POS Profile {doc['pos_profile']} is disabled.")
        if self.version >= 16:
            v16.check_opening(self, doc)
        doc["status"] = "Open" if int(doc.get("docstatus") or 0) == 1 else "Draft"
        doc.setdefault("pos_closing_entry", None)

    # -- POS Invoice ---------------------------------------------------------------------------
    def _settings(self, disable_rounded_total: bool | None = None) -> Any:
        system = self.docs.get("System Settings", {}).get("System Settings", {})
        defaults = self.docs.get("Global Defaults", {}).get("Global Defaults", {})
        currency = defaults.get("default_currency") or "CAD"
        cur = self.docs.get("Currency", {}).get(currency, {})
        return parse_settings(
            {
                "currency": currency,
                "currency_precision": int(system.get("currency_precision") or 2),
                "float_precision": int(system.get("float_precision") or 3),
                "rounding_method": system.get("rounding_method") or None,
                "disable_rounded_total": int(defaults.get("disable_rounded_total") or 0)
                if disable_rounded_total is None
                else int(disable_rounded_total),
                "smallest_currency_fraction_value": cur.get("smallest_currency_fraction_value"),
            }
        )

    def _open_opening(self, pos_profile: str) -> Doc | None:
        for o in self.docs.get("POS Opening Entry", {}).values():
            if (o.get("pos_profile"), o.get("status"), o.get("docstatus")) == (
                pos_profile,
                "Open",
                1,
            ):
                return o
        return None

    def _validate_pos_invoice(self, doc: Doc, user: str, existing: bool = False) -> None:
        doctype = "POS Invoice"
        if not doc.get("customer"):
            raise errors.validation("Please select Customer first")
        if doc["customer"] not in self.docs.get("Customer", {}):
            # recorded README: an unknown customer trips an ERPNext bug, not a link error.
            raise FrappeError(
                500,
                "TypeError",
                "'NoneType' object is not subscriptable",
                module="builtins",
                show_message=False,
            )
        self._link("Company", doc.get("company"))
        self._link("POS Profile", doc.get("pos_profile"))
        doc.setdefault("posting_date", self.now().date().isoformat())
        self._require(doctype, doc, ["company", "posting_date", "currency", "items"])
        doc["is_pos"] = 1
        is_return = bool(int(doc.get("is_return") or 0))
        submit = int(doc.get("docstatus") or 0) == 1
        profile = self.docs.get("POS Profile", {}).get(doc.get("pos_profile") or "")
        if profile is None:
            raise errors.validation("No POS Profile found. Please create a New POS Profile first")
        self._sale_rows(doc, profile.get("warehouse"))
        if is_return:
            self._link("POS Invoice", doc.get("return_against"), "Return Against")
        if self.version >= 16:
            v16.check_pos_sale(self, doctype, doc, profile["name"])
        offers.check_coupon(self, doc)
        loyalty.validate(self, doc)
        if self._open_opening(profile["name"]) is None:
            raise errors.validation(
                f"No open POS Opening Entry found for POS Profile <strong>{profile['name']}"
                "</strong>.",
                "POS Opening Entry Missing",
            )
        if int(doc.get("set_posting_time") or 0) != 1:
            now = self.now()
            doc["posting_date"] = now.date().isoformat()
            doc["posting_time"] = now.time().isoformat()
        if not doc.get("payments"):
            raise errors.validation("At least one mode of payment is required for POS invoice.")
        self._compute_totals(doc)
        sales_team.apply(self, doc)
        if submit and not is_return:
            self._check_stock(doc)
        if doc.get("paid_amount") in (None, ""):
            # v16 NOTES (49) and CLOSING.md (18): missing paid_amount dies in a comparison.
            raise FrappeError(
                500,
                "TypeError",
                "'<' not supported between instances of 'NoneType' and 'float'",
                module="builtins",
                show_message=False,
            )
        if not submit and loyalty.loyalty_amount(doc):
            # A draft keeps only its payment rows' sum: the PUT that submits it must send the
            # loyalty part again (features/NOTES.md, surprise 2; 117, 121).
            doc["paid_amount"] = round(sum(_flt(p.get("amount")) for p in doc["payments"]), 9)
        paid = _flt(doc["paid_amount"])
        total = _flt(doc.get("rounded_total")) or _flt(doc.get("grand_total"))
        if is_return:
            original = self.docs["POS Invoice"][doc["return_against"]]
            if original.get("docstatus") != 1:
                raise errors.validation(f"Return Against {original['name']} is not submitted")
            if original.get("customer") != doc["customer"]:
                raise errors.validation(
                    f"Customer {doc['customer']} does not belong to {original['name']}"
                )
            returns.check_returnable(self.docs["POS Invoice"], "POS Invoice", doc)
            if any(_flt(p.get("amount")) > 0 for p in doc["payments"]):
                raise errors.validation("Row #1 (Payment Table): Amount must be negative")
            # recorded/33 vs 37: against the rounded total, in absolute values.
            if abs(paid) + abs(_flt(doc.get("write_off_amount"))) - abs(total) > 0.001:
                raise errors.validation(
                    "Paid amount + Write Off Amount can not be greater than Grand Total"
                )
        elif submit and not profile.get("allow_partial_payment") and paid < total - 1e-9:
            raise FrappeError(
                417,
                "PartialPaymentValidationError",
                "Partial Payment in POS Invoice is not allowed.",
                module=errors.ERPNEXT_MODULE,
                exc_source="erpnext (app)",
            )
        change = _flt(doc.get("change_amount"))
        if change == 0 and not is_return and total < paid:
            change = round(paid - total + _flt(doc.get("write_off_amount")), 9)
        doc["change_amount"] = doc["base_change_amount"] = change
        doc["base_paid_amount"] = _flt(doc.get("base_paid_amount") or paid)
        if change and not doc.get("account_for_change_amount"):
            doc["account_for_change_amount"] = profile.get("account_for_change_amount")
        if submit:
            doc["status"] = "Return" if is_return else "Paid"
        else:
            doc["status"] = "Draft"
        doc.setdefault("consolidated_invoice", None)

    def _item_tax_map(self, template: Any) -> dict[str, float]:
        if not template:
            return {}
        doc = self.docs.get("Item Tax Template", {}).get(str(template), {})
        return {r["tax_type"]: _flt(r.get("tax_rate")) for r in doc.get("taxes") or []}

    def _compute_totals(self, doc: Doc, disable_rounded_total: bool | None = None) -> None:
        quote_doc = {
            "items": [
                {
                    "item_code": r.get("item_code"),
                    "qty": r.get("qty"),
                    "rate": r.get("rate"),
                    "price_list_rate": r.get("price_list_rate"),
                    "discount_percentage": r.get("discount_percentage"),
                    "item_tax_rate": r.get("item_tax_rate"),
                }
                for r in doc["items"]
            ],
            "taxes": doc.get("taxes") or [],
            "apply_discount_on": doc.get("apply_discount_on") or "Grand Total",
            "additional_discount_percentage": doc.get("additional_discount_percentage"),
            "discount_amount": doc.get("discount_amount"),
            "write_off_amount": doc.get("write_off_amount"),
            "is_return": doc.get("is_return"),
        }
        try:
            totals = compute_totals(parse_invoice(quote_doc), self._settings(disable_rounded_total))
        except (QuoteInputError, TotalsError) as exc:
            raise errors.validation(str(exc)) from None
        paid = doc.get("paid_amount")
        filled = fill_document(doc, totals)
        filled["paid_amount"] = paid  # POS Invoice keeps the client's (FACTS §4.11)
        filled.pop("base_paid_amount", None)
        filled.pop("change_amount", None)
        filled.pop("outstanding_amount", None)
        filled["total_taxes_and_charges"] = totals.total_taxes_and_charges
        filled["base_grand_total"] = totals.grand_total
        filled["base_rounded_total"] = totals.rounded_total
        filled["base_net_total"] = totals.net_total
        doc.clear()
        doc.update(_plain(filled))
        doc.setdefault("change_amount", 0)

    def _reserved(self, item_code: str, warehouse: str) -> float:
        total = 0.0
        for inv in self.docs.get("POS Invoice", {}).values():
            if inv.get("docstatus") != 1 or inv.get("consolidated_invoice"):
                continue
            for row in inv.get("items") or []:
                if row.get("item_code") == item_code and row.get("warehouse") == warehouse:
                    total += _flt(row.get("stock_qty"))
        return total

    def _check_stock(self, doc: Doc) -> None:
        for n, row in enumerate(doc["items"], 1):
            item = self.docs["Item"][row["item_code"]]
            if not item.get("is_stock_item") or item.get("allow_negative_stock"):
                continue
            warehouse = row.get("warehouse") or doc.get("set_warehouse") or ""
            actual = self.stock.get(row["item_code"], self.default_stock)
            available = actual - self._reserved(row["item_code"], warehouse)
            if available <= 0:
                raise errors.validation(
                    f"Row #{n}: Item Code: <strong>{row['item_code']}</strong> is not available "
                    f"under warehouse <strong>{warehouse}</strong>.",
                    "Item Unavailable",
                )
            if available < _flt(row.get("stock_qty")):
                raise errors.validation(
                    f"Row #{n}: Stock quantity not enough for Item Code: <strong>"
                    f"{row['item_code']}</strong> under warehouse <strong>{warehouse}</strong>. "
                    f"Available quantity {available}.",
                    "Item Unavailable",
                )

    def _on_submit_pos_invoice(self, doc: Doc, user: str) -> None:
        serials.on_submit(self, "POS Invoice", doc)
        offers.count_coupon(self, doc)
        loyalty.on_submit(self, doc)

    # -- ERPNext 16 only (a v15 site takes these as they come) --------------------------------
    def _validate_sales_invoice(self, doc: Doc, user: str, existing: bool = False) -> None:
        if self.version >= 16:
            v16.validate_sales_invoice(self, doc)

    def _on_submit_sales_invoice(self, doc: Doc, user: str) -> None:
        if self.version >= 16:
            v16.on_submit_sales_invoice(self, doc)

    def _validate_pos_settings(self, doc: Doc, user: str, existing: bool = False) -> None:
        if self.version >= 16:
            v16.check_settings(self, doc)

    # -- POS Closing Entry ---------------------------------------------------------------------
    def _validate_pos_closing_entry(self, doc: Doc, user: str, existing: bool = False) -> None:
        now = self.now()
        doc.setdefault("posting_date", now.date().isoformat())
        doc.setdefault("posting_time", now.time().isoformat())
        self._require(
            "POS Closing Entry",
            doc,
            [
                "period_start_date",
                "period_end_date",
                "company",
                "pos_profile",
                "user",
                "pos_opening_entry",
            ],
        )
        self._link("POS Opening Entry", doc["pos_opening_entry"])
        self._link("POS Profile", doc["pos_profile"])
        self._link("User", doc["user"])
        for key in _NUMERIC_HEADER:
            if key in doc:
                doc[key] = _flt(doc[key])
        for table in ("payment_reconciliation", "taxes"):
            for row in doc.get(table) or []:
                for k, v in list(row.items()):
                    if k not in ("mode_of_payment", "account_head", "name"):
                        row[k] = _flt(v)
        opening = self.docs["POS Opening Entry"][doc["pos_opening_entry"]]
        if opening.get("status") != "Open":
            raise errors.validation(
                "Selected POS Opening Entry should be open.", "Invalid Opening Entry"
            )
        seen: set[str] = set()
        problems = []
        for n, (inv_doctype, link, row) in enumerate(v16.closing_rows(self, doc), 1):
            self._require(
                f"{inv_doctype} Reference",
                row,
                [link, "posting_date", "customer", "grand_total"],
            )
            self._link(inv_doctype, row[link], f"Row #{n}: {inv_doctype}")
            inv = self.docs[inv_doctype][row[link]]
            if row[link] in seen:
                problems.append(f"Row #{n}: {inv_doctype} {inv['name']} is duplicated")
            seen.add(row[link])
            if inv.get("docstatus") != 1:
                problems.append(f"Row #{n}: {inv_doctype} {inv['name']} is not submitted")
            if inv.get("consolidated_invoice") or inv.get("pos_closing_entry"):
                problems.append(
                    f"Row #{n}: {inv_doctype} {inv['name']} has been consolidated already"
                )
            if inv.get("pos_profile") != doc["pos_profile"]:
                problems.append(
                    f"Row #{n}: POS Profile {inv.get('pos_profile')} does not match "
                    f"{doc['pos_profile']}"
                )
            if inv.get("owner") != doc["user"]:
                problems.append(
                    f"Row #{n}: {inv_doctype} {inv['name']} is not created by user {doc['user']}"
                )
            row["is_return"] = inv.get("is_return", 0)
            row["return_against"] = inv.get("return_against")
        if problems:
            raise errors.validation("<br>".join(problems), "Invalid POS Invoices")
        self.consolidation.validate(self, doc)
        doc["status"] = "Submitted" if int(doc.get("docstatus") or 0) == 1 else "Draft"

    def _on_submit_pos_closing_entry(self, doc: Doc, user: str) -> list[dict[str, Any]]:
        return self.consolidation.on_submit(self, doc)

    def _next_name(self, doctype: str) -> str:
        """The next name of a naming series, taken (a document the site makes itself)."""
        prefix = SERIES[doctype].format(year=self.now().year)
        number = self._series.get(prefix, 0) + 1
        self._series[prefix] = number
        return f"{prefix}{number:05d}"

    def run_background(self) -> None:
        """The background worker's turn (the server gives it one before each request)."""
        with self.lock:
            self.consolidation.run(self)

    def retry_closing(self, name: str) -> None:
        """IT presses Retry on a failed POS Closing Entry in ERPNext."""
        with self.lock:
            self.consolidation.retry(self, name)


def _keyset(columns: list[str], or_conds: list[tuple[str, str, Any]]) -> tuple[Any, Any] | None:
    """(c, n) of a keyset ``or_filters`` ``[[col0, ">", c], [col1, ">", n]]`` on an order by
    ``col0, col1``: the rows up to (c, n) in that order fail it. None: no such filter."""
    if len(columns) < 2 or len(or_conds) != 2:
        return None
    (f0, op0, v0), (f1, op1, v1) = or_conds
    if (f0, op0, f1, op1) != (columns[0], ">", columns[1], ">"):
        return None
    if not isinstance(v0, str) or not isinstance(v1, str):
        return None
    return v0, v1
