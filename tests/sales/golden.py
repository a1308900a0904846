"""Helpers to compare ``appliance quote`` output with ERPNext's recorded totals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.shared import GOLDEN, GOLDEN_V16, require

GOLDEN_DIR = GOLDEN
GOLDEN_V16_DIR = GOLDEN_V16
CENT = Decimal("0.005")

DOC_FIELDS = (
    "total",
    "net_total",
    "total_taxes_and_charges",
    "discount_amount",
    "grand_total",
    "rounding_adjustment",
    "rounded_total",
    "paid_amount",
    "change_amount",
)
ITEM_FIELDS = ("amount", "net_rate", "net_amount", "rate")
TAX_FIELDS = ("tax_amount", "tax_amount_after_discount_amount", "total")


def golden_cases(version: int = 15) -> list[Path]:
    """The carts a real ERPNext ``version`` (15 or 16) computed."""
    return sorted(require(GOLDEN_V16 if version == 16 else GOLDEN_DIR).glob("*.json"))


def mismatches(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Every field where ``got`` differs from ERPNext by a cent or more."""
    out: list[str] = []

    def cmp(path: str, want: Any, have: Any) -> None:
        if want is None:
            return
        if have is None or abs(Decimal(str(want)) - Decimal(str(have))) >= CENT:
            out.append(f"{path}: ERPNext {want}, ours {have}")

    for f in DOC_FIELDS:
        cmp(f, expected.get(f), got.get(f))
    for n, (want, have) in enumerate(zip(expected.get("items", []), got["items"], strict=True)):
        for f in ITEM_FIELDS:
            cmp(f"items[{n}].{f}", want.get(f), have.get(f))
    for n, (want, have) in enumerate(zip(expected.get("taxes", []), got["taxes"], strict=True)):
        for f in TAX_FIELDS:
            cmp(f"taxes[{n}].{f}", want.get(f), have.get(f))
    return out


def load_case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(), parse_float=Decimal)  # type: ignore[no-any-return]
