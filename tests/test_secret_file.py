"""Reading the ERPNext secret file: one line, private to its owner, never quoted in an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.secret_file import SecretFileError, read_secret_file

SECRET = "a1b2c3d4e5f6a7b8"


def _file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "erpnext.secret"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("content", [SECRET, SECRET + "\n", SECRET + "\r\n"])
def test_one_line_with_at_most_one_line_ending(tmp_path: Path, content: str) -> None:
    assert read_secret_file(_file(tmp_path, content.encode())) == SECRET


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"{SECRET}\n\n", "a line break at character 17"),
        (f"{SECRET[:8]}\n{SECRET[8:]}", "a line break at character 9"),
        (f" {SECRET}", "white space at character 1"),
        (f"{SECRET}\x00", "a control character at character 17"),
        ("\n", "is empty"),
        ("", "is empty"),
        ("\xff", "is not UTF-8 text"),
    ],
)
def test_anything_else_is_refused_without_quoting_it(
    tmp_path: Path, content: str, problem: str
) -> None:
    raw = content.encode("latin-1") if content == "\xff" else content.encode()
    with pytest.raises(SecretFileError) as info:
        read_secret_file(_file(tmp_path, raw))
    assert problem in str(info.value)
    assert SECRET[:8] not in str(info.value) and SECRET[8:] not in str(info.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_group_or_others_bits_are_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = _file(tmp_path, SECRET.encode(), mode)
    with pytest.raises(SecretFileError, match=rf"mode {mode:03o}.*`chmod 600 {path}`"):
        read_secret_file(path)
    assert read_secret_file(path, private=False) == SECRET  # a systemd credential's copy


def test_a_link_or_a_directory_is_refused(tmp_path: Path) -> None:
    target = _file(tmp_path, SECRET.encode())
    link = tmp_path / "link.secret"
    link.symlink_to(target)
    with pytest.raises(SecretFileError, match="is a symbolic link"):
        read_secret_file(link)
    with pytest.raises(SecretFileError, match="is not a regular file"):
        read_secret_file(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_secret_file(tmp_path / "missing")
