"""The contract data the tests check against: what a real ERPNext answered, vendored into the
repository (tests/data/erpnext/, see PROVENANCE.md there) so that a clone with nothing beside it
runs every test. Missing data is an error, never a skip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.sales.cart import Cart
    from appliance.sales.till import Till

DATA = Path(__file__).resolve().parent / "data" / "erpnext"
GOLDEN = DATA / "golden" / "cases"
GOLDEN_V16 = DATA / "golden-v16" / "cases"
RECORDED = DATA / "recorded"


def require(path: Path) -> Path:
    """``path``, or a failure that says which vendored data is missing (a broken checkout)."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: vendored ERPNext test data is missing (see PROVENANCE.md)"
        )
    return path


def appliance(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``appliance <args>`` in a child process, as IT or support types it (output as text);
    ``input`` is what is piped to it."""
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        input=input,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def scan_on(cart: Cart, code: str) -> Callable[[Till], Cart]:
    """A scan of ``code`` onto ``cart``, for ``Checkout.read`` (typed: mypy checks tests)."""
    return lambda till: till.scan(cart, code)


def quote(doc: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """``appliance quote`` on ``doc`` under ERPNext's default rounding, through the real command."""
    body = json.dumps({"settings": {"rounding_method": "Banker's Rounding"}, "doc": doc})
    return appliance("quote", input=body)
