"""The ERPNext secret stays secret: a malformed or exposed secret file, and error texts quoting
credentials, against the fake ERPNext over real HTTP and the real CLI processes.

A secret file with a line break in it once made ``requests`` put the whole ``Authorization``
header, secret included, into its exception; that text reached ``appliance sync --once``, the
agent's log, ``appliance status``, the store and the support bundle. Each of those is searched
here, byte for byte, for any part of the secret.
"""

from __future__ import annotations

import tarfile
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.counter.checkout import Checkout
from appliance.store.db import create_db_engine, make_session_factory
from appliance.store.models import PosInvoice
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, sell, write_config
from tests.agent.test_e2e import AgentProcess, _env, _status, _wait
from tests.support.conftest import run_cli

# Two halves, each distinctive enough that any trace of either is found.
HALF_A = "Qz7-first-half-9Wm"
HALF_B = "Kp3-second-half-4Xr"
NEWLINE_SECRET = f"{HALF_A}\n{HALF_B}"


def _stored_bytes(db: Path) -> bytes:
    """The store as it is on disk: the database file and whatever its WAL still holds."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def _bundle_text(out: Path) -> str:
    with tarfile.open(out) as tar:
        return "".join(
            tar.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        )


def _assert_absent(where: str, text: str | bytes, *needles: str) -> None:
    for needle in needles:
        raw = needle.encode() if isinstance(text, bytes) else needle
        assert raw not in text, f"{needle!r} found in {where}"  # type: ignore[operator]


def test_a_secret_file_with_a_line_break_is_refused_and_leaks_nowhere(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, tmp_path: Path
) -> None:
    config = write_config(tmp_path, erp)
    secret_file = tmp_path / "erpnext.secret"
    secret_file.write_text(NEWLINE_SECRET + "\n", encoding="utf-8")
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    sell(checkout, 1, 2)

    code, summary, err = run_cli("sync", "--once", "--verbose", "--config", str(config))
    # A person must fix the file: the sync stops (exit 3), it does not retry as if offline.
    assert code == 3, err
    last = err.strip().splitlines()[-1]
    assert "api_secret_file" in last and str(secret_file) in last
    assert "line break" in last or "control character" in last
    assert summary is not None and summary["link"] == "stopped"
    assert not erp.log, "nothing is sent with a secret that cannot be right"
    _assert_absent("sync --once output", f"{summary}\n{err}", HALF_A, HALF_B)

    env = _env(tmp_path, config)
    agent = AgentProcess(env, tmp_path / "agent.log")
    agent.start()
    try:
        _wait(
            "the agent to stop on the secret", lambda: _status(env)["link"] == "stopped", 30, agent
        )
        status = _status(env)
        agent.terminate()
    finally:
        agent.close()
    assert "api_secret_file" in status["last_error"]
    _assert_absent("appliance status", str(status), HALF_A, HALF_B)
    _assert_absent("the agent's log", agent.log_file.read_text(encoding="utf-8"), HALF_A, HALF_B)
    _assert_absent("the database file", _stored_bytes(db_path), HALF_A, HALF_B)

    out = tmp_path / "bundle.tar.gz"
    code, _, err = run_cli("support-bundle", "--config", str(config), "--out", str(out))
    assert code == 0, err
    _assert_absent("the support bundle", _bundle_text(out), HALF_A, HALF_B)


def test_header_values_never_reach_an_error(erp: FakeERPNext) -> None:
    """Defence in depth: a secret that got past the file check still is not echoed back."""
    try:
        client = ERPNextClient(erp.url, erp.api_key, NEWLINE_SECRET, timeout=5)
        client.get_list("Item")
    except ERPNextError as exc:
        assert exc.kind is ErrorKind.STOP
        _assert_absent("the client's error", f"{exc}\n{exc!r}", HALF_A, HALF_B, erp.api_key)
    else:
        raise AssertionError("a header with a line break was sent")
    assert not erp.log


def test_erpnext_quoting_the_token_back_is_scrubbed_where_stored_and_shown(
    checkout: Checkout, db_path: Path, erp: FakeERPNext, tmp_path: Path
) -> None:
    """A proxy or ERPNext error page that echoes the Authorization header back: the message is
    kept (support needs it), the credentials in it are not."""
    config = write_config(tmp_path, erp)
    checkout.open_shift(CASHIER, {"Cash": D(100)})
    sell(checkout, 3)
    with make_session_factory(create_db_engine(db_path), read_only=True)() as session:
        offline_id = session.scalars(select(PosInvoice.offline_id)).one()
    echoed = f"Bad request, headers were Authorization: token {erp.api_key}:{erp.api_secret}"
    erp.reject(offline_id, echoed)

    code, summary, err = run_cli("sync", "--once", "--config", str(config))
    assert code == 0, err
    status = _status(_env(tmp_path, config))
    assert status["quarantined_count"] == 1
    assert status["quarantined"][0]["message"].startswith("Bad request, headers were")
    for where, text in (
        ("sync output", f"{summary}{err}"),
        ("status", str(status)),
    ):
        _assert_absent(where, text, erp.api_secret)
    _assert_absent("the database file", _stored_bytes(db_path), erp.api_secret)


def test_a_secret_file_others_can_read_is_refused_with_the_fix(
    db_path: Path, erp: FakeERPNext, tmp_path: Path
) -> None:
    config = write_config(tmp_path, erp)
    secret_file = tmp_path / "erpnext.secret"
    secret_file.chmod(0o644)

    code, summary, err = run_cli("sync", "--once", "--config", str(config))
    assert code == 3, err
    last = err.strip().splitlines()[-1]
    assert str(secret_file) in last
    assert "readable by group or others" in last and f"chmod 600 {secret_file}" in last
    assert summary is not None and summary["link"] == "stopped"
    assert not erp.log, "the secret is not used until its file is private"

    secret_file.chmod(0o600)
    code, summary, err = run_cli("sync", "--once", "--config", str(config))
    assert code == 0, err
