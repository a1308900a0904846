"""An OpenSSH public key line, parsed as sshd would before it is trusted (RFC 4253 §6.6, RFC 5656
§3.1, PROTOCOL.u2f): every field of the key's blob is read, sized and nothing may be left over.
A key cut short by a copy from a narrow terminal window still decodes as base64 and names its
type; written to authorized_keys, it would lock IT out of the till. ``ssh_keygen_verdict``
confirms with OpenSSH's own parser where ``ssh-keygen`` is installed (``provision --check``).
"""

from __future__ import annotations

import shutil
import struct
import subprocess

ED25519_BYTES = 32
MIN_RSA_BITS = 1024  # OpenSSH refuses smaller RSA keys
# Uncompressed points (0x04 || X || Y) per curve.
EC_POINT_BYTES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}


class SSHKeyError(ValueError):
    """What is wrong with the key, in words for IT."""


class _Reader:
    def __init__(self, blob: bytes) -> None:
        self.blob, self.at = blob, 0

    def string(self) -> bytes:
        if self.at + 4 > len(self.blob):
            raise SSHKeyError("ends early")
        (n,) = struct.unpack(">I", self.blob[self.at : self.at + 4])
        start, self.at = self.at + 4, self.at + 4 + n
        if self.at > len(self.blob):
            raise SSHKeyError("ends early")
        return self.blob[start : self.at]

    def done(self) -> None:
        if self.at != len(self.blob):
            raise SSHKeyError("has bytes after its end")


def check_blob(kind: str, blob: bytes) -> None:
    """Raise SSHKeyError unless ``blob`` is a whole public key of type ``kind``."""
    r = _Reader(blob)
    try:
        inner = r.string().decode("ascii")
    except UnicodeDecodeError:
        raise SSHKeyError("has no readable type inside") from None
    if inner != kind:
        raise SSHKeyError(f"says {inner!r} inside but {kind!r} in front")
    try:
        _fields(kind, r)
        r.done()
    except SSHKeyError as exc:
        raise SSHKeyError(f"is not a whole {kind} key: it {exc}") from None


def _fields(kind: str, r: _Reader) -> None:
    if kind in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        if len(r.string()) != ED25519_BYTES:
            raise SSHKeyError(f"does not hold a {ED25519_BYTES}-byte key")
    elif kind == "ssh-rsa":
        exponent, modulus = r.string(), r.string()
        bits = int.from_bytes(modulus, "big").bit_length()
        if not exponent or bits == 0:
            raise SSHKeyError("has no modulus")
        if bits < MIN_RSA_BITS:
            raise SSHKeyError(f"is too short: {bits} bits (OpenSSH needs {MIN_RSA_BITS})")
    elif kind.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-")):
        curve = r.string().decode("ascii", "replace")
        if curve not in EC_POINT_BYTES or not kind.split("@", maxsplit=1)[0].endswith(curve):
            raise SSHKeyError(f"names curve {curve!r}")
        point = r.string()
        if len(point) != EC_POINT_BYTES[curve] or point[:1] != b"\x04":
            raise SSHKeyError("does not hold a whole curve point")
    else:
        raise SSHKeyError("is of a type this appliance does not take")
    if kind.startswith("sk-"):
        r.string()  # the FIDO application ("ssh:")


def ssh_keygen_verdict(line: str, timeout: float = 10.0) -> tuple[bool, str]:
    """Whether OpenSSH's ``ssh-keygen -l`` reads the line, and what to tell IT either way
    (without ssh-keygen, or when it cannot run, the line was read by shape only: said so)."""
    tool = shutil.which("ssh-keygen")
    if tool is None:
        return True, "ssh-keygen is not installed here: read by shape only"
    try:
        run = subprocess.run(
            [tool, "-l", "-f", "/dev/stdin"],
            input=line + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return True, f"ssh-keygen could not run ({exc}): read by shape only"
    if run.returncode == 0:
        return True, "a whole key"
    return False, "ssh-keygen cannot read it: " + (run.stderr.strip().splitlines() or ["?"])[-1]
