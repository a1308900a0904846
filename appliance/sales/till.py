"""The till: turns what the cashier does (scan, key an item, pick a customer) into cart changes.

It joins the pure pieces: barcode lookup, price lists and pricing rules, item tax templates,
Tax Rules and the cart. It reads masters only through the ``Catalog`` interface, so the same
code runs on the SQLite store at the counter and on an in-memory catalog in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from appliance.sales import cart as carts
from appliance.sales.barcode import LineRequest, ScanConfig, label_weights, lookup_scan
from appliance.sales.cart import Cart, CartError, CartLine, TaxExemption
from appliance.sales.catalog import Catalog, CatalogItem, CouponCode, CustomerInfo
from appliance.sales.model import DiscountOn, FreeItem, TaxLine, TotalsSettings
from appliance.sales.pricing import PricingConflict, PricingContext, price_line, pricing_context
from appliance.sales.tax_rules import (
    TaxContext,
    choose_item_tax_template,
    choose_sales_taxes,
    resolve_tax_category,
    tax_context,
)

ONE = Decimal(1)
CERTIFICATE_LENGTH = 140  # ERPNext's Data field


def _charged(rows: tuple[TaxLine, ...]) -> set[str]:
    return {t.account_head for t in rows if t.rate or t.tax_amount}


def _checked(exemption: TaxExemption, category: str) -> TaxExemption:
    """The exemption with its certificate number as typed, trimmed; CartError if it is none."""
    number = exemption.certificate.strip()
    if not number:
        raise CartError("A tax-exempt sale needs the exemption certificate's number")
    if len(number) > CERTIFICATE_LENGTH or not number.isprintable():
        raise CartError(
            f"That is not an exemption certificate number: type it as printed "
            f"(at most {CERTIFICATE_LENGTH} characters)"
        )
    if not exemption.approved_by:
        raise CartError("A tax-exempt sale needs a supervisor's approval")
    return replace(exemption, certificate=number, tax_category=category)


@dataclass(frozen=True)
class PaymentMode:
    mode_of_payment: str
    type: str  # Cash, Bank, General, Phone
    account: str = ""
    default: bool = False


@dataclass(frozen=True)
class TillProfile:
    """The POS Profile and site settings a till sells under."""

    name: str
    company: str
    currency: str
    price_list: str
    warehouse: str
    walk_in_customer: str
    settings: TotalsSettings
    taxes_and_charges: str = ""
    tax_category: str = ""
    apply_discount_on: DiscountOn = DiscountOn.GRAND_TOTAL
    ignore_pricing_rule: bool = False
    modes: tuple[PaymentMode, ...] = ()
    scan: ScanConfig = field(default_factory=ScanConfig)
    cost_center: str = ""
    income_account: str = ""
    account_for_change_amount: str = ""
    time_zone: str = ""  # System Settings time_zone: ERPNext's posting times are site-local
    number_format: str = ""  # System Settings number_format: how the store writes numbers

    @property
    def cash_mode(self) -> str:
        for mode in self.modes:
            if mode.type == "Cash":
                return mode.mode_of_payment
        return "Cash"


@dataclass(frozen=True)
class CustomerTaxes:
    customer: str
    template: str | None
    rows: tuple[TaxLine, ...]
    tax_category: str


class Till:
    def __init__(self, catalog: Catalog, profile: TillProfile, today: date) -> None:
        self.catalog = catalog
        self.profile = profile
        self.today = today

    # -- customers and their taxes ------------------------------------------------------------
    def _customer(self, name: str | None) -> CustomerInfo | None:
        return self.catalog.customer(name) if name else None

    def customer_taxes(self, name: str | None, *, exempt: bool = True) -> CustomerTaxes:
        """The Sales Taxes and Charges a sale to ``name`` gets (Tax Rules, else the profile's).

        ``exempt`` False: a tax category that exempts the customer (`exempting_category`) is
        not applied, the sale is taxed as the till's own category taxes it.
        """
        customer = self._customer(name)
        if name and customer is None:
            raise CartError(f"Customer {name!r} is not in this till's catalog")
        if customer is not None and customer.disabled:
            raise CartError(f"Customer {name} is disabled in ERPNext")
        if customer is None:
            name_ = self.profile.taxes_and_charges
            template = self.catalog.tax_template(name_) if name_ else None
            if name_ and template is None:
                raise CartError(f"The POS Profile's tax template {name_!r} is not synced yet")
            rows = template.rows if template and not template.disabled else ()
            return CustomerTaxes("", name_ or None, rows, self.profile.tax_category)
        ctx = self._tax_context(customer, exempt=exempt)
        choice = choose_sales_taxes(self.catalog, ctx, self.profile.taxes_and_charges)
        return CustomerTaxes(
            customer.name,
            choice.template.name if choice.template else None,
            choice.rows,
            ctx.tax_category,
        )

    def _tax_context(self, customer: CustomerInfo, *, exempt: bool) -> TaxContext:
        ctx = tax_context(
            self.catalog,
            customer,
            posting_date=self.today,
            company=self.profile.company,
            pos_profile_tax_category=self.profile.tax_category,
        )
        if not exempt and self._exempts(ctx):
            return replace(ctx, tax_category=self.profile.tax_category)
        return ctx

    def _exempts(self, ctx: TaxContext) -> bool:
        """Does the sale's tax category take off a tax the till's own category would charge?"""
        usual = self.profile.tax_category
        if ctx.tax_category == usual:
            return False
        template = self.profile.taxes_and_charges
        own = choose_sales_taxes(self.catalog, ctx, template).rows
        taxed = choose_sales_taxes(self.catalog, replace(ctx, tax_category=usual), template).rows
        return bool(_charged(taxed) - _charged(own))

    def exempting_category(self, name: str | None) -> str:
        """The customer's tax category when it exempts them from a tax ("Tax Exempt"), else "".

        Such a sale goes untaxed only with a `TaxExemption` (a supervisor's approval and the
        certificate's number, `set_customer`); anyone may create a customer in any category.
        """
        customer = self._customer(name)
        if customer is None:
            return ""
        ctx = self._tax_context(customer, exempt=True)
        return ctx.tax_category if self._exempts(ctx) else ""

    def _coupon(self, cart: Cart) -> CouponCode | None:
        return self.catalog.coupon(cart.coupon_code) if cart.coupon_code else None

    def pricing(self, cart: Cart) -> PricingContext:
        """What prices a line of ``cart``: its customer's price list, rules and coupon."""
        return self._pricing(cart)

    def _pricing(self, cart: Cart) -> PricingContext:
        return pricing_context(
            self.catalog,
            self._customer(cart.customer),
            posting_date=self.today,
            currency=self.profile.currency,
            pos_profile_price_list=self.profile.price_list,
            company=self.profile.company,
            ignore_pricing_rule=self.profile.ignore_pricing_rule,
            coupon=self._coupon(cart),
        )

    def _tax_category(self, cart: Cart) -> str:
        customer = self._customer(cart.customer)
        category = resolve_tax_category(customer, self.profile.tax_category)
        if customer is None or category == self.profile.tax_category or cart.tax_exemption:
            return category
        return self._tax_context(customer, exempt=False).tax_category

    def new_cart(self, customer: str | None = None, offline_id: str = "") -> Cart:
        who = customer or self.profile.walk_in_customer
        if not self.catalog.customer(who):
            who = ""  # no walk-in customer synced yet: the profile's taxes still apply
        taxes = self.customer_taxes(who or None, exempt=False)
        return Cart(
            settings=self.profile.settings,
            offline_id=offline_id,
            customer=who or None,
            taxes=taxes.rows,
            taxes_and_charges=taxes.template,
            apply_discount_on=self.profile.apply_discount_on,
        )

    def set_customer(self, cart: Cart, name: str, exemption: TaxExemption | None = None) -> Cart:
        """Change the customer: taxes, price list and promotions follow, manual prices stay.

        A customer whose tax category exempts them (`exempting_category`) is taxed as anyone
        else unless ``exemption`` (a supervisor's approval and the certificate's number) is
        given; an exemption given for anyone else is not kept.
        """
        category = self.exempting_category(name)
        kept = _checked(exemption, category) if exemption is not None and category else None
        taxes = self.customer_taxes(name, exempt=kept is not None)
        cart = replace(cart, customer=name, tax_exemption=kept)
        return carts.set_customer(self._repriced(cart), name, taxes.rows, taxes.template)

    # -- lines --------------------------------------------------------------------------------
    def _priced(
        self,
        cart: Cart,
        item: CatalogItem,
        uom: str,
        factor: Decimal,
        qty: Decimal,
        *,
        barcode: str | None = None,
    ) -> CartLine:
        priced = price_line(self.catalog, self._pricing(cart), item, uom, qty)
        if isinstance(priced, PricingConflict):
            raise CartError(priced.message)
        if not priced.price_list_rate:
            raise CartError(
                f"{item.item_name} has no price in {priced.price_list}: key a price "
                "(supervisor) or set it aside"
            )
        rate = priced.rate
        net_rate = rate if rate is not None else priced.price_list_rate
        tax = choose_item_tax_template(
            self.catalog,
            item,
            posting_date=self.today,
            tax_category=self._tax_category(cart),
            net_rate=net_rate,
        )
        return CartLine(
            line_id=0,
            item_code=item.item_code,
            item_name=item.item_name,
            qty=qty,
            price_list_rate=priced.price_list_rate,
            uom=uom,
            conversion_factor=factor,
            # A rule that fixes the rate already includes its discount.
            discount_percentage=priced.discount_percentage if rate is None else Decimal(0),
            fixed_rate=rate,
            item_tax_template=tax.template,
            item_tax_rate=tax.rates,
            pricing_rules=priced.pricing_rules,
            barcode=barcode,
            is_weighed=item.is_weighed,
            whole_uom=item.must_be_whole(uom),
            whole_stock_uom=item.stock_uom if item.must_be_whole(item.stock_uom) else "",
            free_items=priced.free_items,
            has_serial_no=item.has_serial_no,
            has_batch_no=item.has_batch_no,
        )

    # -- offers -------------------------------------------------------------------------------
    def set_coupon(self, cart: Cart, coupon: CouponCode | None) -> Cart:
        """Put ``coupon`` on the sale (None takes it off): every line is priced again, so the
        rule it unlocks applies, or stops applying (checking it is counter.offers' job)."""
        return self._repriced(replace(cart, coupon_code=coupon.name if coupon else None))

    def _free_line(self, cart: Cart, free: FreeItem, line_id: int) -> CartLine | None:
        item = self.catalog.item(free.item_code)
        if item is None:
            return None  # not in this till's scope: the till cannot hand it out
        uom = free.uom or item.stock_uom
        tax = choose_item_tax_template(
            self.catalog,
            item,
            posting_date=self.today,
            tax_category=self._tax_category(cart),
            net_rate=free.rate,
        )
        line = CartLine(
            line_id=line_id,
            item_code=item.item_code,
            item_name=item.item_name,
            # A pro-rata rule gives 7 / 3: kept to the till's quantity places, as ERPNext keeps
            # it to its own precision.
            qty=free.qty.quantize(carts.QTY_PLACES),
            price_list_rate=free.rate,
            uom=uom,
            conversion_factor=item.conversion_factor(uom) or Decimal(1),
            fixed_rate=free.rate,
            item_tax_template=tax.template,
            item_tax_rate=tax.rates,
            pricing_rules=(free.pricing_rule,),
            is_free_item=True,
            whole_uom=item.must_be_whole(uom),
            whole_stock_uom=item.stock_uom if item.must_be_whole(item.stock_uom) else "",
        )
        try:
            # ERPNext refuses the whole sale over a fraction of a whole unit, free or not.
            carts.check_whole(line, line.qty)
        except CartError as exc:
            raise CartError(
                f"{item.item_name} free with promotion {free.pricing_rule}: {exc}; "
                "change the quantity bought"
            ) from None
        return line

    def _with_free_lines(self, cart: Cart) -> Cart:
        """The free lines the bought lines earn, one per (item, rule) as ERPNext keeps them
        (a later line's figure replaces an earlier one's, as its apply_pricing_rule_for_free_items
        does), after the bought lines as ERPNext appends them; one that stays keeps its id."""
        wanted: dict[tuple[str, str], FreeItem] = {}
        for line in cart.lines:
            if not line.is_free_item and not line.return_of:
                for free in line.free_items:
                    wanted[(free.item_code, free.pricing_rule)] = free
        had = {
            (line.item_code, line.pricing_rules[0]): line
            for line in cart.lines
            if line.is_free_item and line.pricing_rules
        }
        if not wanted and not had:
            return cart
        lines = [line for line in cart.lines if not line.is_free_item]
        next_id = cart.next_line_id
        for key, free in wanted.items():
            old = had.get(key)
            made = self._free_line(cart, free, old.line_id if old else next_id)
            if made is None:
                continue
            if old is None:
                next_id += 1
            lines.append(made)
        return carts.recompute(replace(cart, lines=tuple(lines), next_line_id=next_id))

    def add_request(self, cart: Cart, request: LineRequest) -> Cart:
        if request.rate is not None and self.profile.scan.is_weight_uom(request.uom):
            return self._add_price_label(cart, request, request.rate)
        line = self._priced(
            cart,
            request.item,
            request.uom,
            request.conversion_factor,
            request.qty,
            barcode=request.scan.code,
        )
        if request.rate is not None:
            # A price-embedded label fixes this line's price, like a manual price.
            line = replace(line, rate_override=request.rate)
        return self._after_qty_change(carts.add_line(cart, line), line.item_code)

    def _add_price_label(self, cart: Cart, request: LineRequest, price: Decimal) -> Cart:
        """A scale's price label on an item sold by weight: the weight at the till's price per
        kg that costs exactly the label (``barcode.label_weights``), so stock moves by the
        weight and the receipt says "0.412 Kg x 12.10 = 4.99"."""
        priced = self._priced(
            cart,
            request.item,
            request.uom,
            request.conversion_factor,
            ONE,
            barcode=request.scan.code,
        )
        # The label fixes the price: no promotion takes anything off what the customer saw.
        base = replace(priced, discount_percentage=Decimal(0), is_weighed=True)
        refused: CartError | None = None
        for weight, rate in label_weights(price, priced.base_rate):
            try:
                added = carts.add_line(cart, replace(base, qty=weight, rate_override=rate))
            except CartError as exc:  # e.g. a weight that is not a whole number of pieces
                refused = refused or exc
                continue
            if added.totals is not None and added.totals.items[-1].amount == price:
                return self._with_free_lines(self._earned_at(added, request, weight))
        raise refused or CartError(
            f"{request.item.item_name}: the label's price {price} cannot be sold by weight; "
            "key the item and its weight"
        )

    def _earned_at(self, cart: Cart, request: LineRequest, weight: Decimal) -> Cart:
        """``cart`` whose last line (a label's) carries the free items its weight earns, as the
        same weight keyed would: it was priced at one unit before the weight was known."""
        line = cart.lines[-1]
        at_weight = self._priced(
            cart, request.item, request.uom, request.conversion_factor, weight
        ).free_items
        if not at_weight and not line.free_items:
            return cart
        rules = tuple(dict.fromkeys((*line.pricing_rules, *(f.pricing_rule for f in at_weight))))
        earned = replace(line, free_items=at_weight, pricing_rules=rules)
        return replace(cart, lines=(*cart.lines[:-1], earned))

    def scan(self, cart: Cart, code: str) -> Cart:
        """A scanned code becomes a line, or a CartError the cashier can act on."""
        found = lookup_scan(self.catalog, code, self.profile.scan)
        if not isinstance(found, LineRequest):
            raise CartError(found.message)
        return self.add_request(cart, found)

    def add_item(
        self, cart: Cart, item_code: str, qty: Decimal = Decimal(1), uom: str | None = None
    ) -> Cart:
        """An item picked from search or keyed by code (weighed items with their weight)."""
        item = self.catalog.item(item_code)
        if item is None:
            raise CartError(f"Item {item_code} is not in this till's catalog")
        if item.disabled or not item.is_sales_item or item.has_variants:
            raise CartError(
                f"{item.item_name} cannot be sold (disabled, not for sale, or a template)"
            )
        unit = uom or item.stock_uom
        factor = item.conversion_factor(unit)
        if factor is None:
            raise CartError(f"{item.item_name} has no unit {unit}")
        line = self._priced(cart, item, unit, factor, qty)
        return self._after_qty_change(carts.add_line(cart, line), item_code)

    def units(self, cart: Cart, line_id: int) -> tuple[tuple[str, Decimal], ...]:
        """The units a line's item is sold in, with their conversion factors (stock unit
        first): what the cashier can switch the line to."""
        line = cart.line(line_id)
        item = self.catalog.item(line.item_code)
        if item is None:
            return ()
        others = sorted((u, f) for u, f in item.uoms.items() if u != item.stock_uom)
        return ((item.stock_uom, Decimal(1)), *others)

    def set_uom(self, cart: Cart, line_id: int, uom: str) -> Cart:
        """Sell the line in another unit (a case of 12): the same count of the new unit, priced
        as ERPNext prices it (the unit's own Item Price, else the stock price times the factor);
        stock moves by quantity times the factor."""
        line = cart.line(line_id)
        if line.is_free_item or line.return_of or line.is_weighed or line.has_serial_no:
            raise CartError(f"{line.item_name}: the unit of this line cannot be changed")
        if line.rate_override is not None:
            raise CartError(
                f"{line.item_name} has a keyed price: remove the line and add it in the new unit"
            )
        item = self.catalog.item(line.item_code)
        if item is None:
            raise CartError(f"Item {line.item_code} is not in this till's catalog")
        factor = item.conversion_factor(uom)
        if factor is None:
            raise CartError(f"{item.item_name} has no unit {uom}")
        moved = replace(line, uom=uom, conversion_factor=factor, whole_uom=item.must_be_whole(uom))
        carts.check_whole(moved, line.qty)
        lines = tuple(moved if x.line_id == line_id else x for x in cart.lines)
        # Priced again in the new unit, with the item's other lines (quantity breaks count
        # in stock units), as any quantity change is.
        return self._after_qty_change(replace(cart, lines=lines), line.item_code)

    def set_qty(self, cart: Cart, line_id: int, qty: Decimal) -> Cart:
        line = cart.line(line_id)
        if line.is_free_item:
            raise CartError(
                f"{line.item_name} is free with promotion {', '.join(line.pricing_rules)}: "
                "change the quantity bought instead"
            )
        cart = carts.set_qty(cart, line_id, qty)
        return self._after_qty_change(cart, cart.line(line_id).item_code)

    def _after_qty_change(self, cart: Cart, item_code: str) -> Cart:
        # Quantity thresholds (min_qty) of pricing rules are re-checked, as ERPNext does on save.
        return self._repriced(cart, only=item_code)

    def _repriced(self, cart: Cart, only: str | None = None) -> Cart:
        lines = []
        for line in cart.lines:
            item = self.catalog.item(line.item_code)
            keep = (only and line.item_code != only) or line.rate_override is not None
            if keep or line.return_of or line.is_free_item or item is None:
                lines.append(line)
                continue
            fresh = self._priced(
                cart, item, line.uom, line.conversion_factor, line.qty, barcode=line.barcode
            )
            if line.manual_discount:
                fresh = replace(
                    fresh, discount_percentage=line.discount_percentage, manual_discount=True
                )
            lines.append(
                replace(
                    fresh, line_id=line.line_id, serial_no=line.serial_no, batch_no=line.batch_no
                )
            )
        return self._with_free_lines(carts.recompute(replace(cart, lines=tuple(lines))))
