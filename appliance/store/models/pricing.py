"""Pricing Rule with its item code, item group and brand child tables (FACTS §3.9), and the
Coupon Codes that unlock coupon-based rules (features/NOTES.md §2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base


class PricingRule(Base):
    __tablename__ = "pricing_rules"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str | None] = mapped_column(String)
    disable: Mapped[bool] = mapped_column(default=False)
    apply_on: Mapped[str] = mapped_column(String, default="Item Code", index=True)
    price_or_product_discount: Mapped[str] = mapped_column(String, default="Price")
    selling: Mapped[bool] = mapped_column(default=False)
    buying: Mapped[bool] = mapped_column(default=False)
    applicable_for: Mapped[str | None] = mapped_column(String)
    customer: Mapped[str | None] = mapped_column(String)
    customer_group: Mapped[str | None] = mapped_column(String)
    territory: Mapped[str | None] = mapped_column(String)
    sales_partner: Mapped[str | None] = mapped_column(String)
    campaign: Mapped[str | None] = mapped_column(String)
    company: Mapped[str | None] = mapped_column(String)
    currency: Mapped[str | None] = mapped_column(String)
    for_price_list: Mapped[str | None] = mapped_column(String)
    warehouse: Mapped[str | None] = mapped_column(String)
    min_qty: Mapped[Decimal | None]
    max_qty: Mapped[Decimal | None]
    min_amt: Mapped[Decimal | None]
    max_amt: Mapped[Decimal | None]
    valid_from: Mapped[date | None]
    valid_upto: Mapped[date | None]
    rate_or_discount: Mapped[str | None] = mapped_column(String)
    rate: Mapped[Decimal | None]
    discount_percentage: Mapped[Decimal | None]
    discount_amount: Mapped[Decimal | None]
    margin_type: Mapped[str | None] = mapped_column(String)
    margin_rate_or_amount: Mapped[Decimal | None]
    apply_discount_on: Mapped[str | None] = mapped_column(String)
    # ERPNext's Select "1".."20" (or empty), held as a number so rules sort by it.
    priority: Mapped[int | None]
    apply_multiple_pricing_rules: Mapped[bool] = mapped_column(default=False)
    has_priority: Mapped[bool] = mapped_column(default=False)
    apply_discount_on_rate: Mapped[bool] = mapped_column(default=False)
    mixed_conditions: Mapped[bool] = mapped_column(default=False)
    is_cumulative: Mapped[bool] = mapped_column(default=False)
    coupon_code_based: Mapped[bool] = mapped_column(default=False)
    validate_applied_rule: Mapped[bool] = mapped_column(default=False)
    condition: Mapped[str | None] = mapped_column(Text)
    modified: Mapped[str | None] = mapped_column(String)
    # Product discount: the free item a rule gives (features/NOTES.md §3).
    free_item: Mapped[str | None] = mapped_column(String)
    free_qty: Mapped[Decimal | None]
    same_item: Mapped[bool] = mapped_column(default=False)
    free_item_rate: Mapped[Decimal | None]
    free_item_uom: Mapped[str | None] = mapped_column(String)
    is_recursive: Mapped[bool] = mapped_column(default=False)
    recurse_for: Mapped[Decimal | None]
    apply_recursion_over: Mapped[Decimal | None]
    round_free_qty: Mapped[bool] = mapped_column(default=False)

    items: Mapped[list[PricingRuleItemCode]] = relationship(
        back_populates="rule", cascade="all, delete-orphan"
    )
    item_groups: Mapped[list[PricingRuleItemGroup]] = relationship(
        back_populates="rule", cascade="all, delete-orphan"
    )
    brands: Mapped[list[PricingRuleBrand]] = relationship(
        back_populates="rule", cascade="all, delete-orphan"
    )


class PricingRuleItemCode(Base):
    __tablename__ = "pricing_rule_item_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pricing_rules.name", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String, index=True)
    uom: Mapped[str | None] = mapped_column(String)

    rule: Mapped[PricingRule] = relationship(back_populates="items")


class PricingRuleItemGroup(Base):
    __tablename__ = "pricing_rule_item_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pricing_rules.name", ondelete="CASCADE"), index=True
    )
    item_group: Mapped[str] = mapped_column(String, index=True)
    uom: Mapped[str | None] = mapped_column(String)

    rule: Mapped[PricingRule] = relationship(back_populates="item_groups")


class PricingRuleBrand(Base):
    __tablename__ = "pricing_rule_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pricing_rules.name", ondelete="CASCADE"), index=True
    )
    brand: Mapped[str] = mapped_column(String, index=True)
    uom: Mapped[str | None] = mapped_column(String)

    rule: Mapped[PricingRule] = relationship(back_populates="brands")


class CouponCode(Base):
    """A Coupon Code. ``used`` is ERPNext's count when pulled: sales this till made since are
    not in it (docs/agent.md, "Coupons on several tills")."""

    __tablename__ = "coupon_codes"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    coupon_code: Mapped[str | None] = mapped_column(String, index=True)
    coupon_type: Mapped[str | None] = mapped_column(String)
    pricing_rule: Mapped[str | None] = mapped_column(String, index=True)
    maximum_use: Mapped[int | None]
    used: Mapped[int | None]
    valid_from: Mapped[date | None]
    valid_upto: Mapped[date | None]
    creation: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)
