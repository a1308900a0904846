"""Scanned codes: GTIN check digits, weight/price-embedded EAN-13, and resolving a scan to a line.

A scan becomes a ``LineRequest`` (item, UOM, quantity, maybe a fixed price) or a ``ScanError``
whose message tells the cashier what to do next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the config (and the till's cold start) reads ScanConfig
    from appliance.sales.catalog import Catalog, CatalogItem

ZERO = Decimal(0)
ONE = Decimal(1)
_DIGITS = frozenset("0123456789")
_GTIN_LENGTHS = (8, 12, 13, 14)

# GS1 General Specifications 7.9.3: weighted products for the price/weight verifier digit.
_W2_MINUS = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)
_W5_PLUS = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)
_W5_MINUS = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)


class ScanKind(StrEnum):
    GTIN = "GTIN"
    EMBEDDED_WEIGHT = "Embedded weight"
    EMBEDDED_PRICE = "Embedded price"
    PLAIN = "Plain"


class EmbeddedKind(StrEnum):
    WEIGHT = "Weight"
    PRICE = "Price"


class ScanProblem(StrEnum):
    EMPTY = "empty"
    NOT_A_BARCODE = "not a barcode"
    CHECK_DIGIT = "check digit"
    VALUE_CHECK_DIGIT = "value check digit"
    UNKNOWN = "unknown"
    DISABLED = "disabled"
    NOT_FOR_SALE = "not for sale"
    TEMPLATE = "template"
    WEIGH_IT = "weigh it"
    NOT_BY_WEIGHT = "not sold by weight"
    UNKNOWN_UOM = "unknown uom"
    ZERO_VALUE = "zero value"


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits of a GTIN without its last digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """True for an EAN-8, UPC-A, EAN-13 or GTIN-14 whose check digit is right."""
    return (
        len(code) in _GTIN_LENGTHS
        and set(code) <= _DIGITS
        and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def value_check_digit(value: str) -> int:
    """The GS1 price/weight verifier digit of a 4- or 5-digit value field."""
    d = [int(c) for c in value]
    if len(d) == 4:
        return (3 * (_W2_MINUS[d[0]] + _W2_MINUS[d[1]] + _W3[d[2]] + _W5_MINUS[d[3]])) % 10
    if len(d) == 5:
        total = (
            _W5_PLUS[d[0]] + _W2_MINUS[d[1]] + _W5_MINUS[d[2]] + _W5_PLUS[d[3]] + _W2_MINUS[d[4]]
        )
        return _W5_MINUS.index((10 - total % 10) % 10)
    raise ValueError(f"a value check digit needs 4 or 5 digits, not {len(d)}")


@dataclass(frozen=True)
class EmbeddedLayout:
    """How an in-store EAN-13 (GS1 prefixes 20-29, or 02 for UPC) carries an item and a value.

    Positions: prefix, item reference, optional value verifier digit, value, check digit.
    ``decimals`` places the implied decimal point: 3 turns grams into kg, 2 cents into units.
    """

    prefix: str
    item_digits: int
    value_digits: int
    kind: EmbeddedKind
    decimals: int
    value_check: bool = False

    def __post_init__(self) -> None:
        if not self.prefix or not set(self.prefix) <= _DIGITS:
            raise ValueError(f"embedded barcode prefix must be digits, got {self.prefix!r}")
        used = len(self.prefix) + self.item_digits + self.value_digits + self.value_check + 1
        if used != 13 or self.item_digits < 1 or self.value_digits < 1:
            raise ValueError(
                f"embedded layout {self.pattern()} must fill exactly 13 digits, not {used}"
            )
        if self.value_check and self.value_digits not in (4, 5):
            raise ValueError("a value verifier digit needs a 4- or 5-digit value")
        if self.decimals < 0:
            raise ValueError("decimals must be 0 or more")

    @classmethod
    def from_pattern(cls, pattern: str, decimals: int | None = None) -> EmbeddedLayout:
        """Read a pattern such as ``21IIIIIWWWWWC`` or ``22IIIIVPPPPC``.

        Leading digits are the prefix; I = item reference, W = weight, P = price,
        V = value verifier digit, C = check digit. Weights default to 3 decimals, prices to 2.
        """
        prefix = pattern[: len(pattern) - len(pattern.lstrip("0123456789"))]
        rest = pattern[len(prefix) :]
        kind = EmbeddedKind.WEIGHT if "W" in rest else EmbeddedKind.PRICE
        value_letter = "W" if kind is EmbeddedKind.WEIGHT else "P"
        value_check = "V" in rest
        expected = (
            "I" * rest.count("I")
            + ("V" if value_check else "")
            + value_letter * rest.count(value_letter)
            + "C"
        )
        if rest != expected or ("W" in rest and "P" in rest):
            raise ValueError(
                f"barcode layout {pattern!r}: expected prefix digits, then I…, optional V, "
                "then W… or P…, then C"
            )
        return cls(
            prefix=prefix,
            item_digits=rest.count("I"),
            value_digits=rest.count(value_letter),
            kind=kind,
            decimals=(3 if kind is EmbeddedKind.WEIGHT else 2) if decimals is None else decimals,
            value_check=value_check,
        )

    def pattern(self) -> str:
        value_letter = "W" if self.kind is EmbeddedKind.WEIGHT else "P"
        return (
            self.prefix
            + "I" * self.item_digits
            + ("V" if self.value_check else "")
            + value_letter * self.value_digits
            + "C"
        )

    def encode(self, item_ref: str, value: Decimal) -> str:
        """Build the EAN-13 for an item reference and value (labels, tests)."""
        scaled = value.scaleb(self.decimals)
        if scaled != scaled.to_integral_value() or scaled < 0:
            raise ValueError(f"{value} does not fit {self.decimals} decimals")
        digits = str(int(scaled)).zfill(self.value_digits)
        if len(digits) > self.value_digits or len(item_ref) != self.item_digits:
            raise ValueError(f"{item_ref}/{value} does not fit layout {self.pattern()}")
        verifier = str(value_check_digit(digits)) if self.value_check else ""
        body = self.prefix + item_ref + verifier + digits
        return body + str(gtin_check_digit(body))


@dataclass(frozen=True)
class ScanConfig:
    """Scanner settings: embedded layouts and what counts as a weight UOM."""

    layouts: tuple[EmbeddedLayout, ...] = ()
    weight_uoms: tuple[str, ...] = ("kg", "kilogram")
    allow_letters: bool = True

    def __post_init__(self) -> None:
        prefixes = [layout.prefix for layout in self.layouts]
        if len(prefixes) != len(set(prefixes)):
            raise ValueError(f"two embedded barcode layouts share a prefix: {prefixes}")

    def layout_for(self, code13: str) -> EmbeddedLayout | None:
        # Longest prefix first, so "021" can sit beside "02".
        for layout in sorted(self.layouts, key=lambda lay: -len(lay.prefix)):
            if code13.startswith(layout.prefix):
                return layout
        return None

    def is_weight_uom(self, uom: str) -> bool:
        return uom.casefold() in {u.casefold() for u in self.weight_uoms}


@dataclass(frozen=True)
class ScanResult:
    """A syntactically valid scan. ``normalized`` is the GTIN-13 form of a UPC-A or GTIN-14."""

    kind: ScanKind
    code: str
    normalized: str
    item_ref: str = ""
    qty: Decimal | None = None
    price: Decimal | None = None
    layout: EmbeddedLayout | None = None

    def lookup_keys(self) -> tuple[str, ...]:
        """Barcode spellings worth asking the catalog for, most likely first."""
        keys = [self.code, self.normalized]
        if self.kind is ScanKind.GTIN and len(self.normalized) == 13:
            if self.normalized.startswith("0"):
                keys.append(self.normalized[1:])
            keys.append("0" + self.normalized)
        return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class ScanError:
    """Why a scan gave no line, in words a cashier can act on."""

    problem: ScanProblem
    code: str
    message: str
    item_code: str = ""


@dataclass(frozen=True)
class LineRequest:
    """What a scan asks the cart to add. ``rate`` is set only by a price-embedded barcode."""

    item: CatalogItem
    uom: str
    conversion_factor: Decimal
    qty: Decimal
    scan: ScanResult
    rate: Decimal | None = None


def parse_scan(code: str, config: ScanConfig | None = None) -> ScanResult | ScanError:
    """Classify a scanned code without looking at the catalog."""
    config = config or ScanConfig()
    text = code.strip()
    if not text:
        return ScanError(ScanProblem.EMPTY, text, "Nothing was scanned — scan again")
    odd = sorted({c for c in text if not (c.isascii() and c.isprintable())})
    if odd:
        shown = "".join(odd).encode("unicode_escape").decode("ascii")
        return ScanError(
            ScanProblem.NOT_A_BARCODE,
            text,
            f"Not a barcode: {text!r} contains {shown!r} — check the scanner's keyboard "
            "layout, then rescan or key the code",
        )
    if not set(text) <= _DIGITS:
        if config.allow_letters:
            return ScanResult(ScanKind.PLAIN, text, text)
        return ScanError(
            ScanProblem.NOT_A_BARCODE,
            text,
            f"Not a barcode: {text} contains letters — rescan or key the item code",
        )
    if len(text) not in _GTIN_LENGTHS:
        return ScanResult(ScanKind.PLAIN, text, text)
    expected = gtin_check_digit(text[:-1])
    if expected != int(text[-1]):
        return ScanError(
            ScanProblem.CHECK_DIGIT,
            text,
            f"Check digit wrong: {text} should end in {expected} — rescan or key the code",
        )
    normalized = text
    if len(text) == 12 or (len(text) == 14 and text.startswith("0")):
        normalized = text.zfill(13)[-13:]
    if len(normalized) == 13:
        layout = config.layout_for(normalized)
        if layout is not None:
            return _parse_embedded(text, normalized, layout)
    return ScanResult(ScanKind.GTIN, text, normalized)


def _parse_embedded(text: str, code13: str, layout: EmbeddedLayout) -> ScanResult | ScanError:
    start = len(layout.prefix)
    item_ref = code13[start : start + layout.item_digits]
    value_start = start + layout.item_digits + layout.value_check
    digits = code13[value_start : value_start + layout.value_digits]
    if layout.value_check:
        expected = value_check_digit(digits)
        if int(code13[value_start - 1]) != expected:
            noun = "weight" if layout.kind is EmbeddedKind.WEIGHT else "price"
            return ScanError(
                ScanProblem.VALUE_CHECK_DIGIT,
                text,
                f"The {noun} in {text} does not verify (its check digit should be {expected}) "
                "— rescan, or reprint the label on the scale",
            )
    value = Decimal(int(digits)).scaleb(-layout.decimals)
    if layout.kind is EmbeddedKind.WEIGHT:
        return ScanResult(
            ScanKind.EMBEDDED_WEIGHT, text, code13, item_ref=item_ref, qty=value, layout=layout
        )
    return ScanResult(
        ScanKind.EMBEDDED_PRICE, text, code13, item_ref=item_ref, price=value, layout=layout
    )


# The counter's message line is one row of an 80-column console less its padding (78), and the
# sale screen puts "Scan not added: " before a scan's error (16): an error must fit the rest
# whole, or the cashier reads half a sentence.
MESSAGE_WIDTH = 62
_SHOWN_CODE = 14  # characters of a (plain, letters allowed) code repeated in a message


def _shown(code: str) -> str:
    # ASCII dots: the console's font has no ellipsis glyph.
    return code if len(code) <= _SHOWN_CODE else code[: _SHOWN_CODE - 3] + "..."


def _sync_note(last_sync: datetime | None) -> str:
    return "" if last_sync is None else f" (catalog {last_sync:%m-%d %H:%M})"


def lookup_scan(
    catalog: Catalog,
    code: str,
    config: ScanConfig | None = None,
    *,
    last_sync: datetime | None = None,
) -> LineRequest | ScanError:
    """Resolve a scan to a sellable item, UOM and quantity (or a fixed price)."""
    config = config or ScanConfig()
    parsed = parse_scan(code, config)
    text = code.strip()
    if isinstance(parsed, ScanError):
        if parsed.problem is ScanProblem.EMPTY:
            return parsed
        # Internal codes need not carry a valid check digit: a stored barcode wins.
        hit = _direct(catalog, text)
        if hit is None:
            return parsed
        return _line(hit[0], hit[1], ScanResult(ScanKind.PLAIN, text, text), config)

    if parsed.layout is not None:
        # A fixed barcode registered inside the 2x range is more specific than the layout,
        # unless it is the item's zero-value label (how shops register a PLU).
        hit = catalog.item_by_barcode(text)
        if hit is not None and parsed.normalized != parsed.layout.encode(parsed.item_ref, ZERO):
            return _line(hit[0], hit[1], ScanResult(ScanKind.GTIN, text, parsed.normalized), config)
        item = _embedded_item(catalog, parsed, parsed.layout)
        if item is None:
            return ScanError(
                ScanProblem.UNKNOWN,
                text,
                f"Unknown PLU {parsed.item_ref}{_sync_note(last_sync)}: search by name",
            )
        return _line(item, item.stock_uom, parsed, config)

    keys = parsed.lookup_keys()
    for key in keys:
        found = catalog.item_by_barcode(key)
        if found is not None:
            return _line(found[0], found[1], parsed, config)
    item = catalog.item(text)
    if item is not None:
        return _line(item, item.stock_uom, parsed, config)
    return ScanError(
        ScanProblem.UNKNOWN,
        text,
        f"Unknown {'barcode ' if last_sync is None else ''}{_shown(text)}"
        f"{_sync_note(last_sync)}: search by name",
    )


def _direct(catalog: Catalog, text: str) -> tuple[CatalogItem, str] | None:
    hit = catalog.item_by_barcode(text)
    if hit is not None:
        return hit
    item = catalog.item(text)
    return (item, item.stock_uom) if item is not None else None


def _embedded_item(
    catalog: Catalog, scan: ScanResult, layout: EmbeddedLayout
) -> CatalogItem | None:
    zero_value = layout.encode(scan.item_ref, Decimal(0))
    # Shops register weighed items either as the zero-value label or by the bare PLU.
    for key in dict.fromkeys((zero_value, scan.item_ref, scan.item_ref.lstrip("0"))):
        if not key:
            continue
        hit = catalog.item_by_barcode(key)
        if hit is not None:
            return hit[0]
        item = catalog.item(key)
        if item is not None:
            return item
    return None


def _line(
    item: CatalogItem, uom: str, scan: ScanResult, config: ScanConfig
) -> LineRequest | ScanError:
    label = f"{item.item_code} ({item.item_name})" if item.item_name else item.item_code
    code = scan.code
    if item.disabled:
        return ScanError(
            ScanProblem.DISABLED,
            code,
            f"{label} is disabled in ERPNext and cannot be sold — set it aside for a supervisor",
            item.item_code,
        )
    if item.has_variants:
        return ScanError(
            ScanProblem.TEMPLATE,
            code,
            f"{label} is a template item — pick the exact variant (size, colour…) "
            "from the item search",
            item.item_code,
        )
    if not item.is_sales_item:
        return ScanError(
            ScanProblem.NOT_FOR_SALE,
            code,
            f"{label} is not a sales item in ERPNext — set it aside for a supervisor",
            item.item_code,
        )
    if scan.layout is not None and not (scan.qty or scan.price):
        noun = "weight" if scan.kind is ScanKind.EMBEDDED_WEIGHT else "price"
        return ScanError(
            ScanProblem.ZERO_VALUE,
            code,
            f"The label {code} for {label} carries a zero {noun} — weigh the item again and "
            "print a new label",
            item.item_code,
        )
    if scan.kind is ScanKind.EMBEDDED_PRICE:
        assert scan.price is not None
        # Sold by weight: the till turns the price back into the weight (``label_weights``).
        # Sold per piece (a bakery bag priced by the scale): one piece at the label's price.
        by_weight = _weight_uom(item, config)
        uom = by_weight or item.stock_uom
        factor = item.conversion_factor(uom)
        assert factor is not None
        return LineRequest(item, uom, factor, ONE, scan, rate=scan.price)
    if scan.kind is ScanKind.EMBEDDED_WEIGHT:
        assert scan.qty is not None
        weight_uom = _weight_uom(item, config)
        if weight_uom is None:
            return ScanError(
                ScanProblem.NOT_BY_WEIGHT,
                code,
                f"{label} is sold per {item.stock_uom}, but this label carries a weight — "
                "scan the item's own barcode or call a supervisor",
                item.item_code,
            )
        factor = item.conversion_factor(weight_uom)
        assert factor is not None
        return LineRequest(item, weight_uom, factor, scan.qty, scan)
    if item.is_weighed:
        return ScanError(
            ScanProblem.WEIGH_IT,
            code,
            f"Weigh it: {label} is sold by weight — put it on the scale",
            item.item_code,
        )
    factor = item.conversion_factor(uom)
    if factor is None:
        return ScanError(
            ScanProblem.UNKNOWN_UOM,
            code,
            f"Barcode {code} sells {label} per {uom}, but the item has no conversion for "
            f"{uom} — key the item or call a supervisor",
            item.item_code,
        )
    return LineRequest(item, uom, factor, ONE, scan)


WEIGHT_PLACES = Decimal("0.001")  # a line's quantity: the till's qty precision, whole grams
CENT = Decimal("0.01")
_NEAR_GRAMS = 3  # the scale's own weight is within a gram or two of price / rate
_FAR_SHARE = Decimal("0.02")  # how far (2 %) a weight may move so a rate in cents gives the price
# ...but never more than 2 kg either way (2 % of 100 kg, beyond any counter scale): the search
# runs on the scan, and a hostile label (999.99 on a PLU at 0.001 a piece) stands for tonnes.
_FAR_GRAMS = 2000


def label_weights(price: Decimal, unit_rate: Decimal) -> Iterator[tuple[Decimal, Decimal]]:
    """(weight, rate per weight unit) a price label can stand for, the likeliest first; each
    costs exactly ``price`` as ERPNext rounds a line (``rate x qty`` to the cent, half up).

    A scale weighs, multiplies by its price per kg and prints only the price, so the weight is
    taken back from the price and the till's price per kg: ``price / rate`` rounded half-up to
    whole grams (0.001), or a gram either side when that one misses the cent: a label 4.99 at
    12.10/kg is 0.412 Kg x 12.10 = 4.99. ``Till.add_request`` checks each with the totals
    engine and takes the first it agrees with.

    When no whole gram gives the price at the till's rate (the scale was set to another price,
    or a heavy piece at a high price per kg steps over a cent with every gram), the rate moves by
    cents from ``price / weight`` over weights within 2 % of the estimate (at most 2 kg either
    way): the customer pays what the label says, and the line says at what rate.
    """
    if unit_rate <= 0 or price <= 0:
        return
    estimate = (price / unit_rate).quantize(WEIGHT_PLACES, ROUND_HALF_UP)

    def costs_the_label(weight: Decimal, rate: Decimal) -> bool:
        return weight > 0 and (weight * rate).quantize(CENT, ROUND_HALF_UP) == price

    near = sorted(range(-_NEAR_GRAMS, _NEAR_GRAMS + 1), key=abs)
    for step in near:
        weight = estimate + step * WEIGHT_PLACES
        if costs_the_label(weight, unit_rate):
            yield weight, unit_rate
    far = min(_FAR_GRAMS, max(_NEAR_GRAMS, int(estimate * _FAR_SHARE / WEIGHT_PLACES)))
    for step in sorted(range(-far, far + 1), key=abs):
        weight = estimate + step * WEIGHT_PLACES
        if weight <= 0:
            continue
        rate = (price / weight).quantize(CENT, ROUND_HALF_UP)
        for moved in (rate, rate + CENT, rate - CENT):
            if costs_the_label(weight, moved):
                yield weight, moved


def _weight_uom(item: CatalogItem, config: ScanConfig) -> str | None:
    if config.is_weight_uom(item.stock_uom):
        return item.stock_uom
    for uom in item.uoms:
        if config.is_weight_uom(uom):
            return uom
    return None
