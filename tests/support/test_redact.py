"""Redaction of config text and scrubbing of free text."""

from __future__ import annotations

from appliance.support.redact import REDACTED, redact_toml_text, scrub, secret_values

CONFIG = '''[erpnext]
api_key = "k-123456"
api_secret_file = "/etc/appliance/erpnext.secret"
"Api-Token" = 'tok-abcdef'
url = "https://erp.example.com"

[devices.printer]
kind = "printer"
options = { password = "pw-998877", port = 9100 }
auth_keys = ["ak-111111", "ak-222222"]
note = """multi
line"""
'''


def test_sensitive_values_blanked_everything_else_kept() -> None:
    out = redact_toml_text(CONFIG)
    for secret in ("k-123456", "tok-abcdef", "pw-998877", "ak-111111", "ak-222222"):
        assert secret not in out
    assert 'api_key = "<redacted>"' in out
    assert f'options = {{ password = "{REDACTED}", port = 9100 }}' in out
    assert 'api_secret_file = "/etc/appliance/erpnext.secret"' in out
    assert 'url = "https://erp.example.com"' in out
    assert 'note = """multi\nline"""' in out


def test_secret_values_found_in_nested_tables_and_scrubbed_from_text() -> None:
    values = secret_values(CONFIG)
    assert values == {"k-123456", "tok-abcdef", "pw-998877", "ak-111111", "ak-222222"}
    log = "sent k-123456 and Authorization: token abc:def, then Token xyz:uvw"
    assert scrub(log, values) == (
        f"sent {REDACTED} and Authorization: token {REDACTED}, then Token {REDACTED}"
    )


def test_contacts_blanked_other_numbers_kept() -> None:
    from appliance.support.redact import redact_personal

    kept = [
        "2026-12-07T13:02:21.604123+00:00 till appliance-agent[1234]: pushed 12",
        "2026-12-07 13:02 HTTP 417 Row #1",
        "127.0.0.1:8000 192.168.100.200 v0.1.0 total 1234.50, 12 345 rows",
        "89b01fc4-ac84-49dd-b088-9e9d13e8f883 DEMO1-000123 CUST-00042",
    ]
    for text in kept:
        assert redact_personal(text) == text
    for phone in ("+1 (604) 555-0199", "604-555-0199", "604.555.0199", "+441632960961"):
        assert redact_personal(f"call {phone}, thanks") == "call <phone>, thanks"
    assert redact_personal("Customer (jane.doe@example.org) exists") == "Customer (<e-mail>) exists"
