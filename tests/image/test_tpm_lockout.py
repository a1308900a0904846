"""Power cuts must not lock the data vault: the TPM's dictionary-attack lockout (issue 15 item 6).

A real software TPM (swtpm, the boot test's) is cut with SIGKILL and started again on the same
state, as a till's TPM loses power with the till. Each "boot" uses a DA-protected object once
with its right password (as systemd-cryptsetup unseals the vault's key every boot): that is all
it takes for the next start to count a failed try. After three cuts swtpm refuses the object
(TPM_RC_LOCKOUT): the vault-locked screen the power-cut boot test found. The image's
tpm-lockout (run before the vault unlock on every boot) frees it and keeps it free.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).parents[2] / "image/rootfs/usr/lib/appliance-image/tpm-lockout"
NV_INDEX = 0x01000010
PASSWORD = b"right password"
TPM_RC_LOCKOUT = 0x921

pytestmark = pytest.mark.skipif(shutil.which("swtpm") is None, reason="needs swtpm (apt)")


def load_tool() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("tpm_lockout", str(TOOL))
    spec = importlib.util.spec_from_loader("tpm_lockout", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


tool = load_tool()


class Tpm:
    """swtpm on a unix socket, with its state in a directory that outlives each process."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None

    def power_on(self) -> None:
        path = self.state / "data.sock"
        path.unlink(missing_ok=True)
        ctrl = self.state / "ctrl.sock"
        argv = ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.state}"]
        argv += ["--server", f"type=unixio,path={path}", "--ctrl", f"type=unixio,path={ctrl}"]
        self.proc = subprocess.Popen([*argv, "--flags", "not-need-init,startup-clear"])
        for _ in range(200):
            if path.exists():
                break
            time.sleep(0.02)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(str(path))

    def cut(self) -> None:
        """The power goes: no TPM2_Shutdown, the process and its volatile state are gone."""
        assert self.proc and self.sock
        self.sock.close()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def transact(self, cmd: bytes) -> bytes:
        assert self.sock
        self.sock.sendall(cmd)
        head = b""
        while len(head) < 10:
            head += self.sock.recv(10 - len(head))
        size = struct.unpack(">I", head[2:6])[0]
        body = b""
        while len(head) + len(body) < size:
            body += self.sock.recv(size - 10 - len(body))
        return head + body

    def rc(self, cmd: bytes) -> int:
        for _ in range(5):
            rc: int = struct.unpack(">I", self.transact(cmd)[6:10])[0]
            if rc != 0x922:  # TPM_RC_RETRY
                return rc
        return rc


def password(secret: bytes) -> bytes:
    session = struct.pack(">IHBH", tool.TPM_RS_PW, 0, 0, len(secret)) + secret
    return struct.pack(">I", len(session)) + session


def make_protected_object(tpm: Tpm) -> None:
    """An NV index readable with a password and not marked noDA, like the vault's sealed key."""
    attributes = (1 << 2) | (1 << 18)  # AUTHWRITE | AUTHREAD; no NO_DA
    public = struct.pack(">IHIHH", NV_INDEX, 0x000B, attributes, 0, 8)
    body = (
        struct.pack(">I", 0x40000001)  # owner hierarchy, empty password
        + password(b"")
        + struct.pack(">H", len(PASSWORD))
        + PASSWORD
        + struct.pack(">H", len(public))
        + public
    )
    assert tpm.rc(tool.command(tool.TPM_ST_SESSIONS, 0x12A, body)) == 0
    write = struct.pack(">II", NV_INDEX, NV_INDEX) + password(PASSWORD)
    write += struct.pack(">H", 8) + b"vaultkey" + struct.pack(">H", 0)
    assert tpm.rc(tool.command(tool.TPM_ST_SESSIONS, 0x137, write)) == 0


def unseal(tpm: Tpm) -> int:
    """Use the object with its right password, as the vault's unlock does on every boot."""
    read = struct.pack(">II", NV_INDEX, NV_INDEX) + password(PASSWORD) + struct.pack(">HH", 8, 0)
    return tpm.rc(tool.command(tool.TPM_ST_SESSIONS, 0x14E, read))


@pytest.fixture
def tpm(tmp_path: Path) -> Iterator[Tpm]:
    t = Tpm(tmp_path)
    t.power_on()
    yield t
    if t.proc and t.proc.poll() is None:
        t.proc.kill()
        t.proc.wait(10)


def boots_with_power_cuts(tpm: Tpm, cuts: int) -> list[int]:
    """Boot, unseal, lose power; `cuts` times. Returns each boot's unseal result."""
    results = []
    for _ in range(cuts):
        results.append(unseal(tpm))
        tpm.cut()
        tpm.power_on()
    return results


def test_three_power_cuts_lock_the_tpm_and_tpm_lockout_frees_it(tpm: Tpm) -> None:
    make_protected_object(tpm)
    before = tool.properties(tpm.transact)
    assert (before[tool.PT_MAX_AUTH_FAIL], before[tool.PT_LOCKOUT_INTERVAL]) == (3, 1000)

    # The cause: no wrong password anywhere, only power cuts after a good unseal.
    assert boots_with_power_cuts(tpm, 3) == [0, 0, 0]
    locked = tool.properties(tpm.transact)
    assert locked[tool.PT_LOCKOUT_COUNTER] == 3
    assert locked[tool.PT_PERMANENT] & tool.IN_LOCKOUT
    assert unseal(tpm) == TPM_RC_LOCKOUT  # the vault stays locked on this boot

    # The fix, as appliance-tpm-lockout.service runs it before the unlock.
    said = tool.lockout_off(tpm.transact)
    assert "turned off" in said and "3 of 3 tries used" in said and "LOCKED OUT" in said
    assert unseal(tpm) == 0
    # And the power cuts that follow no longer count.
    assert boots_with_power_cuts(tpm, 5) == [0] * 5
    after = tool.properties(tpm.transact)
    assert after[tool.PT_LOCKOUT_COUNTER] == 0
    assert after[tool.PT_LOCKOUT_INTERVAL] == 0
    assert unseal(tpm) == 0
    assert tool.lockout_off(tpm.transact) == "dictionary-attack lockout already off"


def test_a_lockout_password_set_by_someone_is_not_guessed(tpm: Tpm) -> None:
    """With a lockout password the tool cannot act: it says so and tries nothing."""
    secret = b"it's"
    change = struct.pack(">I", tool.TPM_RH_LOCKOUT) + password(b"")
    change += struct.pack(">H", len(secret)) + secret
    assert tpm.rc(tool.command(tool.TPM_ST_SESSIONS, 0x129, change)) == 0
    with pytest.raises(tool.TpmError, match="lockout password is set"):
        tool.lockout_off(tpm.transact)
    after = tool.properties(tpm.transact)
    assert after[tool.PT_LOCKOUT_INTERVAL] == 1000  # untouched
    # No try with a wrong password was made: the lockout hierarchy still takes the right one.
    reset = struct.pack(">I", tool.TPM_RH_LOCKOUT) + password(secret)
    assert tpm.rc(tool.command(tool.TPM_ST_SESSIONS, tool.CC_DA_LOCK_RESET, reset)) == 0
