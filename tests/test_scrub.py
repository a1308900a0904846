"""The one scrubbing function: known secrets, tokens, header values and URL credentials."""

from __future__ import annotations

import json
import logging

import pytest

from appliance.scrub import REDACTED, ScrubFilter, remember, scrub


def test_known_secrets_and_credential_shapes_are_blanked() -> None:
    remember("remembered-secret-77")
    text = (
        "got remembered-secret-77; Authorization: token k1:s1, Token k2:s2, "
        "header value: 'token k3:half\nother-half' and https://user:pw@erp.example.com/app"
    )
    out = scrub(text)
    for gone in ("remembered-secret-77", "s1", "s2", "half", "other-half", "user:pw"):
        assert gone not in out
    assert f"https://{REDACTED}@erp.example.com/app" in out
    assert (
        scrub("https://erp.example.com/app, plain text")
        == "https://erp.example.com/app, plain text"
    )


def test_json_stays_json() -> None:
    document = {"url": "https://u:p@h/x", "error": "Authorization: token a:b"}
    assert json.loads(scrub(json.dumps(document))) == {
        "url": f"https://{REDACTED}@h/x",
        "error": f"Authorization: token {REDACTED}",
    }


def test_log_records_are_scrubbed_with_their_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # whatever level an earlier test left the root at
    log = logging.getLogger("test.scrub")
    log.addFilter(ScrubFilter())
    try:
        try:
            raise ValueError("header value: 'token key:in-a-traceback'")
        except ValueError:
            log.exception("failed with %s", "Authorization: token key:in-the-args")
    finally:
        log.filters.clear()
    assert "in-the-args" not in caplog.text and "in-a-traceback" not in caplog.text
    assert "failed with Authorization: token" in caplog.text
