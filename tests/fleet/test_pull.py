"""Pull mode end to end: the real ansible-pull applies ERPNext's target_release from IT's git.

IT's repository is a git repository made here (this repo's ``ansible/`` plus ``wheels/``, the
wheelhouse), served as a ``file://`` URL; ERPNext is the fake one on 127.0.0.1 holding the
terminal's POS Appliance Terminal record. appliance-pull.service and its timer are rendered from
role pull_mode's templates (and checked by ``systemd-analyze verify`` where it is installed);
the unit's ExecStart then runs with the unit's Environment=. The terminal is a scratch root as in
test_pos_terminal.py: the only differences from a booted terminal are its secret file under the
root and ``-e`` variables (appliance_prefix, no systemd, short health retries). Not covered: the
timer firing on a booted terminal.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fakeerp import FakeERPNext
from tests.fleet.conftest import (
    ANSIBLE_DIR,
    DOCTYPE,
    NEW,
    OLD,
    ansible_env,
    current_release,
    migrate_store,
    run,
    terminal,
    tool,
)

TERMINAL = "PULL1"
API_KEY = "pull-agent-key-2323"
SECRET = "pull-agent-secret-7f7f-e1e1"
UNITS = ("appliance-pull.service", "appliance-pull.timer")
MISSING = "9.9.9"  # a release IT never published


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=IT", "-c", "user.email=it@example.com", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _it_repository(path: Path, wheelhouse: Path) -> Path:
    """IT's repository: ansible/ and the wheelhouse of OLD (NEW is published later)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed (scripts/ensure-system-deps installs it)")
    shutil.copytree(ANSIBLE_DIR, path / "ansible", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        wheelhouse, path / "wheels", ignore=shutil.ignore_patterns(f"appliance-{NEW}-*")
    )
    # IT's group_vars with the provisioning secret encrypted inline (docs/operations.md): a
    # till has no vault password, and pull mode never needs the value.
    password = path.parent / "vault-password"
    password.write_text("it-vault-password\n", "utf-8")
    vaulted = subprocess.run(
        [
            tool("ansible-vault"),
            "encrypt_string",
            "--vault-password-file",
            str(password),
            "--name",
            "appliance_erpnext_api_secret",
            "provisioning-secret-in-vault",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    (path / "ansible/group_vars").mkdir(exist_ok=True)
    (path / "ansible/group_vars/terminals.yml").write_text("---\n" + vaulted, "utf-8")
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", f"Fleet: appliance {OLD}")
    return path


def _render_units(tmp_path: Path, variables: dict[str, Any]) -> Path:
    """The pull_mode role's templates, rendered by Ansible's template module with the role's
    defaults (the role's other tasks install packages and start units: not here)."""
    out = tmp_path / "units"
    out.mkdir()
    role = ANSIBLE_DIR / "roles/pull_mode"
    play = [
        {
            "name": "Render pull_mode's units",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars_files": [str(role / "defaults/main.yml")],
            "tasks": [
                {
                    "name": "Render",
                    "ansible.builtin.template": {
                        "src": f"{role}/templates/{{{{ item }}}}.j2",
                        "dest": f"{out}/{{{{ item }}}}",
                        "mode": "0644",
                    },
                    "loop": [*UNITS, "pull.env"],
                }
            ],
        }
    ]
    playbook = tmp_path / "render-units.yml"
    playbook.write_text(json.dumps(play), encoding="utf-8")  # JSON is YAML
    extra = tmp_path / "render-vars.json"
    extra.write_text(json.dumps({"ansible_python_interpreter": sys.executable, **variables}))
    result = run(
        [tool("ansible-playbook"), "-i", "localhost,", str(playbook), "-e", f"@{extra}"],
        ansible_env(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return out


def _verify_units(units: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # not on this machine: the parse of the unit below still runs
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(units / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # A value systemd cannot parse is a warning ("ignoring"), not a failure: none at all.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def _service(path: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart's argv and the environment of a rendered unit: its Environment= and its
    EnvironmentFile= (rendered beside it as pull.env, in the unit as pull_mode_env_file)."""
    exec_start: list[str] = []
    environment: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        key, _, value = line.partition("=")
        if key == "ExecStart":
            exec_start = shlex.split(value)
        elif key == "Environment":
            name, _, setting = value.partition("=")
            environment[name] = setting
        elif key == "EnvironmentFile":
            assert value == "/etc/appliance/pull.env"
            for env_line in (path.parent / "pull.env").read_text(encoding="utf-8").splitlines():
                if env_line and not env_line.startswith("#"):
                    name, _, setting = env_line.partition("=")
                    environment[name] = setting
    return exec_start, environment


def _set_record(erp: FakeERPNext, **fields: Any) -> None:
    """What IT does in ERPNext's form."""
    erp.site.update(DOCTYPE, TERMINAL, fields, erp.user)


def test_units_render_and_verify(tmp_path: Path) -> None:
    units = _render_units(
        tmp_path,
        {
            "pull_mode_repo_url": "https://git.example.com/it/pos-fleet.git",
            "appliance_terminal_id": "MS1",
            "appliance_erpnext_url": "https://erp.example.com",
            "appliance_erpnext_api_key": "agent-key",
            # The ExecStart binary must exist for systemd-analyze: this venv's.
            "pull_mode_venv": str(Path(tool("ansible-pull")).parent.parent),
        },
    )
    _verify_units(units)
    service = (units / "appliance-pull.service").read_text(encoding="utf-8")
    assert "agent-key" not in service  # unit files are world-readable: no credential in one
    timer = (units / "appliance-pull.timer").read_text(encoding="utf-8")
    assert "OnUnitActiveSec=30min\n" in timer and "RandomizedDelaySec=15min\n" in timer
    argv, environment = _service(units / "appliance-pull.service")
    checkout = "/var/lib/appliance-pull/checkout"
    assert argv[1:] == [
        "--url",
        "https://git.example.com/it/pos-fleet.git",
        "--checkout",
        "main",
        "--directory",
        checkout,
        "--inventory",
        "localhost,",
        "--inventory",
        f"{checkout}/ansible/inventory/self.erpnext_terminals.yml",
        "--limit",
        "MS1",
        "ansible/pull.yml",
    ]
    assert environment == {
        "ANSIBLE_CONFIG": f"{checkout}/ansible/ansible.cfg",
        "ERPNEXT_URL": "https://erp.example.com",
        "ERPNEXT_API_KEY": "agent-key",
        "ERPNEXT_API_SECRET_FILE": "/etc/appliance/erpnext.secret",
        "APPLIANCE_TERMINAL_ID": "MS1",
    }


@pytest.mark.slow
def test_pull_applies_erpnext_target_release(wheelhouse: Path, tmp_path: Path) -> None:
    repo = _it_repository(tmp_path / "it-repo", wheelhouse)
    root = tmp_path / "terminal"
    migrate_store(root)  # the till made its store on first start
    secret = root / "etc/appliance/erpnext.secret"  # as provisioning left it
    secret.parent.mkdir(parents=True)
    secret.write_text(SECRET + "\n", encoding="utf-8")
    secret.chmod(0o600)
    checkout = tmp_path / "checkout"
    ansible_pull = tool("ansible-pull")
    scratch_root = tmp_path / "scratch-root.json"  # what a booted terminal would not need
    scratch_root.write_text(
        json.dumps(
            {
                "appliance_prefix": str(root),
                "ansible_python_interpreter": sys.executable,
                "appliance_python": sys.executable,
                "appliance_manage_services": False,
                "appliance_config_group": "root",
                "appliance_health_retries": 2,
                "appliance_health_delay": 1,
                "appliance_idle_retries": 2,
                "appliance_idle_delay": 1,
            }
        ),
        encoding="utf-8",
    )
    record = terminal(TERMINAL, target_release=OLD, ring="canary")
    with FakeERPNext([record], api_key=API_KEY, api_secret=SECRET) as erp:
        units = _render_units(
            tmp_path,
            {
                "pull_mode_repo_url": repo.as_uri(),
                "pull_mode_checkout": str(checkout),
                "pull_mode_venv": str(Path(ansible_pull).parent.parent),
                "appliance_terminal_id": TERMINAL,
                "appliance_erpnext_url": erp.url,
                "appliance_erpnext_api_key": API_KEY,
            },
        )
        _verify_units(units)
        exec_start, unit_env = _service(units / "appliance-pull.service")
        assert exec_start[0] == ansible_pull and exec_start[-1] == "ansible/pull.yml"
        assert unit_env["ERPNEXT_API_SECRET_FILE"] == "/etc/appliance/erpnext.secret"
        env = ansible_env(tmp_path, **{**unit_env, "ERPNEXT_API_SECRET_FILE": str(secret)})
        command = [*exec_start[:-1], "-e", f"@{scratch_root}", exec_start[-1]]

        def pull() -> tuple[int, str]:
            # systemd starts it in /, not in a directory with an ansible.cfg.
            result = run(command, env, timeout=600, cwd=tmp_path)
            output = result.stdout + result.stderr
            assert SECRET not in output
            return result.returncode, output

        # 1. First run: clone, inventory itself from ERPNext, install and switch to OLD.
        code, out = pull()
        assert code == 0, out[-4000:]
        assert current_release(root) == OLD
        assert (root / f"opt/appliance/{OLD}/.installed").exists()
        config = (root / "etc/appliance/appliance.toml").read_text(encoding="utf-8")
        assert f'id = "{TERMINAL}"' in config and f'url = "{erp.url}"' in config
        assert f'api_key = "{API_KEY}"' in config
        assert f'api_secret_file = "{secret}"' in config
        assert "inactivity_lock_seconds = 120\n" in config
        assert secret.read_text(encoding="utf-8") == SECRET + "\n"  # left as provisioned
        assert (checkout / "ansible/pull.yml").exists()
        assert erp.log and all(e.path == f"/api/resource/{DOCTYPE}" for e in erp.log)

        # 2. IT publishes NEW in git, then sets it (and a setting) in ERPNext: the next run
        #    pulls the new commit and switches; OLD stays installed for a rollback.
        shutil.copy(next(wheelhouse.glob(f"appliance-{NEW}-*.whl")), repo / "wheels")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"Fleet: appliance {NEW}")
        _set_record(erp, target_release=NEW, inactivity_lock_seconds=300)
        code, out = pull()
        assert code == 0, out[-4000:]
        assert current_release(root) == NEW
        assert (root / f"opt/appliance/{OLD}/.installed").exists()
        config = (root / "etc/appliance/appliance.toml").read_text(encoding="utf-8")
        assert "inactivity_lock_seconds = 300\n" in config

        # 3. A release ERPNext names but git does not have: the run fails saying so, and the
        #    till keeps running NEW with its config.
        _set_record(erp, target_release=MISSING)
        code, out = pull()
        assert code != 0
        assert f"release {MISSING} is not in the wheelhouse" in out, out[-4000:]
        assert current_release(root) == NEW
        assert (root / "etc/appliance/appliance.toml").read_text(encoding="utf-8") == config
        assert not (root / f"opt/appliance/{MISSING}").exists()  # nothing half-installed
