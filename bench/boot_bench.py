"""Boot-to-POS against the same image's bare boot, in pairs, under QEMU (software emulation).

The image issue's budget: the POS on tty1 no more than 3 s after the same image's boot to a
bare marker. One pair is a bare boot (the appliance's units masked: systemd's "boot finished"
is the marker) and a boot of the disk as shipped (the POS's "cannot sell yet" screen on tty1,
first seen by the boot probe). Both are first boots of fresh overlays, so both set up the vault.
Under emulation on a shared machine a single pair carries seconds of noise, most of it before
the appliance starts: run several, read the medians, `pos_adds_after_vault_s` (from the data
vault's opening, the last step both boots share) first. Uses image/boot_test.py's guests;
prints one line per pair and a summary (JSON).

    python bench/boot_bench.py [--out image/out] [--pairs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from boot_test import BARE_CMDLINE, DEFAULT_OUT, POS_TEXT, Boot, Runner

# The vault-setup's kernel-timestamped console line once the data vault is open: the last step
# both boots share, and the earliest the till can start (it needs the vault's mounts).
VAULT_OPEN = re.compile(r"\[\s*([0-9.]+)\] vault-setup\[\d+\]: appliance-vault: unlocked")


def vault_open(serial: Path) -> float | None:
    found = VAULT_OPEN.search(serial.read_text(errors="replace"))
    return float(found.group(1)) if found else None


def pair(runner: Runner, n: int, timeout: float) -> dict[str, Any]:
    with runner.guest(Boot(f"bench-bare-{n}", BARE_CMDLINE)) as g:
        g.wait("end of boot (bare)", lambda: g.serial.booted is not None, timeout)
        assert g.serial.booted
        bare = g.serial.booted[0]
        bare_vault = vault_open(g.serial_path)
    with runner.guest(Boot(f"bench-pos-{n}", None)) as g:
        g.wait("the POS on tty1", lambda: g.serial.first_screen_with(POS_TEXT), timeout)
        g.wait("end of boot", lambda: g.serial.booted is not None, timeout)
        screen = g.serial.first_screen_with(POS_TEXT)
        assert screen and g.serial.booted
        pos, pos_booted = screen.up, g.serial.booted[0]
        pos_vault = vault_open(g.serial_path)
    result = {
        "bare_booted_s": bare,
        "pos_on_tty1_s": pos,
        "pos_boot_booted_s": pos_booted,
        "pos_minus_bare_s": round(pos - bare, 2),
        # Within one boot, so free of the pair's noise: negative = on screen before boot ended.
        "pos_minus_own_boot_s": round(pos - pos_booted, 2),
    }
    if bare_vault is not None and pos_vault is not None:
        # From the vault open on (the early boot's seconds of noise left out): how much longer
        # the POS takes to be on screen than the bare boot takes to finish.
        result["pos_adds_after_vault_s"] = round((pos - pos_vault) - (bare - bare_vault), 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="image/build's output")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    work = args.out / "boot-bench"
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(args.out, work, args.timeout, 150.0)
    t0 = time.monotonic()
    pairs = []
    for n in range(1, args.pairs + 1):
        result = pair(runner, n, args.timeout)
        pairs.append(result)
        print(f"pair {n}: {json.dumps(result)}", flush=True)
    summary: dict[str, Any] = {"pairs": len(pairs)}
    for key in ("pos_minus_bare_s", "pos_minus_own_boot_s", "pos_adds_after_vault_s"):
        values = [p[key] for p in pairs if key in p]
        if not values:
            continue
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    summary |= {
        "budget_s": 3.0,
        "retries": runner.retries,
        "total_s": round(time.monotonic() - t0, 1),
    }
    print(json.dumps(summary, indent=1))
    # Each pair's figures in the file (the printed summary has their count under "pairs").
    (work / "result.json").write_text(json.dumps({**summary, "pairs": pairs}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
