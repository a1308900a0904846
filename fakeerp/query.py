"""``GET /api/resource/<DocType>`` query parameters evaluated over in-memory documents, the way
``frappe.client.get_list`` reads them (FACTS §1.5): JSON ``fields``, ``filters`` and
``or_filters`` (dict or list form), ``order_by`` as an SQL fragment, ``limit_start`` and
``limit_page_length`` (default 20, 0 = all)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fakeerp.errors import FrappeError

Doc = dict[str, Any]
Condition = tuple[str, str, Any]

DEFAULT_PAGE = 20
ORDER_CLAUSE = re.compile(r"^\s*`?(?:tab[^`]*`\.`)?([a-z_][a-z0-9_]*)`?\s*(asc|desc)?\s*$", re.I)


class QueryError(FrappeError):
    pass


def _data_error(message: str) -> FrappeError:
    return FrappeError(417, "DataError", message)


def parse_json_param(raw: str | None, default: Any) -> Any:
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        # Frappe passes a non-JSON string through; a field name alone is the common case.
        return raw


def conditions(raw: Any) -> list[Condition]:
    """Frappe's filter forms as (field, operator, value) triples."""
    out: list[Condition] = []
    if raw in (None, "", [], {}):
        return out
    if isinstance(raw, Mapping):
        for fieldname, value in raw.items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                out.append((fieldname, value[0].lower(), value[1]))
            else:
                out.append((fieldname, "=", value))
        return out
    if isinstance(raw, list):
        for raw_item in raw:
            item = raw_item[1:] if isinstance(raw_item, list) and len(raw_item) == 4 else raw_item
            if isinstance(item, list) and len(item) == 3:
                out.append((str(item[0]), str(item[1]).lower(), item[2]))
            elif isinstance(item, list) and len(item) == 2:
                out.append((str(item[0]), "=", item[1]))
            else:
                raise _data_error(f"Invalid filter: {item!r}")
        return out
    raise _data_error(f"Invalid filters: {raw!r}")


_PLAIN_NUMBERS = (int, float)


def _num(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return None


def _compare(left: Any, right: Any) -> int:
    kinds = (type(left), type(right))
    if (kinds[0] in _PLAIN_NUMBERS and kinds[1] in _PLAIN_NUMBERS) or kinds == (str, str):
        # What the Decimal comparison below decides, without building two Decimals per row
        # tested (a float's shortest repr keeps its order): filtering pages cost the fake more
        # than answering them.
        return int(left > right) - int(left < right)
    ln, rn = _num(left), _num(right)
    if ln is not None:
        try:
            rn = rn if rn is not None else Decimal(str(right))
        except InvalidOperation:
            rn = None
        if rn is not None:
            return (ln > rn) - (ln < rn)
    ls = "" if left is None else str(left)
    rs = "" if right is None else str(right)
    return (ls > rs) - (ls < rs)


def _equal(left: Any, right: Any) -> bool:
    if left in (None, "") and right in (None, ""):
        return True
    return _compare(left, right) == 0


def _like(value: Any, pattern: Any) -> bool:
    glob = str(pattern).replace("*", "[*]").replace("?", "[?]").replace("%", "*").replace("_", "?")
    return fnmatch.fnmatchcase(str(value or "").lower(), glob.lower())


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")]
    return list(value or [])


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": _equal,
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    ">": lambda a, b: a not in (None, "") and _compare(a, b) > 0,
    "<": lambda a, b: _compare(a, b) < 0,
    ">=": lambda a, b: a not in (None, "") and _compare(a, b) >= 0,
    "<=": lambda a, b: _compare(a, b) <= 0,
    "like": _like,
    "not like": lambda a, b: not _like(a, b),
    "in": lambda a, b: any(_equal(a, v) for v in _as_list(b)),
    "not in": lambda a, b: not any(_equal(a, v) for v in _as_list(b)),
    "is": lambda a, b: (a not in (None, "")) == (str(b).lower() == "set"),
    "between": lambda a, b: _compare(a, b[0]) >= 0 and _compare(a, b[1]) <= 0,
}


def matcher(
    and_conds: list[Condition], or_conds: list[Condition], known: Callable[[str], bool]
) -> Callable[[Doc], bool]:
    for fieldname, op, _ in [*and_conds, *or_conds]:
        if op not in OPERATORS:
            raise _data_error(f"Unsupported operator {op}")
        if not known(fieldname):
            # The real answer for a field the doctype does not have (README).
            raise _data_error("Field not permitted in query: " + fieldname)

    ands = [(f, _fast(op, v)) for f, op, v in and_conds]
    ors = [(f, _fast(op, v)) for f, op, v in or_conds]

    def test(doc: Doc) -> bool:
        if not all(check(doc.get(f)) for f, check in ands):
            return False
        return not ors or any(check(doc.get(f)) for f, check in ors)

    return test


def _fast(op: str, value: Any) -> Callable[[Any], bool]:
    """The operator bound to its value; ``in`` over a long list as a set lookup (the agent
    lists child rows with ``parent in [500 names]``, which compared one by one is quadratic).
    A text field equals a value exactly when their texts are equal, as ``_equal`` decides."""
    compare = OPERATORS[op]
    if op not in ("in", "not in"):
        return lambda a: compare(a, value)
    values = _as_list(value)
    texts = {str(v) for v in values if v not in (None, "")}
    empty = any(v in (None, "") for v in values)

    def member(a: Any) -> bool:
        if a in (None, ""):
            return empty
        if isinstance(a, str):
            return a in texts
        return any(_equal(a, v) for v in values)  # numbers: numeric comparison

    return member if op == "in" else (lambda a: not member(a))


def sort(docs: list[Doc], order_by: str | None) -> list[Doc]:
    clauses = [c for c in (order_by or "modified desc").split(",") if c.strip()]
    for clause in reversed(clauses):
        m = ORDER_CLAUSE.match(clause)
        if not m:
            raise _data_error(f"Invalid order_by: {order_by}")
        fieldname, direction = m.group(1), (m.group(2) or "asc").lower()
        docs.sort(key=sort_key_of(fieldname), reverse=direction == "desc")
    return docs


def sort_key_of(fieldname: str) -> Callable[[Doc], tuple[int, Any]]:
    return lambda doc: _sort_key(doc.get(fieldname))


def _sort_key(value: Any) -> tuple[int, Any]:
    n = _num(value)
    if n is not None:
        return (1, n)
    return (0 if value in (None, "") else 2, "" if value is None else str(value))


def project(docs: Iterable[Doc], fields: Any, tables: set[str]) -> list[Doc]:
    names = fields if isinstance(fields, list) else [fields] if fields else ["name"]
    out = []
    for doc in docs:
        if "*" in names:
            row = {k: v for k, v in doc.items() if k not in tables}
        else:
            row = {}
            for f in names:
                key = str(f).split(" as ")[-1].strip().strip("`")
                row[key] = doc.get(str(f).split(" as ")[0].strip().strip("`"))
        out.append(row)
    return out


def page(docs: list[Doc], start: Any, length: Any) -> list[Doc]:
    s = int(start or 0)
    n = DEFAULT_PAGE if length in (None, "") else int(length)
    return docs[s:] if n == 0 else docs[s : s + n]
