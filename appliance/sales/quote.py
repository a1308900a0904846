"""``appliance quote``: an invoice body in, the same body with ERPNext's computed fields out.

Input: ``{"settings": {...}, "doc": {...}}`` (see README). Numbers are read as exact decimals.
A bad input exits with status 2 and one line naming the field and the problem.

The input is whatever the caller sends: any number in it, and any number computed from it, must
be finite and below 10^12 in size, because ERPNext stores numbers as decimal(21,9) and refuses
more (shared/erpnext/README.md). Checking every number, known field or not, also keeps
infinities, overflowing floats and integers too long to print away from the engine and the output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import IO, Any, TypeVar

from appliance.sales.erpnext_float import RoundingMethod
from appliance.sales.model import (
    ERPNEXT_LIMIT,
    ChargeType,
    DiscountOn,
    InvoiceInput,
    InvoiceTotals,
    ItemLine,
    PaymentLine,
    TaxLine,
    TotalsSettings,
)
from appliance.sales.totals import TotalsError, compute_totals, item_wise_tax_detail_json
from appliance.untrusted import shown

T = TypeVar("T")

TOO_BIG = "at or above 10^12 in size: more than ERPNext stores"
MAX_DEPTH = 32  # an invoice is 4 levels deep; the output's encoder recurses per level


class QuoteInputError(ValueError):
    """Bad quote input: the message starts with the path of the offending field."""


def _fail(path: str, problem: str) -> QuoteInputError:
    return QuoteInputError(f"{path}: {problem}")


def _loads(text: str | bytes) -> Any:
    """JSON with exact decimals; an integer too long for ``int`` (4300 digits) is a Decimal,
    refused by :func:`_check_numbers` rather than raising in the parser."""
    return json.loads(text, parse_float=Decimal, parse_int=_json_int)


def _json_int(digits: str) -> int | Decimal:
    return int(digits) if len(digits) <= 15 else Decimal(digits)


def _fits(number: float | Decimal, path: str) -> None:
    if not (number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)):
        raise _fail(path, "must be a finite number")
    if abs(Decimal(number)) >= ERPNEXT_LIMIT:  # Decimal(float) is exact
        raise _fail(path, TOO_BIG)


def _member(path: str, key: object) -> str:
    # A key is the caller's text: one that is not a plain name is shown quoted and escaped.
    return (
        f"{path}.{key}" if isinstance(key, str) and key.isidentifier() else f"{path}[{shown(key)}]"
    )


def _check_numbers(value: object, path: str) -> None:
    """Every number anywhere in ``value`` fits ERPNext (finite, below 10^12 in size), and it is
    nested no deeper than :data:`MAX_DEPTH`; the first offending field, in document order, is
    named."""
    stack: list[tuple[str, object, int]] = [(path, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _fail(where, "nested too deeply")
        if isinstance(item, dict):
            members = [(_member(where, k), v, depth + 1) for k, v in item.items()]
            stack.extend(reversed(members))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}[{n}]", v, depth + 1) for n, v in enumerate(item)]))
        elif isinstance(item, int | float | Decimal) and not isinstance(item, bool):
            _fits(item, where)


def _got(value: object) -> str:
    """The caller's value in a message: as JSON when short, else cut (see ``shown``)."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else shown(value)


def _decimal(value: object, path: str, *, required: bool = False) -> Decimal:
    if value is None or value == "":
        if required:
            raise _fail(path, "is required")
        return Decimal(0)
    if isinstance(value, bool):
        raise _fail(path, f"must be a number, got {_got(value)}")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _fail(path, f"must be a number, got {_got(value)}") from None
    _fits(number, path)
    return number


def _int(value: object, path: str, low: int, high: int) -> int:
    number = _decimal(value, path, required=True)
    if number != number.to_integral_value() or not low <= number <= high:
        raise _fail(path, f"must be a whole number from {low} to {high}, got {_got(value)}")
    return int(number)


def _flag(value: object, path: str) -> bool:
    if value in (None, "", 0, False, "0"):
        return False
    if value in (1, True, "1"):
        return True
    if isinstance(value, Decimal) and value in (0, 1):
        return bool(value)
    raise _fail(path, f"must be 0 or 1, got {_got(value)}")


def _text(value: object, path: str, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise _fail(path, "is required")
        return ""
    if not isinstance(value, str):
        raise _fail(path, f"must be text, got {_got(value)}")
    return value


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "must be an object")
    return value


def _rows(
    doc: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any], str], T]
) -> list[T]:
    rows = doc.get(key) or []
    if not isinstance(rows, list):
        raise _fail(f"doc.{key}", "must be a list")
    return [parse(_object(row, f"doc.{key}[{n}]"), f"doc.{key}[{n}]") for n, row in enumerate(rows)]


def _choice(value: object, path: str, enum: type[Any], default: Any) -> Any:
    if value in (None, ""):
        return default
    try:
        return enum(value)
    except ValueError:
        options = ", ".join(repr(m.value) for m in enum)
        raise _fail(path, f"must be one of {options}, got {_got(value)}") from None


def parse_settings(raw: object) -> TotalsSettings:
    s = _object(raw if raw is not None else {}, "settings")
    fraction = _decimal(
        s.get("smallest_currency_fraction_value"), "settings.smallest_currency_fraction_value"
    )
    if fraction < 0:
        raise _fail("settings.smallest_currency_fraction_value", "cannot be negative")
    return TotalsSettings(
        currency=_text(s.get("currency"), "settings.currency") or "CAD",
        currency_precision=_int(
            s.get("currency_precision", 2), "settings.currency_precision", 0, 9
        ),
        float_precision=_int(s.get("float_precision", 3), "settings.float_precision", 0, 9),
        rounding_method=_choice(
            s.get("rounding_method"),
            "settings.rounding_method",
            RoundingMethod,
            RoundingMethod.BANKERS,
        ),
        disable_rounded_total=_flag(
            s.get("disable_rounded_total"), "settings.disable_rounded_total"
        ),
        smallest_currency_fraction_value=fraction,
        erpnext_version=_int(s.get("erpnext_version", 15), "settings.erpnext_version", 15, 16),
    )


def _item_tax_rate(value: object, path: str) -> dict[str, Decimal]:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = _loads(value)
        except (ValueError, RecursionError):
            raise _fail(path, "is not valid JSON") from None
    mapping = _object(value, path)
    return {str(k): _decimal(v, _member(path, k), required=True) for k, v in mapping.items()}


def _parse_item(row: Mapping[str, Any], path: str) -> ItemLine:
    qty = _decimal(row.get("qty"), f"{path}.qty", required=True)
    rate = row.get("rate")
    price_list_rate = _decimal(row.get("price_list_rate"), f"{path}.price_list_rate")
    if rate in (None, "") and not price_list_rate:
        raise _fail(f"{path}.rate", "is required (or give price_list_rate)")
    discount = _decimal(row.get("discount_percentage"), f"{path}.discount_percentage")
    if not Decimal(0) <= discount <= Decimal(100):
        raise _fail(f"{path}.discount_percentage", f"must be between 0 and 100, got {discount}")
    return ItemLine(
        item_code=_text(row.get("item_code"), f"{path}.item_code", required=True),
        item_name=_text(row.get("item_name"), f"{path}.item_name"),
        qty=qty,
        rate=None if rate in (None, "") else _decimal(rate, f"{path}.rate"),
        price_list_rate=price_list_rate,
        discount_percentage=discount,
        item_tax_rate=_item_tax_rate(row.get("item_tax_rate"), f"{path}.item_tax_rate"),
    )


def _parse_tax(row: Mapping[str, Any], path: str) -> TaxLine:
    row_id = row.get("row_id")
    return TaxLine(
        charge_type=_choice(row.get("charge_type"), f"{path}.charge_type", ChargeType, None)
        or _missing(f"{path}.charge_type"),
        account_head=_text(row.get("account_head"), f"{path}.account_head", required=True),
        rate=_decimal(row.get("rate"), f"{path}.rate"),
        tax_amount=_decimal(row.get("tax_amount"), f"{path}.tax_amount"),
        row_id=None if row_id in (None, "") else _int(row_id, f"{path}.row_id", 1, 10_000),
        included_in_print_rate=_flag(
            row.get("included_in_print_rate"), f"{path}.included_in_print_rate"
        ),
        description=_text(row.get("description"), f"{path}.description"),
    )


def _missing(path: str) -> Any:
    raise _fail(path, "is required")


def _parse_payment(row: Mapping[str, Any], path: str) -> PaymentLine:
    return PaymentLine(
        mode_of_payment=_text(row.get("mode_of_payment"), f"{path}.mode_of_payment", required=True),
        amount=_decimal(row.get("amount"), f"{path}.amount", required=True),
        type=_text(row.get("type"), f"{path}.type"),
    )


def parse_invoice(raw: object) -> InvoiceInput:
    doc = _object(raw, "doc")
    items = _rows(doc, "items", _parse_item)
    if not items:
        raise _fail("doc.items", "an invoice needs at least one line")
    return InvoiceInput(
        items=tuple(items),
        taxes=tuple(_rows(doc, "taxes", _parse_tax)),
        payments=tuple(_rows(doc, "payments", _parse_payment)),
        apply_discount_on=_choice(
            doc.get("apply_discount_on"),
            "doc.apply_discount_on",
            DiscountOn,
            DiscountOn.GRAND_TOTAL,
        ),
        additional_discount_percentage=_decimal(
            doc.get("additional_discount_percentage"), "doc.additional_discount_percentage"
        ),
        discount_amount=_decimal(doc.get("discount_amount"), "doc.discount_amount"),
        write_off_amount=_decimal(doc.get("write_off_amount"), "doc.write_off_amount"),
        is_return=_flag(doc.get("is_return"), "doc.is_return"),
    )


def fill_document(doc: Mapping[str, Any], totals: InvoiceTotals) -> dict[str, Any]:
    """The input document with every field ERPNext computes filled in."""
    out = dict(doc)
    out["items"] = [
        {
            **row,
            "qty": r.qty,
            "price_list_rate": r.price_list_rate,
            "discount_percentage": r.discount_percentage,
            "discount_amount": r.discount_amount,
            "rate": r.rate,
            "amount": r.amount,
            "net_rate": r.net_rate,
            "net_amount": r.net_amount,
            "distributed_discount_amount": r.distributed_discount_amount,
        }
        for row, r in zip(doc.get("items") or [], totals.items, strict=True)
    ]
    out["taxes"] = [
        {
            **row,
            "rate": t.rate,
            "tax_amount": t.tax_amount,
            "tax_amount_after_discount_amount": t.tax_amount_after_discount_amount,
            "total": t.total,
            "item_wise_tax_detail": item_wise_tax_detail_json(t),
        }
        for row, t in zip(doc.get("taxes") or [], totals.taxes, strict=True)
    ]
    out.update(
        total_qty=totals.total_qty,
        total=totals.total,
        net_total=totals.net_total,
        total_taxes_and_charges=totals.total_taxes_and_charges,
        apply_discount_on=doc.get("apply_discount_on") or DiscountOn.GRAND_TOTAL.value,
        additional_discount_percentage=totals.additional_discount_percentage,
        discount_amount=totals.discount_amount,
        grand_total=totals.grand_total,
        rounding_adjustment=totals.rounding_adjustment,
        rounded_total=totals.rounded_total,
        paid_amount=totals.paid_amount,
        base_paid_amount=totals.paid_amount,
        change_amount=totals.change_amount,
        write_off_amount=totals.write_off_amount,
        outstanding_amount=totals.outstanding_amount,
    )
    return out


class _DecimalEncoder(json.JSONEncoder):
    def default(self, o: object) -> Any:
        if isinstance(o, Decimal):
            # Emitted as a JSON number; every value is already rounded to its field's precision.
            return float(o)
        return super().default(o)


# Fills a doc's missing taxes (and item tax maps) for its customer from the local store.
TaxResolver = Callable[[dict[str, Any]], dict[str, Any]]


def needs_taxes(doc: object) -> bool:
    """A doc that names a customer and carries no tax rows gets them from the Tax Rules."""
    return isinstance(doc, dict) and bool(doc.get("customer")) and "taxes" not in doc


def needs_store(doc: object) -> bool:
    """Taxes to resolve, or a ``coupon_code`` to look up and apply (docs/totals.md "Offers")."""
    return needs_taxes(doc) or (isinstance(doc, dict) and bool(doc.get("coupon_code")))


def quote(payload: object, resolve: TaxResolver | None = None) -> dict[str, Any]:
    body = _object(payload, "input")
    for key, value in body.items():
        _check_numbers(value, _member("", key).lstrip("."))
    settings = parse_settings(body.get("settings"))
    if "doc" not in body:
        raise _fail("doc", "is required")
    invoice = parse_invoice(body["doc"])  # the caller's doc is checked before anything reads it
    if resolve is not None and needs_store(body["doc"]):
        body = {**body, "doc": resolve(dict(body["doc"]))}
        invoice = parse_invoice(body["doc"])
    try:
        totals = compute_totals(invoice, settings)
    except TotalsError as exc:
        raise QuoteInputError(f"doc.{exc}") from None
    filled = fill_document(_object(body["doc"], "doc"), totals)
    try:
        _check_numbers(filled, "doc")  # what ERPNext would compute must fit too
    except QuoteInputError as exc:
        raise QuoteInputError(f"{exc} (as ERPNext computes it)") from None
    return filled


def run_quote(
    stdin: IO[str], stdout: IO[str], stderr: IO[str], resolve: TaxResolver | None = None
) -> int:
    try:
        text = stdin.read()
        text.encode("utf-8")  # undecodable bytes read as lone surrogates (surrogateescape)
        payload = _loads(text)
    except json.JSONDecodeError as exc:
        print(
            f"input: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            file=stderr,
        )
        return 2
    except RecursionError:
        print("input: not valid JSON (nested too deeply)", file=stderr)
        return 2
    except UnicodeError:
        print("input: not valid JSON (not UTF-8 text)", file=stderr)
        return 2
    try:
        result = quote(payload, resolve)
    except QuoteInputError as exc:
        print(str(exc), file=stderr)
        return 2
    json.dump(result, stdout, cls=_DecimalEncoder, indent=1)
    stdout.write("\n")
    return 0
