"""Payload and journal JSON keep money exact and hash the same way every time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.store import jsonutil

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_decimals | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(finite_decimals)
def test_payload_decimal_round_trips_digit_for_digit(value: Decimal) -> None:
    back = jsonutil.loads(jsonutil.dumps_payload({"amount": value}))["amount"]
    assert back == value
    if isinstance(back, Decimal):
        assert str(back) == str(value)


@given(json_values)
def test_canonical_is_stable_through_a_round_trip(value: object) -> None:
    text = jsonutil.canonical(value)
    assert jsonutil.canonical(jsonutil.loads(text)) == text


def test_canonical_form() -> None:
    assert jsonutil.canonical({"b": Decimal("1.10"), "a": [1, True, None], "é": "ü"}) == (
        '{"a":[1,true,null],"b":"1.10","é":"ü"}'
    )
    assert jsonutil.dumps_payload({"b": Decimal("1.10"), "a": 1}) == '{"b":1.10,"a":1}'


@pytest.mark.parametrize("bad", [Decimal("NaN"), float("inf"), object()])
def test_unencodable_values_are_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        jsonutil.dumps_payload({"x": bad})
