"""Run the fleet playbooks for real against the appliance image booted under QEMU, over SSH.

One boot of image/out/appliance.img (a qcow2 overlay: the image is never changed), provisioned
from a FAT stick labelled APPL-PROV (terminal FT1, root's SSH key made here, the ERPNext URL and
credentials, a transfer key), with a fake ERPNext on the host (127.0.0.1) that the guest reaches
at 10.0.2.100:8000 (QEMU guestfwd) and SSH forwarded to a loopback port. ERPNext gets
`appliance erpnext setup` and a `POS Appliance Terminal` record (hostname 127.0.0.1, ssh_port =
the forwarded port, ring canary), which the inventory plugin reads. Then, with ansible/:

ERPNext also holds a second canary, FT0, that is off (its SSH port is closed): every rollout
reports it as unreachable and goes on.

1. provision.yml twice, while ERPNext already names .post1 as the target: the second run must
   change nothing (idempotent on the image), and neither moves the till off its release;
2. rollout.yml to <version>.post1 while a sale is in progress on the till: the till is left on
   its release, not restarted (the till's process is the same), and reported busy; rc 0;
3. rollout.yml to <version>.post1 (a wheelhouse built from this repository) with only the
   variables a rollout needs (no ERPNext URL, no transfer table) and a problem the till had
   before (its disk below a minimum): current -> it, the till and the agent active,
   `appliance health` ok, [erpnext] and [transfer] kept, FT0 reported unreachable;
4. rollout.yml to <version>.post2, whose till crashes at start: the role's check fails, it rolls
   back to .post1 by itself, the play fails for the host; current -> .post1, the till active;
5. collect-logs.yml: the support bundle (FT1-<time>.tar.gz, 0600) is fetched and holds neither
   the ERPNext secret nor the transfer key;
6. a clean ACPI power-down.

Prints a JSON summary (each step's seconds and pass/fail) and writes it to
<out>/fleet-test/result.json; ansible's output goes to <out>/fleet-test/ansible.log. Exit status
0 only if every step passed. Run as `image/fleet-test` (or `make fleet-test`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boot_test import ERP_GUEST, Boot, Guest, Runner, write_stick
from release_wheel import release_wheel

from appliance import __version__
from appliance.demo.masters import POS_PROFILE, DemoSize, all_masters
from fakeerp import FakeERPNext

REPO = Path(__file__).resolve().parent.parent
ANSIBLE_DIR = REPO / "ansible"
BIN = Path(sys.executable).parent
DEFAULT_OUT = REPO / "image" / "out"
DOCTYPE = "POS Appliance Terminal"
TERMINAL = "FT1"
OFF = "FT0"  # a till that is off: its record names a port nothing listens on
API_KEY, API_SECRET = "fleet-agent-key", "fleet-agent-secret-7c1d9e"
TRANSFER_KEY = "5e" * 32 + "a1b2c3d4"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class FailedError(Exception):
    pass


# -- wheelhouses ------------------------------------------------------------------------------
def build_wheelhouse(base: Path, dest: Path, version: str, *, broken: bool = False) -> Path:
    """base's wheels (the image's dependencies) plus this repository's appliance as `version`.

    broken: the till raises at start (`appliance tui`), everything else works."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(base, dest)
    for old in dest.glob("appliance-*.whl"):
        old.unlink()

    def crash_at_start(src: Path) -> None:
        cli = src / "appliance" / "cli.py"
        text = cli.read_text(encoding="utf-8")
        head = "def _tui(args: argparse.Namespace) -> int:\n"
        if head not in text:
            raise FailedError("cannot make the broken release: no _tui in appliance/cli.py")
        crash = '    raise RuntimeError("fleet-test: this release\'s till crashes at start")\n'
        cli.write_text(text.replace(head, head + crash, 1), "utf-8")

    try:
        release_wheel(version, dest, dest.parent, crash_at_start if broken else None)
    except RuntimeError as exc:
        raise FailedError(str(exc)) from exc
    return dest


# -- ERPNext ----------------------------------------------------------------------------------
def erp_request(erp: FakeERPNext, method: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        erp.url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"token {API_KEY}:{API_SECRET}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())["data"]


def add_record(erp: FakeERPNext, terminal: str, ssh_port: int) -> None:
    """A POS Appliance Terminal record for a till at 127.0.0.1:ssh_port, canary ring."""
    erp_request(
        erp,
        "POST",
        f"/api/resource/{DOCTYPE.replace(' ', '%20')}",
        {
            "doctype": DOCTYPE,
            "name": terminal,
            "terminal_id": terminal,
            "enabled": 1,
            "hostname": "127.0.0.1",
            "ssh_port": ssh_port,
            "branch": "Fleet test",
            "pos_profile": POS_PROFILE,
            "ring": "canary",
            "target_release": __version__,
            "device_settings": "{}",
            "inactivity_lock_seconds": 120,
        },
    )


def set_record(erp: FakeERPNext, terminal: str = TERMINAL, **fields: Any) -> None:
    erp_request(erp, "PUT", f"/api/resource/{DOCTYPE.replace(' ', '%20')}/{terminal}", fields)


def free_port() -> int:
    """A loopback port nothing listens on (the till that is off)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_stick(work: Path, key_pub: str) -> Path:
    return write_stick(
        work,
        f"""# Made by image/fleet-test.
[provision]
id = "{TERMINAL}-fleet-test"

[terminal]
id = "{TERMINAL}"
branch = "Fleet test"

[erpnext]
url = "http://{ERP_GUEST}"
api_key = "{API_KEY}"
api_secret = "{API_SECRET}"
pos_profile = "{POS_PROFILE}"

[ssh]
authorized_keys = ["{key_pub}"]

[transfer]
key = "{TRANSFER_KEY}"
""",
    )


# -- Ansible ----------------------------------------------------------------------------------
class Ansible:
    def __init__(self, work: Path, erp: FakeERPNext, key: Path, known_hosts: Path) -> None:
        self.work = work
        self.log = work / "ansible.log"
        self.inventory = work / "fleet.erpnext_terminals.yml"
        self.inventory.write_text(f"plugin: erpnext_terminals\nurl: {erp.url}\n", "utf-8")
        self.env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
            "ANSIBLE_HOME": str(work / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_REMOTE_USER": "root",
            "ANSIBLE_PRIVATE_KEY_FILE": str(key),
            # The terminal's host key, pinned from ssh-keyscan: host_key_checking stays on.
            "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={known_hosts} -o IdentitiesOnly=yes",
            "ERPNEXT_API_KEY": API_KEY,
            "ERPNEXT_API_SECRET": API_SECRET,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self.env.pop("ERPNEXT_API_SECRET_FILE", None)
        self.env.pop("ERPNEXT_URL", None)

    def play(
        self, playbook: str, label: str, extra: dict[str, Any], limit: str | None = None
    ) -> dict[str, Any]:
        """Run one playbook; {"rc", "s", "recap": {host: {ok, changed, failed, ...}}, "report":
        rollout.yml's closing lines, one per till}."""
        extra_file = self.work / f"vars-{label}.json"
        extra_file.write_text(json.dumps(extra), "utf-8")
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), playbook]
        argv += ["-e", f"@{extra_file}"]
        if limit:
            argv += ["--limit", limit]
        lines: list[str] = []
        t0 = time.monotonic()
        # Streamed with each line's seconds since the play started: follow it with tail -f, and
        # read which task took the time.
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n===== {label}: ansible-playbook {playbook}\n")
            log.flush()
            with subprocess.Popen(
                argv,
                cwd=ANSIBLE_DIR,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as proc:
                assert proc.stdout is not None
                for line in proc.stdout:
                    lines.append(line)
                    log.write(f"{time.monotonic() - t0:7.1f} {line}")
                    log.flush()
                rc = proc.wait(timeout=1800)
            seconds = round(time.monotonic() - t0, 1)
            log.write(f"===== {label}: rc {rc}, {seconds} s\n")
        output = "".join(lines)
        recap = {
            m[0]: {
                "ok": int(m[1]),
                "changed": int(m[2]),
                "unreachable": int(m[3]),
                "failed": int(m[4]),
            }
            for m in RECAP.findall(output)
        }
        changed_tasks = re.findall(r"^TASK \[(.*?)\][^\n]*\nchanged:", output, re.M)
        return {
            "rc": rc,
            "s": seconds,
            "recap": recap,
            "changed_tasks": changed_tasks,
            "failures": re.findall(r"^fatal: \[[^\]]*\]: FAILED! => (.*)$", output, re.M),
            "report": re.findall(r'^\s*"msg": "(FT\d+: .*)"$', output, re.M),
        }


# -- the test ---------------------------------------------------------------------------------
class Steps:
    def __init__(self) -> None:
        self.result: dict[str, Any] = {}

    def run(self, name: str, body: Callable[[dict[str, Any]], None], fatal: bool = True) -> None:
        """fatal=False: a failed check is recorded (the run fails) and the next steps go on."""
        r: dict[str, Any] = {}
        self.result[name] = r
        t0 = time.monotonic()
        try:
            body(r)
            r["pass"] = True
        except FailedError as exc:
            r["pass"] = False
            r["error"] = str(exc)
            if fatal:
                raise
        except Exception as exc:
            r["pass"] = False
            r["error"] = f"{type(exc).__name__}: {exc}"
            raise FailedError(f"{name}: {r['error']}") from exc
        finally:
            r["s"] = round(time.monotonic() - t0, 1)


def check(ok: bool, what: str) -> None:
    if not ok:
        raise FailedError(what)


def current_state(g: Guest) -> dict[str, dict[str, Any]]:
    return g.ssh_checks(
        {
            "current": "readlink /opt/appliance/current",
            "tui": "systemctl is-active appliance-tui.service",
            "agent": "systemctl is-active appliance-agent.service",
            "health": "/opt/appliance/current/bin/appliance health --config "
            "/etc/appliance/appliance.toml >/tmp/health.json; rc=$?; "
            'python3 -c \'import json; d=json.load(open("/tmp/health.json")); '
            'print(d["ok"], d["version"], {k: v["ok"] for k, v in d["checks"].items()})\'; '
            "exit $rc",
        }
    )


def run(
    summary: dict[str, Any], out: Path, timeout: float, probe_timeout: float, provision_runs: bool
) -> None:
    work = out / "fleet-test"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    steps = Steps()
    summary.update({"version": __version__, "steps": steps.result})
    post1, post2 = f"{__version__}.post1", f"{__version__}.post2"
    houses: dict[str, Path] = {}

    def wheels(r: dict[str, Any]) -> None:
        houses[post1] = build_wheelhouse(out / "wheels", work / "wheels-post1", post1)
        houses[post2] = build_wheelhouse(out / "wheels", work / "wheels-post2", post2, broken=True)
        r["releases"] = [__version__, post1, post2 + " (till crashes)"]

    steps.run("build_wheelhouses", wheels)

    key = work / "it_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-test", "-f", str(key)],
        check=True,
    )
    key_pub = key.with_suffix(".pub").read_text().strip()
    known_hosts = work / "known_hosts"
    masters = all_masters(DemoSize(items=60, extra_barcodes=20, customers=10))
    runner = Runner(out, work, timeout, probe_timeout)
    summary["boot_retries"] = runner.retries
    with FakeERPNext(masters, api_key=API_KEY, api_secret=API_SECRET) as erp:
        port = int(erp.url.rsplit(":", 1)[1])

        def setup(r: dict[str, Any]) -> None:
            secret = work / "erpnext.secret"
            secret.write_text(API_SECRET + "\n", "utf-8")
            secret.chmod(0o600)
            cfg = work / "it-appliance.toml"
            cfg.write_text(
                f'[terminal]\nid = "IT"\n\n[erpnext]\nurl = "{erp.url}"\n'
                f'api_key = "{API_KEY}"\napi_secret_file = "{secret}"\n'
                f'pos_profile = "{POS_PROFILE}"\n',
                "utf-8",
            )
            res = subprocess.run(
                [str(BIN / "appliance"), "erpnext", "setup", "--config", str(cfg)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            r["rc"] = res.returncode
            r["said"] = res.stdout.strip().splitlines()[-1:] + res.stderr.strip().splitlines()
            check(res.returncode == 0, f"appliance erpnext setup: rc {res.returncode}: {r['said']}")

        steps.run("erpnext_setup", setup)
        boot = Boot("fleet", None, stick=work / "stick.img", erp_port=port, ssh_key=key)
        with runner.guest(boot, prepare=lambda: make_stick(work, key_pub)) as g:

            def booted(r: dict[str, Any]) -> None:
                g.wait(
                    "appliance-agent active",
                    lambda: g.serial.units.get("agent") == "active",
                    timeout,
                )
                r["agent_active_wall_s"] = round(time.monotonic() - g.t0, 1)
                g.wait_ssh(timeout)
                r["ssh_wall_s"] = round(time.monotonic() - g.t0, 1)
                scan = subprocess.run(
                    ["ssh-keyscan", "-p", str(g.ssh_port), "-t", "ed25519", "127.0.0.1"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                check(bool(scan.stdout.strip()), f"ssh-keyscan: {scan.stderr.strip()}")
                known_hosts.write_text(scan.stdout, "utf-8")
                add_record(erp, TERMINAL, g.ssh_port)
                r["ssh_port"] = g.ssh_port
                # A canary that is off: ordered before FT1, it must not stop the rollout.
                add_record(erp, OFF, free_port())
                # ERPNext already names the next release: provisioning must not move to it.
                set_record(erp, target_release=post1)
                set_record(erp, OFF, target_release=post1)

            steps.run("boot_provisioned", booted)
            ansible = Ansible(work, erp, key, known_hosts)
            common = {
                "kiosk_ssh_authorized_keys": [key_pub],
                "support_bundle_dest": str(work / "bundles"),
                # FT0 is off: found out quickly.
                "appliance_reach_timeout": 10,
                "appliance_soak_seconds": 0,
            }

            def provision(r: dict[str, Any]) -> None:
                extra = {
                    **common,
                    "appliance_erpnext_url": f"http://{ERP_GUEST}",
                    "appliance_erpnext_api_key": API_KEY,
                    "appliance_erpnext_verify_tls": False,
                    "appliance_transfer": {"key_file": "/etc/appliance/transfer.key"},
                    "appliance_wheelhouse": str(out / "wheels"),
                    "appliance_erpnext_api_secret": API_SECRET,
                }
                first = ansible.play("provision.yml", "provision-1", extra, limit=TERMINAL)
                r["first"] = first
                check(first["rc"] == 0, f"provision.yml failed (rc {first['rc']}): see ansible.log")
                second = ansible.play("provision.yml", "provision-2", extra, limit=TERMINAL)
                r["second"] = second
                check(second["rc"] == 0, f"provision.yml 2nd run: rc {second['rc']}")
                changed = second["recap"].get(TERMINAL, {}).get("changed")
                check(changed == 0, f"provision.yml not idempotent: 2nd run changed={changed}")
                now = g.ssh("readlink /opt/appliance/current").stdout.strip()
                r["current"] = now
                check(now == __version__, f"provisioning moved the till to {now} (no rings)")

            if provision_runs:
                steps.run("provision", provision, fatal=False)

            def roll_to(release: str, label: str, **more: Any) -> dict[str, Any]:
                """ERPNext's target_release set to `release`, then rollout.yml with its wheels
                and the variables the docs list for a rollout (no ERPNext URL, no transfer)."""
                set_record(erp, target_release=release)
                extra = {**common, "appliance_wheelhouse": str(houses[release]), **more}
                return ansible.play("rollout.yml", label, extra)

            def reported(play: dict[str, Any], host: str, what: str) -> None:
                said = [line for line in play["report"] if line.startswith(f"{host}: {what}")]
                check(bool(said), f"the report does not say {host}: {what}: {play['report']}")

            def busy(r: dict[str, Any]) -> None:
                """A sale in progress (the till's own process says so): skipped, not restarted."""
                tui = "systemctl show --property=MainPID --value appliance-tui.service"
                pid = g.ssh(tui).stdout.strip()
                check(pid.isdigit() and pid != "0", f"no till process: {pid!r}")
                activity = json.dumps({"busy": True, "lines": 2, "pid": int(pid)})
                made = g.ssh(
                    f"printf '%s' '{activity}' > /var/lib/appliance/till-activity.json"
                    " && /opt/appliance/current/bin/appliance busy"
                )
                check(made.returncode == 0, f"the till does not look busy: {made.stdout}")
                try:
                    play = roll_to(
                        post1, "rollout-busy", appliance_idle_retries=2, appliance_idle_delay=3
                    )
                finally:
                    g.ssh("rm -f /var/lib/appliance/till-activity.json")
                r["play"] = play
                check(play["rc"] == 0, f"rollout.yml with a busy till: rc {play['rc']}")
                reported(play, TERMINAL, "busy (a sale in progress")
                reported(play, OFF, "unreachable")
                got = current_state(g)
                r["after"] = got
                check(got["current"]["out"] == __version__, f"current -> {got['current']['out']}")
                after = g.ssh(tui).stdout.strip()
                check(after == pid, f"the busy till was restarted: pid {pid} -> {after}")

            def runs(r: dict[str, Any], release: str) -> None:
                """Over SSH: current -> release, both units active, `appliance health` ok."""
                got = current_state(g)
                r["after"] = got
                check(got["current"]["out"] == release, f"current -> {got['current']['out']}")
                check(got["tui"]["out"] == "active", f"appliance-tui {got['tui']['out']}")
                check(got["agent"]["out"] == "active", f"appliance-agent {got['agent']['out']}")
                check(got["health"]["rc"] == 0, f"appliance health: {got['health']['out']}")

            steps.run("rollout_busy_till", busy, fatal=False)

            def rollout(r: dict[str, Any]) -> None:
                # A problem from before the rollout: the disk is below the minimum asked for,
                # on the running release as on the new one. Not the release's fault.
                play = roll_to(
                    post1,
                    "rollout-post1",
                    appliance_health_args=["--min-free-mb", str(10**9)],
                )
                r["play"] = play
                check(play["rc"] == 0, f"rollout.yml to {post1}: rc {play['rc']}")
                reported(play, TERMINAL, f"now on {post1} (failing before the switch as well")
                reported(play, OFF, "unreachable")
                runs(r, post1)
                config = g.ssh("cat /etc/appliance/appliance.toml").stdout
                r["config_tables"] = re.findall(r"^\[.*\]$", config, re.M)
                check(
                    f'url = "http://{ERP_GUEST}"' in config
                    or f'"url" = "http://{ERP_GUEST}"' in config,
                    "the rollout dropped [erpnext] url",
                )
                check("[transfer]" in config, "the rollout dropped [transfer]")

            steps.run("rollout_post1", rollout)

            def broken(r: dict[str, Any]) -> None:
                play = roll_to(post2, "rollout-post2")
                r["play"] = play
                check(play["rc"] != 0, "rollout.yml to the broken release did not fail")
                check(
                    play["recap"].get(TERMINAL, {}).get("failed") == 1,
                    f"{TERMINAL} not failed: {play['recap']}",
                )
                said = [f for f in play["failures"] if "rolled back to" in f]
                r["rolled_back_said"] = said[:1]
                check(bool(said), f"no 'rolled back' failure message: {play['failures']}")
                runs(r, post1)
                set_record(erp, target_release=post1)  # what the fleet is told to run now

            steps.run("rollout_broken_post2", broken)

            def logs(r: dict[str, Any]) -> None:
                play = ansible.play("collect-logs.yml", "collect-logs", common, limit=TERMINAL)
                r["play"] = play
                check(play["rc"] == 0, f"collect-logs.yml: rc {play['rc']}")
                found_bundles = sorted((work / "bundles").glob(f"{TERMINAL}-*.tar.gz"))
                check(len(found_bundles) == 1, f"bundles: {found_bundles}")
                bundle = found_bundles[0]
                mode = bundle.stat().st_mode & 0o777
                r["bundle"] = {"name": bundle.name, "mode": oct(mode)}
                check(mode == 0o600, f"{bundle.name} is {oct(mode)}, not 0600")
                found: list[str] = []
                with tarfile.open(bundle) as tar:
                    members = tar.getmembers()
                    for member in members:
                        f = tar.extractfile(member)
                        data = f.read() if f else b""
                        for name, secret in (
                            ("api secret", API_SECRET),
                            ("transfer key", TRANSFER_KEY),
                        ):
                            if secret.encode() in data:
                                found.append(f"{name} in {member.name}")
                r["members"] = [m.name for m in members]
                r["bundle_bytes"] = bundle.stat().st_size
                check(not found, f"secrets in the bundle: {found}")

            steps.run("collect_logs", logs)

            def down(r: dict[str, Any]) -> None:
                r["power_down_s"] = round(g.power_down(), 1)
                serial = g.serial_path.read_text(errors="replace")
                check("reboot: Power down" in serial, "no 'reboot: Power down' on the console")
                check(API_SECRET not in serial, "the ERPNext secret on the serial console")

            steps.run("power_down", down)
        summary["erp_requests"] = len(erp.log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="image/build's output")
    parser.add_argument("--timeout", type=float, default=300.0, help="per boot stage, seconds")
    parser.add_argument("--probe-timeout", type=float, default=150.0, help="first probe report")
    parser.add_argument(
        "--skip-provision",
        action="store_true",
        help="development: no provision.yml runs (the rollouts still run; the run cannot pass)",
    )
    args = parser.parse_args()
    for needed in ("appliance.img", "wheels"):
        if not (args.out / needed).exists():
            print(f"fleet-test: no {needed} in {args.out} (run `make image`)", file=sys.stderr)
            return 2
    t0 = time.monotonic()
    summary: dict[str, Any] = {}
    ok = True
    try:
        run(summary, args.out, args.timeout, args.probe_timeout, not args.skip_provision)
    except (FailedError, AssertionError) as exc:
        ok = False
        summary["error"] = str(exc)
    summary["total_s"] = round(time.monotonic() - t0, 1)
    ok = ok and not args.skip_provision
    ok = ok and all(s.get("pass") for s in summary.get("steps", {}).values())
    summary["pass"] = ok
    work = args.out / "fleet-test"
    work.mkdir(parents=True, exist_ok=True)
    (work / "result.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    brief = {name: (s.get("s"), s.get("pass")) for name, s in summary.get("steps", {}).items()}
    print(f"fleet-test: {'PASSED' if ok else 'FAILED'} in {summary['total_s']:.0f} s: {brief}")
    print(f"fleet-test: ansible's output in {work / 'ansible.log'}")
    return 0 if ok else 1


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
