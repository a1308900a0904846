"""The embedded demo store written into a store: the demo masters and the demo cashiers.

The demo's data is made here, not in ``appliance.store``: the store applies ERPNext documents
whoever made them (``apply_masters``, the sync agent's path), and knows no demo.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appliance.demo.cashiers import DEMO_CASHIERS, DemoCashier
from appliance.demo.masters import DemoSize, all_masters
from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.masters import ApplyStats, Doc, apply_masters
from appliance.store.migrate import upgrade_to_head
from appliance.store.models import Cashier


def _chunks(docs: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    it = iter(docs)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def seed_demo(
    session_factory: sessionmaker[Session],
    size: DemoSize,
    chunk: int = 500,
    *,
    hasher: PasswordHasher | None = None,
) -> ApplyStats:
    """Load the demo masters (``all_masters(size)``) and the demo cashiers; idempotent.

    Each chunk of ``chunk`` documents is its own short transaction, as the sync agent applies
    a pull. Documents already stored with the same ``modified`` are skipped, and cashiers that
    exist are left alone, so a second run writes nothing. PINs are stored as argon2id hashes.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    stats = ApplyStats()
    for docs in _chunks(all_masters(size), chunk):
        with unit_of_work(session_factory) as uow:
            stats.add(apply_masters(uow.session, docs, skip_unchanged=True))
            uow.commit()
    stats.cashiers = seed_cashiers(session_factory, DEMO_CASHIERS, hasher=hasher)
    return stats


def seed_cashiers(
    session_factory: sessionmaker[Session],
    cashiers: Iterable[DemoCashier],
    *,
    hasher: PasswordHasher | None = None,
) -> int:
    """Add the cashiers that do not exist yet, with argon2id PIN hashes; returns how many.

    Hashing is slow on purpose (about 0.1 s a PIN), so it happens between two short
    transactions, never while holding the write lock.
    """
    wanted = {c.user: c for c in cashiers}

    def existing(session: Session) -> set[str]:
        return set(session.scalars(select(Cashier.user).where(Cashier.user.in_(list(wanted)))))

    with unit_of_work(session_factory) as uow:
        missing = [c for user, c in wanted.items() if user not in existing(uow.session)]
    if not missing:
        return 0
    ph = hasher or PasswordHasher()
    hashes = {c.user: ph.hash(c.pin) for c in missing}
    with unit_of_work(session_factory) as uow:
        present = existing(uow.session)
        added = [c for c in missing if c.user not in present]
        uow.session.add_all(
            Cashier(
                user=c.user,
                full_name=c.full_name,
                pin_hash=hashes[c.user],
                role=c.role,
                enabled=True,
            )
            for c in added
        )
        uow.commit()
    return len(added)


def seed_demo_store(db: Path, size: DemoSize | None = None) -> ApplyStats:
    """A demo store at ``db``: its directory, the schema, then the demo (``seed_demo``)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(db)
    engine = create_db_engine(db)
    try:
        return seed_demo(make_session_factory(engine), size or DemoSize())
    finally:
        engine.dispose()
