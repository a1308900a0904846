"""What IT needs to reach a terminal nobody has provisioned yet: its addresses, name and SSH key.

An unprovisioned till shows these on its screen so whoever stands at it can add it to the
Ansible inventory and check the host key on first contact, with no keyboard shell at all.
Everything comes straight from the kernel (an interface ioctl, ``/proc/net/if_inet6``) and the
key file, so it works on the bare image without ``ip`` and costs no subprocess.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import ipaddress
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

SSH_HOST_KEY = Path("/etc/ssh/ssh_host_ed25519_key.pub")
IF_INET6 = Path("/proc/net/if_inet6")
SIOCGIFADDR = 0x8915  # <linux/sockios.h>: an interface's (first) IPv4 address
IFNAMSIZ = 16


@dataclass(frozen=True)
class HostIdentity:
    hostname: str
    addresses: tuple[str, ...]  # "eth0 192.0.2.2", loopback and link-local left out
    ssh_key: str  # "SHA256:... (ED25519)", or why there is none

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows for the screen."""
        where = ", ".join(self.addresses) if self.addresses else "no network address yet"
        return [("Address", where), ("Hostname", self.hostname), ("SSH key", self.ssh_key)]


def ssh_fingerprint(public_key: str) -> str:
    """The key's SHA256 fingerprint as ``ssh-keygen -lf`` prints it (base64, no padding).

    ``public_key`` is one line of an OpenSSH ``.pub`` file: type, base64 blob, comment.
    Raises ValueError when it is not one.
    """
    fields = public_key.split()
    if len(fields) < 2:
        raise ValueError("not an OpenSSH public key line")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the key is not base64: {exc}") from exc
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def describe_host_key(path: Path = SSH_HOST_KEY) -> str:
    try:
        line = path.read_text(encoding="ascii", errors="replace").strip()
        kind = line.split()[0].removeprefix("ssh-").upper() if line else ""
        return f"{ssh_fingerprint(line)} ({kind})"
    except FileNotFoundError:
        return f"no host key yet ({path})"
    except (OSError, ValueError) as exc:
        return f"unreadable {path}: {exc}"


def _ipv4(sock: socket.socket, name: str) -> str | None:
    request = struct.pack("256s", name.encode()[: IFNAMSIZ - 1])
    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
    except OSError:  # no IPv4 address on this interface (yet)
        return None
    return socket.inet_ntoa(answer[20:24])  # struct ifreq: name, then sockaddr_in's address


def ipv6_from_proc(text: str) -> list[tuple[str, str]]:
    """(interface, address) for each global address in ``/proc/net/if_inet6``'s format."""
    out = []
    for row in text.splitlines():
        fields = row.split()
        if len(fields) != 6:
            continue
        address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
        if address.is_loopback or address.is_link_local:
            continue  # fe80:: needs a scope and nobody types it into an inventory
        out.append((fields[5], str(address)))
    return out


def addresses(if_inet6: Path = IF_INET6) -> tuple[str, ...]:
    """Every non-loopback address the kernel has, IPv4 first, as "interface address"."""
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            ip = _ipv4(sock, name)
            if ip is not None and not ipaddress.IPv4Address(ip).is_loopback:
                found.append(f"{name} {ip}")
    try:
        v6 = ipv6_from_proc(if_inet6.read_text(encoding="ascii"))
    except OSError:  # IPv6 disabled
        v6 = []
    found.extend(f"{name} {ip}" for name, ip in v6)
    return tuple(found)


def identify(host_key: Path = SSH_HOST_KEY) -> HostIdentity:
    return HostIdentity(socket.gethostname(), addresses(), describe_host_key(host_key))
