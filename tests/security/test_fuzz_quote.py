"""``appliance quote`` on hostile input: every body either quotes (standard JSON out, every number
one ERPNext can store) or is refused with exit 2 and one line. Never a traceback, never 0.0 for
an overflow. In process (the CLI's own ``run_quote``), so thousands of bodies take seconds."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from appliance.sales.quote import run_quote
from tests.security.fuzz import (
    JSON_TEXT,
    LEAVES,
    NUMBERS,
    damaged,
    fits,
    json_object,
    one_line,
    strict_json,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ITEM_FIELDS = ("qty", "rate", "price_list_rate", "discount_percentage", "item_tax_rate", "idx")
TAX_FIELDS = ("charge_type", "rate", "tax_amount", "row_id", "included_in_print_rate")
DOC_FIELDS = ("discount_amount", "additional_discount_percentage", "write_off_amount", "is_return")
SETTINGS = ("currency_precision", "float_precision", "smallest_currency_fraction_value")

# A value that is sometimes sane, so that bodies get past the first field into the engine.
SANE = st.sampled_from(["1", "2.5", "0", "10", "0.333", '"3"'])
VALUE = st.one_of(SANE, SANE, NUMBERS, LEAVES, JSON_TEXT)


def _row(fields: tuple[str, ...], base: dict[str, str]) -> st.SearchStrategy[str]:
    return st.dictionaries(st.sampled_from(fields), VALUE, max_size=2).map(
        lambda d: json_object({**base, **d})
    )


INVOICE = st.builds(
    lambda settings_, items, taxes, doc: (
        '{"settings":'
        + settings_
        + ',"doc":'
        + json_object(
            {"items": "[" + ",".join(items) + "]", "taxes": "[" + ",".join(taxes) + "]", **doc}
        )
        + "}"
    ),
    st.dictionaries(st.sampled_from(SETTINGS), VALUE, max_size=1).map(json_object),
    st.lists(
        _row(ITEM_FIELDS, {"item_code": '"A"', "qty": "1", "rate": "1"}), min_size=1, max_size=3
    ),
    st.lists(
        _row(TAX_FIELDS, {"charge_type": '"On Net Total"', "account_head": '"VAT"'}), max_size=2
    ),
    st.dictionaries(st.sampled_from(DOC_FIELDS), VALUE, max_size=1),
)


def _quote(stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    # As the CLI reads it: bytes that are not UTF-8 arrive as lone surrogates.
    text = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="surrogateescape")
    code = run_quote(text, out, err)
    return code, out.getvalue(), err.getvalue()


def _holds(stdin: bytes) -> int:
    code, out, err = _quote(stdin)
    if code == 2:
        assert out == "" and one_line(err), err
        return code
    assert code == 0 and err == ""
    assert fits(strict_json(out)), out
    return code


@FAST
@given(INVOICE)
def test_an_invoice_with_hostile_fields_quotes_or_is_refused_in_one_line(body: str) -> None:
    event(f"exit {_holds(body.encode('utf-8', 'surrogatepass'))}")


@FAST
@given(JSON_TEXT)
def test_any_json_body_quotes_or_is_refused_in_one_line(body: str) -> None:
    event(f"exit {_holds(body.encode('utf-8', 'surrogatepass'))}")


GOOD = (
    b'{"settings": {"currency_precision": 2}, "doc": {"items": [{"item_code": "A", "qty": 3,'
    b' "rate": 1.99}], "taxes": [{"charge_type": "On Net Total", "account_head": "HST",'
    b' "rate": 13}], "payments": [{"mode_of_payment": "Cash", "amount": 10}]}}'
)


@FAST
@given(st.data())
def test_a_damaged_body_quotes_or_is_refused_in_one_line(data: st.DataObject) -> None:
    event(f"exit {_holds(damaged(data, GOOD, st.binary(max_size=6)))}")


def test_deep_nesting_is_refused_in_one_line() -> None:
    for depth in (40, 900, 100_000):
        code = _holds(
            b'{"doc": {"items": [{"item_code": "A", "qty": 1, "rate": 1}], "x": '
            + b"[" * depth
            + b"]" * depth
            + b"}}"
        )
        assert code == 2
