"""Customers, their Addresses and the trees they are matched against (Customer Group, Territory)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appliance.store.models.base import Base
from appliance.store.models.enums import CustomerSyncState, enum_type


class Customer(Base):
    """A Customer pulled from ERPNext, or created on the till (``offline_id`` set).

    A till-created customer is named by its offline id until ERPNext has it: ERPNext renames
    duplicates silently, so only the offline id can match the two (FACTS, surprises).
    The billing and shipping fields are the default Addresses', flattened for Tax Rule matching.
    """

    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    # NOCASE so a case-insensitive prefix search (LIKE 'abc%') can use the index.
    customer_name: Mapped[str] = mapped_column(String(collation="NOCASE"), index=True)
    customer_type: Mapped[str | None] = mapped_column(String)
    customer_group: Mapped[str | None] = mapped_column(String, index=True)
    territory: Mapped[str | None] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    tax_id: Mapped[str | None] = mapped_column(String)
    default_price_list: Mapped[str | None] = mapped_column(String)
    disabled: Mapped[bool] = mapped_column(default=False)
    mobile_no: Mapped[str | None] = mapped_column(String, index=True)
    email_id: Mapped[str | None] = mapped_column(String)
    billing_city: Mapped[str | None] = mapped_column(String)
    billing_county: Mapped[str | None] = mapped_column(String)
    billing_state: Mapped[str | None] = mapped_column(String)
    billing_zipcode: Mapped[str | None] = mapped_column(String)
    billing_country: Mapped[str | None] = mapped_column(String)
    shipping_city: Mapped[str | None] = mapped_column(String)
    shipping_county: Mapped[str | None] = mapped_column(String)
    shipping_state: Mapped[str | None] = mapped_column(String)
    shipping_zipcode: Mapped[str | None] = mapped_column(String)
    shipping_country: Mapped[str | None] = mapped_column(String)
    # The billing (or shipping) Address's tax_category; it overrides the customer's (FACTS §3.6).
    address_tax_category: Mapped[str | None] = mapped_column(String)
    # The Loyalty Program the customer is enrolled in (features/NOTES.md §1).
    loyalty_program: Mapped[str | None] = mapped_column(String)
    offline_id: Mapped[str | None] = mapped_column(String, unique=True)
    sync_state: Mapped[CustomerSyncState] = mapped_column(
        enum_type(CustomerSyncState, "customer_sync_state"), default=CustomerSyncState.SYNCED
    )
    modified: Mapped[str | None] = mapped_column(String)


class CustomerGroup(Base):
    __tablename__ = "customer_groups"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    parent_customer_group: Mapped[str | None] = mapped_column(String, index=True)
    is_group: Mapped[bool] = mapped_column(default=False)
    default_price_list: Mapped[str | None] = mapped_column(String)
    lft: Mapped[int | None]
    rgt: Mapped[int | None]
    modified: Mapped[str | None] = mapped_column(String)


class Territory(Base):
    __tablename__ = "territories"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    parent_territory: Mapped[str | None] = mapped_column(String, index=True)
    is_group: Mapped[bool] = mapped_column(default=False)
    lft: Mapped[int | None]
    rgt: Mapped[int | None]
    modified: Mapped[str | None] = mapped_column(String)


class Address(Base):
    """A customer's Address as pulled; the chosen billing/shipping one is flattened onto the
    customer's ``billing_*``/``shipping_*`` columns (``appliance.store.addresses``)."""

    __tablename__ = "addresses"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    address_type: Mapped[str | None] = mapped_column(String)
    city: Mapped[str | None] = mapped_column(String)
    county: Mapped[str | None] = mapped_column(String)
    state: Mapped[str | None] = mapped_column(String)
    pincode: Mapped[str | None] = mapped_column(String)
    country: Mapped[str | None] = mapped_column(String)
    tax_category: Mapped[str | None] = mapped_column(String)
    is_primary_address: Mapped[bool] = mapped_column(default=False)
    is_shipping_address: Mapped[bool] = mapped_column(default=False)
    disabled: Mapped[bool] = mapped_column(default=False)
    modified: Mapped[str | None] = mapped_column(String)

    links: Mapped[list[AddressLink]] = relationship(
        back_populates="address", cascade="all, delete-orphan"
    )


class AddressLink(Base):
    """Dynamic Link row of an Address: which party (``link_doctype``, ``link_name``) it serves."""

    __tablename__ = "address_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey("addresses.name", ondelete="CASCADE"), index=True
    )
    link_doctype: Mapped[str] = mapped_column(String)
    link_name: Mapped[str] = mapped_column(String, index=True)

    address: Mapped[Address] = relationship(back_populates="links")


class SalesPerson(Base):
    """A Sales Person, pulled so a sale names one ERPNext has: ERPNext 16 refuses an unknown
    one at submit, 15 takes it and books commission to nobody (features/NOTES.md §6)."""

    __tablename__ = "sales_persons"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    sales_person_name: Mapped[str | None] = mapped_column(String)
    is_group: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    modified: Mapped[str | None] = mapped_column(String)
