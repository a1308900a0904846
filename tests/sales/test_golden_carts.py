"""Every cart recorded from a real ERPNext 15 goes through ``appliance quote`` to the cent."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from appliance.sales.quote import run_quote
from tests.sales.golden import golden_cases, load_case, mismatches

CASES = golden_cases()


def _quote_in_process(case: dict[str, object]) -> dict[str, object]:
    stdin = io.StringIO(json.dumps({"settings": case["settings"], "doc": case["doc"]}, default=str))
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_quote(stdin, stdout, stderr) == 0, stderr.getvalue()
    return json.loads(stdout.getvalue(), parse_float=Decimal)  # type: ignore[no-any-return]


def test_the_golden_set_is_there() -> None:
    assert len(CASES) >= 167, "tests/data/erpnext/golden/cases is incomplete"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_cart_matches_erpnext(path: Path) -> None:
    case = load_case(path)
    got = _quote_in_process(case)
    assert mismatches(case["expected"], got) == [], case.get("notes")


@pytest.mark.parametrize("path", CASES[::40], ids=[p.stem for p in CASES[::40]])
def test_golden_cart_through_the_real_command(path: Path) -> None:
    case = load_case(path)
    body = json.dumps({"settings": case["settings"], "doc": case["doc"]}, default=str)
    proc = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "quote"],
        input=body,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert mismatches(case["expected"], json.loads(proc.stdout, parse_float=Decimal)) == []
