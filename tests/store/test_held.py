"""Held carts in the store: what goes in comes back, to the cent, with the same totals."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from appliance.sales.cart import (
    Cart,
    CartError,
    CartLine,
    HeldCart,
    add_line,
    add_payment,
    set_cart_discount,
    set_line_discount,
)
from appliance.sales.model import ChargeType, PaymentLine, TaxLine, TotalsSettings
from appliance.store import held
from appliance.store.db import unit_of_work


def a_cart() -> Cart:
    cart = Cart(
        TotalsSettings(smallest_currency_fraction_value=D("0.05")),
        offline_id="8a0d1f5e-6a8e-4c55-9d1c-0a6b1f2e3d4c",
        customer="Walk-in",
        taxes=(TaxLine(ChargeType.ON_NET_TOTAL, "GST - X", D("5")),),
    )
    cart = add_line(cart, CartLine(0, "MILK", "Milk 2L", D("2"), D("4.49")))
    weighed = CartLine(0, "APPLES", "Apples", D("0.735"), D("3.99"), is_weighed=True)
    cart = add_line(cart, weighed)
    cart = set_line_discount(cart, 1, D("10"))
    cart = set_cart_discount(cart, percentage=D("2.5"))
    return add_payment(cart, PaymentLine("Cash", D("5.00"), "Cash"))


def test_a_held_cart_comes_back_as_it_was(factory: sessionmaker[Session]) -> None:
    cart = a_cart()
    with unit_of_work(factory) as uow:
        held.park(uow.session, HeldCart("10:42 2 lines", cart, "2026-12-07T10:42:00"), "ana")
        uow.commit()
    with factory() as session:
        (back,) = held.held_carts(session)
    assert back.cart == cart  # totals recomputed to the same figures, Decimals digit for digit
    assert back.label == "10:42 2 lines" and back.held_at == "2026-12-07T10:42:00"

    with unit_of_work(factory) as uow:
        held.take(uow.session, cart.offline_id)
        uow.commit()
    with factory() as session:
        assert held.held_carts(session) == ()
    with unit_of_work(factory) as uow, pytest.raises(CartError, match="already recalled"):
        held.take(uow.session, cart.offline_id)


def test_an_unreadable_held_cart_is_left_in_the_store(
    factory: sessionmaker[Session], db_file: Path
) -> None:
    with unit_of_work(factory) as uow:
        held.park(uow.session, HeldCart("kept", a_cart(), "2026-12-07T10:42:00"), "ana")
        uow.commit()
    conn = sqlite3.connect(db_file)
    with conn:
        conn.execute("UPDATE held_sales SET cart = '{\"lines\": 3}'")
    conn.close()
    with factory() as session:
        assert held.held_carts(session) == ()
    conn = sqlite3.connect(db_file)
    assert conn.execute("SELECT count(*) FROM held_sales").fetchone()[0] == 1
    conn.close()
