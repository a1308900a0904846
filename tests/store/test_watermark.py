"""The high-water mark file: forward only, and a write torn by a power cut loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.store.watermark import SLOT, Mark, StoreBehindError, advance, mark_path, read


def test_the_mark_only_moves_forward(tmp_path: Path) -> None:
    db = tmp_path / "pos.db"
    assert read(db) is None
    advance(db, Mark(5, "h5", {"T1": 3}))
    advance(db, Mark(4, "h4", {"T1": 2, "T2": 1}))  # a slower writer arriving late
    assert read(db) == Mark(5, "h5", {"T1": 3, "T2": 1})


def test_a_torn_slot_leaves_the_other_standing(tmp_path: Path) -> None:
    db = tmp_path / "pos.db"
    advance(db, Mark(1, "h1", {"T1": 1}))  # generation 1: the second slot
    advance(db, Mark(2, "h2", {"T1": 2}))  # generation 2: the first slot
    path = mark_path(db)
    data = bytearray(path.read_bytes())
    data[:40] = b"x" * 40  # generation 2, half written when the power went
    path.write_bytes(bytes(data))
    assert read(db) == Mark(1, "h1", {"T1": 1})  # the mark before it: behind, never ahead
    data[SLOT : SLOT + 10] = b"\0" * 10  # and now the other one too
    path.write_bytes(bytes(data))
    with pytest.raises(StoreBehindError, match="neither copy in it is whole"):
        read(db)
