"""``db check`` passes a healthy database and names each planted violation."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.check import Problem, check_database
from appliance.store.db import unit_of_work
from tests.store.factories import commit_one


def _problems(factory: sessionmaker[Session]) -> list[Problem]:
    with unit_of_work(factory) as uow:
        return check_database(uow.session)


def _plant(db_file: Path, *statements: str) -> None:
    # sqlite3 leaves foreign keys off: exactly how a bad tool or a bug could break things.
    conn = sqlite3.connect(db_file)
    try:
        with conn:
            for sql in statements:
                conn.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def sales(factory: sessionmaker[Session], shift: str) -> list[str]:
    return [commit_one(factory, shift).offline_id for _ in range(3)]


def test_healthy_database_is_clean(factory: sessionmaker[Session], sales: list[str]) -> None:
    assert _problems(factory) == []


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE pos_invoice_payments SET amount = '1.00' WHERE invoice_id = 2"], "payments_sum"),
        (["UPDATE pos_invoice_items SET amount = '0.01' WHERE id = 1"], "items_sum"),
        (["DELETE FROM pos_invoice_items WHERE invoice_id = 2"], "sale_without_items"),
        (["DELETE FROM journal WHERE kind = 'sale' AND seq = 3"], "sale_without_journal"),
        (
            [
                "DELETE FROM outbox_dependencies WHERE entry_id = 3",
                "DELETE FROM outbox WHERE id = 3",
            ],
            "sale_without_outbox",
        ),
        (["DELETE FROM outbox WHERE id = 1"], "outbox_missing_dependency"),
        (["DELETE FROM pos_opening_entries"], "sale_without_shift"),
        (["UPDATE pos_invoices SET payload = '{}' WHERE id = 1"], "payload_fingerprint"),
        (["UPDATE pos_invoices SET is_return = 1 WHERE id = 1"], "return_without_original"),
        (["DELETE FROM pos_invoices WHERE id = 3"], "outbox_without_sale"),
        (["UPDATE outbox SET state = 'DONE' WHERE id = 2"], "outbox_done_without_name"),
    ],
)
def test_planted_violation_is_found(
    factory: sessionmaker[Session],
    sales: list[str],
    db_file: Path,
    statements: list[str],
    expected: str,
) -> None:
    _plant(db_file, *statements)
    found = {p.check for p in _problems(factory)}
    assert expected in found


def test_broken_foreign_key_is_reported(
    factory: sessionmaker[Session], sales: list[str], db_file: Path
) -> None:
    _plant(db_file, "DELETE FROM pos_invoices WHERE id = 1")
    found = {p.check for p in _problems(factory)}
    assert "foreign_key_check" in found  # its items now point at nothing


def test_cli_db_check(
    factory: sessionmaker[Session],
    sales: list[str],
    db_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from appliance.cli import main

    monkeypatch.setenv("APPLIANCE_DATA", str(db_file.parent))
    assert main(["db", "check"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "database": str(db_file),
        "ok": True,
        "problems": [],
    }
    _plant(db_file, "DELETE FROM pos_invoice_items WHERE invoice_id = 1")
    assert main(["db", "check"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"]
    assert {"check": "sale_without_items", "message": "sale has no item rows", "ref": sales[0]} in (
        report["problems"]
    )
    monkeypatch.setenv("APPLIANCE_DATA", str(db_file.parent / "nowhere"))
    assert main(["db", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("db check: no database at") and err.count("\n") == 1


def test_unmigrated_database_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from appliance.cli import main

    sqlite3.connect(tmp_path / "pos.db").close()
    monkeypatch.setenv("APPLIANCE_DATA", str(tmp_path))
    assert main(["db", "check"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"][0]["check"] == "schema"
    assert main(["journal", "verify"]) == 2
    assert "not migrated" in capsys.readouterr().err
