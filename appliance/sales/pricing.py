"""Item prices and Pricing Rules, as ERPNext applies them to one invoice line (FACTS.md §3.5, §3.9).

Nothing here rounds: a ``PricedLine`` carries the unrounded ``price_list_rate`` and discount and
the totals engine rounds them the way ERPNext does. Product-discount rules give free items
(``PricedLine.free_items``); coupon-based rules apply only with the coupon that unlocks them
(features/NOTES.md §2, §3; docs/totals.md "Offers").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from appliance.sales.catalog import (
    ApplyOn,
    Catalog,
    CatalogItem,
    CouponCode,
    CustomerInfo,
    ItemPrice,
    PriceOrProduct,
    PricingRule,
    RateOrDiscount,
    chain_names,
)
from appliance.sales.model import FreeItem, ItemLine

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_LEVELS = (ApplyOn.ITEM_CODE, ApplyOn.ITEM_GROUP, ApplyOn.BRAND)


def choose_price_list(
    catalog: Catalog, customer: CustomerInfo | None, pos_profile_price_list: str
) -> str:
    """The customer's default list, else its group's, else the POS Profile's."""
    if customer is not None:
        if customer.default_price_list:
            return customer.default_price_list
        if customer.customer_group:
            groups = catalog.customer_group_ancestors(customer.customer_group)
            if groups and groups[0].default_price_list:
                return groups[0].default_price_list
    return pos_profile_price_list


@dataclass(frozen=True)
class PricingContext:
    """The invoice-level facts a price depends on. Chains list a node then its ancestors."""

    posting_date: date
    price_list: str
    currency: str
    company: str = ""
    customer: str = ""
    customer_group_chain: tuple[str, ...] = ()
    territory_chain: tuple[str, ...] = ()
    warehouse_chain: tuple[str, ...] = ()
    ignore_pricing_rule: bool = False
    # The Coupon Code document on the sale, and the one rule it unlocks ("" when ERPNext would
    # honour another coupon of that rule: only the newest coupon of a rule gives its discount).
    coupon_code: str = ""
    coupon_rule: str = ""


def coupon_rule(catalog: Catalog, coupon: CouponCode) -> str:
    """The rule ``coupon`` unlocks, or "" when the rule has a newer coupon (NOTES surprise 4)."""
    newest = catalog.coupons_of_rule(coupon.pricing_rule)
    return coupon.pricing_rule if newest and newest[0].name == coupon.name else ""


def pricing_context(
    catalog: Catalog,
    customer: CustomerInfo | None,
    *,
    posting_date: date,
    currency: str,
    pos_profile_price_list: str,
    company: str = "",
    warehouse_chain: tuple[str, ...] = (),
    ignore_pricing_rule: bool = False,
    coupon: CouponCode | None = None,
) -> PricingContext:
    """Build the context for a sale to ``customer`` (None: no customer chosen yet)."""
    groups: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    if customer is not None:
        group = customer.customer_group
        groups = chain_names(catalog.customer_group_ancestors(group), group) if group else ()
        terr = customer.territory
        territories = chain_names(catalog.territory_ancestors(terr), terr) if terr else ()
    return PricingContext(
        posting_date=posting_date,
        price_list=choose_price_list(catalog, customer, pos_profile_price_list),
        currency=currency,
        company=company,
        customer=customer.name if customer is not None else "",
        customer_group_chain=groups,
        territory_chain=territories,
        warehouse_chain=warehouse_chain,
        ignore_pricing_rule=ignore_pricing_rule,
        coupon_code=coupon.name if coupon is not None else "",
        coupon_rule=coupon_rule(catalog, coupon) if coupon is not None else "",
    )


@dataclass(frozen=True)
class ListPrice:
    """The Item Price row used and its rate converted to the line's UOM."""

    price_list_rate: Decimal
    item_price: ItemPrice


def _newest_first(rows: Iterable[ItemPrice]) -> list[ItemPrice]:
    # ERPNext orders by valid_from desc, batch_no desc, uom desc; SQL puts NULL dates last.
    return sorted(rows, key=lambda r: (r.valid_from or date.min, r.batch_no, r.uom), reverse=True)


def find_list_price(
    catalog: Catalog,
    item: CatalogItem,
    uom: str,
    *,
    price_list: str,
    posting_date: date,
    customer: str = "",
    batch_no: str = "",
) -> ListPrice | None:
    """The Item Price for a line: customer-specific, then general, then the stock-UOM price.

    A variant without a price of its own takes its template's.
    """
    factor = _factor(item, uom)
    found: ItemPrice | None = None
    for code in (item.item_code, item.variant_of):
        if code and found is None:
            found = _item_price(
                catalog,
                item=item,
                item_code=code,
                uom=uom,
                price_list=price_list,
                day=posting_date,
                customer=customer,
                batch_no=batch_no,
            )
    if found is None:
        return None
    rate = found.price_list_rate if found.uom == uom else found.price_list_rate * factor
    return ListPrice(rate, found)


def _item_price(
    catalog: Catalog,
    *,
    item: CatalogItem,
    item_code: str,
    uom: str,
    price_list: str,
    day: date,
    customer: str,
    batch_no: str,
) -> ItemPrice | None:
    rows = [
        r
        for r in catalog.prices(item_code, price_list)
        if r.valid_on(day) and r.batch_no in ("", batch_no)
    ]

    def first(party: str, want_uom: str) -> ItemPrice | None:
        hits = [r for r in rows if r.customer == party and r.uom in ("", want_uom)]
        return _newest_first(hits)[0] if hits else None

    if customer:
        own = first(customer, uom)
        if own is not None:
            return own
    general = first("", uom)
    if general is None and uom != item.stock_uom:
        general = first("", item.stock_uom)
    return general


def _factor(item: CatalogItem, uom: str) -> Decimal:
    factor = item.conversion_factor(uom)
    if factor is None:
        raise ValueError(f"item {item.item_code} has no conversion factor for UOM {uom!r}")
    return factor


@dataclass(frozen=True)
class PricingConflict:
    """Several rules apply with equal priority: ERPNext's MultiplePricingRuleConflict."""

    item_code: str
    rules: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class PricedLine:
    """A line's price before rounding.

    Send ``price_list_rate`` + ``discount_percentage``; ``rate`` is set only when a Rate rule or a
    Discount Amount fixes it (``price_list_rate - discount_amount``). ``unsupported_rules`` were
    candidates this engine cannot evaluate offline (Python conditions, cart-wide cumulative
    thresholds) and were not applied. ``free_items`` are the lines product-discount rules add.
    """

    item_code: str
    uom: str
    conversion_factor: Decimal
    price_list: str
    price_list_rate: Decimal
    discount_percentage: Decimal = ZERO
    discount_amount: Decimal = ZERO
    rate: Decimal | None = None
    pricing_rules: tuple[str, ...] = ()
    item_price: ItemPrice | None = None
    margin_type: str = ""
    margin_rate_or_amount: Decimal = ZERO
    unsupported_rules: tuple[str, ...] = ()
    free_items: tuple[FreeItem, ...] = ()

    def item_line(
        self,
        qty: Decimal,
        *,
        item_name: str = "",
        item_tax_rate: Mapping[str, Decimal] | None = None,
        item_tax_template: str | None = None,
    ) -> ItemLine:
        """The totals engine's input for this line."""
        return ItemLine(
            item_code=self.item_code,
            qty=qty,
            rate=self.rate,
            price_list_rate=self.price_list_rate,
            discount_percentage=self.discount_percentage,
            item_tax_rate=dict(item_tax_rate or {}),
            item_name=item_name,
            uom=self.uom,
            conversion_factor=self.conversion_factor,
            item_tax_template=item_tax_template,
        )


@dataclass(frozen=True)
class RuleMatch:
    """A rule and the UOM of the child row that matched ("" means the stock UOM)."""

    rule: PricingRule
    uom: str


@dataclass(frozen=True)
class RuleSelection:
    """Rules to apply, in order, and candidates skipped because they cannot be evaluated here."""

    matches: tuple[RuleMatch, ...] = ()
    unsupported: tuple[str, ...] = ()


def price_line(
    catalog: Catalog, ctx: PricingContext, item: CatalogItem, uom: str, qty: Decimal
) -> PricedLine | PricingConflict:
    """Price one line: its list price, then the Pricing Rules that apply to it."""
    factor = _factor(item, uom)
    listed = find_list_price(
        catalog,
        item,
        uom,
        price_list=ctx.price_list,
        posting_date=ctx.posting_date,
        customer=ctx.customer,
    )
    plr = listed.price_list_rate if listed else ZERO
    base = PricedLine(
        item_code=item.item_code,
        uom=uom,
        conversion_factor=factor,
        price_list=ctx.price_list,
        price_list_rate=plr,
        item_price=listed.item_price if listed else None,
    )
    if ctx.ignore_pricing_rule:
        return base
    chosen = select_pricing_rules(catalog, ctx, item, uom=uom, qty=qty, price_list_rate=plr)
    if isinstance(chosen, PricingConflict):
        return chosen
    return _apply(base, chosen, ctx, qty)


def select_pricing_rules(
    catalog: Catalog,
    ctx: PricingContext,
    item: CatalogItem,
    *,
    uom: str,
    qty: Decimal,
    price_list_rate: Decimal,
) -> RuleSelection | PricingConflict:
    """The Pricing Rules that apply to one line, as ERPNext's get_pricing_rules picks them.

    Levels are tried in the order Item Code, Item Group, Brand, stopping at the first level with
    any matching rule, before quantities are checked: an item rule with an unmet ``min_qty``
    therefore hides group rules, as in ERPNext.
    """
    groups = chain_names(catalog.item_group_ancestors(item.item_group), item.item_group)
    rules = {r.name: r for r in catalog.pricing_rules_for(item.item_code, groups, item.brand)}
    if item.variant_of:
        for rule in catalog.pricing_rules_for(item.variant_of, (), ""):
            rules.setdefault(rule.name, rule)
    keys = {
        ApplyOn.ITEM_CODE: {item.item_code, item.variant_of} - {""},
        ApplyOn.ITEM_GROUP: set(groups),
        ApplyOn.BRAND: {item.brand} - {""},
    }
    found: list[RuleMatch] = []
    for level in _LEVELS:
        level_matches: list[RuleMatch] = []
        for rule in rules.values():
            if rule.apply_on is level and _applies(rule, ctx):
                matched = _match(rule, keys[level], uom)
                if matched is not None:
                    level_matches.append(matched)
        level_matches.sort(key=lambda m: (m.rule.priority, m.rule.name), reverse=True)
        found.extend(level_matches)
        if found and found[0].rule.has_priority:
            continue
        if found and not all(m.rule.apply_multiple_pricing_rules for m in found):
            break

    stock_qty = qty * _factor(item, uom)
    amount = price_list_rate * qty
    unsupported = tuple(m.rule.name for m in found if _unsupported(m.rule))
    found = [m for m in found if not _unsupported(m.rule)]
    if not found:
        return RuleSelection((), unsupported)
    if all(m.rule.apply_multiple_pricing_rules for m in found):
        kept = [m for m in found if _within_limits(m, item, uom, stock_qty, amount)]
        kept.sort(key=lambda m: m.rule.priority or 1)
        return RuleSelection(tuple(kept), unsupported)

    kept = [m for m in found if _within_limits(m, item, uom, stock_qty, amount)]
    if len(kept) > 1:
        kept = [m for m in kept if m.rule.currency == ctx.currency] or kept
    if len(kept) > 1:
        top = max(m.rule.priority for m in kept)
        if top:
            kept = [m for m in kept if m.rule.priority == top]
    if len(kept) > 1 and all(
        m.rule.rate_or_discount is RateOrDiscount.DISCOUNT_PERCENTAGE for m in kept
    ):
        kept = [m for m in kept if m.rule.for_price_list == ctx.price_list] or kept
    if len(kept) > 1:
        names = tuple(m.rule.name for m in kept)
        return PricingConflict(
            item.item_code,
            names,
            f"Pricing rules {', '.join(names)} all apply to {item.item_code} with the same "
            "priority — ERPNext would refuse this sale; ask the back office to give one of "
            "them a higher priority",
        )
    return RuleSelection(tuple(kept), unsupported)


def _applies(rule: PricingRule, ctx: PricingContext) -> bool:
    """Everything ERPNext puts in the rule query except apply_on, UOM and quantities."""
    return (
        # A coupon rule is a candidate with or without its coupon: it takes part in conflicts
        # and priorities like any rule (NOTES surprise 5); _apply decides whether it applies.
        not rule.disable
        and rule.selling
        and rule.company in ("", ctx.company)
        and rule.customer in ("", ctx.customer)
        and (not rule.customer_group or rule.customer_group in ctx.customer_group_chain)
        and (not rule.territory or rule.territory in ctx.territory_chain)
        and (not rule.warehouse or rule.warehouse in ctx.warehouse_chain)
        and not rule.sales_partner
        and not rule.campaign
        and rule.for_price_list in ("", ctx.price_list)
        and (rule.valid_from is None or rule.valid_from <= ctx.posting_date)
        and (rule.valid_upto is None or rule.valid_upto >= ctx.posting_date)
    )


def _match(rule: PricingRule, keys: set[str], uom: str) -> RuleMatch | None:
    rows = [t for t in rule.targets() if t.value in keys and t.uom in ("", uom)]
    if not rows:
        return None
    exact = [t for t in rows if t.uom == uom]
    return RuleMatch(rule, (exact or rows)[0].uom)


def _unsupported(rule: PricingRule) -> bool:
    has_limits = bool(rule.min_qty or rule.max_qty or rule.min_amt or rule.max_amt)
    return bool(rule.condition.strip()) or (
        (rule.mixed_conditions or rule.is_cumulative) and has_limits
    )


def _within_limits(
    m: RuleMatch, item: CatalogItem, uom: str, stock_qty: Decimal, amount: Decimal
) -> bool:
    rule = m.rule
    # Limits are in the rule row's UOM; qty compares in stock units, amounts only rescale when
    # the rule's UOM differs from the line's (ERPNext's own asymmetry).
    rule_factor = (item.conversion_factor(m.uom) if m.uom else None) or Decimal(1)
    if stock_qty < rule.min_qty * rule_factor:
        return False
    if rule.max_qty and stock_qty > rule.max_qty * rule_factor:
        return False
    amount_factor = Decimal(1) if m.uom == uom else rule_factor
    if amount < rule.min_amt * amount_factor:
        return False
    return not (rule.max_amt and amount > rule.max_amt * amount_factor)


def free_item(rule: PricingRule, item_code: str, line_qty: Decimal) -> FreeItem | None:
    """What a product-discount rule gives for a line of ``line_qty`` (ERPNext's
    get_product_discount_rule): ``free_qty`` (empty counts as 1) of the free item, or of the
    line's own item with ``same_item``; a recursive rule gives it per ``recurse_for`` bought
    beyond ``apply_recursion_over``, in whole steps when ``round_free_qty`` is set."""
    qty = rule.free_qty or Decimal(1)
    if rule.is_recursive and rule.recurse_for:
        bought = line_qty - rule.apply_recursion_over
        if bought > 0:
            if rule.round_free_qty:
                qty = (bought // rule.recurse_for) * (rule.free_qty or Decimal(1))
            else:
                qty = bought * qty / rule.recurse_for
    code = item_code if rule.same_item else rule.free_item
    if not qty or not code:
        return None
    return FreeItem(code, qty, rule.name, rule.free_item_rate, rule.free_item_uom)


def _apply(
    base: PricedLine, selection: RuleSelection, ctx: PricingContext, qty: Decimal
) -> PricedLine:
    plr = base.price_list_rate
    pct = ZERO
    amount = ZERO
    rate_fixed = False
    margin_type = ""
    margin = ZERO
    applied: list[str] = []
    free: list[FreeItem] = []
    skipped = list(selection.unsupported)
    for m in selection.matches:
        rule = m.rule
        if rule.coupon_code_based:
            if not ctx.coupon_code:
                # ERPNext stops at a coupon rule when the sale has no coupon: no rule applies.
                return replace(base, unsupported_rules=tuple(dict.fromkeys(skipped)))
            if rule.name != ctx.coupon_rule:
                continue
        if rule.price_or_product_discount is PriceOrProduct.PRODUCT:
            if not (rule.free_item or rule.same_item):
                # ERPNext refuses the sale ("Free item not set in the pricing rule").
                skipped.append(rule.name)
                continue
            applied.append(rule.name)
            given = free_item(rule, base.item_code, qty)
            if given is not None:
                free.append(given)
            continue
        applied.append(rule.name)
        if rule.margin_rate_or_amount:
            margin_type, margin = rule.margin_type, rule.margin_rate_or_amount
        if rule.rate_or_discount is RateOrDiscount.RATE:
            # A Rate in another currency is ignored, but still clears the discount.
            if rule.rate and rule.currency == ctx.currency:
                plr = rule.rate * (base.conversion_factor if m.uom != base.uom else 1)
                rate_fixed = True
            pct = ZERO
        elif rule.rate_or_discount is RateOrDiscount.DISCOUNT_PERCENTAGE:
            if rule.apply_discount_on_rate and pct:
                pct += (HUNDRED - pct) * rule.discount_percentage / HUNDRED
            elif plr:
                amount += plr * rule.discount_percentage / HUNDRED
                pct = amount * HUNDRED / plr
            else:
                pct += rule.discount_percentage
        else:
            amount += rule.discount_amount
    rate: Decimal | None = None
    if pct:
        amount = plr * pct / HUNDRED
    elif amount:
        rate = plr - amount
    elif rate_fixed:
        rate = plr
    return PricedLine(
        item_code=base.item_code,
        uom=base.uom,
        conversion_factor=base.conversion_factor,
        price_list=base.price_list,
        price_list_rate=plr,
        discount_percentage=pct,
        discount_amount=amount,
        rate=rate,
        pricing_rules=tuple(applied),
        item_price=base.item_price,
        margin_type=margin_type,
        margin_rate_or_amount=margin,
        unsupported_rules=tuple(dict.fromkeys(skipped)),
        free_items=tuple(free),
    )


@dataclass(frozen=True)
class MaxDiscountExceeded:
    item_code: str
    max_discount: Decimal
    discount_percentage: Decimal
    message: str


def check_max_discount(
    item: CatalogItem, discount_percentage: Decimal
) -> MaxDiscountExceeded | None:
    """ERPNext refuses a line whose discount exceeds the item's ``max_discount`` (0 = no limit)."""
    if item.max_discount and discount_percentage > item.max_discount:
        return MaxDiscountExceeded(
            item.item_code,
            item.max_discount,
            discount_percentage,
            f"Maximum discount for {item.item_code} is {item.max_discount.normalize():f}% "
            f"— {discount_percentage.normalize():f}% is too much",
        )
    return None
