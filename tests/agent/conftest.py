"""A seeded store in a real SQLite file, a Checkout on it, and a fake ERPNext on 127.0.0.1
serving the same masters."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from decimal import Decimal as D
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from appliance.agent.client import ERPNextClient
from appliance.agent.push import Backoff, Pusher
from appliance.cli import main
from appliance.config import load_config
from appliance.counter.checkout import Checkout, CounterSetup
from appliance.counter.commands import open_checkout
from appliance.demo import DEMO_CONFIG
from appliance.demo.masters import DemoSize, all_masters, ean13
from appliance.demo.seed import seed_demo
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.sales.till import Till
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import JournalEntry
from fakeerp import FakeERPNext

SMALL = DemoSize(items=60, extra_barcodes=20, customers=10)
CASHIER = "ana@example.com"


def barcode(n: int) -> str:
    return ean13(f"06{n:010d}")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("agent-template") / "pos.db"
    upgrade_to_head(db)
    seed_demo(make_session_factory(create_db_engine(db)), SMALL)
    return db


@pytest.fixture
def db_path(tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with sqlite3.connect(seeded_template) as src, sqlite3.connect(tmp_path / "pos.db") as dst:
        src.backup(dst)
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path))
    monkeypatch.setenv("APPLIANCE_CONFIG", str(DEMO_CONFIG))
    return tmp_path / "pos.db"


@pytest.fixture
def checkout(db_path: Path) -> Iterator[Checkout]:
    co = open_checkout(load_config(DEMO_CONFIG), db_path)
    yield co
    co.close()


@pytest.fixture
def erp() -> Iterator[FakeERPNext]:
    with FakeERPNext(all_masters(SMALL)) as fake:
        yield fake


def make_client(erp: FakeERPNext, secret: str | None = None, timeout: float = 5.0) -> ERPNextClient:
    return ERPNextClient(erp.url, erp.api_key, secret or erp.api_secret, timeout=timeout)


@pytest.fixture
def client(erp: FakeERPNext) -> Iterator[ERPNextClient]:
    c = make_client(erp)
    yield c
    c.close()


def make_pusher(client: ERPNextClient, db_path: Path, **kw: object) -> Pusher:
    engine = create_db_engine(db_path)
    options: dict[str, object] = {
        "backoff": Backoff(base=0.05, cap=0.2, rng=random.Random(1)),
        "batch_size": 10,
    }
    options.update(kw)
    return Pusher(
        client,
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def pusher(client: ERPNextClient, db_path: Path) -> Pusher:
    return make_pusher(client, db_path)


def sell(
    checkout: Checkout, *codes: int, change: D = D(0), customer: str | None = None
) -> carts.Cart:
    """Scan the demo barcodes of these item numbers, pay cash (plus ``change``), commit."""
    cart = checkout.new_cart(customer)
    for n in codes:
        code = barcode(n)
        cart = checkout.read(partial(_scan, cart, code))
    tender = cart.amount_due + change
    cart = carts.add_payment(cart, PaymentLine("Cash", tender, type="Cash"))
    checkout.commit(cart, CASHIER)
    return cart


def return_all(checkout: Checkout, receipt_no: str) -> carts.Cart:
    original, _ = checkout.return_source(receipt_no)
    back = checkout.start_return(receipt_no, {line.line_id: line.qty for line in original.lines})
    back = carts.add_payment(back, PaymentLine("Cash", back.amount_due, type="Cash"))
    checkout.commit(back, CASHIER)
    return back


def write_config(directory: Path, erp: FakeERPNext, secret: str | None = None) -> Path:
    """A terminal config whose [erpnext] section points at the fake (secret in a file)."""
    secret_file = directory / "erpnext.secret"
    secret_file.write_text((secret or erp.api_secret) + "\n", encoding="utf-8")
    secret_file.chmod(0o600)  # as provisioning writes it: the agent refuses a wider one
    config = directory / "appliance.toml"
    config.write_text(
        f"""[terminal]
id = "DEMO1"

[erpnext]
url = "{erp.url}"
api_key = "{erp.api_key}"
api_secret_file = "{secret_file}"
pos_profile = "Main POS"
timeout = 5

[scan]
embedded_layouts = ["20IIIIIWWWWWC", "22IIIIIPPPPPC"]
weight_uoms = ["Kg"]
""",
        encoding="utf-8",
    )
    return config


def _scan(cart: carts.Cart, code: str, till: Till) -> carts.Cart:
    return till.scan(cart, code)


def journal_of(db_path: Path, kind: str) -> list[JournalEntry]:
    """The audit journal's entries of one kind."""
    with make_session_factory(create_db_engine(db_path), read_only=True)() as session:
        return list(session.scalars(select(JournalEntry).where(JournalEntry.kind == kind)))


def sync_once(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    """``appliance sync --once``: its exit code, its JSON summary, what it said on stderr."""
    code = main(["sync", "--once"])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def open_shift_over_http(
    erp: FakeERPNext,
    pos_profile: str,
    as_user: tuple[str, str, str],
    opening_amount: int = 0,
    start: str = "%Y-%m-%d %H:%M:%S",
) -> requests.Response:
    """Another till (or a person) opens a shift in ERPNext over HTTP as ``(key, secret,
    user)``; ``start``: the format of its start time on the site's today."""
    key, secret, user = as_user
    now = erp.site.now()
    return requests.post(
        f"{erp.url}/api/resource/POS Opening Entry",
        headers={"Authorization": f"token {key}:{secret}"},
        json={
            "company": "Prairie Pine Co",
            "pos_profile": pos_profile,
            "user": user,
            "period_start_date": now.strftime(start),
            "posting_date": now.date().isoformat(),
            "balance_details": [{"mode_of_payment": "Cash", "opening_amount": opening_amount}],
            "docstatus": 1,
        },
        timeout=10,
    )


# The tender the store-credit tests spend: a Mode of Payment the till is told is store credit.
GIFT_CARD = "Gift Card"


@pytest.fixture
def till(db_path: Path) -> Iterator[Checkout]:
    """A till whose Gift Card mode is store credit ([terminal] store_credit_modes)."""
    engine = create_db_engine(db_path)
    co = Checkout(
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        CounterSetup("DEMO1", "Main POS", store_credit_modes=(GIFT_CARD,)),
    )
    yield co
    co.close()
