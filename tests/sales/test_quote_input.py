"""Bad quote input: exit status 2 and one line naming the field and the problem."""

from __future__ import annotations

import pytest

from tests.shared import appliance

GOOD_DOC = '{"items": [{"item_code": "A", "qty": 1, "rate": 10}]}'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "input: not valid JSON"),
        ('{"settings": {}}', "doc: is required"),
        ('{"doc": {"items": []}}', "doc.items: an invoice needs at least one line"),
        ('{"doc": {"items": [{"item_code": "A", "qty": "x", "rate": 1}]}}', "doc.items[0].qty"),
        ('{"doc": {"items": [{"item_code": "A", "qty": 1}]}}', "doc.items[0].rate: is required"),
        (
            '{"settings": {"rounding_method": "Nearest"}, "doc": ' + GOOD_DOC + "}",
            "settings.rounding_method: must be one of",
        ),
        (
            '{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 1}],'
            ' "taxes": [{"charge_type": "Per Parsec", "account_head": "X"}]}}',
            "doc.taxes[0].charge_type",
        ),
        (
            '{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 1}],'
            ' "taxes": [{"charge_type": "On Previous Row Total", "account_head": "X",'
            ' "rate": 1}]}}',
            "doc.taxes[0] (X): the first row cannot be",
        ),
        (
            '{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 1,'
            ' "item_tax_rate": "{broken"}]}}',
            "doc.items[0].item_tax_rate: is not valid JSON",
        ),
        (
            '{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 10}], "discount_amount": 50}}',
            "doc.discount_amount: 50.00 cannot exceed the grand total 10.00",
        ),
    ],
)
def test_bad_input_names_the_field(body: str, message: str) -> None:
    _refused(body, message)


def _refused(body: str, message: str) -> None:
    proc = appliance("quote", input=body)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]


def _line(**fields: str) -> str:
    row = {"item_code": '"A"', "qty": "1", "rate": "10", **fields}
    return '{"doc": {"items": [{' + ", ".join(f'"{k}": {v}' for k, v in row.items()) + "}]}}"


TOO_BIG = "at or above 10^12 in size: more than ERPNext stores"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_line(rate="1e308"), f"doc.items[0].rate: {TOO_BIG}"),
        (_line(rate="1e400"), f"doc.items[0].rate: {TOO_BIG}"),  # was a grand total of 0.0
        (_line(rate="-1e400"), f"doc.items[0].rate: {TOO_BIG}"),
        (_line(rate='"1e400"'), f"doc.items[0].rate: {TOO_BIG}"),
        (_line(qty="9" * 5000), f"doc.items[0].qty: {TOO_BIG}"),
        (_line(rate="1000000000000"), f"doc.items[0].rate: {TOO_BIG}"),
        (_line(rate="-1e12"), f"doc.items[0].rate: {TOO_BIG}"),
        (_line(rate="NaN"), "doc.items[0].rate: must be a finite number"),
        (_line(rate="Infinity"), "doc.items[0].rate: must be a finite number"),
        (_line(rate='"-Infinity"'), "doc.items[0].rate: must be a finite number"),
        (_line(idx="9" * 5000), f"doc.items[0].idx: {TOO_BIG}"),  # echoed back otherwise
        (_line(item_tax_rate='"{\\"VAT\\": 1e400}"'), "doc.items[0].item_tax_rate.VAT"),
        (_line(item_tax_rate='"' + "[" * 100_000 + '"'), "item_tax_rate: is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "input: not valid JSON (nested too deeply)"),
        (
            '{"settings": {"smallest_currency_fraction_value": 1e400}, "doc": ' + GOOD_DOC + "}",
            f"settings.smallest_currency_fraction_value: {TOO_BIG}",
        ),
        # Each input fits, what ERPNext would compute from them does not.
        (_line(qty="1000000", rate="1000000"), f"doc.items[0].amount: {TOO_BIG} (as ERPNext"),
        (_line(rate="999999999999.999"), f"doc.items[0].rate: {TOO_BIG} (as ERPNext computes"),
        (
            '{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 10}], "x\\nforged": 1e99}}',
            f"doc['x\\nforged']: {TOO_BIG}",
        ),
    ],
)
def test_numbers_beyond_what_erpnext_stores_are_refused(body: str, message: str) -> None:
    _refused(body, message)


def test_good_input_fills_the_computed_fields() -> None:
    body = (
        '{"settings": {"rounding_method": "Banker\'s Rounding", "disable_rounded_total": 0},'
        ' "doc": {"items": [{"item_code": "A", "qty": 3, "rate": 1.99, "item_tax_rate": "{}"}],'
        ' "taxes": [{"charge_type": "On Net Total", "account_head": "HST", "rate": 13}],'
        ' "payments": [{"mode_of_payment": "Cash", "amount": 10}]}}'
    )
    proc = appliance("quote", input=body)
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["total"] == 5.97
    assert doc["taxes"][0]["tax_amount"] == 0.78
    assert doc["grand_total"] == 6.75
    assert doc["rounded_total"] == 7.0
    assert doc["rounding_adjustment"] == 0.25
    assert doc["change_amount"] == 3.0
