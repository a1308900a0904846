"""The masters the sales engine reads (items, prices, customers, taxes, pricing rules).

Field names follow ERPNext's doctypes (FACTS.md Appendix A). ``Catalog`` is the read interface
the engine uses; each method is shaped to be one indexed query in the SQL-backed store.
``MemoryCatalog`` answers the same questions from dicts, for tests and the CLI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar

from appliance.sales.model import TaxLine

ZERO = Decimal(0)
ONE = Decimal(1)
ROOT_CUSTOMER_GROUP = "All Customer Groups"


class MissingMasterError(LookupError):
    """A master names another master this till's catalog does not hold (an incomplete sync)."""


@dataclass(frozen=True)
class ItemTaxRow:
    """One Item Tax row, on an Item or an Item Group."""

    item_tax_template: str
    tax_category: str = ""
    valid_from: date | None = None
    minimum_net_rate: Decimal = ZERO
    maximum_net_rate: Decimal = ZERO


@dataclass(frozen=True)
class CatalogItem:
    """An Item as the till sells it.

    ``uoms`` maps each UOM to its conversion factor (stock units per one of that UOM).
    ``is_weighed`` is ours, not ERPNext's: the line's quantity comes from a scale or a
    weight-embedded barcode.
    """

    item_code: str
    item_name: str
    item_group: str
    stock_uom: str
    brand: str = ""
    is_stock_item: bool = True
    is_weighed: bool = False
    is_sales_item: bool = True
    disabled: bool = False
    has_variants: bool = False
    # Each unit sold names its serial number / the batch it comes from (features/NOTES.md §4).
    has_serial_no: bool = False
    has_batch_no: bool = False
    variant_of: str = ""
    max_discount: Decimal = ZERO
    uoms: Mapping[str, Decimal] = field(default_factory=dict)
    taxes: tuple[ItemTaxRow, ...] = ()
    # Its units ERPNext counts in whole numbers (UOM "Must be Whole Number"): no 0.5 of a bag.
    whole_uoms: frozenset[str] = frozenset()

    def conversion_factor(self, uom: str) -> Decimal | None:
        """Stock units in one ``uom``; None when the item has no conversion for it."""
        if not uom or uom == self.stock_uom:
            return ONE
        return self.uoms.get(uom)

    def must_be_whole(self, uom: str) -> bool:
        return (uom or self.stock_uom) in self.whole_uoms


@dataclass(frozen=True)
class Barcode:
    """An Item Barcode row. ``uom`` empty means the item's stock UOM."""

    barcode: str
    item_code: str
    uom: str = ""


@dataclass(frozen=True)
class ItemPrice:
    """An Item Price row. Empty ``customer`` is the general price; None dates are open-ended."""

    item_code: str
    price_list: str
    uom: str
    price_list_rate: Decimal
    customer: str = ""
    valid_from: date | None = None
    valid_upto: date | None = None
    batch_no: str = ""
    name: str = ""

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_upto is None or self.valid_upto >= day
        )


@dataclass(frozen=True)
class ItemGroup:
    name: str
    parent: str = ""
    taxes: tuple[ItemTaxRow, ...] = ()


@dataclass(frozen=True)
class CustomerGroup:
    name: str
    parent: str = ""
    default_price_list: str = ""


@dataclass(frozen=True)
class Territory:
    name: str
    parent: str = ""


@dataclass(frozen=True)
class CustomerInfo:
    """A Customer with its default billing and shipping addresses flattened in.

    An Address always has a city and a country, so both empty means "no such address": ERPNext
    then leaves those keys out of Tax Rule matching altogether.
    """

    name: str
    customer_name: str = ""
    customer_group: str = ""
    territory: str = ""
    tax_category: str = ""
    address_tax_category: str = ""
    default_price_list: str = ""
    disabled: bool = False
    billing_city: str = ""
    billing_county: str = ""
    billing_state: str = ""
    billing_zipcode: str = ""
    billing_country: str = ""
    shipping_city: str = ""
    shipping_county: str = ""
    shipping_state: str = ""
    shipping_zipcode: str = ""
    shipping_country: str = ""

    @property
    def has_billing_address(self) -> bool:
        return bool(self.billing_city or self.billing_country)

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.shipping_city or self.shipping_country)


@dataclass(frozen=True)
class TaxRule:
    """A Tax Rule. Empty strings are wildcards; ``item``/``item_group`` never take part."""

    name: str
    sales_tax_template: str
    tax_type: str = "Sales"
    customer: str = ""
    customer_group: str = ""
    company: str = ""
    tax_category: str = ""
    billing_city: str = ""
    billing_county: str = ""
    billing_state: str = ""
    billing_zipcode: str = ""
    billing_country: str = ""
    shipping_city: str = ""
    shipping_county: str = ""
    shipping_state: str = ""
    shipping_zipcode: str = ""
    shipping_country: str = ""
    from_date: date | None = None
    to_date: date | None = None
    priority: int = 1


@dataclass(frozen=True)
class TaxTemplate:
    """A Sales Taxes and Charges Template with its rows."""

    name: str
    rows: tuple[TaxLine, ...] = ()
    disabled: bool = False
    tax_category: str = ""
    is_default: bool = False


@dataclass(frozen=True)
class ItemTaxTemplate:
    """An Item Tax Template: ``rates`` maps an account head to the rate that replaces the row's."""

    name: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    disabled: bool = False


class ApplyOn(StrEnum):
    ITEM_CODE = "Item Code"
    ITEM_GROUP = "Item Group"
    BRAND = "Brand"
    TRANSACTION = "Transaction"


class RateOrDiscount(StrEnum):
    RATE = "Rate"
    DISCOUNT_PERCENTAGE = "Discount Percentage"
    DISCOUNT_AMOUNT = "Discount Amount"


class PriceOrProduct(StrEnum):
    PRICE = "Price"
    PRODUCT = "Product"


@dataclass(frozen=True)
class RuleTarget:
    """A row of a Pricing Rule's items / item_groups / brands table."""

    value: str
    uom: str = ""


@dataclass(frozen=True)
class PricingRule:
    """A selling Pricing Rule. ``priority`` 0 means the Select was left empty."""

    name: str
    apply_on: ApplyOn
    currency: str
    rate_or_discount: RateOrDiscount = RateOrDiscount.DISCOUNT_PERCENTAGE
    price_or_product_discount: PriceOrProduct = PriceOrProduct.PRICE
    items: tuple[RuleTarget, ...] = ()
    item_groups: tuple[RuleTarget, ...] = ()
    brands: tuple[RuleTarget, ...] = ()
    title: str = ""
    disable: bool = False
    selling: bool = True
    company: str = ""
    customer: str = ""
    customer_group: str = ""
    territory: str = ""
    sales_partner: str = ""
    campaign: str = ""
    warehouse: str = ""
    for_price_list: str = ""
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    min_amt: Decimal = ZERO
    max_amt: Decimal = ZERO
    valid_from: date | None = None
    valid_upto: date | None = None
    rate: Decimal = ZERO
    discount_percentage: Decimal = ZERO
    discount_amount: Decimal = ZERO
    margin_type: str = ""
    margin_rate_or_amount: Decimal = ZERO
    priority: int = 0
    apply_multiple_pricing_rules: bool = False
    has_priority: bool = False
    apply_discount_on_rate: bool = False
    mixed_conditions: bool = False
    is_cumulative: bool = False
    coupon_code_based: bool = False
    condition: str = ""
    # Product discount ("buy 2, get 1 free"): what goes out free and how many.
    free_item: str = ""
    free_qty: Decimal = ZERO
    same_item: bool = False
    free_item_rate: Decimal = ZERO
    free_item_uom: str = ""
    is_recursive: bool = False
    recurse_for: Decimal = ZERO
    apply_recursion_over: Decimal = ZERO
    round_free_qty: bool = False

    def targets(self) -> tuple[RuleTarget, ...]:
        """The child rows that ``apply_on`` reads."""
        if self.apply_on is ApplyOn.ITEM_CODE:
            return self.items
        if self.apply_on is ApplyOn.ITEM_GROUP:
            return self.item_groups
        if self.apply_on is ApplyOn.BRAND:
            return self.brands
        return ()


@dataclass(frozen=True)
class CouponCode:
    """A Coupon Code. ``name`` is what an invoice's ``coupon_code`` links to; ``coupon_code`` is
    the printed code, which ERPNext may have derived from the name (NOTES surprise 6).
    ``maximum_use`` 0 means no limit; ``creation`` orders coupons that share one rule, because
    ERPNext honours only the newest of them (Coupon Code sorts by creation, descending)."""

    name: str
    pricing_rule: str
    coupon_code: str = ""
    coupon_type: str = "Promotional"
    maximum_use: int = 0
    used: int = 0
    valid_from: date | None = None
    valid_upto: date | None = None
    creation: str = ""

    @property
    def single_use(self) -> bool:
        return self.maximum_use == 1


class Catalog(Protocol):
    """Read-only lookups the sales engine needs. Every method is one indexed query."""

    def item(self, item_code: str) -> CatalogItem | None: ...

    def item_by_barcode(self, barcode: str) -> tuple[CatalogItem, str] | None:
        """The item and the UOM the barcode sells it in (the stock UOM if the row names none)."""
        ...

    def search_items(self, text: str, limit: int) -> tuple[CatalogItem, ...]:
        """Sellable items whose code, name or barcode contains ``text``, best matches first."""
        ...

    def prices(self, item_code: str, price_list: str) -> tuple[ItemPrice, ...]:
        """Every Item Price row of the item in the list, any customer, UOM or validity."""
        ...

    def customer(self, name: str) -> CustomerInfo | None: ...

    def item_group_ancestors(self, group: str) -> tuple[ItemGroup, ...]:
        """The group then its ancestors up to the root; empty if the group is unknown."""
        ...

    def customer_group_ancestors(self, group: str) -> tuple[CustomerGroup, ...]:
        """The group then its ancestors up to the root; empty if the group is unknown."""
        ...

    def territory_ancestors(self, territory: str) -> tuple[Territory, ...]:
        """The territory then its ancestors up to the root; empty if unknown."""
        ...

    def tax_rules(self) -> tuple[TaxRule, ...]: ...

    def tax_template(self, name: str) -> TaxTemplate | None: ...

    def item_tax_template(self, name: str) -> ItemTaxTemplate | None: ...

    def pricing_rules_for(
        self, item_code: str, item_group_chain: tuple[str, ...], brand: str
    ) -> tuple[PricingRule, ...]:
        """Enabled selling rules that name the item, one of the groups, or the brand."""
        ...

    def coupon(self, text: str) -> CouponCode | None:
        """The Coupon Code whose name or printed code is ``text`` (case-insensitive)."""
        ...

    def coupons_of_rule(self, pricing_rule: str) -> tuple[CouponCode, ...]:
        """Every Coupon Code linked to the rule, newest (by creation) first."""
        ...

    def pricing_rule(self, name: str) -> PricingRule | None: ...


_Node = TypeVar("_Node", ItemGroup, CustomerGroup, Territory)


def _ancestors(nodes: Mapping[str, _Node], name: str) -> tuple[_Node, ...]:
    chain: list[_Node] = []
    seen: set[str] = set()
    node = nodes.get(name)
    # A parent loop in synced data must not hang the till.
    while node is not None and node.name not in seen:
        seen.add(node.name)
        chain.append(node)
        node = nodes.get(node.parent) if node.parent else None
    return tuple(chain)


class MemoryCatalog:
    """A ``Catalog`` held in dicts."""

    def __init__(
        self,
        *,
        items: Iterable[CatalogItem] = (),
        barcodes: Iterable[Barcode] = (),
        prices: Iterable[ItemPrice] = (),
        customers: Iterable[CustomerInfo] = (),
        item_groups: Iterable[ItemGroup] = (),
        customer_groups: Iterable[CustomerGroup] = (),
        territories: Iterable[Territory] = (),
        tax_rules: Iterable[TaxRule] = (),
        tax_templates: Iterable[TaxTemplate] = (),
        item_tax_templates: Iterable[ItemTaxTemplate] = (),
        pricing_rules: Iterable[PricingRule] = (),
        coupons: Iterable[CouponCode] = (),
    ) -> None:
        self._items = {i.item_code: i for i in items}
        self._barcodes = {b.barcode: b for b in barcodes}
        self._barcodes_by_item: dict[str, list[str]] = defaultdict(list)
        for b in self._barcodes.values():
            self._barcodes_by_item[b.item_code].append(b.barcode)
        self._prices: dict[tuple[str, str], list[ItemPrice]] = defaultdict(list)
        for p in prices:
            self._prices[(p.item_code, p.price_list)].append(p)
        self._customers = {c.name: c for c in customers}
        self._item_groups = {g.name: g for g in item_groups}
        self._customer_groups = {g.name: g for g in customer_groups}
        self._territories = {t.name: t for t in territories}
        self._tax_rules = tuple(tax_rules)
        self._tax_templates = {t.name: t for t in tax_templates}
        self._item_tax_templates = {t.name: t for t in item_tax_templates}
        self._pricing_rules = tuple(pricing_rules)
        self._coupons = tuple(coupons)

    def item(self, item_code: str) -> CatalogItem | None:
        return self._items.get(item_code)

    def item_by_barcode(self, barcode: str) -> tuple[CatalogItem, str] | None:
        row = self._barcodes.get(barcode)
        if row is None:
            return None
        item = self._items.get(row.item_code)
        if item is None:
            return None
        return item, row.uom or item.stock_uom

    def search_items(self, text: str, limit: int) -> tuple[CatalogItem, ...]:
        needle = text.strip().casefold()
        if not needle or limit <= 0:
            return ()
        ranked: list[tuple[int, str, CatalogItem]] = []
        for item in self._items.values():
            if item.disabled or item.has_variants or not item.is_sales_item:
                continue
            code = item.item_code.casefold()
            name = item.item_name.casefold()
            codes = [b.casefold() for b in self._barcodes_by_item.get(item.item_code, ())]
            if needle == code or needle in codes:
                rank = 0
            elif code.startswith(needle) or name.startswith(needle):
                rank = 1
            elif needle in code or needle in name or any(needle in b for b in codes):
                rank = 2
            else:
                continue
            ranked.append((rank, item.item_code, item))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return tuple(r[2] for r in ranked[:limit])

    def prices(self, item_code: str, price_list: str) -> tuple[ItemPrice, ...]:
        return tuple(self._prices.get((item_code, price_list), ()))

    def customer(self, name: str) -> CustomerInfo | None:
        return self._customers.get(name)

    def item_group_ancestors(self, group: str) -> tuple[ItemGroup, ...]:
        return _ancestors(self._item_groups, group)

    def customer_group_ancestors(self, group: str) -> tuple[CustomerGroup, ...]:
        return _ancestors(self._customer_groups, group)

    def territory_ancestors(self, territory: str) -> tuple[Territory, ...]:
        return _ancestors(self._territories, territory)

    def tax_rules(self) -> tuple[TaxRule, ...]:
        return self._tax_rules

    def tax_template(self, name: str) -> TaxTemplate | None:
        return self._tax_templates.get(name)

    def item_tax_template(self, name: str) -> ItemTaxTemplate | None:
        return self._item_tax_templates.get(name)

    def pricing_rules_for(
        self, item_code: str, item_group_chain: tuple[str, ...], brand: str
    ) -> tuple[PricingRule, ...]:
        wanted = {
            ApplyOn.ITEM_CODE: {item_code},
            ApplyOn.ITEM_GROUP: set(item_group_chain),
            ApplyOn.BRAND: {brand} if brand else set(),
        }
        found: list[PricingRule] = []
        for rule in self._pricing_rules:
            if rule.disable or not rule.selling or rule.apply_on not in wanted:
                continue
            if any(t.value in wanted[rule.apply_on] for t in rule.targets()):
                found.append(rule)
        return tuple(found)

    def coupon(self, text: str) -> CouponCode | None:
        return find_coupon(self._coupons, text)

    def coupons_of_rule(self, pricing_rule: str) -> tuple[CouponCode, ...]:
        return newest_first(c for c in self._coupons if c.pricing_rule == pricing_rule)

    def pricing_rule(self, name: str) -> PricingRule | None:
        return next((r for r in self._pricing_rules if r.name == name), None)


def find_coupon(coupons: Iterable[CouponCode], text: str) -> CouponCode | None:
    """The coupon named ``text``, else the one whose printed code it is (both case-insensitive):
    a cashier types what is printed, ERPNext wants the name."""
    wanted = text.strip().casefold()
    if not wanted:
        return None
    pool = tuple(coupons)
    for c in pool:
        if c.name.casefold() == wanted:
            return c
    return next((c for c in pool if c.coupon_code.casefold() == wanted), None)


def newest_first(coupons: Iterable[CouponCode]) -> tuple[CouponCode, ...]:
    return tuple(sorted(coupons, key=lambda c: (c.creation, c.name), reverse=True))


def chain_names(
    records: Sequence[ItemGroup | CustomerGroup | Territory], name: str
) -> tuple[str, ...]:
    """Names of a tree node and its ancestors; just ``name`` when the catalog lacks the node."""
    if records:
        return tuple(r.name for r in records)
    return (name,) if name else ()
