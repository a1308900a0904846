"""What the tests of the recorded POS features (tests/data/erpnext/features/) share: the fake in
both modes, ERPNext's recorded refusals, a pull and a customer's sale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.agent.client import ERPNextClient
from appliance.agent.pull import Puller
from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from appliance.sales.cart import Cart
from appliance.store.db import create_db_engine, make_session_factory
from fakeerp import FakeERPNext
from tests.agent.conftest import SMALL, barcode
from tests.shared import DATA, scan_on

FEATURES = DATA / "features"
SI, PI = "Sales Invoice", "POS Invoice"
# The two ways a POS sale reaches ERPNext: (version, doctype), for ``pytest.fixture(params=)``.
BOTH_MODES = [(15, PI), (16, SI)]
BOTH_MODE_IDS = ["v15-pos-invoice", "v16-sales-invoice"]


def recorded_error(stem: str) -> tuple[int, str, str]:
    """A recorded refusal: its HTTP status, exception type and message."""
    meta = json.loads((FEATURES / f"{stem}.meta.json").read_text())
    body = json.loads((FEATURES / f"{stem}.response.json").read_text())
    message = json.loads(json.loads(body["_server_messages"])[0])["message"]
    return meta["status"], body["exc_type"], message


def fake_in_mode(mode: tuple[int, str]) -> Iterator[tuple[FakeERPNext, str]]:
    """The fake ERPNext of that version posting POS sales as that doctype."""
    version, doctype = mode
    options: dict[str, Any] = {"version": version}
    if version == 16:
        options["invoice_type"] = doctype
    with FakeERPNext(all_masters(SMALL), **options) as fake:
        yield fake, doctype


def pull(client: ERPNextClient, db_path: Path, **options: Any) -> None:
    engine = create_db_engine(db_path)
    Puller(
        client,
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        **options,
    ).pull()


def customer_sale(checkout: Checkout, customer: str | None, *codes: int) -> Cart:
    """A new cart for ``customer`` with the demo items of these numbers scanned."""
    cart = checkout.new_cart(customer)
    for n in codes:
        cart = checkout.read(scan_on(cart, barcode(n)))
    return cart
