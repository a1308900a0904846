"""Price check: what an item costs per unit and at each quantity break, without selling it.

A customer holds up a jar: "how much is this, and is it cheaper by the box?" The cashier scans it
(or keys or searches its code) and the till shows the price per unit it is sold in, the
promotions that change it and from which quantity. Every figure comes from the same engine that
prices a cart (a scratch cart that is thrown away), so the price checked is the price charged:
the customer's price list and promotions included when a customer is on the sale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from appliance.sales.barcode import LineRequest, lookup_scan
from appliance.sales.cart import Cart, CartError
from appliance.sales.catalog import CatalogItem, PricingRule, chain_names
from appliance.sales.till import Till

ONE = Decimal(1)


@dataclass(frozen=True)
class QuantityBreak:
    """From ``min_qty`` on, each unit costs ``rate`` (a promotion's quantity threshold)."""

    min_qty: Decimal
    rate: Decimal


@dataclass(frozen=True)
class UnitPrice:
    uom: str
    conversion_factor: Decimal  # stock units in one of this unit
    list_price: Decimal  # the price list's price for one
    rate: Decimal  # what one costs now, promotions applied
    promotions: tuple[str, ...]  # the promotions in that rate, by title
    breaks: tuple[QuantityBreak, ...]  # cheaper from a quantity on


@dataclass(frozen=True)
class PriceCheck:
    item_code: str
    item_name: str
    item_group: str
    stock_uom: str
    is_weighed: bool
    scanned_uom: str  # the unit the scanned code names (a case's barcode names the case)
    label_price: Decimal | None  # a price-embedded label's own price
    units: tuple[UnitPrice, ...]  # the scanned unit first, then the stock unit, then the rest


def price_check(till: Till, code: str, customer: str | None = None) -> PriceCheck:
    """The price check for a scanned code or an item code; CartError saying why when none."""
    item, uom, label = _resolve(till, code.strip())
    if item.has_variants:
        raise CartError(f"{item.item_name} is a template: check one of its variants")
    check = _Check(till, item, customer, _candidates(till, item))
    order = [uom, item.stock_uom, *sorted(item.uoms)]
    return PriceCheck(
        item_code=item.item_code,
        item_name=item.item_name,
        item_group=item.item_group,
        stock_uom=item.stock_uom,
        is_weighed=item.is_weighed,
        scanned_uom=uom,
        label_price=label,
        units=tuple(check.unit(u) for u in dict.fromkeys(order) if _sold_in(item, u)),
    )


def _resolve(till: Till, code: str) -> tuple[CatalogItem, str, Decimal | None]:
    if not code:
        raise CartError("Scan or type an item to check its price")
    found = lookup_scan(till.catalog, code, till.profile.scan)
    if isinstance(found, LineRequest):
        return found.item, found.uom, found.scan.price
    item = till.catalog.item(code)
    if item is None:
        raise CartError(found.message)
    return item, item.stock_uom, None


def _sold_in(item: CatalogItem, uom: str) -> bool:
    return uom == item.stock_uom or item.conversion_factor(uom) is not None


def _candidates(till: Till, item: CatalogItem) -> dict[str, PricingRule]:
    """The enabled promotions that may touch this item (the engine decides which apply)."""
    catalog = till.catalog
    groups = chain_names(catalog.item_group_ancestors(item.item_group), item.item_group)
    rules = list(catalog.pricing_rules_for(item.item_code, groups, item.brand))
    if item.variant_of:
        rules.extend(catalog.pricing_rules_for(item.variant_of, (), ""))
    return {r.name: r for r in rules if not r.disable}


@dataclass(frozen=True)
class _Priced:
    list_price: Decimal
    rate: Decimal
    promotions: tuple[str, ...]


@dataclass(frozen=True)
class _Check:
    till: Till
    item: CatalogItem
    customer: str | None
    rules: Mapping[str, PricingRule]

    def unit(self, uom: str) -> UnitPrice:
        one = self.priced(uom, ONE)
        breaks: list[QuantityBreak] = []
        for qty in sorted({r.min_qty for r in self.rules.values() if r.min_qty > ONE}):
            at = self.priced(uom, qty)
            if at.rate < (breaks[-1].rate if breaks else one.rate):
                breaks.append(QuantityBreak(qty, at.rate))
        return UnitPrice(
            uom=uom,
            conversion_factor=self.item.conversion_factor(uom) or ONE,
            list_price=one.list_price,
            rate=one.rate,
            promotions=one.promotions,
            breaks=tuple(breaks),
        )

    def priced(self, uom: str, qty: Decimal) -> _Priced:
        """One line of ``qty`` on a scratch cart, priced by the engine; the cart is dropped."""
        till = self.till
        cart: Cart = till.add_item(till.new_cart(self.customer), self.item.item_code, qty, uom)
        line = cart.lines[-1]
        rate = cart.totals.items[-1].rate if cart.totals is not None else line.base_rate
        titles = tuple(self.title(name) for name in line.pricing_rules)
        return _Priced(list_price=line.price_list_rate, rate=rate, promotions=titles)

    def title(self, name: str) -> str:
        rule = self.rules.get(name)
        return rule.title if rule is not None and rule.title else name
