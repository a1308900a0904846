"""Where the project's shared ERPNext material is (../shared: recordings, golden carts)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve()


def shared_dir() -> Path:
    """The first `shared/` with an `erpnext/` in it above this checkout: a clone at any depth
    under the workspace finds it (the tests that need it say so when it is missing)."""
    for parent in _HERE.parents:
        if (parent / "shared" / "erpnext").is_dir():
            return parent / "shared"
    return _HERE.parents[2] / "shared"


SHARED = shared_dir()
RECORDED = SHARED / "erpnext" / "recorded"
