"""Held (parked) sales in the store: parked in one transaction, taken back in one.

A held cart lives in the ``held_sales`` table, not in the till's memory, so a restart, a crash
or a supervisor's shut-down never loses one; the next cashier at this till can recall it.

The cart goes as canonical JSON, money as exact strings. Only what the cashier built is kept
(lines, customer, taxes, discounts, payments): the totals are computed again on the way back
(`cart.recompute`), by the same engine, so a recalled cart can never carry totals that disagree
with its lines.
"""

from __future__ import annotations

import dataclasses
import logging
import types
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appliance.sales.cart import Cart, CartError, HeldCart, recompute
from appliance.store import jsonutil
from appliance.store.models import HeldSale

log = logging.getLogger(__name__)


def park(session: Session, held: HeldCart, cashier: str) -> None:
    """Write a held cart in the caller's transaction (``unit_of_work``)."""
    session.add(
        HeldSale(
            offline_id=held.cart.offline_id,
            label=held.label,
            held_at=held.held_at,
            cashier=cashier,
            cart=dumps_cart(held.cart),
        )
    )


def held_carts(session: Session) -> tuple[HeldCart, ...]:
    """Every held cart at this till, oldest first (one that cannot be read back is logged for
    IT and left in the table, never dropped)."""
    out: list[HeldCart] = []
    for row in session.scalars(select(HeldSale).order_by(HeldSale.id)):
        try:
            out.append(HeldCart(label=row.label, cart=loads_cart(row.cart), held_at=row.held_at))
        except CartError as exc:
            log.error("held sale %s (%s) left in the store: %s", row.offline_id, row.label, exc)
    return tuple(out)


def take(session: Session, offline_id: str) -> None:
    """Remove a held cart being recalled, in the caller's transaction; CartError if it is gone
    (recalled meanwhile by another till process, which is not expected, but never twice)."""
    removed = session.execute(delete(HeldSale).where(HeldSale.offline_id == offline_id))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise CartError("That held sale was already recalled")


def dumps_cart(cart: Cart) -> str:
    data = dataclasses.asdict(dataclasses.replace(cart, totals=None))
    del data["totals"]
    return jsonutil.canonical(data)


def loads_cart(text: str) -> Cart:
    """The cart ``dumps_cart`` wrote, its totals recomputed (CartError if it is not one)."""
    try:
        cart = _decode(Cart, jsonutil.loads(text))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CartError(f"This held sale cannot be read back ({exc})") from None
    return recompute(cart)


def _decode(tp: Any, value: Any) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value)
    if tp is Decimal:
        return Decimal(str(value))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if tp in (str, int, bool):
        if not isinstance(value, tp):
            raise TypeError(f"expected {tp.__name__}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = get_type_hints(tp)
        return tp(
            **{
                f.name: _decode(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.name in value
            }
        )
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin in (Mapping, dict):
        return {str(k): _decode(args[1], v) for k, v in value.items()}
    raise TypeError(f"cannot read {tp!r} from JSON")
