"""Which taxes a sale carries: Tax Rule selection (FACTS.md §3.8), the tax category that feeds
it (§3.6), and each item's Item Tax Template (§3.7).

ERPNext runs Tax Rules only in the desk/POS page, never on the server's validate, so the till
must choose the template itself and send the rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from appliance.sales.catalog import (
    Catalog,
    CatalogItem,
    CustomerInfo,
    ItemTaxRow,
    MissingMasterError,
    TaxRule,
    TaxTemplate,
    chain_names,
)
from appliance.sales.model import TaxLine

_ADDRESS_FIELDS = ("city", "county", "state", "zipcode", "country")
_RULE_KEYS = frozenset(
    ["customer", "company"]
    + [f"{side}_{name}" for side in ("billing", "shipping") for name in _ADDRESS_FIELDS]
)


def resolve_tax_category(customer: CustomerInfo | None, pos_profile_tax_category: str = "") -> str:
    """The billing address's category, else the customer's, else the POS Profile's."""
    if customer is not None:
        if customer.address_tax_category:
            return customer.address_tax_category
        if customer.tax_category:
            return customer.tax_category
    return pos_profile_tax_category


@dataclass(frozen=True)
class TaxContext:
    """The arguments ERPNext matches Tax Rules against.

    ``keys`` holds only the keys ERPNext would pass: an empty ``company`` or a missing address
    leaves its keys out, and then rules are not filtered on them. An empty
    ``customer_group_chain`` likewise means the customer has no group.
    """

    posting_date: date
    customer: str
    tax_category: str = ""
    customer_group_chain: tuple[str, ...] = ()
    keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.keys) - _RULE_KEYS
        if unknown:
            raise ValueError(f"not Tax Rule keys: {sorted(unknown)}")


def tax_context(
    catalog: Catalog,
    customer: CustomerInfo,
    *,
    posting_date: date,
    company: str = "",
    pos_profile_tax_category: str = "",
) -> TaxContext:
    """The Tax Rule arguments for a sale to ``customer``, from its default addresses."""
    keys: dict[str, str] = {"customer": customer.name}
    if company:
        keys["company"] = company
    for side, present in (
        ("billing", customer.has_billing_address),
        ("shipping", customer.has_shipping_address),
    ):
        if present:
            for name in _ADDRESS_FIELDS:
                key = f"{side}_{name}"
                keys[key] = str(getattr(customer, key))
    group = customer.customer_group
    chain = chain_names(catalog.customer_group_ancestors(group), group) if group else ()
    return TaxContext(
        posting_date=posting_date,
        customer=customer.name,
        tax_category=resolve_tax_category(customer, pos_profile_tax_category),
        customer_group_chain=chain,
        keys=keys,
    )


def _collate(value: str) -> str:
    # MariaDB's default utf8mb4_unicode_ci ignores case, accents and trailing spaces.
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().rstrip()


def _in_window(rule: TaxRule, day: date) -> bool:
    return (rule.from_date is None or rule.from_date <= day) and (
        rule.to_date is None or rule.to_date >= day
    )


def select_tax_rule(rules: Iterable[TaxRule], ctx: TaxContext) -> TaxRule | None:
    """The Tax Rule ERPNext would pick, whatever the state of its template.

    Most non-empty matched keys wins, then the higher priority; among exact ties the first rule
    in ``rules`` order wins (ERPNext leaves that order to the database).
    """
    category = _collate(ctx.tax_category)
    chain = {_collate(g) for g in ctx.customer_group_chain}
    best: tuple[int, int] | None = None
    winner: TaxRule | None = None
    for rule in rules:
        if rule.tax_type != "Sales" or not _in_window(rule, ctx.posting_date):
            continue
        if _collate(rule.tax_category) != category:
            continue
        matched = 0
        if chain:
            if rule.customer_group and _collate(rule.customer_group) not in chain:
                continue
            matched += bool(rule.customer_group)
        ok = True
        for key, value in ctx.keys.items():
            wanted = str(getattr(rule, key))
            if wanted:
                if _collate(wanted) != _collate(value):
                    ok = False
                    break
                matched += 1
        if not ok:
            continue
        score = (matched, rule.priority)
        if best is None or score > best:
            best, winner = score, rule
    return winner


class TaxSource(StrEnum):
    TAX_RULE = "Tax Rule"
    POS_PROFILE = "POS Profile"
    NONE = "None"


@dataclass(frozen=True)
class TaxChoice:
    """The Sales Taxes and Charges Template for a sale and where it came from.

    ``rule`` names the winning Tax Rule even when its template was disabled (and so not used).
    """

    source: TaxSource
    template: TaxTemplate | None = None
    rule: str = ""

    @property
    def rows(self) -> tuple[TaxLine, ...]:
        return self.template.rows if self.template is not None else ()


def _template(catalog: Catalog, name: str, named_by: str) -> TaxTemplate:
    template = catalog.tax_template(name)
    if template is None:
        raise MissingMasterError(
            f"{named_by} names Sales Taxes and Charges Template {name!r}, which is not in this "
            "till's catalog — sync the catalog before selling"
        )
    return template


def choose_sales_taxes(
    catalog: Catalog, ctx: TaxContext, pos_profile_template: str = ""
) -> TaxChoice:
    """Tax Rule first; when none applies (or its template is disabled) the POS Profile's template.

    A disabled winner does not fall through to the next rule: ERPNext returns no template then,
    and the invoice keeps the profile's.
    """
    rule = select_tax_rule(catalog.tax_rules(), ctx)
    rule_name = rule.name if rule is not None else ""
    if rule is not None:
        template = _template(catalog, rule.sales_tax_template, f"Tax Rule {rule.name}")
        if not template.disabled:
            return TaxChoice(TaxSource.TAX_RULE, template, rule_name)
    if pos_profile_template:
        template = _template(catalog, pos_profile_template, "The POS Profile")
        if not template.disabled:
            return TaxChoice(TaxSource.POS_PROFILE, template, rule_name)
    return TaxChoice(TaxSource.NONE, None, rule_name)


@dataclass(frozen=True)
class ItemTaxChoice:
    """The Item Tax Template for a line and its ``{account: rate}`` map (``item_tax_rate``)."""

    template: str | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)


def choose_item_tax_template(
    catalog: Catalog,
    item: CatalogItem,
    *,
    posting_date: date,
    tax_category: str,
    net_rate: Decimal,
    current: str | None = None,
) -> ItemTaxChoice:
    """The item's own Item Tax rows, else the nearest Item Group's that yield a template.

    ``net_rate`` is the line's net rate in company currency, checked against the rows'
    minimum/maximum net rate. ``current`` is kept when it is still valid.
    """
    want = _Wanted(posting_date, tax_category, net_rate, current)
    chosen = _pick(catalog, item.taxes, want)
    if chosen is None:
        for group in catalog.item_group_ancestors(item.item_group):
            chosen = _pick(catalog, group.taxes, want)
            if chosen is not None:
                break
    if chosen is None:
        return ItemTaxChoice()
    template = catalog.item_tax_template(chosen)
    assert template is not None  # _pick only returns templates the catalog holds
    return ItemTaxChoice(chosen, dict(template.rates))


@dataclass(frozen=True)
class _Wanted:
    posting_date: date
    tax_category: str
    net_rate: Decimal
    current: str | None


def _pick(catalog: Catalog, rows: tuple[ItemTaxRow, ...], want: _Wanted) -> str | None:
    usable = []
    for row in rows:
        template = catalog.item_tax_template(row.item_tax_template)
        # A template missing from the catalog belongs to another company: ERPNext skips it too.
        if template is not None and not template.disabled:
            usable.append(row)
    dated = [
        r
        for r in usable
        if (r.valid_from or r.maximum_net_rate)
        and (r.valid_from is None or r.valid_from <= want.posting_date)
        and (not r.maximum_net_rate or r.minimum_net_rate <= want.net_rate <= r.maximum_net_rate)
    ]
    if dated:
        candidates = sorted(dated, key=lambda r: r.valid_from or date.min, reverse=True)
    else:
        candidates = [r for r in usable if not (r.valid_from or r.maximum_net_rate)]
    if want.current and any(r.item_tax_template == want.current for r in candidates):
        return want.current
    for row in candidates:
        if row.tax_category == want.tax_category:
            return row.item_tax_template
    return None
