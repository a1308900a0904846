"""Quick keys: goods with no barcode (bread, coffee, produce) picked from a grid, not searched for.

The grid's first page is this till's most-sold items of the last weeks; its tabs are the POS
Profile's item groups as set in ERPNext (``item_groups``, the same list ERPNext's own POS filters
by), or, when the profile names none, every group that holds sellable items. A group's page lists
its items and its sub-groups' items, those that can't be scanned first (weighed goods and goods
with no barcode: they are why the grid exists), then by name. Templates, disabled items and
items not for sale never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, desc, exists, func, literal, select
from sqlalchemy.orm import Session

from appliance.store.models import (
    Item,
    ItemBarcode,
    ItemGroup,
    PosInvoice,
    PosInvoiceItem,
    PosItemGroup,
)

PAGE = 10  # keys 1-9 and 0 on the grid
FAVOURITES_DAYS = 28


@dataclass(frozen=True)
class QuickItem:
    item_code: str
    item_name: str
    stock_uom: str
    is_weighed: bool  # the till asks the scale for it


@dataclass(frozen=True)
class QuickPage:
    items: tuple[QuickItem, ...]
    more: bool  # another page follows


def _sellable() -> ColumnElement[bool]:
    return (~Item.disabled) & Item.is_sales_item & (~Item.has_variants)


def quick_groups(session: Session, pos_profile: str) -> tuple[str, ...]:
    """The grid's tabs: the profile's item groups, else every group with sellable items."""
    chosen = tuple(
        session.scalars(
            select(PosItemGroup.item_group)
            .where(PosItemGroup.parent == pos_profile)
            .order_by(PosItemGroup.id)
        )
    )
    if chosen:
        return chosen
    stocked = select(Item.item_group).where(_sellable()).distinct()
    return tuple(session.scalars(stocked.order_by(Item.item_group)))


def favourites(
    session: Session, terminal_id: str, today: date, *, limit: int = PAGE
) -> tuple[QuickItem, ...]:
    """This till's most-sold items (by sales that had them) over the last four weeks."""
    since = date.fromordinal(today.toordinal() - FAVOURITES_DAYS)
    # The four weeks' sales first, from the index that holds their date, number and kind
    # (ix_pos_invoices_posted): joined the other way, SQLite read every line the till ever
    # sold, and its sale, to group them (seconds at 200,000 sales).
    recent = select(PosInvoice.id).where(
        PosInvoice.posting_date >= since,
        ~PosInvoice.is_return,
        PosInvoice.receipt_no.like(f"{terminal_id}-%"),
    )
    sold = (
        select(PosInvoiceItem.item_code, func.count(PosInvoiceItem.id).label("sales"))
        .where(PosInvoiceItem.invoice_id.in_(recent))
        .group_by(PosInvoiceItem.item_code)
        .subquery()
    )
    rows = session.execute(
        select(Item)
        .join(sold, sold.c.item_code == Item.item_code)
        .where(_sellable())
        .order_by(desc(sold.c.sales), Item.item_name)
        .limit(limit)
    ).scalars()
    return tuple(_quick(item) for item in rows)


def group_page(session: Session, group: str, page: int = 0, *, per_page: int = PAGE) -> QuickPage:
    """One page of a group's items, sub-groups included: unscannable first, then by name."""
    # From the name itself: a group the profile names is listed even if its node was not pulled.
    tree = select(literal(group).label("name")).cte("tree", recursive=True)
    tree = tree.union(select(ItemGroup.name).where(ItemGroup.parent_item_group == tree.c.name))
    # Weighed goods are keyed (by PLU) or picked, never scanned; so are goods with no barcode.
    scanned = ~Item.is_weighed & exists().where(ItemBarcode.parent == Item.name)
    rows = session.scalars(
        select(Item)
        .where(_sellable(), Item.item_group.in_(select(tree.c.name)))
        .order_by(scanned, Item.item_name, Item.item_code)
        .offset(max(page, 0) * per_page)
        .limit(per_page + 1)
    ).all()
    return QuickPage(tuple(_quick(item) for item in rows[:per_page]), more=len(rows) > per_page)


def _quick(item: Item) -> QuickItem:
    return QuickItem(item.item_code, item.item_name, item.stock_uom, item.is_weighed)
