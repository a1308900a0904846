"""Boot the appliance image under QEMU and check that the till comes up on tty1.

Three boots of the same image (each a first boot: the disk is opened with snapshot=on, so the
image is never changed):

1. bare: the appliance units masked; the time systemd reports the boot finished is the baseline;
   tty1's screendump is the "blank screen" reference.
2. pos: the image as shipped (not provisioned): "This till cannot sell yet" must be on tty1;
   boot-to-POS is the guest uptime at which it appeared.
3. demo (`appliance.demo`): the sign-in screen; a barcode typed through a QMP USB keyboard must
   land (tty1's text and its screendump change); then a clean ACPI power-down.

The image's appliance-boot-probe.service (only with `appliance.boot_test` on the kernel command
line) reports tty1's text (/dev/vcs1) and the units' states on the serial console; screendumps
come from QMP. Run as `image/boot-test`; exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "image" / "out"
BARCODE = "4006381333931"
POS_TEXT = "cannot sell yet"
SIGN_IN_TEXT = "sign in"
MARKER = re.compile(r"APPLIANCE-(PROBE|SCREEN|BOOTED|UNITS)\b(.*)")


@dataclass
class Screen:
    up: float
    wall: float
    rows: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.rows)


@dataclass
class Serial:
    """What the probe reported so far; `wall` is seconds since QEMU started when first seen."""

    path: Path
    t0: float
    seen: int = 0
    screens: list[Screen] = field(default_factory=list)
    booted: tuple[float, float, str] | None = None
    units: dict[str, str] = field(default_factory=dict)
    probe_up: float | None = None
    _block: list[str] | None = None
    _block_head: tuple[float, float] | None = None

    def poll(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").split("\n")
        except FileNotFoundError:
            return
        complete = lines[:-1]  # the last one may still be being written
        wall = time.monotonic() - self.t0
        for raw in complete[self.seen :]:
            self._line(raw.rstrip("\r"), wall)
        self.seen = len(complete)

    def _line(self, line: str, wall: float) -> None:
        if self._block is not None and "APPLIANCE-ROW|" in line:
            self._block.append(line.split("APPLIANCE-ROW|", 1)[1])
            return
        if "APPLIANCE-SCREEN-END" in line and self._block is not None and self._block_head:
            up, seen = self._block_head
            self.screens.append(Screen(up, seen, self._block))
            self._block = None
            return
        m = MARKER.search(line)
        if not m:
            return
        kind, rest = m.groups()
        fields = dict(part.split("=", 1) for part in rest.split() if "=" in part)
        up = float(fields.get("up", "nan"))
        if kind == "SCREEN":
            self._block, self._block_head = [], (up, wall)
        elif kind == "BOOTED":
            self.booted = (up, wall, fields.get("state", "?"))
        elif kind == "UNITS":
            self.units = {"tui": fields.get("tui", "?"), "agent": fields.get("agent", "?")}
        elif kind == "PROBE":
            self.probe_up = up

    def first_screen_with(self, text: str) -> Screen | None:
        return next((s for s in self.screens if text in s.text.lower()), None)

    def tail(self, n: int = 40) -> str:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-n:])


class Qmp:
    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(60)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("QMP closed")
            msg: dict[str, Any] = json.loads(line)
            if "event" not in msg:
                return msg

    def execute(self, command: str, **arguments: Any) -> Any:
        req: dict[str, Any] = {"execute": command}
        if arguments:
            req["arguments"] = arguments
        self.file.write(json.dumps(req).encode() + b"\n")
        self.file.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"QMP {command}: {reply['error']}")
        return reply.get("return")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Guest:
    def __init__(self, out: Path, work: Path, name: str, extra_cmdline: str) -> None:
        self.name = name
        self.work = work
        self.serial_path = work / f"{name}-serial.log"
        self.qmp_path = work / f"{name}-qmp.sock"
        for p in (self.serial_path, self.qmp_path):
            p.unlink(missing_ok=True)
        cmdline = (out / "cmdline").read_text().strip()
        self.ssh_port = free_port()
        self.argv = [
            "qemu-system-x86_64",
            *("-machine", "q35", "-cpu", "max", "-smp", "2", "-m", "1024", "-accel", "tcg"),
            *("-kernel", str(out / "vmlinuz"), "-initrd", str(out / "initrd.img")),
            *("-append", f"{cmdline} appliance.boot_test {extra_cmdline}".strip()),
            "-drive",
            f"file={out / 'appliance.img'},format=raw,if=virtio,snapshot=on",
            "-netdev",
            f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            *("-device", "virtio-net-pci,netdev=n0"),
            *("-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,bus=xhci.0,id=scanner"),
            *("-vga", "std", "-display", "none", "-no-reboot"),
            *("-serial", f"file:{self.serial_path}"),
            *("-qmp", f"unix:{self.qmp_path},server=on,wait=off"),
        ]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
        self.serial = Serial(self.serial_path, self.t0)
        self.qmp = Qmp(self.qmp_path)

    def wait(self, what: str, check: Callable[[], bool], timeout: float) -> float:
        """Poll the serial log until `check()`; returns seconds since QEMU started."""
        deadline = time.monotonic() + timeout
        while True:
            self.serial.poll()
            if check():
                return time.monotonic() - self.t0
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: QEMU exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: no {what} within {timeout:.0f} s\n{self.diagnose()}"
                )
            time.sleep(0.1)

    def diagnose(self) -> str:
        """What a failed wait leaves behind: VM state, serial size and tail, a screendump."""
        notes = []
        try:
            notes.append(f"QEMU status: {self.qmp.execute('query-status')}")
            self.screendump("failure")
            notes.append(f"screendump: {self.work / (self.name + '-failure.png')}")
        except Exception as exc:  # diagnostics must not hide the failure itself
            notes.append(f"QMP: {exc}")
        size = self.serial_path.stat().st_size if self.serial_path.exists() else 0
        notes.append(f"serial log {self.serial_path} ({size} bytes), last lines:")
        return "\n".join([*notes, self.serial.tail()])

    def screendump(self, label: str) -> Image.Image:
        ppm = self.work / f"{self.name}-{label}.ppm"
        self.qmp.execute("screendump", filename=str(ppm))
        with Image.open(ppm) as raw:
            img = raw.convert("RGB")
        img.save(ppm.with_suffix(".png"))
        ppm.unlink()
        return img

    def type_text(self, text: str, *, enter: bool = False) -> None:
        """Keys at scanner speed (a few ms apart) through the USB keyboard.

        No `device=`: with -display none the usb-kbd is bound to no console, and QEMU routes
        events to the keyboard the guest activated last (the USB one, once its driver binds).
        """
        keys = [*text, "ret"] if enter else list(text)
        for key in keys:
            for down in (True, False):
                event = {
                    "type": "key",
                    "data": {"down": down, "key": {"type": "qcode", "data": key}},
                }
                self.qmp.execute("input-send-event", events=[event])
            time.sleep(0.005)

    def power_down(self, timeout: float = 90.0) -> float:
        start = time.monotonic()
        self.qmp.execute("system_powerdown")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"{self.name}: still running {timeout:.0f} s after ACPI power-down"
            ) from exc
        return time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.qmp.execute("quit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.qmp.close()
        self.qmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def guest(out: Path, work: Path, name: str, extra: str) -> Iterator[Guest]:
    g = Guest(out, work, name, extra)
    try:
        yield g
    finally:
        g.kill()


def ink(img: Image.Image) -> float:
    """Fraction of pixels that differ from the most common colour (the background)."""
    colours = img.getcolors(maxcolors=1 << 20) or []
    if not colours:
        return 1.0
    background = max(colours)[0]
    return 1.0 - background / (img.width * img.height)


def text_bands(img: Image.Image, band: int = 16) -> int:
    """How many character-row-high bands carry ink: text shows as several separate bands."""
    grey = img.convert("L")
    background = max(grey.getcolors(maxcolors=256) or [(0, 0)])[1]
    count = 0
    for top in range(0, grey.height - band + 1, band):
        strip = grey.crop((0, top, grey.width, top + band))
        hist = strip.histogram()
        if sum(hist) - hist[background] > grey.width // 50:
            count += 1
    return count


def changed(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return (diff.histogram()[255]) / (a.width * a.height)


def run(out: Path, timeout: float, require_agent: bool) -> dict[str, Any]:
    work = out / "boot-test"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict[str, Any] = {}

    # 1. Bare: the same image, the appliance's units masked.
    mask = "systemd.mask=appliance-tui.service systemd.mask=appliance-agent.service"
    with guest(out, work, "bare", mask) as g:
        g.wait("end of boot (bare)", lambda: g.serial.booted is not None, timeout)
        assert g.serial.booted
        up, wall, state = g.serial.booted
        blank = g.screendump("tty1")
        result["bare"] = {"booted_uptime_s": up, "booted_wall_s": round(wall, 1), "state": state}
        result["bare"]["tty1_ink"] = round(ink(blank), 4)

    # 2. The image as shipped: not provisioned, so the till says it cannot sell yet.
    with guest(out, work, "pos", "") as g:
        g.wait("'cannot sell yet' on tty1", lambda: g.serial.first_screen_with(POS_TEXT), timeout)
        g.wait("end of boot", lambda: g.serial.booted is not None, timeout)
        g.wait("appliance-tui active", lambda: g.serial.units.get("tui") == "active", 10)
        time.sleep(1.0)  # let the paint settle before the screendump
        img = g.screendump("tty1")
        screen = g.serial.first_screen_with(POS_TEXT)
        assert screen and g.serial.booted
        g.serial.poll()
        result["pos"] = {
            "pos_uptime_s": screen.up,
            "pos_wall_s": round(screen.wall, 1),
            "booted_uptime_s": g.serial.booted[0],
            "state": g.serial.booted[2],
            "units": g.serial.units,
            "tty1_ink": round(ink(img), 4),
            "tty1_vs_blank": round(changed(img, blank), 4),
            "tty1_text_bands": text_bands(img),
            "screen": g.serial.screens[-1].rows,
        }
        if not (ink(img) > 0.002 and changed(img, blank) > 0.002 and text_bands(img) >= 3):
            raise AssertionError(f"pos: tty1 screendump looks blank ({result['pos']})")

    # 3. Demo mode: sign-in, a scan typed on the USB keyboard lands, clean power-down.
    with guest(out, work, "demo", "appliance.demo") as g:
        g.wait("the sign-in screen", lambda: g.serial.first_screen_with(SIGN_IN_TEXT), timeout)
        g.wait("end of boot", lambda: g.serial.booted is not None, timeout)
        time.sleep(1.0)
        before_img = g.screendump("sign-in")
        g.type_text("", enter=True)  # choose the first cashier: focus moves to the PIN box
        time.sleep(1.0)
        g.serial.poll()
        screens_before = len(g.serial.screens)
        text_before = g.serial.screens[-1].text
        g.type_text(BARCODE)
        g.wait(
            "the typed scan on tty1",
            lambda: (
                len(g.serial.screens) > screens_before and g.serial.screens[-1].text != text_before
            ),
            30,
        )
        time.sleep(1.0)
        after_img = g.screendump("typed")
        g.serial.poll()
        result["demo"] = {
            "sign_in_uptime_s": g.serial.first_screen_with(SIGN_IN_TEXT).up,  # type: ignore[union-attr]
            "units": g.serial.units,
            "typed_screendump_change": round(changed(before_img, after_img), 4),
            "screen_after_typing": g.serial.screens[-1].rows,
        }
        if changed(before_img, after_img) <= 0:
            raise AssertionError("demo: the screendump did not change after typing")
        down = g.power_down()
        serial_text = g.serial_path.read_text(errors="replace")
        result["demo"]["power_down_s"] = round(down, 1)
        result["demo"]["clean_power_down"] = "reboot: Power down" in serial_text
        if not result["demo"]["clean_power_down"]:
            raise AssertionError(f"demo: no 'reboot: Power down' on the console\n{g.serial.tail()}")

    result["pos_minus_bare_s"] = round(
        result["pos"]["pos_uptime_s"] - result["bare"]["booted_uptime_s"], 1
    )
    # Same boot, so free of run-to-run noise: from "boot finished" to the POS on the screen.
    pos = result["pos"]
    result["pos_paint_after_boot_s"] = round(pos["pos_uptime_s"] - pos["booted_uptime_s"], 1)
    agent = result["pos"]["units"].get("agent")
    if require_agent and agent != "active":
        raise AssertionError(f"appliance-agent is {agent!r}, not active")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="image/build's output")
    parser.add_argument("--timeout", type=float, default=180.0, help="per boot stage, seconds")
    parser.add_argument(
        "--require-agent", action="store_true", help="fail unless the agent is active"
    )
    args = parser.parse_args()
    if not (args.out / "appliance.img").exists():
        print(f"boot-test: no image in {args.out} (run `make image`)", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        result = run(args.out, args.timeout, args.require_agent)
    except AssertionError as exc:
        print(f"boot-test: FAILED: {exc}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    result["total_s"] = round(time.monotonic() - t0, 1)
    (args.out / "boot-test" / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    bare, pos = result["bare"], result["pos"]
    print(json.dumps(result, indent=1))
    print(
        f"boot-test: bare boot {bare['booted_uptime_s']:.1f} s, POS on tty1 at "
        f"{pos['pos_uptime_s']:.1f} s guest uptime ({pos['pos_wall_s']:.1f} s from QEMU start): "
        f"POS adds {result['pos_minus_bare_s']:+.1f} s (paints "
        f"{result['pos_paint_after_boot_s']:.1f} s after its own boot finished); "
        f"agent {pos['units'].get('agent')}; "
        f"total {result['total_s']:.0f} s"
    )
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
