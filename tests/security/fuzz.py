"""What the fuzz suites share: hostile JSON, written as text, and the "refused in one line"
check."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import strategies as st

# Numbers as a caller can write them in JSON that a parser or a float does not take quietly.
NUMBERS = st.one_of(
    st.sampled_from(["1e308", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "-0"]),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=-(10**13), max_value=10**13).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: str(d).replace("E", "e")),
    st.integers(min_value=-99_999, max_value=99_999).map(lambda e: f"1e{e}"),
)
LEAVES = st.one_of(
    NUMBERS,
    NUMBERS.map(json.dumps),  # a number in a string: the quote reads those too
    st.text(max_size=12).map(json.dumps),
    st.sampled_from(["null", "true", "false", '""', "{}", "[]"]),
)


def json_object(members: dict[str, str]) -> str:
    """A JSON object from members already written as JSON text."""
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in members.items()) + "}"


JSON_TEXT = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.dictionaries(st.text(max_size=8), inner, max_size=4).map(json_object),
    ),
    max_leaves=10,
)


def one_line(err: str) -> bool:
    """One plain line: the refusal a cashier or IT reads, never a traceback."""
    return err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err


def strict_json(text: str) -> object:
    """``text`` as standard JSON: NaN and Infinity are not JSON."""

    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_float=Decimal, parse_constant=refuse)


def fits(value: object) -> bool:
    """Every number in ``value`` is finite and below 10^12 in size (what ERPNext stores)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int | float | Decimal) and not isinstance(item, bool):
            fine = abs(Decimal(item)) < 10**12  # False for NaN too
            if not fine:
                return False
    return True


def damaged(data: st.DataObject, original: bytes, pieces: st.SearchStrategy[bytes]) -> bytes:
    """``original`` with up to four ``pieces`` inserted and bytes deleted at drawn places."""
    out = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(out)))
        out[at:at] = data.draw(pieces)
        if out and data.draw(st.booleans()):
            del out[data.draw(st.integers(0, len(out) - 1))]
    return bytes(out)
