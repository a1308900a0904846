"""The contract data the tests check against: what a real ERPNext answered, vendored into the
repository (tests/data/erpnext/, see PROVENANCE.md there) so that a clone with nothing beside it
runs every test. Missing data is an error, never a skip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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


def coupon_docs(*coupons: dict[str, Any]) -> list[dict[str, Any]]:
    """A 10 % coupon-based Pricing Rule "PRLE-C10" on every item group, and its Coupon Codes:
    each given fields on top of Promotional, unused, created in the order given."""
    rule: dict[str, Any] = {
        "doctype": "Pricing Rule",
        "name": "PRLE-C10",
        "modified": "2026-12-07 01:00:00.000000",
        "apply_on": "Item Group",
        "item_groups": [{"item_group": "All Item Groups"}],
        "price_or_product_discount": "Price",
        "coupon_code_based": 1,
        "selling": 1,
        "currency": "CAD",
        "rate_or_discount": "Discount Percentage",
        "discount_percentage": 10,
    }
    return [rule] + [
        {
            "doctype": "Coupon Code",
            "coupon_type": "Promotional",
            "pricing_rule": "PRLE-C10",
            "used": 0,
            "creation": f"2026-12-07 01:00:0{n}.000000",
            "modified": "2026-12-07 01:00:00.000000",
            **c,
        }
        for n, c in enumerate(coupons)
    ]


def box_item(session: Session) -> str:
    """An ordinary demo item also sold by the Box of 12, on no demo promotion (so a coupon's
    discount on it is the coupon's)."""
    return str(
        session.execute(
            text(
                "SELECT u.parent FROM uom_conversion_details u JOIN items i "
                "ON i.item_code = u.parent WHERE u.uom = 'Box' AND i.is_weighed = 0 "
                "AND i.item_group NOT IN ('Dairy', 'Beverages') "
                "AND coalesce(i.brand, '') != 'Kestrel' ORDER BY u.parent LIMIT 1"
            )
        ).scalar_one()
    )
