"""A bad config stops with the file, the key and the problem; it is never silently defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config

GOOD = """
[terminal]
id = "T01"

[erpnext]
url = "https://erp.example.com/"
api_key = "abc"
api_secret_file = "/etc/appliance/erpnext.secret"
pos_profile = "Main POS"

[scan]
embedded_layouts = ["20IIIIIWWWWWC", "22IIIIIPPPPPC"]
"""


def _load(tmp_path: Path, text: str) -> object:
    f = tmp_path / "appliance.toml"
    f.write_text(text)
    return load_config(f)


def test_a_good_config_loads(tmp_path: Path) -> None:
    cfg = _load(tmp_path, GOOD)
    assert cfg.terminal.id == "T01"  # type: ignore[attr-defined]
    assert cfg.erpnext.url == "https://erp.example.com"  # type: ignore[attr-defined]
    assert [lay.pattern() for lay in cfg.scan.layouts] == ["20IIIIIWWWWWC", "22IIIIIPPPPPC"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "[terminal]: is required"),
        ("[terminal]\nid = 5\n", "[terminal] id: must be text, got 5"),
        ("[terminal]\nid = 'T 1'\n", "[terminal] id: must be 1-16 letters"),
        ('[terminal]\nid = "T1\\n"\n', "[terminal] id: must be 1-16 letters"),
        ("[terminal]\nid = 'T1'\nlock = 3\n", "[terminal] lock: is not a known setting"),
        ("[terminal]\nid = 'T1'\n[erpnext]\nurl = 'ftp://x'\n", "[erpnext] url: must be an http"),
        (GOOD.replace("erp.example.com", "[erp.example.com]"), "[erpnext] url: must be an http"),
        (
            "[terminal]\nid = " + "9" * 900 + "\n",
            "id: must be text, got 9999999999999999999999999999999999999999... (900 digits)",
        ),
        (GOOD.replace('api_key = "abc"', 'api_secret = "s3cret"'), "[erpnext] api_secret: secrets"),
        (GOOD.replace('pos_profile = "Main POS"', ""), "[erpnext] pos_profile: is required"),
        (GOOD.replace('"22IIIIIPPPPPC"', '"20IIIIPPPPPPC"'), "share a prefix"),
        (GOOD.replace('"22IIIIIPPPPPC"', '"22IIIPPC"'), "[scan] embedded_layouts[1]"),
        ("[terminal\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert str(err.value).startswith(str(tmp_path / "appliance.toml"))
    assert message in str(err.value)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found .*APPLIANCE_CONFIG"):
        load_config(tmp_path / "nope.toml")


def test_a_till_without_erpnext_names_its_profile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[terminal\] pos_profile: is required"):
        _load(tmp_path, "[terminal]\nid = 'T1'\n")


def test_the_embedded_demo_config_is_valid() -> None:
    from appliance.config import load_config
    from appliance.demo import DEMO_CONFIG

    cfg = load_config(DEMO_CONFIG)
    assert cfg.pos_profile == "Main POS"
    assert len(cfg.scan.layouts) == 2


DEVICES = """
[devices.printer]
kind = "printer"
backend = "serial"
port = "/dev/ttyUSB0"
baud = 19200

[devices.drawer]
kind = "drawer"
backend = "printer"
"""


def test_devices_are_validated_into_typed_settings(tmp_path: Path) -> None:
    from appliance.drivers.config import DrawerConfig, PrinterConfig

    cfg = _load(tmp_path, GOOD + DEVICES)
    printer = cfg.devices.first(PrinterConfig)  # type: ignore[attr-defined]
    assert printer is not None and printer.serial.baud == 19200
    assert cfg.devices.first(DrawerConfig).printer == "printer"  # type: ignore[attr-defined]


def test_a_bad_device_key_names_the_file_and_the_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, GOOD + DEVICES.replace("19200", "12345"))
    assert str(err.value).startswith(
        f"{tmp_path / 'appliance.toml'}: [devices.printer] baud: must be one of 1200"
    )


def test_store_credit_modes_are_named_or_the_key_is_refused(tmp_path: Path) -> None:
    with_modes = GOOD.replace('id = "T01"', 'id = "T01"\nstore_credit_modes = ["Gift Card"]')
    cfg = _load(tmp_path, with_modes)
    assert cfg.terminal.store_credit_modes == ("Gift Card",)  # type: ignore[attr-defined]
    assert _load(tmp_path, GOOD).terminal.store_credit_modes == ()  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"\[terminal\] store_credit_modes"):
        _load(tmp_path, GOOD.replace('id = "T01"', 'id = "T01"\nstore_credit_modes = [""]'))
