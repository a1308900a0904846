"""Is the till's data in the encrypted vault, and what protects its key? One line for IT.

The image (image/README.md, "Data at rest") mounts the LUKS2 volume ``/dev/mapper/vault`` under
the data directory; on a till without a TPM2, vault-setup keeps the key on the root disk and
writes a notice to ``/run/motd.d`` (the same file the till's sign-in screen shows). Off the
image (a developer's machine, CI) the data is simply not in a vault, and that is what it says.
"""

from __future__ import annotations

from pathlib import Path

MOUNTS = Path("/proc/self/mounts")
VAULT_DEVICE = "/dev/mapper/vault"  # image/rootfs/etc/crypttab names the volume "vault"
NO_TPM_NOTICE = Path("/run/motd.d/50-appliance-vault")  # written by image's vault-setup

SEALED = "encrypted, key sealed to the TPM"
KEY_ON_DISK = "encrypted, NO TPM: key on the root disk"


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def vault_state(data: Path, mounts: Path = MOUNTS, notice: Path = NO_TPM_NOTICE) -> str:
    try:
        lines = mounts.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"unknown: cannot read {mounts}: {exc.strerror}"
    target = data.resolve()
    best: tuple[str, str] | None = None  # (mount point, source) of the deepest mount holding data
    for line in lines:
        fields = line.split()
        if len(fields) < 2:
            continue
        source, point = _unescape(fields[0]), _unescape(fields[1])
        if (target == Path(point) or Path(point) in target.parents) and (
            best is None or len(point) > len(best[0])
        ):
            best = (point, source)
    if best is None:
        return f"unknown: no mount holds {data}"
    point, source = best
    if source != VAULT_DEVICE:
        return f"not encrypted: {data} is on {source} ({point})"
    return KEY_ON_DISK if notice.exists() else SEALED
