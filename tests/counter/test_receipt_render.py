"""`appliance receipt render`: a stored sale, rendered from the bytes the printer driver sends."""

from __future__ import annotations

from decimal import Decimal as D
from functools import partial
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update
from sqlalchemy.orm import Session

from appliance.cli import main
from appliance.counter.checkout import Checkout
from appliance.counter.receipts import ReceiptNotFoundError, ReceiptSource, receipt_for
from appliance.demo.masters import ean13
from appliance.sales import cart as carts
from appliance.sales.model import PaymentLine
from appliance.sales.till import Till
from appliance.store.db import create_db_engine
from appliance.store.models import OutboxEntry, OutboxState

CASHIER = "ana@example.com"


def _sell(checkout: Checkout) -> str:
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    cart = checkout.new_cart()
    for code in (ean13(f"06{n:010d}") for n in (10, 11)):
        cart = checkout.read(partial(_scan, cart, code))
    cart = carts.add_payment(cart, PaymentLine("Cash", D(500), type="Cash"))
    return checkout.commit(cart, CASHIER).receipt_no


def _render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["receipt", "render", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_stored_sale_renders_as_the_printer_prints_it(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_no = _sell(checkout)
    code, text, err = _render(capsys, receipt_no)
    assert code == 0, err
    lines = text.splitlines()
    assert "OFFLINE SALE" in text  # not synced yet
    assert "-" * 48 in lines  # 80 mm: 48 columns
    assert f"[QR {receipt_no}]" in lines  # decoded from GS ( k, not from the document
    assert any(line.startswith("Cashier") and "Ana" in line for line in lines)
    assert "Change" in text and lines[-1] == "[CUT partial]"

    code, narrow, _ = _render(capsys, receipt_no, "--width", "58")
    assert code == 0 and "-" * 32 in narrow.splitlines() and "-" * 33 not in narrow


def test_a_synced_sale_has_no_offline_marker(
    checkout: Checkout, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_no = _sell(checkout)
    engine = create_db_engine(data_dir / "pos.db")
    with Session(engine) as session:
        session.execute(update(OutboxEntry).values(state=OutboxState.DONE))
        session.commit()
        source = ReceiptSource.of(checkout.profile, "DEMO1")
        assert receipt_for(session, receipt_no, source).offline is False
        with pytest.raises(ReceiptNotFoundError):
            receipt_for(session, "DEMO1-999999", source)
    engine.dispose()
    code, text, _ = _render(capsys, receipt_no)
    assert code == 0 and "OFFLINE" not in text and receipt_no in text


def test_png_preview(
    checkout: Checkout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_no = _sell(checkout)
    target = tmp_path / "r.png"
    code, out, err = _render(capsys, receipt_no, "--png", str(target))
    assert code == 0, err
    assert out.strip() == str(target)
    with Image.open(target) as img:
        assert img.width == 48 * 12 + 2 * 16  # 576 dots of an 80 mm head, plus margins
        assert img.height > 600


def test_an_unknown_receipt_is_one_line_and_non_zero(
    checkout: Checkout, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _render(capsys, "DEMO1-424242")
    assert code == 1 and out == ""
    assert err == "receipt: no sale 'DEMO1-424242' on this till\n"


def _scan(cart: carts.Cart, code: str, till: Till) -> carts.Cart:
    return till.scan(cart, code)
