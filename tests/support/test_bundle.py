"""``appliance support-bundle`` on a till that sold and synced with the fake ERPNext over HTTP.

Secrets are planted where a careless bundle would pick them up (the secret file, the config's
key, a token in the agent's last error) and the extracted tarball is searched for them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tarfile
from decimal import Decimal as D
from pathlib import Path

from appliance.counter.checkout import Checkout
from appliance.demo.masters import all_masters
from appliance.store import sync_state as state
from appliance.store.db import create_db_engine, make_session_factory
from fakeerp import FakeERPNext
from tests.agent.conftest import CASHIER, SMALL, sell, write_config
from tests.support.conftest import run_cli

SECRET = "S3cr3t-never-leaves-0d5e"
API_KEY = "key-planted-7f3a91"
TOKEN = "tok-planted-b2c4"


def _extract(bundle: Path, into: Path) -> dict[str, str]:
    with tarfile.open(bundle) as tar:
        tar.extractall(into, filter="data")
    return {
        str(p.relative_to(into)).split("/", 1)[1]: p.read_text(encoding="utf-8")
        for p in sorted(into.rglob("*"))
        if p.is_file()
    }


def test_bundle_has_state_receipts_and_no_secret(
    db_path: Path, checkout: Checkout, tmp_path: Path
) -> None:
    with FakeERPNext(all_masters(SMALL), api_key=API_KEY, api_secret=SECRET) as erp:
        config = write_config(tmp_path, erp)
        config.write_text(
            config.read_text(encoding="utf-8")
            + f'\n# old key, kept by hand: api_key = "{API_KEY}"\n',
            encoding="utf-8",
        )
        checkout.open_shift(CASHIER, {"Cash": D(100)})
        sell(checkout, 1, 2)
        sell(checkout, 3)
        code, _, err = run_cli("sync", "--once", "--config", str(config))
        assert code == 0, err
        assert len(erp.site.all("POS Invoice")) == 2
    with sqlite3.connect(db_path) as conn:
        receipts = [r for (r,) in conn.execute("SELECT receipt_no FROM pos_invoices ORDER BY id")]
    engine = create_db_engine(db_path)
    state.write_state(
        make_session_factory(engine),
        {"last_error": f"HTTP 401 for Authorization: token {API_KEY}:{TOKEN}"},
    )
    engine.dispose()

    out = tmp_path / "out" / "bundle.tar.gz"
    code, summary, err = run_cli(
        "support-bundle", "--config", str(config), "--out", str(out), "--since-hours", "1"
    )
    assert code == 0, err
    assert out.stat().st_mode & 0o777 == 0o600
    files = _extract(out, tmp_path / "x")
    assert {
        "manifest.json",
        "health.json",
        "versions.json",
        "config/appliance.toml",
        "sync-state.json",
        "db-check.json",
        "receipts.json",
        "devices.json",
        "appliance-status.json",
        "journal-verify.json",
        "provisioning.json",
        "system/resources.json",
        "system/boots-kernel-failed.txt",
        "system/clock.txt",
        "system/network.txt",
        "system/dns.txt",
    } <= set(files)
    verify = json.loads(files["journal-verify.json"])
    assert (verify["exit"], verify["output"]["status"]) == (0, "intact")
    status = json.loads(files["appliance-status.json"])
    assert status["exit"] == 0 and status["output"]["terminal"] == "DEMO1"
    resources = json.loads(files["system/resources.json"])
    assert resources["memory"]["MemTotal"].endswith("kB")
    assert resources["root_filesystem"]["free_mb"] > 0 and resources["load"]
    assert "== addresses: ip -brief address" in files["system/network.txt"]
    assert "== /etc/resolv.conf" in files["system/dns.txt"]

    for name, text in files.items():
        for planted in (SECRET, API_KEY, TOKEN):
            assert planted not in text, f"{planted} leaked into {name}"

    assert 'api_key = "<redacted>"' in files["config/appliance.toml"]
    assert f'api_secret_file = "{tmp_path / "erpnext.secret"}"' in files["config/appliance.toml"]
    listed = json.loads(files["receipts.json"])
    assert [r["receipt_no"] for r in listed][:2] == receipts[::-1]
    assert all(r["sync"] == "done" and r["erpnext_name"] for r in listed[:2])
    assert not {"customer", "cashier"} & set(listed[0])
    sync = json.loads(files["sync-state.json"])
    assert sync["outbox"]["done"] >= 3  # the shift's opening and both sales
    assert sync["agent"]["last_error"] == "HTTP 401 for Authorization: token <redacted>"
    assert json.loads(files["db-check.json"])["ok"] is True
    assert json.loads(files["versions.json"])["appliance"] == "0.1.0"
    manifest = json.loads(files["manifest.json"])
    assert manifest["terminal"] == "DEMO1"
    assert sorted(summary["members"]) == sorted(files)


def test_the_default_place_is_the_tills_data_not_the_current_directory(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    data, cwd = tmp_path / "data", tmp_path / "cwd"
    data.mkdir()
    cwd.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "support-bundle", "--since-hours", "1"],
        cwd=cwd,
        env={**os.environ, "APPLIANCE_DATA": str(data), "APPLIANCE_CONFIG": str(tmp_path / "no")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    written = Path(json.loads(run.stdout)["bundle"])
    assert written.parent == data / "support" and written.name.startswith("appliance-support-")
    assert written.parent.stat().st_mode & 0o777 == 0o700
    assert list(cwd.iterdir()) == []


PHONE = "+1 (604) 555-0199"
EMAIL = "jane.doe@example.org"
URL_USER, URL_PASSWORD = "erp-proxy-user", "Pr0xy-pa55-planted"


def test_bundle_redacts_url_credentials_and_customers_contacts_from_erpnext_messages(
    db_path: Path, checkout: Checkout, tmp_path: Path
) -> None:
    """ERPNext quotes a customer's phone and e-mail in its refusal; the config's url carries a
    proxy's user and password. Support gets the message and the host, not those."""
    with FakeERPNext(all_masters(SMALL)) as erp:
        config = write_config(tmp_path, erp)
        checkout.open_shift(CASHIER, {"Cash": D(100)})
        sell(checkout, 4)
        with sqlite3.connect(db_path) as conn:
            (offline_id,) = conn.execute("SELECT offline_id FROM pos_invoices").fetchone()
        erp.reject(
            offline_id,
            f"Customer Jane Doe ({EMAIL}, mobile {PHONE}) already exists as CUST-00042",
        )
        code, _, err = run_cli("sync", "--once", "--config", str(config))
        assert code == 0, err
        host = erp.url.split("://", 1)[1]
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(f"http://{host}", f"http://{URL_USER}:{URL_PASSWORD}@{host}"),
        encoding="utf-8",
    )

    out = tmp_path / "out" / "bundle.tar.gz"
    code, _, err = run_cli("support-bundle", "--config", str(config), "--out", str(out))
    assert code == 0, err
    files = _extract(out, tmp_path / "x")
    for name, content in files.items():
        for planted in (URL_USER, URL_PASSWORD, EMAIL, PHONE, "555-0199"):
            assert planted not in content, f"{planted} leaked into {name}"
    assert f'url = "http://<redacted>@{host}"' in files["config/appliance.toml"]
    (held,) = json.loads(files["sync-state.json"])["quarantined"]
    assert held["message"].startswith("Customer Jane Doe (")
    assert "already exists as CUST-00042" in held["message"]


def test_a_machine_without_the_tools_still_gets_a_bundle_that_says_what_is_missing(
    db_path: Path, tmp_path: Path
) -> None:
    """No journalctl, systemctl, ip, timedatectl or resolvectl on PATH: each part says so."""
    empty = tmp_path / "no-tools"
    empty.mkdir()
    out = tmp_path / "bundle.tar.gz"
    code, summary, err = run_cli("support-bundle", "--out", str(out), env={"PATH": str(empty)})
    assert code == 0, err
    files = _extract(out, tmp_path / "x")
    assert "-- timedatectl: not installed on this machine" in files["system/clock.txt"]
    assert "-- ip: not installed on this machine" in files["system/network.txt"]
    assert "journal: journalctl not found on this machine" in summary["notes"]
    assert any(
        n.startswith("not installed: ") and "journalctl" in n and "resolvectl" in n
        for n in summary["notes"]
    ), summary["notes"]
    assert json.loads(files["system/resources.json"])["root_filesystem"]["free_mb"] > 0


def test_the_erpnext_secret_quoted_bare_in_a_log_does_not_leave_the_till(
    db_path: Path, erp: FakeERPNext, tmp_path: Path
) -> None:
    """The secret lives in its own file, not the config: a unit's log line that quotes it bare
    (an IT script's ``env`` dump, ``curl -u key:secret`` under ``set -x``) must still be blanked.
    journalctl here is a stand-in printing such a line, as the journal would hand it over."""
    tools = tmp_path / "tools"
    tools.mkdir()
    secret = erp.api_secret
    leak = f"appliance-pull.sh[812]: + curl -u k:{secret} https://erp/api ERPNEXT_SECRET={secret}"
    journalctl = tools / "journalctl"
    journalctl.write_text(f"#!/bin/sh\necho '{leak}'\n", encoding="utf-8")
    journalctl.chmod(0o755)
    config = write_config(tmp_path, erp)
    out = tmp_path / "bundle.tar.gz"
    path = f"{tools}:{os.environ['PATH']}"
    code, _, err = run_cli(
        "support-bundle", "--config", str(config), "--out", str(out), env={"PATH": path}
    )
    assert code == 0, err
    files = _extract(out, tmp_path / "x")
    assert "appliance-pull.sh[812]: + curl -u" in files["journal.txt"]
    for name, text in files.items():
        assert erp.api_secret not in text, f"the ERPNext secret leaked into {name}"
