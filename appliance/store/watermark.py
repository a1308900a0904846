"""The store's high-water mark: what it has committed, kept where damage to the store can't reach.

A till that loses the newest part of its database (a WAL cut by a power failure on a lying disk,
``pos.db`` truncated, a restore from an old copy) must not sell on as if nothing happened: its
receipt numbers would repeat, and the lost sales would be gone without anyone knowing. So every
commit that adds to the audit journal or takes a receipt number also writes, after the database
has committed, a small file in another directory (``<data>/watermark/pos.db.mark``, group
appliance, 0660):

    {"journal_seq": 1234, "journal_hash": "…", "receipts": {"T01": 57}}

written in place in one of two checksummed slots and fdatasync'd, only ever moving forward (the
counter and the agent both commit; a lock keeps their updates in order). At start-up the store is
compared with it: a store whose journal ends before the mark, whose entry at the mark has another
hash, or whose receipt numbers are behind, is *behind*: the till refuses to sell, the agent refuses
to recreate a missing store, and ``appliance db check`` fails, each saying what was lost and what IT
does. ``appliance db accept-loss`` records the loss in the journal and moves on without reusing a
receipt number.

A mark ahead of the store by a crash between the database's commit and the mark's write cannot
happen: the mark is written after the commit. A mark behind the store (that crash) is harmless.
The mark guards against damage, not against someone who can write both files: the journal's
anchors in ERPNext do that (docs/store.md, threat model).

Standard library only: the till's readiness check runs it before SQLAlchemy is loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DIRECTORY = "watermark"


class StoreBehindError(RuntimeError):
    """The store has lost committed work: the message says what, and what IT does."""


@dataclass(frozen=True)
class Mark:
    journal_seq: int = 0
    journal_hash: str = ""
    receipts: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "journal_seq": self.journal_seq,
            "journal_hash": self.journal_hash,
            "receipts": dict(sorted(self.receipts.items())),
        }

    def merged(self, other: Mark) -> Mark:
        """The further of two marks, field by field (marks only move forward)."""
        journal = max(
            (self.journal_seq, self.journal_hash), (other.journal_seq, other.journal_hash)
        )
        receipts = dict(self.receipts)
        for terminal, number in other.receipts.items():
            receipts[terminal] = max(receipts.get(terminal, 0), number)
        return Mark(journal[0], journal[1], receipts)


def mark_path(db: Path) -> Path:
    return db.parent / DIRECTORY / f"{db.name}.mark"


# The file is two slots of SLOT bytes, written in turn in place: the newer valid slot is the mark.
# One write and one fdatasync per commit (no rename, no directory sync); a write torn by a power
# cut spoils only the slot being written, and its checksum says so, so the other one stands.
SLOT = 4096


def _encode(mark: Mark, generation: int) -> bytes:
    body = json.dumps({"n": generation, **mark.as_dict()}, sort_keys=True)
    line = json.dumps({"body": body, "sha256": hashlib.sha256(body.encode()).hexdigest()})
    data = line.encode() + b"\n"
    if len(data) > SLOT:
        raise OSError(f"the high-water mark outgrew its {SLOT}-byte slot")
    return data.ljust(SLOT, b" ")


def _decode(slot: bytes) -> tuple[int, Mark] | None:
    try:
        outer = json.loads(slot.decode())
        body = str(outer["body"])
        if hashlib.sha256(body.encode()).hexdigest() != outer["sha256"]:
            return None
        raw = json.loads(body)
        mark = Mark(
            int(raw["journal_seq"]),
            str(raw["journal_hash"]),
            {str(k): int(v) for k, v in dict(raw["receipts"]).items()},
        )
        return int(raw["n"]), mark
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None


def _newest(data: bytes) -> tuple[int, Mark] | None:
    slots = [_decode(data[i : i + SLOT]) for i in (0, SLOT)]
    valid = [s for s in slots if s is not None]
    return max(valid, key=lambda s: s[0]) if valid else None


def read(db: Path) -> Mark | None:
    """The mark of the store at ``db``; None when it has none (a store from before marks)."""
    path = mark_path(db)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreBehindError(_unreadable(path, exc.strerror or str(exc))) from None
    newest = _newest(data)
    if newest is None:
        raise StoreBehindError(_unreadable(path, "neither copy in it is whole"))
    return newest[1]


def _unreadable(path: Path, why: str) -> str:
    return (
        f"{path}: the store's high-water mark cannot be read ({why}); IT: see "
        "docs/troubleshooting.md, 'The store is behind its high-water mark'"
    )


def advance(db: Path, mark: Mark) -> None:
    """Move the mark forward to ``mark`` (never back), durably, after the database committed."""
    path = mark_path(db)
    # The till and the agent run as different users of group appliance (deploy/systemd): both
    # advance the mark, nobody else reads it.
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir()
        os.chmod(path.parent, 0o770)  # whatever the umask of whoever committed first
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the counter and the agent both commit
        data = os.pread(fd, 2 * SLOT, 0)
        newest = _newest(data)
        generation, current = newest if newest else (0, None)
        wanted = current.merged(mark) if current else mark
        if wanted == current:
            return
        if not data:  # a new file: its directory entry must reach the disk once
            os.fchmod(fd, 0o660)
            _sync_directory(path.parent)
        generation += 1
        os.pwrite(fd, _encode(wanted, generation), (generation % 2) * SLOT)
        os.fdatasync(fd)
    finally:
        os.close(fd)  # releases the lock


def _sync_directory(directory: Path) -> None:
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def replace(db: Path, mark: Mark) -> None:
    """Set the mark to exactly ``mark`` (after IT accepted a loss): the only way back."""
    mark_path(db).unlink(missing_ok=True)
    advance(db, mark)


def store_state(conn: sqlite3.Connection) -> Mark:
    """What the store at ``conn`` holds: its newest journal entry and receipt counters."""
    row = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    receipts = dict(conn.execute("SELECT terminal_id, last_no FROM receipt_counters").fetchall())
    return Mark(int(row[0]) if row else 0, str(row[1]) if row else "", receipts)


def state_of(db: Path) -> Mark:
    """What the store at ``db`` holds (read-only)."""
    conn = _read_only(db)
    try:
        return store_state(conn)
    finally:
        conn.close()


def _read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)


def problems(conn: sqlite3.Connection, mark: Mark) -> list[str]:
    """How the store at ``conn`` falls short of ``mark``, one line each (empty: it does not)."""
    out: list[str] = []
    state = store_state(conn)
    if state.journal_seq < mark.journal_seq:
        out.append(
            f"the audit journal ends at entry {state.journal_seq}, but entry "
            f"{mark.journal_seq} was committed: the newest {mark.journal_seq - state.journal_seq} "
            "entries (sales among them) are lost"
        )
    elif mark.journal_seq:
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (mark.journal_seq,)).fetchone()
        if row is None or row[0] != mark.journal_hash:
            out.append(
                f"journal entry {mark.journal_seq} is not the one that was committed "
                "(the store was replaced or rewritten)"
            )
    for terminal, number in sorted(mark.receipts.items()):
        have = state.receipts.get(terminal, 0)
        if have < number:
            out.append(
                f"receipt numbers of {terminal} are back at {have:06d}, but {number:06d} was "
                "issued: new sales would reuse numbers already printed"
            )
    return out


def check(db: Path) -> None:
    """Raise :class:`StoreBehindError` when the store at ``db`` is behind its mark (or missing
    while a mark says it held committed work)."""
    mark = read(db)
    if mark is None or (mark.journal_seq == 0 and not mark.receipts):
        return
    if not db.exists() or db.stat().st_size == 0:
        lost = f"{db} is missing or empty, but it held committed work"
        raise StoreBehindError(_behind(db, [lost]))
    conn = _read_only(db)
    try:
        found = problems(conn, mark)
    except sqlite3.DatabaseError as exc:
        found = [f"{db} cannot be read as a store ({exc})"]
    finally:
        conn.close()
    if found:
        raise StoreBehindError(_behind(db, found))


def _behind(db: Path, found: list[str]) -> str:
    return (
        f"The store {db} has lost committed work: {'; '.join(found)}. The till will not sell "
        "until IT acts: restore pos.db from a backup if there is one, otherwise run "
        "`appliance db accept-loss` (docs/troubleshooting.md, 'The store is behind its "
        "high-water mark')."
    )
