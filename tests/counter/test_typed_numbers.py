"""Numbers the cashier types, read by the store's number format (issue: "70,00" became 7,000.00)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from appliance.counter.typed_numbers import (
    NumberStyle,
    TypedNumberError,
    format_number,
    parse_typed,
)

ONTARIO = NumberStyle.from_format("#,###.##")
QUEBEC = NumberStyle.from_format("# ###,##")
EUROPE = NumberStyle.from_format("#.###,##")
INDIA = NumberStyle.from_format("#,##,###.##")
SWISS = NumberStyle.from_format("#'###.##")
FORMATS = ["#,###.##", "# ###,##", "#.###,##", "#,##,###.##", "#'###.##", "# ###.##", "#,###"]


@pytest.mark.parametrize(
    ("fmt", "decimal", "group"),
    [
        ("#,###.##", ".", ","),
        ("#.###,##", ",", "."),
        ("# ###,##", ",", " "),
        ("# ###.##", ".", " "),
        ("#'###.##", ".", "'"),
        ("#, ###.##", ".", ","),
        ("#,###.###", ".", ","),
        ("#,###", ".", ","),
        ("#.###", ",", "."),
        (None, ".", ","),
    ],
)
def test_the_style_of_each_frappe_number_format(fmt: str | None, decimal: str, group: str) -> None:
    style = NumberStyle.from_format(fmt)
    assert (style.decimal, style.group) == (decimal, group)


@pytest.mark.parametrize(
    ("style", "typed", "value"),
    [
        (ONTARIO, "70", D("70")),
        (ONTARIO, "70.00", D("70.00")),
        (ONTARIO, "70,00", D("70.00")),  # the field's bug: this was 7,000.00
        (ONTARIO, "1,5", D("1.5")),  # and a quantity of 1,5 was 15
        (ONTARIO, "1,234.50", D("1234.50")),
        (ONTARIO, "1,234", D("1234")),
        (ONTARIO, "1,234,567", D("1234567")),
        (ONTARIO, " 20 ", D("20")),
        (ONTARIO, ".5", D("0.5")),
        (QUEBEC, "70,00", D("70.00")),
        (QUEBEC, "1 234,50", D("1234.50")),
        (QUEBEC, "1\u00a0234,50", D("1234.50")),
        (QUEBEC, "4.99", D("4.99")),  # the numeric keypad's "."
        (EUROPE, "1.234,50", D("1234.50")),
        (EUROPE, "1.500", D("1500")),
        (EUROPE, "12.34", D("12.34")),
        (INDIA, "12,34,567.50", D("1234567.50")),
        (SWISS, "1'234.50", D("1234.50")),
    ],
)
def test_typed_numbers_are_read_as_the_store_writes_them(
    style: NumberStyle, typed: str, value: D
) -> None:
    assert parse_typed(typed, style) == value


@pytest.mark.parametrize(
    ("style", "typed"),
    [
        (QUEBEC, "1.500"),  # 1500 or 1.5? Quebec groups with spaces
        (ONTARIO, "1,2,3"),
        (ONTARIO, "1,23,456"),
        (ONTARIO, "12.34.56"),
        (ONTARIO, "1.234,5"),  # a European number in Ontario
        (EUROPE, "1,234.5"),
        (EUROPE, "12.34,5"),
        (ONTARIO, "12 50"),
        (ONTARIO, "abc"),
        (ONTARIO, "1e5"),
        (ONTARIO, "NaN"),
        (ONTARIO, "-5"),
        (ONTARIO, "."),
        (ONTARIO, ""),
        (ONTARIO, "1000000000000"),
        (ONTARIO, "9" * 5000),
    ],
)
def test_what_reads_two_ways_or_none_is_refused(style: NumberStyle, typed: str) -> None:
    with pytest.raises(TypedNumberError) as refused:
        parse_typed(typed, style)
    message = str(refused.value)
    assert message and "\n" not in message and len(message) < 100


def test_a_negative_amount_only_where_the_caller_allows_it() -> None:
    assert parse_typed("-2,50", QUEBEC, allow_negative=True) == D("-2.50")


@given(
    st.sampled_from(FORMATS),
    st.decimals(min_value=0, max_value=D("999999999999.99"), places=2, allow_nan=False),
)
def test_whatever_the_store_prints_it_reads_back(fmt: str, value: D) -> None:
    style = NumberStyle.from_format(fmt)
    places = 0 if fmt == "#,###" else 2
    assume(round(value, places) < 10**12)
    printed = format_number(value, style, places)
    assert parse_typed(printed, style) == round(value, places)


@given(st.sampled_from(FORMATS), st.text(alphabet="0123456789.,' -", max_size=20))
def test_any_typing_is_a_number_or_one_line_of_why(fmt: str, typed: str) -> None:
    style = NumberStyle.from_format(fmt)
    try:
        value = parse_typed(typed, style)
    except TypedNumberError as refused:
        assert str(refused) and "\n" not in str(refused)
    else:
        assert value.is_finite() and abs(value) < 10**12


@pytest.mark.parametrize(
    ("tendered", "due", "ask"),
    [
        ("7000", "65.60", True),
        ("100", "5.00", False),
        ("20", "0.99", False),
        ("200", "150.00", False),
        ("300", "65.60", True),
    ],
)
def test_a_tender_far_above_what_is_due_is_confirmed(tendered: str, due: str, ask: bool) -> None:
    from appliance.counter.typed_numbers import tender_needs_confirming

    assert tender_needs_confirming(D(tendered), D(due)) is ask
