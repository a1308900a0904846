"""How the till is set up: POS Profile, Mode of Payment, totals settings and cashiers."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.sales.erpnext_float import RoundingMethod
from appliance.sales.model import TotalsSettings
from appliance.store.models.base import Base
from appliance.store.models.enums import CashierRole, enum_type


class PosProfile(Base):
    __tablename__ = "pos_profiles"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    company: Mapped[str] = mapped_column(String)
    disabled: Mapped[bool] = mapped_column(default=False)
    customer: Mapped[str | None] = mapped_column(String)
    warehouse: Mapped[str] = mapped_column(String)
    currency: Mapped[str] = mapped_column(String)
    selling_price_list: Mapped[str | None] = mapped_column(String)
    taxes_and_charges: Mapped[str | None] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    apply_discount_on: Mapped[str] = mapped_column(String, default="Grand Total")
    write_off_account: Mapped[str | None] = mapped_column(String)
    write_off_cost_center: Mapped[str | None] = mapped_column(String)
    write_off_limit: Mapped[Decimal | None]
    account_for_change_amount: Mapped[str | None] = mapped_column(String)
    cost_center: Mapped[str | None] = mapped_column(String)
    income_account: Mapped[str | None] = mapped_column(String)
    allow_rate_change: Mapped[bool] = mapped_column(default=False)
    allow_discount_change: Mapped[bool] = mapped_column(default=False)
    allow_partial_payment: Mapped[bool] = mapped_column(default=False)
    ignore_pricing_rule: Mapped[bool] = mapped_column(default=False)
    disable_rounded_total: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)

    payments: Mapped[list[PosPaymentMethod]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="PosPaymentMethod.idx"
    )
    applicable_for_users: Mapped[list[PosProfileUser]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )
    item_groups: Mapped[list[PosItemGroup]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )
    customer_groups: Mapped[list[PosCustomerGroup]] = relationship(
        back_populates="profile", cascade="all, delete-orphan"
    )


class PosPaymentMethod(Base):
    """POS Payment Method, plus the company account resolved from Mode of Payment Account."""

    __tablename__ = "pos_payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pos_profiles.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(default=1)
    mode_of_payment: Mapped[str] = mapped_column(String)
    default: Mapped[bool] = mapped_column(default=False)
    allow_in_returns: Mapped[bool] = mapped_column(default=False)
    account: Mapped[str | None] = mapped_column(String)

    profile: Mapped[PosProfile] = relationship(back_populates="payments")


class PosProfileUser(Base):
    __tablename__ = "pos_profile_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pos_profiles.name", ondelete="CASCADE"), index=True
    )
    user: Mapped[str] = mapped_column(String)
    default: Mapped[bool] = mapped_column(default=False)

    profile: Mapped[PosProfile] = relationship(back_populates="applicable_for_users")


class PosItemGroup(Base):
    __tablename__ = "pos_item_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pos_profiles.name", ondelete="CASCADE"), index=True
    )
    item_group: Mapped[str] = mapped_column(String)

    profile: Mapped[PosProfile] = relationship(back_populates="item_groups")


class PosCustomerGroup(Base):
    __tablename__ = "pos_customer_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("pos_profiles.name", ondelete="CASCADE"), index=True
    )
    customer_group: Mapped[str] = mapped_column(String)

    profile: Mapped[PosProfile] = relationship(back_populates="customer_groups")


class ModeOfPayment(Base):
    __tablename__ = "modes_of_payment"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    # Cash, Bank, General or Phone; Cash is what makes change possible.
    type: Mapped[str | None] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(default=True)
    modified: Mapped[str | None] = mapped_column(String)

    accounts: Mapped[list[ModeOfPaymentAccount]] = relationship(
        back_populates="mode_of_payment", cascade="all, delete-orphan"
    )


class ModeOfPaymentAccount(Base):
    __tablename__ = "mode_of_payment_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("modes_of_payment.name", ondelete="CASCADE"), index=True
    )
    company: Mapped[str] = mapped_column(String)
    default_account: Mapped[str | None] = mapped_column(String)

    mode_of_payment: Mapped[ModeOfPayment] = relationship(back_populates="accounts")


class TotalsSettingsRow(Base):
    """The site settings that change totals, pulled from System Settings / Global Defaults.

    A single row (``id`` is always 1): there is one site per till.
    """

    __tablename__ = "totals_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    currency: Mapped[str] = mapped_column(String)
    currency_precision: Mapped[int] = mapped_column(default=2)
    float_precision: Mapped[int] = mapped_column(default=3)
    rounding_method: Mapped[RoundingMethod] = mapped_column(
        enum_type(RoundingMethod, "rounding_method"), default=RoundingMethod.BANKERS
    )
    disable_rounded_total: Mapped[bool] = mapped_column(default=False)
    smallest_currency_fraction_value: Mapped[Decimal] = mapped_column(default=Decimal(0))
    number_format: Mapped[str | None] = mapped_column(String)
    time_zone: Mapped[str | None] = mapped_column(String)
    # System Settings country: where the site is (a till-made customer's address country).
    country: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)
    # The major version the agent last found on the server (sales.totals follows its rules).
    erpnext_version: Mapped[int] = mapped_column(default=15, server_default="15")

    def to_settings(self) -> TotalsSettings:
        """The engine's value type for these settings."""
        return TotalsSettings(
            currency=self.currency,
            currency_precision=self.currency_precision,
            float_precision=self.float_precision,
            rounding_method=self.rounding_method,
            disable_rounded_total=self.disable_rounded_total,
            smallest_currency_fraction_value=self.smallest_currency_fraction_value,
            erpnext_version=self.erpnext_version,
        )


class Currency(Base):
    """A Currency; its ``smallest_currency_fraction_value`` is what rounded totals round to.

    Kept per currency so the fraction follows when Global Defaults switches the site's currency;
    the totals settings row carries the value of the site's own currency.
    """

    __tablename__ = "currencies"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    smallest_currency_fraction_value: Mapped[Decimal] = mapped_column(default=Decimal(0))
    number_format: Mapped[str | None] = mapped_column(String)
    modified: Mapped[str | None] = mapped_column(String)


class Cashier(Base):
    """Who may sign in at the till. Only an Argon2 hash of the PIN is kept, never the PIN."""

    __tablename__ = "cashiers"

    user: Mapped[str] = mapped_column(String, primary_key=True)  # the ERPNext User
    full_name: Mapped[str] = mapped_column(String)
    pin_hash: Mapped[str] = mapped_column(String)
    role: Mapped[CashierRole] = mapped_column(
        enum_type(CashierRole, "cashier_role"), default=CashierRole.CASHIER
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    # Limits a supervisor must override; None means the role's default applies.
    max_discount_percentage: Mapped[Decimal | None]
    max_return_amount: Mapped[Decimal | None]
    modified: Mapped[str | None] = mapped_column(String)
    # The POS Profile whose user row this cashier was pulled from; None for one set up on the
    # till itself (the demo). A pull manages only its own profile's cashiers.
    pos_profile: Mapped[str | None] = mapped_column(String)
