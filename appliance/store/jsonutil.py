"""JSON as the store writes it: exact money, one canonical form for hashing.

Two encodings, for two readers:
- ``dumps_payload`` writes the body sent to ERPNext. ``Decimal`` becomes a JSON number with its
  exact digits (``1.10`` stays ``1.10``), because the standard library would go through ``float``.
- ``canonical`` writes journal data for hashing: keys sorted, no spaces, ``Decimal`` as a string,
  so any JSON library can re-create the bytes and check the chain.
``loads`` reads numbers with a fraction back as ``Decimal`` so nothing is lost on the way round.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def dumps_payload(value: Any) -> str:
    """Compact JSON keeping key order and exact ``Decimal`` digits as numbers."""
    parts: list[str] = []
    _emit(value, parts, decimal_as_number=True, sort_keys=False)
    return "".join(parts)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, ``,``/``:`` separators, UTF-8 text, ``Decimal`` as a string."""
    parts: list[str] = []
    _emit(value, parts, decimal_as_number=False, sort_keys=True)
    return "".join(parts)


def _emit(value: Any, out: list[str], *, decimal_as_number: bool, sort_keys: bool) -> None:
    # Order matters: bool is an int, Enum members may be str or int subclasses.
    if value is None or isinstance(value, bool):
        out.append(json.dumps(value))
    elif isinstance(value, Enum):
        _emit(value.value, out, decimal_as_number=decimal_as_number, sort_keys=sort_keys)
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot store a non-finite Decimal in JSON: {value}")
        # str() may give exponent form (1E+1): valid JSON, and it reads back to the same Decimal.
        out.append(str(value) if decimal_as_number else _encode_str(str(value)))
    elif isinstance(value, float):
        # Money must never travel as a float; other floats (none expected) must at least be finite.
        if not math.isfinite(value):
            raise ValueError(f"cannot store a non-finite float in JSON: {value}")
        out.append(repr(value))
    elif isinstance(value, datetime | date | time):
        out.append(_encode_str(value.isoformat()))
    elif isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
        if sort_keys:
            items.sort(key=lambda kv: kv[0])
        out.append("{")
        for n, (k, v) in enumerate(items):
            if n:
                out.append(",")
            out.append(_encode_str(k))
            out.append(":")
            _emit(v, out, decimal_as_number=decimal_as_number, sort_keys=sort_keys)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for n, v in enumerate(value):
            if n:
                out.append(",")
            _emit(v, out, decimal_as_number=decimal_as_number, sort_keys=sort_keys)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
