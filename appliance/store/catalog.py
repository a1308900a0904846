"""The sales engine's ``Catalog`` over the local store, and the till's profile from it.

Per-scan lookups (item, barcode, prices, customer) are one indexed query each; an item comes
with its UOMs and item taxes in the same statement (JSON sub-selects). The small tables that
change rarely (tax rules and templates, the group and territory trees, pricing rules) are read
once per ``SqlCatalog`` and kept until ``refresh()``: the till calls it after a sync applied
masters.

Item search finds at least what ERPNext's POS finds (code or name containing the text, any
case, any length; a whole barcode) and ranks it: exact barcode; exact code; code prefix;
barcode prefix; name prefix; a word starting with each word typed; anywhere. Code-prefix rows
follow the code, the others the name. Exact and prefix tiers are B-tree range scans; "anywhere"
comes from FTS5 (see ``appliance.store.search_index``): the trigram indexes of migration 0002
for words of three or more characters, ``items_short_fts`` (0005_short_term_search) for texts of
one- and two-character words ("2L", "AA", "6x"), so every text is an index lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    TextClause,
    bindparam,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from appliance.sales.barcode import ScanConfig
from appliance.sales.catalog import (
    ApplyOn,
    CatalogItem,
    CouponCode,
    CustomerGroup,
    CustomerInfo,
    ItemGroup,
    ItemPrice,
    ItemTaxRow,
    ItemTaxTemplate,
    MissingMasterError,
    PriceOrProduct,
    PricingRule,
    RateOrDiscount,
    RuleTarget,
    TaxRule,
    TaxTemplate,
    Territory,
    find_coupon,
    newest_first,
)
from appliance.sales.model import ZERO, ChargeType, DiscountOn, TaxLine
from appliance.sales.till import PaymentMode, TillProfile
from appliance.store import search_index
from appliance.store.masters import MASTERS_VERSION_KEY
from appliance.store.models import (
    Base,
    ModeOfPayment,
    ModeOfPaymentAccount,
    PosPaymentMethod,
    PosProfile,
    PriceList,
    SalesTaxesTemplate,
    TotalsSettingsRow,
)
from appliance.store.search_index import Tokenizer

_TOP = "\U0010ffff"  # sorts after any character: text >= p AND text < p + _TOP is "starts with p"
_CANDIDATES = 200  # FTS hits ranked per search; more would only be ranked, never shown
_WORD = re.compile(r"\w+")
_PHONE = re.compile(r"[\d\s+().-]+")


def _cap(limit: int) -> int:
    return max(_CANDIDATES, 2 * limit)


class StoreNotReadyError(MissingMasterError):
    """The store lacks masters the till cannot sell without (never seeded, or not synced yet)."""


class CatalogDataError(ValueError):
    """A stored master holds a value this till does not support (e.g. a new charge type)."""


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


ITEMS = _t("items")
BARCODES = _t("item_barcodes")
UOMS = _t("uom_conversion_details")
UNITS = _t("units_of_measure")
ITEM_TAXES = _t("item_taxes")
PRICES = _t("item_prices")
CUSTOMERS = _t("customers")

_S = TypeVar("_S", ItemGroup, CustomerGroup, Territory)
_K = TypeVar("_K")
_V = TypeVar("_V")
SYNC_STATE = _t("sync_state")
_MAX_CACHED = 20_000  # entries per lookup cache; a full cache starts over


def _str(value: str | None) -> str:
    return value or ""


def _tax_rows(raw: str | None) -> tuple[ItemTaxRow, ...]:
    rows = sorted(json.loads(raw or "[]"), key=lambda r: r[0])
    return tuple(
        ItemTaxRow(
            item_tax_template=template,
            tax_category=_str(category),
            valid_from=date.fromisoformat(valid_from) if valid_from else None,
            minimum_net_rate=Decimal(low) if low else ZERO,
            maximum_net_rate=Decimal(high) if high else ZERO,
        )
        for _idx, template, category, valid_from, low, high in rows
    )


def _tax_rows_json(table: Table, parent: ColumnElement[Any]) -> Any:
    return (
        select(
            func.json_group_array(
                func.json_array(
                    table.c.idx,
                    table.c.item_tax_template,
                    table.c.tax_category,
                    table.c.valid_from,
                    table.c.minimum_net_rate,
                    table.c.maximum_net_rate,
                )
            )
        )
        .where(table.c.parent == parent)
        .scalar_subquery()
    )


_ITEM_COLUMNS = (
    ITEMS.c.item_code,
    ITEMS.c.item_name,
    ITEMS.c.item_group,
    ITEMS.c.stock_uom,
    ITEMS.c.brand,
    ITEMS.c.is_stock_item,
    ITEMS.c.is_weighed,
    ITEMS.c.is_sales_item,
    ITEMS.c.disabled,
    ITEMS.c.has_variants,
    ITEMS.c.has_serial_no,
    ITEMS.c.has_batch_no,
    ITEMS.c.variant_of,
    ITEMS.c.max_discount,
    select(func.json_group_array(func.json_array(UOMS.c.idx, UOMS.c.uom, UOMS.c.conversion_factor)))
    .where(UOMS.c.parent == ITEMS.c.name)
    .scalar_subquery()
    .label("uoms"),
    _tax_rows_json(ITEM_TAXES, ITEMS.c.name).label("taxes"),
    # Which of the item's units ERPNext counts in whole numbers (UOM.must_be_whole_number).
    select(func.json_group_array(UNITS.c.name))
    .where(
        UNITS.c.must_be_whole_number.is_(True),
        or_(
            UNITS.c.name == ITEMS.c.stock_uom,
            UNITS.c.name.in_(
                select(UOMS.c.uom).where(UOMS.c.parent == ITEMS.c.name).correlate(ITEMS)
            ),
        ),
    )
    .scalar_subquery()
    .label("whole_uoms"),
)


def _item(row: Any) -> CatalogItem:
    uoms = sorted(json.loads(row.uoms or "[]"), key=lambda r: r[0])
    return CatalogItem(
        item_code=row.item_code,
        item_name=row.item_name,
        item_group=row.item_group,
        stock_uom=row.stock_uom,
        brand=_str(row.brand),
        is_stock_item=row.is_stock_item,
        is_weighed=row.is_weighed,
        is_sales_item=row.is_sales_item,
        disabled=row.disabled,
        has_variants=row.has_variants,
        has_serial_no=bool(row.has_serial_no),
        has_batch_no=bool(row.has_batch_no),
        variant_of=_str(row.variant_of),
        max_discount=row.max_discount or ZERO,
        uoms={uom: Decimal(factor) for _idx, uom, factor in uoms},
        taxes=_tax_rows(row.taxes),
        whole_uoms=frozenset(json.loads(row.whole_uoms or "[]")),
    )


def _customer(row: Row[Any]) -> CustomerInfo:
    c = row._mapping
    return CustomerInfo(
        name=c["name"],
        customer_name=_str(c["customer_name"]),
        customer_group=_str(c["customer_group"]),
        territory=_str(c["territory"]),
        tax_category=_str(c["tax_category"]),
        address_tax_category=_str(c["address_tax_category"]),
        default_price_list=_str(c["default_price_list"]),
        disabled=bool(c["disabled"]),
        **{
            f"{kind}_{part}": _str(c[f"{kind}_{part}"])
            for kind in ("billing", "shipping")
            for part in ("city", "county", "state", "zipcode", "country")
        },
    )


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _variants(needle: str) -> list[str]:
    return list(dict.fromkeys((needle, needle.upper(), needle.lower())))


def _tier(needle: str, *texts: str) -> int:
    """0 exact, 1 starts with, 2 every word starts a word, 3 anywhere (case-insensitive)."""
    folded = needle.casefold()
    values = [t.casefold() for t in texts if t]
    if folded in values:
        return 0
    if any(v.startswith(folded) for v in values):
        return 1
    words = {w for v in values for w in _WORD.findall(v)}
    wanted = _WORD.findall(folded)
    if wanted and all(any(w.startswith(q) for w in words) for q in wanted):
        return 2
    return 3


_ITEM_TEXTS = ("item_code", "item_name")
# Item search's B-tree lookups, built once: a search runs up to ten of them per keystroke.
_SELLABLE_SQL = "i.disabled = 0 AND i.has_variants = 0 AND i.is_sales_item = 1"
_BARCODE_JOIN = "item_barcodes AS b JOIN items AS i ON i.name = b.parent"


def _listing(sql: str) -> TextClause:
    """``sql`` whose ``:v`` takes a list (``IN :v``)."""
    return text(sql).bindparams(bindparam("v", expanding=True))


_EXACT_BARCODE = _listing(
    f"SELECT i.item_code FROM {_BARCODE_JOIN} WHERE b.barcode IN :v AND {_SELLABLE_SQL}"
)
_EXACT_CODE = _listing("SELECT i.item_code FROM items AS i WHERE i.item_code IN :v")
_CODES_AND_NAMES = _listing(
    f"SELECT i.item_code, i.item_name FROM items AS i WHERE i.item_code IN :v AND {_SELLABLE_SQL}"
)
_PREFIX = "{col} >= :lo AND {col} < :hi AND " + _SELLABLE_SQL + " ORDER BY {col} LIMIT :n"
_NAME_PREFIX_SQL = text(
    "SELECT i.item_code FROM items AS i WHERE " + _PREFIX.format(col="i.item_name")
)
_CODE_PREFIX_SQL = text(
    "SELECT i.item_code FROM items AS i WHERE " + _PREFIX.format(col="i.item_code")
)
_BARCODE_PREFIX_SQL = text(
    f"SELECT i.item_code FROM {_BARCODE_JOIN} WHERE " + _PREFIX.format(col="b.barcode")
)


def _range(prefix: str, limit: int) -> dict[str, Any]:
    """Parameters of a "starts with ``prefix``" range scan."""
    return {"lo": prefix, "hi": prefix + _TOP, "n": limit}


# Item search tiers, best first.
_BARCODE, _CODE, _CODE_PREFIX, _BARCODE_PREFIX, _NAME_PREFIX, _WORD_START, _ANYWHERE = range(7)


def _item_tier(needle: str, code: str, name: str) -> int:
    """The tier the code and name alone earn (barcode tiers come from the queries)."""
    folded, code_f, name_f = needle.casefold(), code.casefold(), name.casefold()
    if folded == code_f:
        return _CODE
    if code_f.startswith(folded):
        return _CODE_PREFIX
    if name_f.startswith(folded):
        return _NAME_PREFIX
    words = _WORD.findall(code_f) + _WORD.findall(name_f)
    wanted = _WORD.findall(folded)
    if wanted and all(any(w.startswith(q) for w in words) for q in wanted):
        return _WORD_START
    return _ANYWHERE


@dataclass(frozen=True)
class _RawTemplate:
    name: str
    disabled: bool
    tax_category: str
    is_default: bool
    rows: tuple[Row[Any], ...]


class SqlCatalog:
    """``appliance.sales.catalog.Catalog`` over the store, reading through ``session``.

    The caller owns the session and its transactions: a read-only session, ended after each
    lookup so WAL checkpoints never wait on the till. Answers are cached (items, barcodes,
    prices and customers as they are asked for; the small tables whole) and stay valid while
    the masters do: at the start of each transaction the catalog reads the masters version that
    ``apply_masters`` and ``delete_masters`` bump, and drops every cache when it moved.
    ``refresh()`` drops them at once.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._version: object = None
        self._check_version = True
        event.listen(session, "after_transaction_end", self._on_transaction_end)
        self.refresh()

    def _on_transaction_end(self, session: Session, transaction: Any) -> None:
        self._check_version = True  # the next transaction may see another sync's changes

    def _current(self) -> None:
        """Drop the caches if the masters changed since they were filled (once a transaction)."""
        if not self._check_version:
            return
        version = self.session.execute(
            select(SYNC_STATE.c.value).where(SYNC_STATE.c.key == MASTERS_VERSION_KEY)
        ).scalar()
        self._check_version = False
        if version != self._version:
            self.refresh()
            self._version = version

    def refresh(self) -> None:
        """Forget every cached answer: the next lookups read the store again."""
        self._item_groups: dict[str, ItemGroup] | None = None
        self._customer_groups: dict[str, CustomerGroup] | None = None
        self._territories: dict[str, Territory] | None = None
        self._tax_rules: tuple[TaxRule, ...] | None = None
        self._raw_templates: dict[str, _RawTemplate] | None = None
        self._templates: dict[str, TaxTemplate] = {}
        self._item_tax_templates: dict[str, ItemTaxTemplate] | None = None
        self._rules_by_target: dict[tuple[ApplyOn, str], list[PricingRule]] | None = None
        self._coupons: tuple[CouponCode, ...] | None = None
        self._tokenizer: Tokenizer | None = None
        self._items: dict[str, CatalogItem | None] = {}
        self._barcodes: dict[str, tuple[str, str] | None] = {}  # barcode -> item code, uom
        self._prices: dict[tuple[str, str], tuple[ItemPrice, ...]] = {}
        self._customers: dict[str, CustomerInfo] = {}

    @staticmethod
    def _remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[key] = value
        return value

    # -- items ------------------------------------------------------------------------------------
    def item(self, item_code: str) -> CatalogItem | None:
        self._current()
        if item_code in self._items:
            return self._items[item_code]
        row = self.session.execute(
            select(*_ITEM_COLUMNS).where(ITEMS.c.item_code == item_code)
        ).first()
        return self._remember(self._items, item_code, _item(row) if row is not None else None)

    def item_by_barcode(self, barcode: str) -> tuple[CatalogItem, str] | None:
        self._current()
        known = self._barcodes.get(barcode, ())
        if known is None:
            return None
        if known:
            cached = self.item(known[0])
            if cached is not None:
                return cached, known[1]
        row = self.session.execute(
            select(*_ITEM_COLUMNS, BARCODES.c.uom.label("barcode_uom"))
            .join_from(BARCODES, ITEMS, ITEMS.c.name == BARCODES.c.parent)
            .where(BARCODES.c.barcode == barcode)
        ).first()
        if row is None:
            self._remember(self._barcodes, barcode, None)
            return None
        item = _item(row)
        self._remember(self._items, item.item_code, item)
        uom = row.barcode_uom or item.stock_uom
        self._remember(self._barcodes, barcode, (item.item_code, uom))
        return item, uom

    def items(self, item_codes: Iterable[str]) -> dict[str, CatalogItem]:
        """Several items, by code (missing codes are left out): those not seen yet in one query."""
        self._current()
        codes = list(dict.fromkeys(item_codes))
        found = {c: known for c in codes if (known := self._items.get(c)) is not None}
        missing = [c for c in codes if c not in found]
        if missing:
            rows = self.session.execute(
                select(*_ITEM_COLUMNS).where(ITEMS.c.item_code.in_(missing))
            )
            for r in rows:
                item = _item(r)
                found[item.item_code] = item
                self._remember(self._items, item.item_code, item)
        return found

    def prices(self, item_code: str, price_list: str) -> tuple[ItemPrice, ...]:
        self._current()
        key = (item_code, price_list)
        if key in self._prices:
            return self._prices[key]
        rows = self.session.execute(
            select(PRICES)
            .where(PRICES.c.item_code == item_code, PRICES.c.price_list == price_list)
            .order_by(PRICES.c.name)
        )
        found = tuple(
            ItemPrice(
                item_code=r.item_code,
                price_list=r.price_list,
                uom=_str(r.uom),
                price_list_rate=r.price_list_rate,
                customer=_str(r.customer),
                valid_from=r.valid_from,
                valid_upto=r.valid_upto,
                batch_no=_str(r.batch_no),
                name=r.name,
            )
            for r in rows
        )
        return self._remember(self._prices, key, found)

    # -- search -----------------------------------------------------------------------------------
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = search_index.tokenizer(self.session)
        return self._tokenizer

    def _names(self, query: Select[Any]) -> list[str]:
        return [str(n) for n in self.session.execute(query).scalars()]

    def search_items(self, text_: str, limit: int) -> tuple[CatalogItem, ...]:
        """Sellable items whose code, name or barcode contains the text, best matches first.

        Tiers (``_BARCODE`` to ``_ANYWHERE``): exact barcode, exact code, code prefix, barcode
        prefix, name prefix, a word of the code or name starting with each word typed, anywhere.
        Code-prefix rows follow code order, the others the name (case-folded), then the code.
        """
        needle = " ".join(text_.split())
        if not needle or limit <= 0:
            return ()
        found: dict[str, int] = {}  # item code -> tier, by what found it

        def take(codes: Iterable[str], tier: int) -> None:
            for code in codes:
                found[code] = min(tier, found.get(code, tier))

        variants = _variants(needle)
        take(self._names_sql(_EXACT_BARCODE, {"v": variants}), _BARCODE)
        take(self._names_sql(_EXACT_CODE, {"v": variants}), _CODE)
        take(self._names_sql(_NAME_PREFIX_SQL, _range(needle, limit)), _NAME_PREFIX)
        for v in variants:
            take(self._names_sql(_CODE_PREFIX_SQL, _range(v, limit)), _CODE_PREFIX)
            if " " not in needle:
                take(self._names_sql(_BARCODE_PREFIX_SQL, _range(v, limit)), _BARCODE_PREFIX)
        # A whole barcode is a scan (ERPNext's POS lists its item alone): no "anywhere" search,
        # whose trigram lookups cost most for long runs of digits.
        scanned = _BARCODE in found.values()
        if not scanned and sum(1 for t in found.values() if t <= _NAME_PREFIX) < limit:
            if all(len(w) < search_index.TRIGRAM_MIN for w in needle.split()):
                take(self._short_items(needle, _cap(limit)), _ANYWHERE)
            else:
                take(self._fts_items(needle, _cap(limit)), _ANYWHERE)
        if not found:
            return ()
        # Rank on code and name only; load whole items (UOMs, taxes) for the winners alone.
        names = self.session.execute(_CODES_AND_NAMES, {"v": list(found)})
        ranked = []
        for code, name in names:
            tier = min(found[code], _item_tier(needle, code, name))
            ranked.append((tier, code if tier == _CODE_PREFIX else name.casefold(), code))
        ranked.sort()
        winners = [code for *_key, code in ranked[:limit]]
        items = self.items(winners)
        return tuple(items[code] for code in winners if code in items)

    def _short_items(self, needle: str, cap: int) -> list[str]:
        """Items whose code or name contains every word of a needle of short words (1-2 chars).

        ``items_short_fts`` (migration 0005_short_term_search) answers words of letters and
        digits exactly; a word with other characters ("#1") is looked up by its letters and
        digits and checked with LIKE, and one with none ("#") by LIKE alone, a scan.
        """
        match, odd = search_index.short_match_expression(needle)
        like = ""
        params: dict[str, Any] = {"cap": cap}
        for n, word in enumerate(odd):
            params[f"odd{n}"] = f"%{_like_escape(word)}%"
            either = " OR ".join(f"i.{c} LIKE :odd{n} ESCAPE '\\'" for c in _ITEM_TEXTS)
            like += f" AND ({either})"
        if match is None:
            return self._names_sql(
                f"SELECT i.item_code FROM items AS i WHERE {_SELLABLE_SQL}{like} LIMIT :cap", params
            )
        params["match"] = match
        return self._names_sql(
            "SELECT i.item_code FROM items_short_fts AS f JOIN items AS i ON i.rowid = f.rowid "
            f"WHERE items_short_fts MATCH :match AND {_SELLABLE_SQL}{like} LIMIT :cap",
            params,
        )

    def _fts_items(self, needle: str, cap: int) -> list[str]:
        kind = self.tokenizer()
        match = search_index.match_expression(needle, kind)
        if match is None:
            return []
        short = self._short_word_filter(needle, kind, ("i.item_code", "i.item_name"))
        params: dict[str, Any] = {"match": match, "cap": cap, **short[1]}
        codes = self._names_sql(
            "SELECT i.item_code FROM items_fts AS f JOIN items AS i ON i.rowid = f.rowid "
            "WHERE items_fts MATCH :match AND i.disabled = 0 AND i.has_variants = 0 "
            f"AND i.is_sales_item = 1{short[0]} LIMIT :cap",
            params,
        )
        if " " not in needle:
            codes += self._names_sql(
                "SELECT i.item_code FROM item_barcodes_fts AS f "
                "JOIN item_barcodes AS b ON b.id = f.rowid JOIN items AS i ON i.name = b.parent "
                "WHERE item_barcodes_fts MATCH :match AND i.disabled = 0 AND i.has_variants = 0 "
                "AND i.is_sales_item = 1 LIMIT :cap",
                {"match": match, "cap": cap},
            )
        return codes

    @staticmethod
    def _short_word_filter(
        needle: str, kind: Tokenizer, columns: Sequence[str]
    ) -> tuple[str, dict[str, str]]:
        """SQL requiring the words a trigram index cannot look up (under 3 characters)."""
        if kind is not Tokenizer.TRIGRAM:
            return "", {}
        sql = ""
        params: dict[str, str] = {}
        short = [w for w in needle.split() if len(w) < search_index.TRIGRAM_MIN]
        for n, word in enumerate(short):
            key = f"short{n}"
            params[key] = f"%{_like_escape(word)}%"
            either = " OR ".join(f"{c} LIKE :{key} ESCAPE '\\'" for c in columns)
            sql += f" AND ({either})"
        return sql, params

    def _names_sql(self, sql: str | TextClause, params: Mapping[str, Any]) -> list[str]:
        query = text(sql) if isinstance(sql, str) else sql
        return [str(n) for n in self.session.execute(query, dict(params)).scalars()]

    def search_customers(self, text_: str, limit: int) -> tuple[CustomerInfo, ...]:
        """Enabled customers whose name or mobile number contains the text, best first."""
        needle = " ".join(text_.split())
        if not needle or limit <= 0:
            return ()
        found: dict[str, int] = {}

        def take(names: Iterable[str], tier: int) -> None:
            for name in names:
                found[name] = min(tier, found.get(name, tier))

        c = CUSTOMERS.c
        # Typed like a phone number ("604 555-0101"): also look for its digits alone.
        digits = re.sub(r"\D", "", needle)
        phone_like = len(digits) >= 3 and _PHONE.fullmatch(needle) is not None
        phones = list(dict.fromkeys([needle, digits, f"+{digits}"] if phone_like else [needle]))
        take(
            self._names(
                select(c.name).where(
                    (c.name == needle) | (c.customer_name == needle) | c.mobile_no.in_(phones)
                )
            ),
            0,
        )
        take(
            self._names(
                select(c.name)
                .where(c.customer_name >= needle, c.customer_name < needle + _TOP)
                .where(c.disabled.is_(False))
                .order_by(c.customer_name)
                .limit(limit)
            ),
            1,
        )
        for phone in phones:
            take(
                self._names(
                    select(c.name)
                    .where(c.mobile_no >= phone, c.mobile_no < phone + _TOP)
                    .where(c.disabled.is_(False))
                    .order_by(c.mobile_no)
                    .limit(limit)
                ),
                1,
            )
        if sum(1 for t in found.values() if t <= 1) < limit:
            kind = self.tokenizer()
            for term in dict.fromkeys([needle, digits] if phone_like else [needle]):
                match = search_index.match_expression(term, kind)
                if match is None:
                    continue
                short = self._short_word_filter(term, kind, ("c.customer_name", "c.mobile_no"))
                take(
                    self._names_sql(
                        "SELECT c.name FROM customers_fts AS f "
                        "JOIN customers AS c ON c.rowid = f.rowid "
                        f"WHERE customers_fts MATCH :match AND c.disabled = 0{short[0]} "
                        "LIMIT :cap",
                        {"match": match, "cap": _cap(limit), **short[1]},
                    ),
                    3,
                )
        if not found:
            return ()
        # Rank on the name only; load whole customers for the winners alone.
        names = self.session.execute(
            select(c.name, c.customer_name).where(c.name.in_(list(found)), c.disabled.is_(False))
        )
        ranked = sorted(
            (min(found[name], _tier(needle, shown)), shown.casefold(), name)
            for name, shown in names
        )
        winners = [name for *_key, name in ranked[:limit]]
        rows = self.session.execute(select(CUSTOMERS).where(c.name.in_(winners)))
        customers = {r.name: _customer(r) for r in rows}
        return tuple(customers[name] for name in winners if name in customers)

    # -- customers --------------------------------------------------------------------------------
    def customer(self, name: str) -> CustomerInfo | None:
        self._current()
        if name in self._customers:
            return self._customers[name]
        row = self.session.execute(select(CUSTOMERS).where(CUSTOMERS.c.name == name)).first()
        if row is None:
            # A sale made before ERPNext named a till-created customer still names it by its
            # offline id; the pull renamed the row but kept that id.
            row = self.session.execute(
                select(CUSTOMERS).where(CUSTOMERS.c.offline_id == name)
            ).first()
        # Only hits are kept: a customer created at this till appears without a masters change.
        return self._remember(self._customers, name, _customer(row)) if row is not None else None

    # -- trees ------------------------------------------------------------------------------------
    def item_group_ancestors(self, group: str) -> tuple[ItemGroup, ...]:
        self._current()
        if self._item_groups is None:
            self._item_groups = self._load_item_groups()
        return _ancestors(self._item_groups, group)

    def customer_group_ancestors(self, group: str) -> tuple[CustomerGroup, ...]:
        self._current()
        if self._customer_groups is None:
            table = _t("customer_groups")
            self._customer_groups = {
                r.name: CustomerGroup(
                    r.name, _str(r.parent_customer_group), _str(r.default_price_list)
                )
                for r in self.session.execute(select(table))
            }
        return _ancestors(self._customer_groups, group)

    def territory_ancestors(self, territory: str) -> tuple[Territory, ...]:
        self._current()
        if self._territories is None:
            table = _t("territories")
            self._territories = {
                r.name: Territory(r.name, _str(r.parent_territory))
                for r in self.session.execute(select(table))
            }
        return _ancestors(self._territories, territory)

    def _load_item_groups(self) -> dict[str, ItemGroup]:
        groups = _t("item_groups")
        taxes = _tax_rows_json(_t("item_group_taxes"), groups.c.name).label("taxes")
        return {
            r.name: ItemGroup(r.name, _str(r.parent_item_group), _tax_rows(r.taxes))
            for r in self.session.execute(select(groups.c.name, groups.c.parent_item_group, taxes))
        }

    # -- taxes ------------------------------------------------------------------------------------
    def tax_rules(self) -> tuple[TaxRule, ...]:
        self._current()
        if self._tax_rules is None:
            table = _t("tax_rules")
            rules = []
            for r in self.session.execute(select(table).order_by(table.c.name)):
                m = r._mapping
                rules.append(
                    TaxRule(
                        name=r.name,
                        sales_tax_template=_str(r.sales_tax_template),
                        tax_type=r.tax_type,
                        from_date=r.from_date,
                        to_date=r.to_date,
                        priority=r.priority,
                        **{
                            key: _str(m[key])
                            for key in (
                                "customer",
                                "customer_group",
                                "company",
                                "tax_category",
                                *(
                                    f"{kind}_{part}"
                                    for kind in ("billing", "shipping")
                                    for part in ("city", "county", "state", "zipcode", "country")
                                ),
                            )
                        },
                    )
                )
            self._tax_rules = tuple(rules)
        return self._tax_rules

    def tax_template(self, name: str) -> TaxTemplate | None:
        self._current()
        if name in self._templates:
            return self._templates[name]
        if self._raw_templates is None:
            self._raw_templates = self._load_templates()
        raw = self._raw_templates.get(name)
        if raw is None:
            return None
        template = TaxTemplate(
            name=raw.name,
            rows=tuple(_tax_line(name, r) for r in raw.rows),
            disabled=raw.disabled,
            tax_category=raw.tax_category,
            is_default=raw.is_default,
        )
        self._templates[name] = template
        return template

    def _load_templates(self) -> dict[str, _RawTemplate]:
        parents = _t("sales_taxes_templates")
        rows = _t("sales_taxes_template_rows")
        by_parent: dict[str, list[Row[Any]]] = {}
        for r in self.session.execute(select(rows).order_by(rows.c.parent, rows.c.idx, rows.c.id)):
            by_parent.setdefault(r.parent, []).append(r)
        return {
            p.name: _RawTemplate(
                p.name,
                p.disabled,
                _str(p.tax_category),
                p.is_default,
                tuple(by_parent.get(p.name, ())),
            )
            for p in self.session.execute(select(parents))
        }

    def item_tax_template(self, name: str) -> ItemTaxTemplate | None:
        self._current()
        if self._item_tax_templates is None:
            parents = _t("item_tax_templates")
            rows = _t("item_tax_template_rows")
            rates: dict[str, dict[str, Decimal]] = {}
            for r in self.session.execute(select(rows).order_by(rows.c.parent, rows.c.idx)):
                rates.setdefault(r.parent, {})[r.tax_type] = r.tax_rate
            self._item_tax_templates = {
                p.name: ItemTaxTemplate(p.name, rates.get(p.name, {}), p.disabled)
                for p in self.session.execute(select(parents))
            }
        return self._item_tax_templates.get(name)

    # -- pricing rules ----------------------------------------------------------------------------
    def pricing_rules_for(
        self, item_code: str, item_group_chain: tuple[str, ...], brand: str
    ) -> tuple[PricingRule, ...]:
        self._current()
        if self._rules_by_target is None:
            self._rules_by_target = self._load_pricing_rules()
        keys = [(ApplyOn.ITEM_CODE, item_code)]
        keys += [(ApplyOn.ITEM_GROUP, g) for g in item_group_chain]
        if brand:
            keys.append((ApplyOn.BRAND, brand))
        found: dict[str, PricingRule] = {}
        for key in keys:
            for rule in self._rules_by_target.get(key, ()):
                found.setdefault(rule.name, rule)
        return tuple(sorted(found.values(), key=lambda r: r.name))

    def pricing_rule(self, name: str) -> PricingRule | None:
        """An enabled selling rule by name (None: unknown here, disabled, or not for selling)."""
        self._current()
        if self._rules_by_target is None:
            self._rules_by_target = self._load_pricing_rules()
        for rules in self._rules_by_target.values():
            for rule in rules:
                if rule.name == name:
                    return rule
        return None

    # -- coupons ----------------------------------------------------------------------------------
    def _all_coupons(self) -> tuple[CouponCode, ...]:
        self._current()
        if self._coupons is None:
            t = _t("coupon_codes")
            self._coupons = tuple(
                CouponCode(
                    name=r.name,
                    pricing_rule=_str(r.pricing_rule),
                    coupon_code=_str(r.coupon_code),
                    coupon_type=_str(r.coupon_type) or "Promotional",
                    maximum_use=r.maximum_use or 0,
                    used=r.used or 0,
                    valid_from=r.valid_from,
                    valid_upto=r.valid_upto,
                    creation=_str(r.creation),
                )
                for r in self.session.execute(select(t).order_by(t.c.name))
            )
        return self._coupons

    def coupon(self, text: str) -> CouponCode | None:
        return find_coupon(self._all_coupons(), text)

    def coupons_of_rule(self, pricing_rule: str) -> tuple[CouponCode, ...]:
        return newest_first(c for c in self._all_coupons() if c.pricing_rule == pricing_rule)

    def _load_pricing_rules(self) -> dict[tuple[ApplyOn, str], list[PricingRule]]:
        rules_t = _t("pricing_rules")
        children = {
            "items": _t("pricing_rule_item_codes"),
            "item_groups": _t("pricing_rule_item_groups"),
            "brands": _t("pricing_rule_brands"),
        }
        value_col = {"items": "item_code", "item_groups": "item_group", "brands": "brand"}
        targets: dict[str, dict[str, list[RuleTarget]]] = {k: {} for k in children}
        for key, table in children.items():
            for r in self.session.execute(select(table).order_by(table.c.parent, table.c.id)):
                targets[key].setdefault(r.parent, []).append(
                    RuleTarget(r._mapping[value_col[key]], _str(r.uom))
                )
        index: dict[tuple[ApplyOn, str], list[PricingRule]] = {}
        query = (
            select(rules_t)
            .where(rules_t.c.disable.is_(False), rules_t.c.selling.is_(True))
            .order_by(rules_t.c.name)
        )
        for r in self.session.execute(query):
            rule = _pricing_rule(r, {k: tuple(v.get(r.name, ())) for k, v in targets.items()})
            if rule is None:
                continue
            for target in rule.targets():
                index.setdefault((rule.apply_on, target.value), []).append(rule)
        return index


def _ancestors(nodes: Mapping[str, _S], name: str) -> tuple[_S, ...]:
    chain: list[_S] = []
    seen: set[str] = set()
    node = nodes.get(name)
    while node is not None and node.name not in seen:  # a parent loop must not hang the till
        seen.add(node.name)
        chain.append(node)
        node = nodes.get(node.parent) if node.parent else None
    return tuple(chain)


def _tax_line(template: str, r: Row[Any]) -> TaxLine:
    try:
        charge_type = ChargeType(r.charge_type)
    except ValueError:
        raise CatalogDataError(
            f"Sales Taxes and Charges Template {template!r} row {r.idx}: charge type "
            f"{r.charge_type!r} is not supported by this till"
        ) from None
    return TaxLine(
        charge_type=charge_type,
        account_head=r.account_head,
        rate=r.rate or ZERO,
        tax_amount=r.tax_amount or ZERO,
        row_id=r.row_id,
        included_in_print_rate=r.included_in_print_rate,
        description=_str(r.description),
        cost_center=r.cost_center,
    )


def _pricing_rule(r: Row[Any], targets: Mapping[str, tuple[RuleTarget, ...]]) -> PricingRule | None:
    """The engine's rule; None for one that can never apply here (Transaction-level rules)."""
    try:
        apply_on = ApplyOn(r.apply_on)
        rate_or_discount = RateOrDiscount(r.rate_or_discount or RateOrDiscount.DISCOUNT_PERCENTAGE)
        kind = PriceOrProduct(r.price_or_product_discount or PriceOrProduct.PRICE)
    except ValueError as exc:
        raise CatalogDataError(f"Pricing Rule {r.name!r}: {exc}") from None
    if apply_on is ApplyOn.TRANSACTION:
        return None
    return PricingRule(
        name=r.name,
        apply_on=apply_on,
        currency=_str(r.currency),
        rate_or_discount=rate_or_discount,
        price_or_product_discount=kind,
        items=targets["items"],
        item_groups=targets["item_groups"],
        brands=targets["brands"],
        title=_str(r.title),
        disable=r.disable,
        selling=r.selling,
        company=_str(r.company),
        customer=_str(r.customer),
        customer_group=_str(r.customer_group),
        territory=_str(r.territory),
        sales_partner=_str(r.sales_partner),
        campaign=_str(r.campaign),
        warehouse=_str(r.warehouse),
        for_price_list=_str(r.for_price_list),
        margin_type=_str(r.margin_type),
        condition=_str(r.condition),
        min_qty=r.min_qty or ZERO,
        max_qty=r.max_qty or ZERO,
        min_amt=r.min_amt or ZERO,
        max_amt=r.max_amt or ZERO,
        rate=r.rate or ZERO,
        discount_percentage=r.discount_percentage or ZERO,
        discount_amount=r.discount_amount or ZERO,
        margin_rate_or_amount=r.margin_rate_or_amount or ZERO,
        valid_from=r.valid_from,
        valid_upto=r.valid_upto,
        priority=r.priority or 0,
        apply_multiple_pricing_rules=r.apply_multiple_pricing_rules,
        has_priority=r.has_priority,
        apply_discount_on_rate=r.apply_discount_on_rate,
        mixed_conditions=r.mixed_conditions,
        is_cumulative=r.is_cumulative,
        coupon_code_based=r.coupon_code_based,
        free_item=_str(r.free_item),
        free_qty=r.free_qty or ZERO,
        same_item=r.same_item,
        free_item_rate=r.free_item_rate or ZERO,
        free_item_uom=_str(r.free_item_uom),
        is_recursive=r.is_recursive,
        recurse_for=r.recurse_for or ZERO,
        apply_recursion_over=r.apply_recursion_over or ZERO,
        round_free_qty=r.round_free_qty,
    )


# -- the till's profile ---------------------------------------------------------------------------

_NOT_SEEDED = "run `appliance demo-data` or let the agent sync"


def load_till_profile(
    session: Session, pos_profile_name: str, scan_config: ScanConfig | None = None
) -> TillProfile:
    """The POS Profile, site settings and payment modes a till sells under.

    Raises ``StoreNotReadyError`` naming what is missing when the store was never seeded or has
    not finished its first sync, and when the profile is disabled.
    """
    profile = session.get(PosProfile, pos_profile_name)
    if profile is None:
        raise StoreNotReadyError(
            f"No POS Profile {pos_profile_name!r} in the local store: {_NOT_SEEDED}"
        )
    if profile.disabled:
        raise StoreNotReadyError(f"POS Profile {pos_profile_name!r} is disabled in ERPNext")
    missing: list[str] = []
    settings_row = session.get(TotalsSettingsRow, 1)
    if settings_row is None:
        missing.append("the site settings (System Settings, Global Defaults, Currency)")
    payments = session.scalars(
        select(PosPaymentMethod)
        .where(PosPaymentMethod.parent == profile.name)
        .order_by(PosPaymentMethod.idx, PosPaymentMethod.id)
    ).all()
    if not payments:
        missing.append(f"payment methods of POS Profile {profile.name!r}")
    mode_names = [p.mode_of_payment for p in payments]
    modes = {
        m.name: m
        for m in session.scalars(select(ModeOfPayment).where(ModeOfPayment.name.in_(mode_names)))
    }
    accounts = {
        a.parent: a.default_account
        for a in session.scalars(
            select(ModeOfPaymentAccount).where(
                ModeOfPaymentAccount.parent.in_(mode_names),
                ModeOfPaymentAccount.company == profile.company,
            )
        )
    }
    missing += [f"Mode of Payment {n!r}" for n in mode_names if n not in modes]
    if profile.selling_price_list and session.get(PriceList, profile.selling_price_list) is None:
        missing.append(f"Price List {profile.selling_price_list!r}")
    if (
        profile.taxes_and_charges
        and session.get(SalesTaxesTemplate, profile.taxes_and_charges) is None
    ):
        missing.append(f"Sales Taxes and Charges Template {profile.taxes_and_charges!r}")
    if missing or settings_row is None:
        raise StoreNotReadyError(
            f"POS Profile {pos_profile_name!r} needs {', '.join(missing)}, which the local "
            f"store does not hold: {_NOT_SEEDED}"
        )
    try:
        discount_on = DiscountOn(profile.apply_discount_on)
    except ValueError:
        raise CatalogDataError(
            f"POS Profile {profile.name!r}: apply_discount_on {profile.apply_discount_on!r} "
            "is not supported by this till"
        ) from None
    settings = settings_row.to_settings()
    if not settings.currency:
        settings = replace(settings, currency=profile.currency)
    return TillProfile(
        name=profile.name,
        company=profile.company,
        currency=profile.currency,
        price_list=_str(profile.selling_price_list),
        warehouse=profile.warehouse,
        walk_in_customer=_str(profile.customer),
        settings=settings,
        taxes_and_charges=_str(profile.taxes_and_charges),
        tax_category=_str(profile.tax_category),
        apply_discount_on=discount_on,
        ignore_pricing_rule=profile.ignore_pricing_rule,
        modes=tuple(
            PaymentMode(
                mode_of_payment=p.mode_of_payment,
                type=_str(modes[p.mode_of_payment].type),
                account=p.account or _str(accounts.get(p.mode_of_payment)),
                default=p.default,
            )
            for p in payments
        ),
        scan=scan_config or ScanConfig(),
        cost_center=_str(profile.cost_center),
        income_account=_str(profile.income_account),
        account_for_change_amount=_str(profile.account_for_change_amount),
        time_zone=_str(settings_row.time_zone),
        number_format=_str(settings_row.number_format),
    )
