"""`hwsim demo`: its config from package data in a private folder, lock URLs from
parameters, and `kiosk demo` pointing to it."""

from __future__ import annotations

import logging
import stat
import sys

import pytest

from hwsim import cli as hwsim_cli
from hwsim.demo import demo_config, private_folder, run_in_folder, write_demo_config
from hwsim.site import QUICK_LOCKS, lock_url
from kiosk import cli as kiosk_cli
from kiosk.devices import registry
from kiosk.errors import ConfigError


def test_lock_urls_are_built_from_parameters():
    assert lock_url("kerong", doors=8) == "sim+kerong://?boards=1&doors=8"
    assert lock_url("gpio", doors=4, pulse_ms=60, poll_ms=None) == "sim+gpio://?doors=4&pulse_ms=60"
    for locks, quick in QUICK_LOCKS.items():   # what the drivers accept
        registry.check("locks", lock_url(locks, doors=8, **quick))
    with pytest.raises(ValueError, match="no emulated lock bank 'serial'"):
        lock_url("serial")


@pytest.mark.parametrize("locks", ["kerong", "gpio"])
def test_the_demo_config_is_written_privately_and_loads(tmp_path, locks):
    folder = tmp_path / "state"
    with private_folder(folder, "unused-") as where:
        config = demo_config(locks, where)
    assert config.devices["locks"] == lock_url(locks, doors=8)
    assert config.database == folder / "kiosk.db"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "kiosk.toml").stat().st_mode) == 0o600
    assert [c.id for c in config.couriers] == ["courier-demo"]


def test_a_rewritten_config_is_private_again(tmp_path):
    tmp_path.chmod(0o700)
    (tmp_path / "kiosk.toml").write_text("old")
    (tmp_path / "kiosk.toml").chmod(0o644)
    write_demo_config(tmp_path, "gpio")
    assert stat.S_IMODE((tmp_path / "kiosk.toml").stat().st_mode) == 0o600


def test_a_state_dir_others_can_read_is_refused_untouched(tmp_path, capsys):
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    with pytest.raises(ConfigError, match="chmod 700"):
        with private_folder(loose, "unused-"):
            pass
    assert stat.S_IMODE(loose.stat().st_mode) == 0o755
    assert hwsim_cli.main(["demo", "--state-dir", str(loose)]) == 2
    assert "must be a folder only you can read (mode 755)" in capsys.readouterr().err


def test_a_temporary_demo_folder_is_private_and_removed(tmp_path):
    with private_folder(None, "hwsim-demo-test-") as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not folder.exists()


def test_kiosk_demo_points_to_the_simulator(capsys):
    assert kiosk_cli.main(["demo", "--locks", "gpio", "--seed", "3"]) == 2
    assert "run: hwsim demo --locks gpio --seed 3" in capsys.readouterr().err


def test_the_demo_logs_into_its_folder_not_over_the_screen(tmp_path, capsys):
    """run_in_folder (both demos) sends log lines to demo.log while the screen runs, and says where."""
    root = logging.getLogger()
    handler, level = logging.StreamHandler(sys.stderr), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    seen = []

    async def demo(folder):
        seen.append(folder)
        logging.getLogger("kiosk.service.doors").info("locker 3: evidence")

    try:
        assert run_in_folder(tmp_path / "state", "unused-", demo) == 0
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    out, err = capsys.readouterr()
    assert seen == [tmp_path / "state"]
    assert f"Log: {tmp_path / 'state' / 'demo.log'}" in out
    assert "locker 3: evidence" not in err
    assert "locker 3: evidence" in (tmp_path / "state" / "demo.log").read_text()
