"""The journal's hash chain: intact when untouched; edits, deletions and swaps are named."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from appliance.store import journal
from appliance.store.db import unit_of_work
from appliance.store.journal import GENESIS_HASH, JournalKind, JournalVerdict, verify
from appliance.store.models import JournalEntry

ENTRIES = 6


@pytest.fixture
def chain(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with unit_of_work(factory) as uow:
        for n in range(ENTRIES):
            journal.append(uow.session, JournalKind.DRAWER_OPEN, "cashier", f"ref-{n}", {"n": n})
        uow.commit()
    return factory


def _tamper(db_file: Path, *statements: str) -> None:
    # Raw sqlite3, as someone with the file and a shell would do it.
    conn = sqlite3.connect(db_file)
    try:
        with conn:
            for sql in statements:
                conn.execute(sql)
    finally:
        conn.close()


def _verify(factory: sessionmaker[Session]) -> journal.VerifyResult:
    with unit_of_work(factory) as uow:
        return verify(uow.session)


def test_chain_links_from_genesis(chain: sessionmaker[Session]) -> None:
    with unit_of_work(chain) as uow:
        rows = uow.session.query(JournalEntry).order_by(JournalEntry.seq).all()
    assert [r.seq for r in rows] == list(range(1, ENTRIES + 1))
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert json.loads(rows[2].data) == {"n": 2}


def test_untouched_journal_is_intact(chain: sessionmaker[Session]) -> None:
    result = _verify(chain)
    assert result.verdict is JournalVerdict.INTACT and result.count == ENTRIES
    assert result.as_dict() == {"status": "intact", "entries": ENTRIES}


def test_empty_journal_is_intact(factory: sessionmaker[Session]) -> None:
    assert _verify(factory).as_dict() == {"status": "intact", "entries": 0}


def test_edited_entry(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(db_file, """UPDATE journal SET data = '{"n":99}' WHERE seq = 3""")
    result = _verify(chain)
    assert (result.verdict, result.seq) == (JournalVerdict.EDITED, 3)


def test_edited_actor(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(db_file, "UPDATE journal SET actor = 'someone else' WHERE seq = 5")
    assert (_verify(chain).verdict, _verify(chain).seq) == (JournalVerdict.EDITED, 5)


def test_deleted_entry(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(db_file, "DELETE FROM journal WHERE seq = 4")
    result = _verify(chain)
    assert (result.verdict, result.seq, result.count) == (JournalVerdict.DELETED, 4, ENTRIES - 1)


def test_deleted_first_entry(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(db_file, "DELETE FROM journal WHERE seq = 1")
    assert (_verify(chain).verdict, _verify(chain).seq) == (JournalVerdict.DELETED, 1)


def test_deleted_newest_entry(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(db_file, f"DELETE FROM journal WHERE seq = {ENTRIES}")
    result = _verify(chain)
    assert (result.verdict, result.seq) == (JournalVerdict.DELETED, ENTRIES)


def test_append_after_deleting_newest_still_shows_the_gap(
    chain: sessionmaker[Session], db_file: Path
) -> None:
    _tamper(db_file, f"DELETE FROM journal WHERE seq = {ENTRIES}")
    with unit_of_work(chain) as uow:
        entry = journal.append(uow.session, JournalKind.SIGN_IN, "cashier", None, {})
        uow.commit()
    assert entry.seq == ENTRIES + 1  # the deleted number is not handed out again
    assert (_verify(chain).verdict, _verify(chain).seq) == (JournalVerdict.DELETED, ENTRIES)


def test_renumbered_after_delete(chain: sessionmaker[Session], db_file: Path) -> None:
    # Hide the gap by renumbering everything after the deleted entry.
    _tamper(
        db_file,
        "DELETE FROM journal WHERE seq = 3",
        "UPDATE journal SET seq = seq - 1 WHERE seq > 3",
    )
    result = _verify(chain)
    assert (result.verdict, result.seq) == (JournalVerdict.DELETED, 3)


def test_swapped_pair_of_rows(chain: sessionmaker[Session], db_file: Path) -> None:
    _tamper(
        db_file,
        "UPDATE journal SET seq = -1 WHERE seq = 3",
        "UPDATE journal SET seq = 3 WHERE seq = 4",
        "UPDATE journal SET seq = 4 WHERE seq = -1",
    )
    result = _verify(chain)
    assert (result.verdict, result.seq) == (JournalVerdict.REORDERED, 3)


def test_swapped_contents_under_fixed_hashes(chain: sessionmaker[Session], db_file: Path) -> None:
    cols = "at, kind, actor, ref, data"
    _tamper(
        db_file,
        f"CREATE TEMP TABLE t AS SELECT seq, {cols} FROM journal WHERE seq IN (2, 3)",
        *(
            f"UPDATE journal SET {c} = (SELECT {c} FROM t WHERE t.seq = 5 - journal.seq) "
            "WHERE seq IN (2, 3)"
            for c in cols.split(", ")
        ),
    )
    result = _verify(chain)
    assert (result.verdict, result.seq) == (JournalVerdict.REORDERED, 2)


def test_cli_journal_verify(
    chain: sessionmaker[Session],
    db_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from appliance.cli import main

    monkeypatch.setenv("APPLIANCE_DATA", str(db_file.parent))
    assert main(["journal", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "intact"
    _tamper(db_file, "DELETE FROM journal WHERE seq = 2")
    assert main(["journal", "verify"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["seq"]) == ("deleted", 2)
    monkeypatch.setenv("APPLIANCE_DATA", str(db_file.parent / "nowhere"))
    assert main(["journal", "verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("journal verify: no database at") and err.count("\n") == 1


def test_append_returns_the_entry_as_part_of_the_session(factory: sessionmaker[Session]) -> None:
    # append writes with a Core insert; the entry it returns must still behave as a flushed
    # ORM object of the caller's session (same identity, nothing left pending).
    with unit_of_work(factory) as uow:
        s = uow.session
        first = journal.append(s, JournalKind.SIGN_IN, "cashier", None, {"n": 1})
        second = journal.append(s, JournalKind.SIGN_OUT, "cashier", "r", {"n": 2})
        assert s.get(JournalEntry, first.seq) is first and first in s
        assert not s.new and not s.dirty
        assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
        uow.commit()
    with unit_of_work(factory) as uow:
        stored = uow.session.get(JournalEntry, 2)
        assert stored is not None
        assert (stored.hash, stored.data, stored.at) == (second.hash, second.data, second.at)
        assert verify(uow.session).intact
