"""Installing on a device (issue 14 §1), as far as a container allows: scripts/install.sh
staged under a temporary root puts every file where the units expect it, keeps an edited
config, and scripts/uninstall.sh takes it away but the data and the config; the units pass
``systemd-analyze verify`` and their sandboxing ``systemd-analyze security`` (exposure at
most 2.5, "OK"); the installed config is valid."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = shutil.which("systemd-analyze")
KIOSK = Path(sys.executable).with_name("kiosk")
UNITS = ("kioskd.service", "kiosk-screen@.service", "kiosk-web@.service")


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def staged(tmp_path):
    root = tmp_path / "root"
    run("bash", str(ROOT / "scripts/install.sh"), "--root", str(root), "--no-packages", "--no-python", "--no-start")
    return root


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_file_lands_where_the_units_expect_it(staged):
    for unit in UNITS:
        assert mode(staged / "etc/systemd/system" / unit) == 0o644
        assert "/opt/kiosk/.venv/bin/kiosk" in (staged / "etc/systemd/system" / unit).read_text()
    assert mode(staged / "etc/udev/rules.d/70-kiosk.rules") == 0o644
    assert (staged / "etc/systemd/journald.conf.d/kiosk.conf").exists()
    assert mode(staged / "etc/kiosk") == 0o750 and mode(staged / "etc/kiosk/kiosk.toml") == 0o640
    assert (staged / "opt/kiosk/src/pyproject.toml").exists() and not (staged / "opt/kiosk/src/.venv").exists()
    config = (staged / "etc/kiosk/kiosk.toml").read_text()
    assert 'database = "/var/lib/kiosk/kiosk.db"' in config and 'socket = "/run/kiosk/service.sock"' in config
    checked = run(str(KIOSK), "check-config", str(staged / "etc/kiosk/kiosk.toml"))
    assert ": ok" in checked.stdout


def test_reinstalling_keeps_the_config_and_uninstalling_keeps_the_data(staged):
    config = staged / "etc/kiosk/kiosk.toml"
    config.write_text(config.read_text() + "\n# edited on site\n")
    (staged / "var/lib/kiosk").mkdir(parents=True)
    (staged / "var/lib/kiosk/kiosk.db").write_bytes(b"the books")
    run("bash", str(ROOT / "scripts/install.sh"), "--root", str(staged), "--no-packages", "--no-python", "--no-start")
    assert config.read_text().endswith("# edited on site\n")
    run("bash", str(ROOT / "scripts/uninstall.sh"), "--root", str(staged))
    assert not (staged / "opt/kiosk").exists() and not (staged / "etc/udev/rules.d/70-kiosk.rules").exists()
    assert not any((staged / "etc/systemd/system").iterdir())
    assert config.exists() and (staged / "var/lib/kiosk/kiosk.db").read_bytes() == b"the books"


def test_the_scripts_refuse_to_touch_the_system_unless_root_or_staged():
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        pytest.skip("root may install: the refusal is for everyone else")
    done = run("bash", str(ROOT / "scripts/install.sh"), "--no-packages", check=False)
    assert done.returncode == 1 and "run as root" in done.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze (systemd) is not installed")
def test_the_units_verify_and_are_sandboxed(staged, tmp_path):
    # verify checks that ExecStart can run: point it at this test run's own kiosk (the
    # staged venv is not built here: --no-python), nothing else changes.
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        text = (staged / "etc/systemd/system" / unit).read_text()
        (units / unit).write_text(text.replace("/opt/kiosk/.venv/bin/kiosk", str(KIOSK)))
    shutil.copy(units / "kiosk-screen@.service", units / "kiosk-screen@recipient.service")
    shutil.copy(units / "kiosk-web@.service", units / "kiosk-web@counter.service")
    every = ("kioskd.service", "kiosk-screen@recipient.service", "kiosk-web@counter.service")
    run(ANALYZE, "verify", *(str(units / unit) for unit in every))
    for unit in every:
        done = run(ANALYZE, "security", "--offline=yes", "--threshold=25", str(units / unit), check=False)
        assert done.returncode == 0, done.stdout[-600:] + done.stderr
        assert "OK" in done.stdout.splitlines()[-1]


def test_the_udev_rules_are_well_formed():
    """Every rule line is KEY(op)"value" pairs joined by commas, with at least one match and one
    assignment (udevadm verify comes with systemd 254; Debian 12 has 252)."""
    import re
    pair = re.compile(r'^\s*([A-Z_]+(\{[^}]+\})?)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*$')
    lines = [ln for ln in (ROOT / "deploy/udev/70-kiosk.rules").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines
    for line in lines:
        pieces = line.split('",')
        parts = [pair.match(piece + '"') for piece in pieces[:-1]] + [pair.match(pieces[-1])]
        assert all(parts), line
        assert any(m.group(3) in ("==", "!=") for m in parts if m), line
        assert any(m.group(3) in ("=", "+=") for m in parts if m), line
    if shutil.which("udevadm") and "verify" in run("udevadm", "--help", check=False).stdout:
        run("udevadm", "verify", str(ROOT / "deploy/udev/70-kiosk.rules"))
