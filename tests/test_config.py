"""Config: every problem reported with its key and reason; exit 2 and no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import cli, config
from kiosk.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "config" / "kiosk.toml").read_text()


@pytest.mark.parametrize("path", sorted((ROOT / "config").rglob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    cfg = config.load(path)
    assert cfg.devices["locks"]


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def problems(tmp_path, text):
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, text))
    return dict(err.value.problems)


def test_unknown_key_and_section(tmp_path):
    found = problems(tmp_path, GOOD.replace("open_timeout_s = 15", "open_timeout = 15") + "\n[sitee]\nx=1\n")
    assert "unknown key" in found["lockers.open_timeout"]
    assert "unknown section" in found["sitee"]


def test_wrong_types_and_ranges(tmp_path):
    text = GOOD.replace("max_attempts_per_parcel = 5", 'max_attempts_per_parcel = "5"')
    text = text.replace("left_open_alarm_s = 120", "left_open_alarm_s = -1")
    text = text.replace("argon2_memory_kib = 19456", "argon2_memory_kib = 64")
    found = problems(tmp_path, text)
    assert "must be an integer" in found["security.max_attempts_per_parcel"]
    assert "between" in found["lockers.left_open_alarm_s"]
    assert "between 1024 and" in found["security.argon2_memory_kib"]  # the key itself, not argon2_*


def test_bad_device_urls(tmp_path):
    found = problems(tmp_path, GOOD.replace('locks = "sim+kerong://?boards=1&doors=8"', 'locks = "modbus:///dev/ttyUSB0"'))
    assert "not known" in found["devices.locks"] and "kerong+serial" in found["devices.locks"]
    found = problems(tmp_path, GOOD.replace('locks = "sim+kerong://?boards=1&doors=8"', 'locks = "/dev/ttyUSB0"'))
    assert "not a device URL" in found["devices.locks"]


@pytest.mark.parametrize("url, words", [
    ("kerong+serial:///dev/ttyUSB0?boards=2&speed=9600", "unknown parameter(s) speed"),
    ("kerong+serial:///dev/ttyUSB0?polarity=up", "not one of closed-high, closed-low"),
    ("kerong+serial://host:4001?boards=1", "give the port as a path"),
    ("kerong+serial:///dev/ttyUSB0?rs485=dtr", "rs485='dtr' is not one of off, rts"),
    ("kerong+serial:///dev/ttyUSB0?unlock_reply=sometimes", "is not one of maybe, status, none"),
    ("kerong+serial:///dev/ttyUSB0?min_pulse_gap_ms=-5", "min_pulse_gap_ms=-5 is out of range"),
    ("gpio://?solenoids=17,27&doors=22", "one pin per door"),
    ("gpio://?solenoids=17&doors=17", "used more than once"),
    ("gpio://?solenoids=17&doors=22&pulse_ms=3000&max_energised_ms=2000", "longer than max_energised_ms"),
    ("sim+gpio://?doors=40", "at most"),
    ("sim+kerong://?doors=99", "out of range"),
])
def test_device_url_parameters_are_checked_without_hardware(tmp_path, url, words):
    found = problems(tmp_path, GOOD.replace('locks = "sim+kerong://?boards=1&doors=8"', f'locks = "{url}"'))
    assert words in found["devices.locks"]


def test_missing_required_and_files(tmp_path):
    text = GOOD.replace('id = "sim-0001"\n', "") + '\n[manifest]\nfile = "nope.json"\n'
    found = problems(tmp_path, text)
    assert found["site.id"] == "is required"
    assert "no such file" in found["manifest.file"]


def test_bad_courier_hash(tmp_path):
    text = GOOD.split("[[couriers]]")[0] + '[[couriers]]\nid = "c"\ncode_hash = "24680"\n'
    assert "not an Argon2id hash" in problems(tmp_path, text)["couriers[0].code_hash"]


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[site\nid="))
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "absent.toml")


def test_all_problems_at_once(tmp_path):
    text = GOOD.replace('id = "sim-0001"', 'id = 7').replace("inactivity_timeout_s = 45", "inactivity_timeout_s = 1")
    found = problems(tmp_path, text)
    assert {"site.id", "ui.inactivity_timeout_s"} <= set(found)


def test_check_config_command_exit_codes(tmp_path, capsys):
    assert cli.main(["check-config", str(ROOT / "config" / "kiosk.toml")]) == 0
    bad = write(tmp_path, GOOD.replace("[lockers]", "[lockers]\ncolour = 'red'"))
    assert cli.main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "lockers.colour: unknown key" in err and "Traceback" not in err


def test_check_config_as_a_process_has_no_traceback(tmp_path):
    bad = write(tmp_path, "\x00\x01 not toml at all ][")
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "check-config", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "not valid TOML" in run.stderr and "Traceback" not in run.stderr
