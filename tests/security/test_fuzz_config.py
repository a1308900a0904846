"""appliance.toml from hostile hands (any bytes, a damaged good file, tables of wrong values):
``load_config``, which every command reads its config with, either returns a config or raises
one ConfigError of one line naming the file. Never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.config import Config, ConfigError, load_config
from tests.security.fuzz import NUMBERS, damaged

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD = b"""[terminal]
id = "T01"
inactivity_lock_seconds = 120

[erpnext]
url = "https://erp.example.com/"
api_key = "abc"
api_secret_file = "/etc/appliance/erpnext.secret"
pos_profile = "Main POS"
timeout = 15

[scan]
embedded_layouts = ["20IIIIIWWWWWC", "22IIIIIPPPPPC"]
weight_uoms = ["Kg"]

[transfer]
keys_dir = "/var/lib/appliance/keys"

[devices.printer]
kind = "printer"
backend = "serial"
port = "/dev/ttyUSB0"
baud = 19200
"""

KEYS = {
    "terminal": ("id", "inactivity_lock_seconds", "pos_profile"),
    "erpnext": ("url", "api_key", "api_secret_file", "pos_profile", "timeout", "verify_tls"),
    "scan": ("embedded_layouts", "weight_uoms"),
    "transfer": ("key_file", "keys_dir"),
    "devices.printer": ("kind", "backend", "port", "baud", "width"),
}
TOML_VALUES = st.one_of(
    NUMBERS.filter(lambda n: n.lstrip("-").isdigit()),  # TOML integers, some 6,000 digits long
    st.sampled_from(["inf", "nan", "-inf", "1e400", "true", "[]", "{}", '"T\\n1"', '"\\u0000"']),
    st.text(max_size=30).map(json.dumps),  # a JSON string is a TOML basic string
    st.lists(st.text(max_size=8).map(json.dumps), max_size=3).map(lambda xs: f"[{','.join(xs)}]"),
)


def _holds(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "appliance.toml"
        path.write_bytes(data)
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            text = str(exc)
            assert text.startswith(f"{path}: ") and "\n" not in text and len(text) < 1000, text
        else:
            assert isinstance(cfg, Config)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    _holds(data)


@FAST
@given(st.data())
def test_a_damaged_good_file(data: st.DataObject) -> None:
    pieces = st.sampled_from([b"[", b"]", b'"', b"=", b"\n", b"\\", b"\xff"])
    _holds(damaged(data, GOOD, pieces))


@FAST
@given(st.data())
def test_known_keys_with_hostile_values(data: st.DataObject) -> None:
    tables = data.draw(st.lists(st.sampled_from(sorted(KEYS)), min_size=1, unique=True))
    lines = []
    for table in tables:
        lines.append(f"[{table}]")
        keys = data.draw(st.lists(st.sampled_from(KEYS[table]), unique=True))
        lines += [f"{key} = {data.draw(TOML_VALUES)}" for key in keys]
    _holds("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")


def test_integers_too_long_for_int() -> None:
    _holds(b"[terminal]\nid = 'T1'\ninactivity_lock_seconds = " + b"9" * 5000 + b"\n")
