"""Signatures on provisioning files: OpenSSH's ``ssh-keygen -Y sign`` / ``-Y verify``.

Why OpenSSH signatures and not our own format: IT signs with a tool it already has on every
desktop (OpenSSH ships with Windows, macOS and Linux), with a key it can protect by a passphrase,
ssh-agent or a FIDO token (``ed25519-sk``), without installing the appliance; the till verifies
with the ``ssh-keygen`` that is already in the image (openssh-client, which openssh-server
needs), so the image gains no dependency. The signature (``provision.toml.sig``, an armored
SSHSIG) covers the file's exact bytes and the namespace ``appliance-provision``, so neither a
signature of another file nor one made for another purpose (git commits, say) verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import subprocess
import tempfile
from pathlib import Path

NAMESPACE = "appliance-provision"
PRINCIPAL = "it-provisioning"  # the one name in the till's allowed-signers list
MAX_SIGNATURE = 16 * 1024  # an SSHSIG is < 2 KiB even with an RSA-4096 key
ARMOR = ("-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----")


class SignatureError(ValueError):
    """One line: what is wrong with the signature (never the file's content)."""


def blob_fingerprint(blob: bytes) -> str:
    """``SHA256:...`` of a public key blob, as ``ssh-keygen -l`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def key_fingerprint(line: str) -> str:
    """The fingerprint of an ``ssh-ed25519 AAAA...`` line (already validated by the caller)."""
    return blob_fingerprint(base64.b64decode(line.split()[1]))


def sig_path(file: Path) -> Path:
    return file.with_name(file.name + ".sig")


def _strings(blob: bytes, count: int) -> list[bytes]:
    out, at = [], 0
    for _ in range(count):
        (n,) = struct.unpack(">I", blob[at : at + 4])
        if at + 4 + n > len(blob):
            raise struct.error("truncated")
        out.append(blob[at + 4 : at + 4 + n])
        at += 4 + n
    return out


def signer(signature: bytes) -> str:
    """The public key line (``type base64``) inside an armored SSHSIG, checked for shape only.

    Trust on first use takes the key from here; whether the signature is good is ssh-keygen's
    to say.
    """
    try:
        lines = signature.decode("ascii").strip().splitlines()
        if len(lines) < 3 or (lines[0], lines[-1]) != ARMOR:
            raise ValueError
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
        if blob[:6] != b"SSHSIG" or struct.unpack(">I", blob[6:10])[0] != 1:
            raise ValueError
        key, namespace = _strings(blob[10:], 2)
        (kind,) = _strings(key, 1)
        kind_text = kind.decode("ascii")
    except (ValueError, UnicodeDecodeError, binascii.Error, struct.error):
        raise SignatureError(
            "signature is not an SSH signature (make it with `ssh-keygen -Y sign`)"
        ) from None
    if namespace != NAMESPACE.encode():
        raise SignatureError(
            f"signature was made for {namespace.decode(errors='replace')!r}, not {NAMESPACE!r} "
            f"(sign with `ssh-keygen -Y sign -n {NAMESPACE}`)"
        )
    return f"{kind_text} {base64.b64encode(key).decode()}"


def verify(message: bytes, signature: bytes, trusted: str, whose: str) -> None:
    """Raise SignatureError unless ``signature`` is ``trusted``'s over exactly ``message``.

    ``whose``: how the refusal names the key ("this till's provisioning key").
    """
    if len(signature) > MAX_SIGNATURE:
        raise SignatureError("signature is too large to be an SSH signature")
    signer(signature)  # a clear reason for a wrong namespace or a damaged file
    with tempfile.TemporaryDirectory(prefix="appliance-sig-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(f'{PRINCIPAL} namespaces="{NAMESPACE}" {trusted}\n')
        sig = Path(tmp) / "provision.toml.sig"
        sig.write_bytes(signature)
        try:
            run = subprocess.run(
                [
                    *("ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", PRINCIPAL),
                    *("-n", NAMESPACE, "-s", str(sig)),
                ],
                input=message,
                capture_output=True,
                timeout=30,
                check=False,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SignatureError(f"signature could not be checked: ssh-keygen: {exc}") from None
    if run.returncode != 0:
        raise SignatureError(
            f"signature does not verify with {whose} {key_fingerprint(trusted)} "
            "(signed with another key, or the file changed after signing)"
        )


def sign(file: Path, key: Path) -> Path:
    """``ssh-keygen -Y sign`` writes FILE.sig; it asks for the key's passphrase on the terminal.

    The file is named on the command line, not piped: ssh-keygen reads a passphrase from a
    stdin that is not a terminal.
    """
    out = sig_path(file)
    out.unlink(missing_ok=True)  # else ssh-keygen asks whether to overwrite it
    run = subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if run.returncode != 0 or not out.exists():
        said = run.stderr.decode(errors="replace").strip().splitlines()
        raise SignatureError(f"{key}: ssh-keygen could not sign: {said[-1] if said else '?'}")
    return out


def new_key(path: Path, comment: str, *, passphrase: bool = True) -> str:
    """An Ed25519 key pair at PATH and PATH.pub; the public line.

    ssh-keygen asks for the passphrase on the terminal (``passphrase=False``: none, for tests).
    """
    pub = path.with_name(path.name + ".pub")
    if path.exists() or pub.exists():
        raise SignatureError(f"{path}: already exists (a signing key is never overwritten)")
    argv = ["ssh-keygen", "-q", "-t", "ed25519", "-C", comment, "-f", str(path)]
    run = subprocess.run(argv + ([] if passphrase else ["-N", ""]), check=False)
    if run.returncode != 0 or not pub.exists():
        raise SignatureError(f"{path}: ssh-keygen could not make the key")
    return pub.read_text().strip()
