"""Whatever sits at the config path (a directory, a FIFO, binary junk, TOML nested past the
parser's depth, a symlink loop), every command that reads it says so in one line and exits 2;
none waits forever, none prints a traceback. As root, mode 000 does not stop a read: these are
the paths that really cannot be read as a config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.config import CONFIG_SIZE_LIMIT, ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


def _directory(p: Path) -> None:
    p.mkdir()


def _fifo(p: Path) -> None:
    os.mkfifo(p)  # opening it for reading would wait for a writer that never comes


def _socket(p: Path) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(p))


def _loop(p: Path) -> None:
    p.symlink_to(p.name)


HOSTILE: dict[str, tuple[Callable[[Path], object], str]] = {
    "not UTF-8": (lambda p: p.write_bytes(b'[terminal]\nid = "\xff\xfe"\n'), "not UTF-8"),
    "nested too deeply": (
        lambda p: p.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        "nested too deeply",
    ),
    "a directory": (_directory, "a directory"),
    "a FIFO": (_fifo, "not a regular file"),
    "a socket": (_socket, "cannot read the config"),
    "a symlink loop": (_loop, "cannot read the config"),
    "dangling symlink": (lambda p: p.symlink_to("/nonexistent/appliance.toml"), "not found"),
    "too big": (lambda p: p.write_bytes(b"#" * (CONFIG_SIZE_LIMIT + 1)), "larger than"),
    "NUL bytes": (lambda p: p.write_bytes(b"[terminal]\x00\n"), "not valid TOML"),
}


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    make, message = HOSTILE[request.param]
    path = tmp_path / "appliance.toml"
    make(path)
    yield path, message


def test_load_config_names_the_file_and_the_problem(hostile: tuple[Path, str]) -> None:
    path, message = hostile
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text
    assert "\n" not in text and len(text) < 300


def test_a_path_through_a_file_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot read the config: Not a directory"):
        load_config(tmp_path / "file" / "appliance.toml")


# Every command that reads the config, with the arguments it needs to get that far.
COMMANDS = [
    ("simulate", "--sales", "1"),
    ("sync", "--once"),
    ("agent",),
    ("export", "--to", "."),
    ("import", "x.bundle"),
    ("erpnext", "setup", "--check"),
    ("erpnext", "set-pin", "--user", "ana@example.com", "--pin-stdin"),
    ("receipt", "render", "R-1"),
    ("devices",),
    ("devices", "test", "printer"),
]


def _run(
    args: tuple[str, ...], config: Path, tmp_path: Path, stdin: str = "1234\n"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env |= {"APPLIANCE_CONFIG": str(config), "APPLIANCE_DATA": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_refuses_an_unreadable_config_in_one_line(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    config = tmp_path / "appliance.toml"
    _fifo(config)  # before: opening it hung every command
    done = _run(args, config, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    if args == ("agent",):  # the service: its stderr is its journal, which logs it first
        lines = lines[-1:]
    assert len(lines) == 1, done.stderr
    assert f"{config}: cannot read the config: not a regular file" in lines[0]


def test_the_quote_for_a_customer_refuses_it_too(tmp_path: Path) -> None:
    """Only a quote for a named customer without tax rows reads the config."""
    config = tmp_path / "appliance.toml"
    config.write_bytes(b"\xff")
    body = '{"doc": {"customer": "C1", "items": [{"item_code": "A", "qty": 1, "rate": 1}]}}'
    done = _run(("quote",), config, tmp_path, body)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not UTF-8" in done.stderr, done.stderr


def test_health_and_status_report_it_instead(tmp_path: Path) -> None:
    """Built to report what is wrong: the config's problem is one of their findings."""
    config = tmp_path / "appliance.toml"
    config.mkdir()
    health = _run(("health", "--units-from", str(tmp_path / "units.json")), config, tmp_path)
    assert "Traceback" not in health.stderr
    assert health.returncode == 1
    assert f"{config}: cannot read the config: a directory" in health.stdout
