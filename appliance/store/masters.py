"""ERPNext master documents into the store: upsert by (doctype, name), children replaced.

Takes documents exactly as ``GET /api/resource/<DocType>/<name>`` returns them (the ``data``
object: fields plus child tables as lists of dicts), and as ``appliance.demo.masters`` makes them.
Built for the sync agent's chunks: it is called with a few hundred documents inside one short
``BEGIN IMMEDIATE`` transaction, so a sale commit waiting for the write lock waits only that
long. Documents are converted before the transaction's first statement; then every table is
written with one executemany per chunk (``INSERT .. ON CONFLICT DO UPDATE .. WHERE changed`` for
parents; for children, the parents whose rows differ get delete-by-parent then insert), never
object by object. A chunk that changed anything bumps the ``masters.version`` key in
``sync_state``, which tells ``SqlCatalog`` to drop its caches.

Rules:
- a parent's columns are all rewritten from the document; columns the store keeps for itself
  (a till-created customer's ``offline_id`` and ``sync_state``) are left alone;
- a child table present in the document (even empty) replaces the stored rows; a child table
  the document does not carry (a list endpoint's partial document) leaves them as they are;
- ERPNext's empty values ("" or null) are stored as NULL, and "0"/"1" flags as booleans;
  numbers as exact ``Decimal`` (from the JSON number's shortest text, so 0.1761 stays 0.1761);
- System Settings, Global Defaults and Currency fill the single ``totals_settings`` row;
- disabled records are stored with their flag (the till tells the cashier why an item cannot be
  sold); ``delete_masters`` removes records ERPNext deleted, with their children.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, Table, Text, cast, delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from appliance.sales.erpnext_float import RoundingMethod
from appliance.store import addresses
from appliance.store.models import (
    Base,
    CustomerSyncState,
    TotalsSettingsRow,
)
from appliance.store.models.base import utcnow

Doc = Mapping[str, Any]
BATCH = 500  # names per IN (...) list and per executemany when a caller passes a big list

SYSTEM_SETTINGS = "System Settings"
GLOBAL_DEFAULTS = "Global Defaults"
CURRENCY = "Currency"
SETTINGS_DOCTYPES = (SYSTEM_SETTINGS, GLOBAL_DEFAULTS, CURRENCY)  # -> totals_settings
CUSTOMER = "Customer"
ADDRESS = "Address"
DEFAULT_NUMBER_FORMAT = "#,###.##"  # Frappe's when System Settings leaves it empty
DEFAULT_FLOAT_PRECISION = 3
# sync_state key counting master changes: readers compare it to know their caches are stale.
MASTERS_VERSION_KEY = "masters.version"


class MasterError(ValueError):
    """A document the store cannot take; the message names the doctype, document and field."""


class UnknownDoctypeError(MasterError):
    pass


# -- value conversion: ERPNext JSON -> column values ---------------------------------------------


# ERPNext stores currency as decimal(21,9): 10^12 or more cannot come from a real site.
MAX_AMOUNT = Decimal(10) ** 12
MAX_TEXT = 16 * 1024  # characters in a code, name or label: Frappe's Data fields hold 140
MAX_LONG_TEXT = 1024 * 1024  # a description (a Text Editor field may embed a small image)


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    out = str(value)
    if len(out) > limit:
        raise ValueError(f"{len(out)} characters, longer than {limit}")
    return out if out != "" else None


def _long_text(value: Any) -> str | None:
    return _text(value, MAX_LONG_TEXT)


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().casefold() not in ("0", "false", "no")
    return bool(value)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        # repr of a float is its shortest round-trip text: 0.1761 -> "0.1761", never 0.17609...
        out = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not out.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if abs(out) >= MAX_AMOUNT:
        raise ValueError(f"{value!r} is 10^12 or more, beyond what ERPNext stores")
    return out


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    # Date fields come as "YYYY-MM-DD"; tolerate a Datetime's "YYYY-MM-DD HH:MM:SS".
    return date.fromisoformat(str(value)[:10])


# Columns are written with plain executemany, so values are converted straight to what the
# column types store: DecimalText its exact text, Boolean 0/1, Date "YYYY-MM-DD". Reading them
# back through the models gives Decimal, bool and date (tests/store/test_masters.py checks).


def _flag_db(value: Any) -> int | None:
    flag = _flag(value)
    return None if flag is None else int(flag)


def _number_db(value: Any) -> str | None:
    number = _number(value)
    return None if number is None else str(number)


def _price_db(value: Any) -> str | None:
    number = _number(value)
    if number is not None and number < 0:
        raise ValueError(f"{value!r} is negative")
    return None if number is None else str(number)


def _day_db(value: Any) -> str | None:
    day = _day(value)
    return None if day is None else day.isoformat()


Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Col:
    """A column filled from a document field (``source``, default: the column's own name)."""

    name: str
    convert: Convert = _text
    default: Any = None  # when the document leaves the field empty
    source: str | None = None
    fallback: tuple[str, ...] = ()  # other fields to use, in order, when this one is empty
    required: bool = False  # refuse a document that leaves it empty

    @property
    def key(self) -> str:
        return self.source or self.name


def _s(name: str, **kw: Any) -> Col:
    return Col(name, _text, **kw)


def _b(name: str, default: bool = False, **kw: Any) -> Col:
    return Col(name, _flag_db, default=int(default), **kw)


def _i(name: str, **kw: Any) -> Col:
    return Col(name, _int, **kw)


def _n(name: str, default: Decimal | None = None, **kw: Any) -> Col:
    return Col(name, _number_db, default=None if default is None else str(default), **kw)


def _d(name: str, **kw: Any) -> Col:
    return Col(name, _day_db, **kw)


def _req(name: str, **kw: Any) -> Col:
    return Col(name, _text, required=True, **kw)


@dataclass(frozen=True)
class ChildSpec:
    """A child table: the document's list under ``key``, stored in ``table`` by ``parent``."""

    key: str
    table: str
    cols: tuple[Col, ...]
    has_idx: bool = True
    upsert_on: str | None = None  # a globally unique column (Item Barcode.barcode)


@dataclass(frozen=True)
class MasterSpec:
    doctype: str
    table: str
    cols: tuple[Col, ...]
    children: tuple[ChildSpec, ...] = ()
    # Columns the store owns: set when a row is first inserted, never overwritten by a pull.
    insert_only: tuple[tuple[str, Any], ...] = ()


_ITEM_TAX_ROW = (
    _req("item_tax_template"),
    _s("tax_category"),
    _d("valid_from"),
    _n("minimum_net_rate"),
    _n("maximum_net_rate"),
)
_TREE = (_b("is_group"), _i("lft"), _i("rgt"), _s("modified"))
_ADDRESS = tuple(
    _s(f"{kind}_{part}")
    for kind in ("billing", "shipping")
    for part in ("city", "county", "state", "zipcode", "country")
)

SPECS: dict[str, MasterSpec] = {
    spec.doctype: spec
    for spec in (
        MasterSpec(
            CURRENCY,
            "currencies",
            (
                _b("enabled", default=True),
                _n("smallest_currency_fraction_value", default=Decimal(0)),
                _s("number_format"),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "Item Group",
            "item_groups",
            (_s("parent_item_group"), *_TREE),
            (ChildSpec("taxes", "item_group_taxes", _ITEM_TAX_ROW),),
        ),
        MasterSpec(
            "Customer Group",
            "customer_groups",
            (_s("parent_customer_group"), _s("default_price_list"), *_TREE),
        ),
        MasterSpec("Territory", "territories", (_s("parent_territory"), *_TREE)),
        MasterSpec("Tax Category", "tax_categories", (_b("disabled"), _s("modified"))),
        MasterSpec(
            "Sales Taxes and Charges Template",
            "sales_taxes_templates",
            (
                _req("title", fallback=("name",)),
                _req("company"),
                _b("is_default"),
                _b("disabled"),
                _s("tax_category"),
                _s("modified"),
            ),
            (
                ChildSpec(
                    "taxes",
                    "sales_taxes_template_rows",
                    (
                        _req("charge_type"),
                        _req("account_head"),
                        _s("description"),
                        _n("rate"),
                        _n("tax_amount"),
                        _i("row_id"),
                        _b("included_in_print_rate"),
                        _s("cost_center"),
                    ),
                ),
            ),
        ),
        MasterSpec(
            "Tax Rule",
            "tax_rules",
            (
                _req("tax_type", default="Sales"),
                _s("sales_tax_template"),
                _s("company"),
                _s("customer"),
                _s("customer_group"),
                _s("tax_category"),
                *_ADDRESS,
                _b("use_for_shopping_cart", default=True),
                _d("from_date"),
                _d("to_date"),
                _i("priority", default=1),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "Item Tax Template",
            "item_tax_templates",
            (_req("title", fallback=("name",)), _req("company"), _b("disabled"), _s("modified")),
            (
                ChildSpec(
                    "taxes",
                    "item_tax_template_rows",
                    (_req("tax_type"), _n("tax_rate", default=Decimal(0))),
                ),
            ),
        ),
        MasterSpec(
            "Mode of Payment",
            "modes_of_payment",
            (_s("type"), _b("enabled", default=True), _s("modified")),
            (
                ChildSpec(
                    "accounts",
                    "mode_of_payment_accounts",
                    (_req("company"), _s("default_account")),
                    has_idx=False,
                ),
            ),
        ),
        MasterSpec(
            "Price List",
            "price_lists",
            (
                _req("currency"),
                _b("enabled", default=True),
                _b("selling"),
                _b("buying"),
                _b("price_not_uom_dependent"),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "POS Profile",
            "pos_profiles",
            (
                _req("company"),
                _b("disabled"),
                _s("customer"),
                _req("warehouse"),
                _req("currency"),
                _s("selling_price_list"),
                _s("taxes_and_charges"),
                _s("tax_category"),
                _req("apply_discount_on", default="Grand Total"),
                _s("write_off_account"),
                _s("write_off_cost_center"),
                _n("write_off_limit"),
                _s("account_for_change_amount"),
                _s("cost_center"),
                _s("income_account"),
                _b("allow_rate_change"),
                _b("allow_discount_change"),
                _b("allow_partial_payment"),
                _b("ignore_pricing_rule"),
                _b("disable_rounded_total"),
                _s("modified"),
            ),
            (
                ChildSpec(
                    "payments",
                    "pos_payment_methods",
                    (_req("mode_of_payment"), _b("default"), _b("allow_in_returns"), _s("account")),
                ),
                ChildSpec(
                    "applicable_for_users",
                    "pos_profile_users",
                    (_req("user"), _b("default")),
                    has_idx=False,
                ),
                ChildSpec("item_groups", "pos_item_groups", (_req("item_group"),), has_idx=False),
                ChildSpec(
                    "customer_groups",
                    "pos_customer_groups",
                    (_req("customer_group"),),
                    has_idx=False,
                ),
            ),
        ),
        MasterSpec(
            "Pricing Rule",
            "pricing_rules",
            (
                _s("title"),
                _b("disable"),
                _req("apply_on", default="Item Code"),
                _req("price_or_product_discount", default="Price"),
                _b("selling"),
                _b("buying"),
                *(
                    _s(f)
                    for f in (
                        "applicable_for",
                        "customer",
                        "customer_group",
                        "territory",
                        "sales_partner",
                        "campaign",
                        "company",
                        "currency",
                        "for_price_list",
                        "warehouse",
                    )
                ),
                *(_n(f) for f in ("min_qty", "max_qty", "min_amt", "max_amt")),
                _d("valid_from"),
                _d("valid_upto"),
                _s("rate_or_discount"),
                _n("rate"),
                _n("discount_percentage"),
                _n("discount_amount"),
                _s("margin_type"),
                _n("margin_rate_or_amount"),
                _s("apply_discount_on"),
                _i("priority"),
                *(
                    _b(f)
                    for f in (
                        "apply_multiple_pricing_rules",
                        "has_priority",
                        "apply_discount_on_rate",
                        "mixed_conditions",
                        "is_cumulative",
                        "coupon_code_based",
                        "validate_applied_rule",
                    )
                ),
                _s("condition"),
                _s("modified"),
                _s("free_item"),
                _n("free_qty"),
                _b("same_item"),
                _n("free_item_rate"),
                _s("free_item_uom"),
                _b("is_recursive"),
                _n("recurse_for"),
                _n("apply_recursion_over"),
                _b("round_free_qty"),
            ),
            (
                ChildSpec(
                    "items",
                    "pricing_rule_item_codes",
                    (_req("item_code"), _s("uom")),
                    has_idx=False,
                ),
                ChildSpec(
                    "item_groups",
                    "pricing_rule_item_groups",
                    (_req("item_group"), _s("uom")),
                    has_idx=False,
                ),
                ChildSpec(
                    "brands", "pricing_rule_brands", (_req("brand"), _s("uom")), has_idx=False
                ),
            ),
        ),
        # Before Item: a unit's "must be whole number" is there when its items arrive.
        MasterSpec(
            "UOM",
            "units_of_measure",
            (_b("must_be_whole_number"), _b("enabled", default=True), _s("modified")),
        ),
        # Who may be named as a sale's sales person (features/NOTES.md §6).
        MasterSpec(
            "Sales Person",
            "sales_persons",
            (
                _s("sales_person_name"),
                _b("is_group"),
                _b("enabled", default=True),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "Coupon Code",
            "coupon_codes",
            (
                _s("coupon_code"),
                _s("coupon_type"),
                _s("pricing_rule"),
                _i("maximum_use"),
                _i("used"),
                _d("valid_from"),
                _d("valid_upto"),
                _s("creation"),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "Item",
            "items",
            (
                _req("item_code", fallback=("name",)),
                _req("item_name", fallback=("item_code", "name")),
                _req("item_group"),
                _s("brand"),
                _req("stock_uom"),
                _s("sales_uom"),
                Col("description", _long_text),
                _b("is_stock_item", default=True),
                _b("is_sales_item", default=True),
                _b("disabled"),
                _b("has_variants"),
                _s("variant_of"),
                _b("has_batch_no"),
                _b("has_serial_no"),
                _b("is_weighed"),
                _n("max_discount"),
                _s("modified"),
            ),
            (
                ChildSpec(
                    "barcodes",
                    "item_barcodes",
                    (_req("barcode"), _s("barcode_type"), _s("uom")),
                    upsert_on="barcode",
                ),
                ChildSpec(
                    "uoms",
                    "uom_conversion_details",
                    (_req("uom"), _n("conversion_factor", required=True)),
                ),
                ChildSpec("taxes", "item_taxes", _ITEM_TAX_ROW),
            ),
        ),
        # After Item: the serial numbers and batches of its items (features/NOTES.md §4).
        MasterSpec(
            "Serial No",
            "serial_nos",
            (_s("item_code"), _s("warehouse"), _s("status"), _s("batch_no"), _s("modified")),
        ),
        MasterSpec(
            "Batch",
            "batches",
            (_s("item"), _d("expiry_date"), _b("disabled"), _s("modified")),
        ),
        MasterSpec(
            "Item Price",
            "item_prices",
            (
                _req("item_code"),
                _req("price_list"),
                _s("uom"),
                Col("price_list_rate", _price_db, required=True),
                _s("currency"),
                _s("customer"),
                _s("batch_no"),
                _d("valid_from"),
                _d("valid_upto"),
                _s("modified"),
            ),
        ),
        MasterSpec(
            "Customer",
            "customers",
            (
                _req("customer_name", fallback=("name",)),
                _s("customer_type"),
                _s("customer_group"),
                _s("territory"),
                _s("tax_category"),
                _s("tax_id"),
                _s("default_price_list"),
                _b("disabled"),
                _s("mobile_no"),
                _s("email_id"),
                *_ADDRESS,
                _s("address_tax_category"),
                _s("loyalty_program"),
                _s("modified"),
            ),
            insert_only=(("sync_state", CustomerSyncState.SYNCED.value),),
        ),
        MasterSpec(
            ADDRESS,
            "addresses",
            (
                _s("address_type"),
                _s("city"),
                _s("county"),
                _s("state"),
                _s("pincode"),
                _s("country"),
                _s("tax_category"),
                _b("is_primary_address"),
                _b("is_shipping_address"),
                _b("disabled"),
                _s("modified"),
            ),
            (
                ChildSpec(
                    "links",
                    "address_links",
                    (_req("link_doctype"), _req("link_name")),
                    has_idx=False,
                ),
            ),
        ),
        # After Customer: entries of customers this till does not hold are not kept.
        MasterSpec(
            "Loyalty Program",
            "loyalty_programs",
            (
                _s("company"),
                _n("conversion_factor"),
                _i("expiry_duration"),
                _s("expense_account"),
                _s("cost_center"),
                _d("from_date"),
                _d("to_date"),
                _s("modified"),
            ),
            (
                ChildSpec(
                    "collection_rules",
                    "loyalty_program_collections",
                    (_s("tier_name"), _n("min_spent"), _n("collection_factor")),
                ),
            ),
        ),
        MasterSpec(
            "Loyalty Point Entry",
            "loyalty_point_entries",
            (
                _req("customer"),
                _s("loyalty_program"),
                _i("loyalty_points"),
                _n("purchase_amount"),
                _d("expiry_date"),
                _s("invoice_type"),
                _s("invoice"),
                _s("company"),
                _s("modified"),
            ),
        ),
    )
}
DOCTYPES = (SYSTEM_SETTINGS, GLOBAL_DEFAULTS, *SPECS)


# -- results ---------------------------------------------------------------------------------------


@dataclass
class ApplyStats:
    """What a call did: documents applied per doctype (rewritten or found unchanged), those
    skipped by ``skip_unchanged``, child rows written per table, cashiers added."""

    documents: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    cashiers: int = 0

    def add(self, other: ApplyStats) -> None:
        self.documents.update(other.documents)
        self.unchanged.update(other.unchanged)
        self.rows.update(other.rows)
        self.cashiers += other.cashiers

    @property
    def total(self) -> int:
        return sum(self.documents.values())

    @property
    def items(self) -> int:
        return self.documents["Item"]

    @property
    def barcodes(self) -> int:
        return self.rows["item_barcodes"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": dict(sorted(self.documents.items())),
            "unchanged": dict(sorted(self.unchanged.items())),
            "rows": dict(sorted(self.rows.items())),
            "cashiers": self.cashiers,
        }


# -- applying ------------------------------------------------------------------------------------


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _where(doctype: str, name: str, key: str | None = None) -> str:
    return f"{doctype} {name!r}" + (f" field {key!r}" if key else "")


# Per column, what _values needs, read once per spec rather than once per row and column.
_Plan = tuple[tuple[str, tuple[str, ...], Convert, Any, bool], ...]
_PLANS: dict[int, _Plan] = {}


def _plan(cols: Sequence[Col]) -> _Plan:
    plan = _PLANS.get(id(cols))
    if plan is None:
        plan = tuple((c.key, c.fallback, c.convert, c.default, c.required) for c in cols)
        _PLANS[id(cols)] = plan
    return plan


def _values(doc: Doc, cols: Sequence[Col], where: str | Callable[[], str]) -> list[Any]:
    """The row of ``doc`` for ``cols``; ``where`` names the document in an error (a callable
    is called only then: a first pull converts millions of values, and refuses few)."""
    out: list[Any] = []
    get = doc.get
    for key, fallback, convert, default, required in _plan(cols):
        raw = get(key)
        if fallback and (raw is None or raw == ""):
            for other in fallback:
                raw = get(other)
                if raw is not None and raw != "":
                    break
        if convert is _text and (raw is None or (type(raw) is str and len(raw) <= MAX_TEXT)):
            value = raw or None  # the common case of _text, without the call
        else:
            try:
                value = convert(raw)
            except (TypeError, ValueError) as exc:
                raise MasterError(f"{_named(where)} field {key!r}: {exc}") from None
        if value is None:
            if default is None and required:
                raise MasterError(f"{_named(where)} field {key!r} is empty")
            value = default
        out.append(value)
    return out


def _row_where(doctype: str, name: str, key: str, position: int) -> str:
    return f"{doctype} {name!r} {key} row {position}"


def _named(where: str | Callable[[], str]) -> str:
    return where if isinstance(where, str) else where()


def _doc_name(doc: Doc) -> str:
    name = doc.get("name")
    if name is None or name == "":
        raise MasterError(f"a {doc.get('doctype')} document without a name")
    if len(str(name)) > MAX_TEXT:
        raise MasterError(f"a {doc.get('doctype')} name of {len(str(name))} characters")
    return str(name)


def master_problem(doc: Doc) -> str | None:
    """Why ``doc`` alone cannot be applied (the words :func:`apply_masters` would refuse the
    whole call with), or None: a pull skips such a document and applies the rest."""
    doctype = doc.get("doctype")
    if doctype not in DOCTYPES:
        return f"cannot apply doctype {doctype!r}"
    try:
        name = _doc_name(doc)
        if doctype in SQL:
            _prepare(SQL[str(doctype)], {name: doc})
        elif doctype in SETTINGS_DOCTYPES:
            _settings_values({str(doctype): {name: doc}})
    except MasterError as exc:
        return str(exc)
    return None


def _batches(names: Sequence[str]) -> Iterator[list[str]]:
    it = iter(names)
    while batch := list(itertools.islice(it, BATCH)):
        yield batch


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _ChildSql:
    spec: ChildSpec
    columns: tuple[str, ...]  # parent, [idx,] the spec's columns: the order of row tuples
    insert: str
    select: str  # stored rows of some parents, in the order they were written

    def select_for(self, parents: int) -> str:
        return self.select.replace("(?)", f"({_marks(parents)})")

    def delete_for(self, parents: int) -> str:
        return f"DELETE FROM {_q(self.spec.table)} WHERE parent IN ({_marks(parents)})"


@dataclass(frozen=True)
class _MasterSql:
    spec: MasterSpec
    upsert: str
    children: tuple[_ChildSql, ...]

    def modified_for(self, names: int) -> str:
        return f"SELECT name, modified FROM {_q(self.spec.table)} WHERE name IN ({_marks(names)})"


def _master_sql(spec: MasterSpec) -> _MasterSql:
    """The statements one doctype is written with, built once from its spec."""
    cols = [c.name for c in spec.cols]
    insert_cols = ["name", *cols, *(k for k, _v in spec.insert_only)]
    table = _q(spec.table)
    assignments = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in cols)
    stored = ", ".join(f"{table}.{_q(c)}" for c in cols)
    incoming = ", ".join(f"excluded.{_q(c)}" for c in cols)
    # An unchanged document rewrites nothing: no page writes, no index or FTS work.
    upsert = (
        f"INSERT INTO {table} ({', '.join(map(_q, insert_cols))}) "
        f"VALUES ({_marks(len(insert_cols))}) ON CONFLICT (name) DO UPDATE SET {assignments} "
        f"WHERE ({stored}) IS NOT ({incoming})"
    )
    children = []
    for child in spec.children:
        columns = ("parent", *(("idx",) if child.has_idx else ()), *(c.name for c in child.cols))
        ctable = _q(child.table)
        insert = (
            f"INSERT INTO {ctable} ({', '.join(map(_q, columns))}) VALUES ({_marks(len(columns))})"
        )
        if child.upsert_on:
            # Globally unique (a barcode): a row another item held moves here, as ERPNext
            # allows once that item dropped it, even if that item's update comes later.
            moved = ", ".join(
                f"{_q(c)} = excluded.{_q(c)}" for c in columns if c != child.upsert_on
            )
            insert += f" ON CONFLICT ({_q(child.upsert_on)}) DO UPDATE SET {moved}"
        order = "parent, idx, id" if child.has_idx else "parent, id"
        select_ = (
            f"SELECT {', '.join(map(_q, columns))} FROM {ctable} "
            f"WHERE parent IN (?) ORDER BY {order}"
        )
        children.append(_ChildSql(child, columns, insert, select_))
    return _MasterSql(spec, upsert, tuple(children))


SQL = {doctype: _master_sql(spec) for doctype, spec in SPECS.items()}


@dataclass
class _Prepared:
    """One doctype's documents, converted (before the transaction begins) into row tuples."""

    sql: _MasterSql
    modified: dict[str, str | None] = field(default_factory=dict)
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    # child table -> parent -> its rows; a parent is absent when its document has no such table
    children: dict[str, dict[str, list[tuple[Any, ...]]]] = field(default_factory=dict)


def _prepare(sql: _MasterSql, by_name: Mapping[str, Doc]) -> _Prepared:
    spec = sql.spec
    prepared = _Prepared(sql, children={c.spec.table: {} for c in sql.children})
    insert_only = tuple(v for _k, v in spec.insert_only)
    for name, doc in by_name.items():
        prepared.modified[name] = _text(doc.get("modified"))
        values = _values(doc, spec.cols, f"{spec.doctype} {name!r}")
        prepared.rows[name] = (name, *values, *insert_only)
        for child in sql.children:
            entries = doc.get(child.spec.key)
            if entries is None:
                continue
            if not isinstance(entries, list):
                where = _where(spec.doctype, name, child.spec.key)
                raise MasterError(f"{where} is not a list of rows")
            rows = []
            for position, entry in enumerate(entries, 1):
                row_where = partial(_row_where, spec.doctype, name, child.spec.key, position)
                values = _values(entry, child.spec.cols, row_where)
                if child.spec.has_idx:
                    idx = entry.get("idx")
                    if type(idx) is not int:
                        idx = _safe(_int, idx, row_where(), "idx")
                    values.insert(0, idx or position)
                rows.append((name, *values))
            prepared.children[child.spec.table][name] = rows
    return prepared


def apply_masters(
    session: Session, docs: Iterable[Doc], *, skip_unchanged: bool = False
) -> ApplyStats:
    """Upsert ERPNext master documents into the caller's transaction (it commits, not this).

    Documents may come in any order and any mix of doctypes; within one call the last document
    of a (doctype, name) wins. Every document is checked and converted before the first
    statement, so a bad document changes nothing and the write lock is held only for writing.
    A row whose values did not change is not rewritten, nor are child rows that did not change.
    With ``skip_unchanged`` a document whose ``modified`` equals the stored one is not even
    compared (the demo seeding uses it; a sync repairing rows that ERPNext changed without
    bumping ``modified`` must not).
    """
    grouped: dict[str, dict[str, Doc]] = {}
    for doc in docs:
        doctype = doc.get("doctype")
        if doctype not in DOCTYPES:
            raise UnknownDoctypeError(
                f"cannot apply doctype {doctype!r} (document {doc.get('name')!r}): the store "
                f"takes {', '.join(DOCTYPES)}"
            )
        grouped.setdefault(str(doctype), {})[_doc_name(doc)] = doc
    prepared = [_prepare(SQL[d], by_name) for d, by_name in grouped.items() if d in SQL]
    settings = None
    if any(d in grouped for d in SETTINGS_DOCTYPES):
        settings = _settings_values(grouped)
    stats = ApplyStats()
    before = _total_changes(session)
    customers = grouped.get(CUSTOMER, {})
    kept: dict[str, dict[str, Any]] = {}
    if customers:
        addresses.adopt_renamed(session, customers.values())
        kept = addresses.keep_addresses(session, customers.values())
    relinked = addresses.linked_customers(session, list(grouped.get(ADDRESS, {})))
    for one in prepared:
        _write(session, one, stats, skip_unchanged)
    if relinked or ADDRESS in grouped:
        # Customers an Address was or is now linked to: re-flatten (none left clears them).
        relinked |= addresses.linked_customers(session, list(grouped.get(ADDRESS, {})))
        addresses.flatten(session, relinked, clear_missing=True)
    if customers:
        # A customer document carries no address (ERPNext keeps them apart): put back what
        # the row held, then the flattened Address where the customer has one here.
        addresses.put_back(session, kept)
        addresses.flatten(session, list(customers), clear_missing=False)
    if settings is not None:
        _write_settings(session, settings)
        for doctype in (SYSTEM_SETTINGS, GLOBAL_DEFAULTS):
            stats.documents[doctype] += len(grouped.get(doctype, ()))
    if _total_changes(session) != before:
        bump_masters_version(session)
    return stats


def _total_changes(session: Session) -> int:
    """Rows SQLite changed on this connection so far (statements that matched nothing: none)."""
    driver = session.connection().connection.driver_connection
    return int(getattr(driver, "total_changes", 0))


def bump_masters_version(session: Session) -> None:
    """Tell readers the masters changed (``SqlCatalog`` drops its caches when it sees this)."""
    table = _table("sync_state")
    stmt = sqlite_insert(table).values(key=MASTERS_VERSION_KEY, value="1", updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "value": cast(cast(table.c.value, Integer) + 1, Text),
            "updated_at": stmt.excluded.updated_at,
        },
    )
    session.execute(stmt)


def _write(session: Session, prepared: _Prepared, stats: ApplyStats, skip_unchanged: bool) -> None:
    sql = prepared.sql
    doctype = sql.spec.doctype
    connection = session.connection()
    for batch in _batches(list(prepared.rows)):
        names = batch
        if skip_unchanged:
            stored: dict[str, str | None] = {
                str(name): modified
                for name, modified in connection.exec_driver_sql(
                    sql.modified_for(len(batch)), tuple(batch)
                )
            }
            names = [
                n
                for n in batch
                if n not in stored
                or prepared.modified[n] is None
                or stored[n] != prepared.modified[n]
            ]
            stats.unchanged[doctype] += len(batch) - len(names)
            if not names:
                continue
        connection.exec_driver_sql(sql.upsert, [prepared.rows[n] for n in names])
        stats.documents[doctype] += len(names)
        for child in sql.children:
            _write_children(connection, child, prepared.children[child.spec.table], names, stats)


def _write_children(
    connection: Connection,
    child: _ChildSql,
    incoming: Mapping[str, list[tuple[Any, ...]]],
    names: Sequence[str],
    stats: ApplyStats,
) -> None:
    carrying = [n for n in names if n in incoming]
    if not carrying:
        return
    stored: dict[str, list[tuple[Any, ...]]] = {}
    for row in connection.exec_driver_sql(child.select_for(len(carrying)), tuple(carrying)):
        stored.setdefault(row[0], []).append(tuple(row))
    changed = [n for n in carrying if stored.get(n, []) != incoming[n]]
    if not changed:
        return
    gone = [n for n in changed if n in stored]
    if gone:
        connection.exec_driver_sql(child.delete_for(len(gone)), tuple(gone))
    rows = [row for n in changed for row in incoming[n]]
    if rows:
        connection.exec_driver_sql(child.insert, rows)
        stats.rows[child.spec.table] += len(rows)


# -- System Settings, Global Defaults, Currency -> totals_settings ---------------------------------

_FORMAT_DECIMALS = re.compile(r"[.,](#+)$")


def number_format_decimals(number_format: str | None) -> int:
    """Decimal places of a Frappe number format: "#,###.##" 2, "#.###,##" 2, "#,###" 0."""
    fmt = (number_format or DEFAULT_NUMBER_FORMAT).strip()
    match = _FORMAT_DECIMALS.search(fmt)
    if match is None:
        return 0
    # "#,###" and "#.###" end in a group of three: a thousands separator, not decimals. Frappe's
    # formats with three decimals ("#,###.###") have both separators.
    if len(match.group(1)) == 3 and not re.search(r"[.,].*[.,]", fmt):
        return 0
    return len(match.group(1))


def _rounding_method(value: Any) -> RoundingMethod:
    text_ = _text(value)
    if text_ is None:
        return RoundingMethod.BANKERS_LEGACY  # Frappe's when the setting is empty
    try:
        return RoundingMethod(text_)
    except ValueError:
        raise MasterError(
            f"System Settings field 'rounding_method': {text_!r} is not one of "
            f"{', '.join(m.value for m in RoundingMethod)}"
        ) from None


def _settings_values(docs: Mapping[str, Mapping[str, Doc]]) -> dict[str, Any]:
    """The totals settings columns System Settings and Global Defaults set (checked, no I/O)."""
    values: dict[str, Any] = {}
    for doc in docs.get(SYSTEM_SETTINGS, {}).values():
        where = SYSTEM_SETTINGS
        number_format = _text(doc.get("number_format"))
        precision = _safe(_int, doc.get("currency_precision"), where, "currency_precision")
        floats = _safe(_int, doc.get("float_precision"), where, "float_precision")
        values["rounding_method"] = _rounding_method(doc.get("rounding_method"))
        # Empty currency precision: Frappe takes the decimals of the number format.
        values["currency_precision"] = (
            precision if precision is not None else number_format_decimals(number_format)
        )
        values["float_precision"] = floats if floats is not None else DEFAULT_FLOAT_PRECISION
        values["number_format"] = number_format
        values["time_zone"] = _text(doc.get("time_zone"))
        values["country"] = _text(doc.get("country"))
        values["site_currency"] = _text(doc.get("currency"))  # used until Global Defaults says
        values["modified"] = _text(doc.get("modified"))
    for doc in docs.get(GLOBAL_DEFAULTS, {}).values():
        flag = _safe(
            _flag, doc.get("disable_rounded_total"), GLOBAL_DEFAULTS, "disable_rounded_total"
        )
        values["disable_rounded_total"] = bool(flag)
        if _text(doc.get("default_currency")):
            values["currency"] = _text(doc.get("default_currency"))
        values["modified"] = _text(doc.get("modified"))
    return values


def _write_settings(session: Session, values: Mapping[str, Any]) -> None:
    row = session.get(TotalsSettingsRow, 1)
    if row is None:
        row = TotalsSettingsRow(id=1, currency="", smallest_currency_fraction_value=Decimal(0))
        session.add(row)
    for key, value in values.items():
        if key == "site_currency":
            if not row.currency and value:
                row.currency = value
        elif getattr(row, key) != value:  # unchanged settings write nothing
            setattr(row, key, value)
    # The fraction follows the site's currency, whichever document came last.
    currencies = _table("currencies")
    fraction = session.execute(
        select(currencies.c.smallest_currency_fraction_value).where(
            currencies.c.name == row.currency
        )
    ).scalar()
    if fraction is not None and fraction != row.smallest_currency_fraction_value:
        row.smallest_currency_fraction_value = fraction
    session.flush()


def record_erpnext_version(session: Session, major: int) -> bool:
    """The server's major version, whose totals rules the till follows; True if it changed."""
    if major not in (15, 16):
        major = 16 if major > 16 else 15  # the nearest rules the engine knows
    row = session.get(TotalsSettingsRow, 1)
    if row is None:
        row = TotalsSettingsRow(id=1, currency="", smallest_currency_fraction_value=Decimal(0))
        session.add(row)
    elif row.erpnext_version == major:
        return False
    row.erpnext_version = major
    session.flush()
    return True


def _safe(convert: Callable[[Any], Any], value: Any, where: str, key: str) -> Any:
    try:
        return convert(value)
    except (TypeError, ValueError) as exc:
        raise MasterError(f"{where} field {key!r}: {exc}") from None


# -- deleting --------------------------------------------------------------------------------------


def delete_masters(session: Session, doctype: str, names: Iterable[str]) -> int:
    """Remove records ERPNext deleted (with their child rows); returns how many were removed.

    Unknown names are ignored. Customers created on this till and not yet in ERPNext are never
    removed this way: they are only renamed once ERPNext acknowledges them.
    """
    if doctype in (SYSTEM_SETTINGS, GLOBAL_DEFAULTS):
        raise MasterError(f"{doctype} is a single document and cannot be deleted")
    if doctype not in SPECS:
        raise UnknownDoctypeError(
            f"cannot delete doctype {doctype!r}: the store takes {', '.join(DOCTYPES)}"
        )
    table = _table(SPECS[doctype].table)
    removed = 0
    children = SPECS[doctype].children
    unique = list(dict.fromkeys(names))
    relinked = addresses.linked_customers(session, unique) if doctype == ADDRESS else set()
    for batch in _batches(unique):
        # Children first, explicitly: correct even on a connection with foreign keys off.
        for child in children:
            child_table = _table(child.table)
            session.execute(delete(child_table).where(child_table.c.parent.in_(batch)))
        condition: ColumnElement[bool] = table.c.name.in_(batch)
        if doctype == "Customer":
            condition = condition & (table.c.sync_state != CustomerSyncState.PENDING)
        result = session.execute(delete(table).where(condition))
        removed += int(getattr(result, "rowcount", 0) or 0)
    if relinked:
        addresses.flatten(session, relinked, clear_missing=True)
    if removed:
        bump_masters_version(session)
    return removed
