"""Barcode parsing and scan resolution."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.sales.barcode import (
    MESSAGE_WIDTH,
    EmbeddedKind,
    EmbeddedLayout,
    LineRequest,
    ScanConfig,
    ScanError,
    ScanKind,
    ScanProblem,
    ScanResult,
    gtin_check_digit,
    is_valid_gtin,
    lookup_scan,
    parse_scan,
    value_check_digit,
)
from appliance.sales.catalog import Barcode, CatalogItem, MemoryCatalog

WEIGHT_21 = EmbeddedLayout.from_pattern("21IIIIIWWWWWC")
PRICE_22 = EmbeddedLayout.from_pattern("22IIIIVPPPPPC")
CONFIG = ScanConfig(layouts=(WEIGHT_21, PRICE_22))


@pytest.mark.parametrize(
    "code", ["4006381333931", "9780201379624", "036000291452", "96385074", "0036000291452"]
)
def test_real_gtins_validate(code: str) -> None:
    assert is_valid_gtin(code)
    result = parse_scan(code)
    assert isinstance(result, ScanResult)
    assert result.kind is ScanKind.GTIN


def test_upc_a_normalizes_to_ean13_and_looks_up_both_spellings() -> None:
    result = parse_scan("036000291452")
    assert isinstance(result, ScanResult)
    assert result.normalized == "0036000291452"
    assert "036000291452" in result.lookup_keys()
    assert "0036000291452" in result.lookup_keys()


def test_wrong_check_digit_says_what_it_should_be() -> None:
    result = parse_scan("4006381333932")
    assert isinstance(result, ScanError)
    assert result.problem is ScanProblem.CHECK_DIGIT
    assert result.message == (
        "Check digit wrong: 4006381333932 should end in 1 — rescan or key the code"
    )


def _valid_ean13(body: str) -> str:
    return body + str(gtin_check_digit(body))


@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=12),
    position=st.integers(min_value=0, max_value=12),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_is_rejected(body: str, position: int, delta: int) -> None:
    code = _valid_ean13(body)
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    assert is_valid_gtin(code)
    assert not is_valid_gtin(changed)
    assert isinstance(parse_scan(changed), ScanError)


def test_value_check_digits_match_gs1_examples() -> None:
    assert value_check_digit("2875") == 9
    assert value_check_digit("14685") == 6


def test_weight_embedded_layout() -> None:
    code = WEIGHT_21.encode("12345", Decimal("1.234"))
    assert code == "2112345012346"
    result = parse_scan(code, CONFIG)
    assert isinstance(result, ScanResult)
    assert result.kind is ScanKind.EMBEDDED_WEIGHT
    assert result.item_ref == "12345"
    assert result.qty == Decimal("1.234")


def test_price_embedded_layout_with_value_check_digit() -> None:
    code = PRICE_22.encode("0042", Decimal("146.85"))
    assert code[6] == "6"  # the GS1 verifier of 14685 sits before the price
    result = parse_scan(code, CONFIG)
    assert isinstance(result, ScanResult)
    assert result.kind is ScanKind.EMBEDDED_PRICE
    assert result.item_ref == "0042"
    assert result.price == Decimal("146.85")


def test_price_verifier_mismatch_is_reported() -> None:
    good = PRICE_22.encode("0042", Decimal("146.85"))
    body = good[:6] + "5" + good[7:12]
    bad = body + str(gtin_check_digit(body))
    result = parse_scan(bad, CONFIG)
    assert isinstance(result, ScanError)
    assert result.problem is ScanProblem.VALUE_CHECK_DIGIT


def test_layout_patterns_round_trip_and_reject_bad_lengths() -> None:
    assert WEIGHT_21.pattern() == "21IIIIIWWWWWC"
    assert PRICE_22.kind is EmbeddedKind.PRICE
    assert PRICE_22.decimals == 2
    with pytest.raises(ValueError):
        EmbeddedLayout.from_pattern("21IIIIWWWWWC")
    with pytest.raises(ValueError):
        ScanConfig(layouts=(WEIGHT_21, WEIGHT_21))


def test_without_layouts_a_20_prefix_is_an_ordinary_gtin() -> None:
    result = parse_scan("2112345012346")
    assert isinstance(result, ScanResult)
    assert result.kind is ScanKind.GTIN


def test_letters_are_plain_codes_unless_disallowed() -> None:
    plain = parse_scan(" SKU-001\r\n")
    assert isinstance(plain, ScanResult)
    assert plain.kind is ScanKind.PLAIN
    assert plain.code == "SKU-001"
    refused = parse_scan("SKU-001", ScanConfig(allow_letters=False))
    assert isinstance(refused, ScanError)
    assert refused.message.startswith("Not a barcode: SKU-001 contains letters")


def test_wrong_keyboard_layout_is_not_a_barcode() -> None:
    result = parse_scan("à&é\"'(")
    assert isinstance(result, ScanError)
    assert result.problem is ScanProblem.NOT_A_BARCODE
    assert "keyboard" in result.message


# --- lookup_scan --------------------------------------------------------------------------

SOAP = CatalogItem("SOAP", "Soap", "Products", "Nos", uoms={"Box": Decimal(12)})
APPLES = CatalogItem("12345", "Apples", "Produce", "Kg", is_weighed=True)
CHEESE = CatalogItem("CHEESE", "Cheese", "Deli", "Gram", uoms={"Kg": Decimal(1000)})
CAKE = CatalogItem("0042", "Cake", "Bakery", "Nos")
OLD = CatalogItem("OLD", "Old stock", "Products", "Nos", disabled=True)
SHIRT = CatalogItem("SHIRT", "Shirt", "Apparel", "Nos", has_variants=True)
NAILS = CatalogItem("NAILS", "Nails", "Hardware", "Nos")
BREAD = CatalogItem("77", "Bread", "Bakery", "Nos")
APPLES_GTIN = _valid_ean13("400000000001")
FIXED_21 = WEIGHT_21.encode("11111", Decimal("0.5"))

CATALOG = MemoryCatalog(
    items=[SOAP, APPLES, CHEESE, CAKE, OLD, SHIRT, NAILS, BREAD],
    barcodes=[
        Barcode("4006381333931", "SOAP"),
        Barcode("0036000291452", "SOAP", uom="Box"),
        Barcode("96385074", "OLD"),
        Barcode("9780201379624", "SHIRT"),
        Barcode(APPLES_GTIN, "12345"),
        Barcode(FIXED_21, "SOAP"),
        Barcode(WEIGHT_21.encode("54321", Decimal(0)), "CHEESE"),
        Barcode("12345678", "NAILS"),  # an internal code without a valid check digit
    ],
)


def _line(code: str) -> LineRequest:
    result = lookup_scan(CATALOG, code, CONFIG)
    assert isinstance(result, LineRequest), result
    return result


def _error(code: str, last_sync: datetime | None = None) -> ScanError:
    result = lookup_scan(CATALOG, code, CONFIG, last_sync=last_sync)
    assert isinstance(result, ScanError), result
    return result


def test_gtin_scan_gives_one_in_stock_uom() -> None:
    line = _line("4006381333931")
    assert (line.item.item_code, line.uom, line.qty, line.conversion_factor) == (
        "SOAP",
        "Nos",
        Decimal(1),
        Decimal(1),
    )


def test_upc_a_finds_the_ean13_spelling_and_its_uom() -> None:
    line = _line("036000291452")
    assert (line.item.item_code, line.uom, line.conversion_factor) == ("SOAP", "Box", Decimal(12))


def test_internal_code_with_bad_check_digit_still_found() -> None:
    assert _line("12345678").item.item_code == "NAILS"


def test_item_code_typed_as_plain_code() -> None:
    assert _line("SOAP").item.item_code == "SOAP"


def test_weight_label_sets_qty_in_kg() -> None:
    line = _line(WEIGHT_21.encode("12345", Decimal("0.750")))
    assert (line.item.item_code, line.uom, line.qty, line.rate) == (
        "12345",
        "Kg",
        Decimal("0.750"),
        None,
    )


def test_weight_label_for_an_item_stocked_in_grams_uses_its_kg_uom() -> None:
    line = _line(WEIGHT_21.encode("54321", Decimal("0.250")))
    assert (line.item.item_code, line.uom, line.conversion_factor, line.qty) == (
        "CHEESE",
        "Kg",
        Decimal(1000),
        Decimal("0.250"),
    )


def test_price_label_fixes_the_rate() -> None:
    line = _line(PRICE_22.encode("0042", Decimal("12.50")))
    assert (line.item.item_code, line.qty, line.rate) == ("0042", Decimal(1), Decimal("12.50"))


def test_weight_label_on_an_item_sold_per_piece_is_refused() -> None:
    code = WEIGHT_21.encode("00077", Decimal("1"))  # the PLU's leading zeros are dropped
    error = _error(code)
    assert error.problem is ScanProblem.NOT_BY_WEIGHT
    assert error.item_code == "77"


def test_registered_barcode_in_the_2x_range_wins_over_the_layout() -> None:
    line = _line(FIXED_21)
    assert (line.item.item_code, line.qty) == ("SOAP", Decimal(1))


def test_weighed_item_scanned_by_its_own_gtin_asks_to_weigh_it() -> None:
    error = _error(APPLES_GTIN)
    assert error.problem is ScanProblem.WEIGH_IT
    assert error.item_code == "12345"
    assert error.message.startswith("Weigh it:")


def test_unknown_barcode_mentions_the_last_sync() -> None:
    error = _error("5901234123457", datetime(2025, 11, 20, 14, 5))
    assert error.problem is ScanProblem.UNKNOWN
    assert error.message == "Unknown 5901234123457 (catalog 11-20 14:05): search by name"
    assert _error("5901234123457").message == "Unknown barcode 5901234123457: search by name"


@pytest.mark.parametrize(
    "code",
    [
        "5901234123457",
        "X" * 60,
        WEIGHT_21.encode("99999", Decimal("1.234")),
        PRICE_22.encode("9999", Decimal("12.34")),
    ],
)
@pytest.mark.parametrize("synced", [None, datetime(2025, 11, 20, 14, 5)])
def test_an_unknown_code_is_said_whole_on_the_counters_message_line(
    code: str, synced: datetime | None
) -> None:
    error = _error(code, synced)
    assert error.problem is ScanProblem.UNKNOWN
    assert len(error.message) <= MESSAGE_WIDTH, error.message
    assert error.message.endswith("by name")


def test_unknown_embedded_item() -> None:
    error = _error(WEIGHT_21.encode("99999", Decimal("1")))
    assert error.problem is ScanProblem.UNKNOWN
    assert "99999" in error.message


def test_bad_check_digit_that_is_not_stored_keeps_the_check_digit_message() -> None:
    assert _error("4006381333932").problem is ScanProblem.CHECK_DIGIT


def test_disabled_item_says_so() -> None:
    error = _error("96385074")
    assert error.problem is ScanProblem.DISABLED
    assert "disabled" in error.message


def test_zero_weight_label_is_refused() -> None:
    assert _error(WEIGHT_21.encode("12345", Decimal(0))).problem is ScanProblem.ZERO_VALUE
    # CHEESE is registered by its zero-value label: that is a PLU, not a fixed barcode.
    error = _error(WEIGHT_21.encode("54321", Decimal(0)))
    assert (error.problem, error.item_code) == (ScanProblem.ZERO_VALUE, "CHEESE")


def test_template_item_asks_for_a_variant() -> None:
    error = _error("9780201379624")
    assert error.problem is ScanProblem.TEMPLATE
    assert "variant" in error.message
