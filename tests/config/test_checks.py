"""The config checks added for issue 9 §3 and issue 7 part 5, one test per kind of mistake.

Each names the key and says why in plain words; none may surface as a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kiosk import cli, config
from kiosk.devices.roles import ROLES
from kiosk.domain.parcels import METHODS
from kiosk.config import schema
from kiosk.errors import ConfigError
from kiosk.languages import CODES

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config" / "kiosk.toml").read_text()
LOCKS = 'locks = "sim+kerong://?boards=1&doors=8"'
KEY = "MCowBQYDK2VwAyEA"  # not a key: 12 bytes once decoded


def write(folder: Path, text: str) -> Path:
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, text: str, *, check_writable: bool = False) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        config.load(write(folder, text), check_writable=check_writable)
    return dict(err.value.problems)


def with_database(text: str) -> str:
    return GOOD.replace('database = "../var/kiosk.db"', f"database = {text}")


# --- the database must be creatable (issue 9 §3) ------------------------------------------

def test_a_database_folder_under_a_file_is_refused_by_check_config(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    path = write(tmp_path, with_database('"afile/sub/kiosk.db"'))
    assert cli.main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"site.database: cannot create its folder {tmp_path}/afile/sub: {tmp_path}/afile is a file" in err
    # Only check-config asks: a read-only `kiosk status` must still load the config.
    assert config.load(path).database == tmp_path / "afile" / "sub" / "kiosk.db"


def test_an_unwritable_folder_is_named_with_the_user(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked and real_access(p, mode, **kw))
    found = problems(tmp_path, with_database('"locked/new/kiosk.db"'), check_writable=True)
    assert re.fullmatch(rf"cannot create its folder {locked}/new: {locked} is not writable by (user|uid) \S+",
                        found["site.database"])
    found = problems(tmp_path, with_database('"locked/kiosk.db"'), check_writable=True)
    assert found["site.database"].startswith(f"cannot write in its folder: {locked} is not writable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere; the os.access test above stands in")
def test_an_unwritable_folder_for_real(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    found = problems(tmp_path, with_database('"locked/kiosk.db"'), check_writable=True)
    assert "is not writable by" in found["site.database"]


def test_checking_the_database_creates_nothing(tmp_path, capsys):
    path = write(tmp_path, with_database('"a/b/c/kiosk.db"'))
    assert cli.main(["check-config", str(path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.toml"]


def test_a_database_that_is_a_folder(tmp_path):
    (tmp_path / "db").mkdir()
    assert "exists and is not a file" in problems(tmp_path, with_database('"db"'))["site.database"]


def test_a_site_key_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "afile").write_text("")
    found = problems(tmp_path, GOOD.replace("[ui]", '[store]\nsite_key = "afile/key.pem"\n\n[ui]'), check_writable=True)
    assert "is a file, not a folder" in found["store.site_key"]


def test_kiosk_run_on_an_uncreatable_database_says_so_in_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    path = write(tmp_path, with_database('"afile/sub/kiosk.db"').replace(LOCKS, 'locks = "sim+gpio://?doors=2"'))
    assert cli.main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"kiosk: {tmp_path}/afile/sub/kiosk.db: cannot prepare the database: Not a directory"]


def test_a_database_folder_open_to_others_is_refused_before_kiosk_run_refuses_it(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    path = write(tmp_path, with_database('"shared/kiosk.db"'))
    assert cli.main(["check-config", str(path)]) == 2
    assert f"site.database: {shared} is open to other users (mode 755) and the controller will refuse it: " \
           f"chmod 700 {shared}" in capsys.readouterr().err
    shared.chmod(0o700)
    (shared / "kiosk.db").write_bytes(b"")
    (shared / "kiosk.db").chmod(0o644)
    assert f"chmod 600 {shared}/kiosk.db" in problems(tmp_path, with_database('"shared/kiosk.db"'),
                                                      check_writable=True)["site.database"]


# --- paths a file system cannot take -------------------------------------------------------

@pytest.mark.parametrize("value, reason", [
    ('"kiosk\\u0000.db"', "contains a control character (U+0000)"),
    ('"kiosk\\n.db"', "contains a control character (U+000A)"),
    ('"' + "x" * 256 + '.db"', "a name in it is longer than 255 bytes"),
    ('"' + "/x" * 2100 + '"', "is longer than 4095 bytes"),
    ('""', "must name a file, not be empty"),
])
def test_paths_that_cannot_be_paths(tmp_path, value, reason):
    assert reason in problems(tmp_path, with_database(value))["site.database"]
    text = GOOD.replace("[ui]", f"[manifest]\nfile = {value}\n\n[ui]")
    assert reason in problems(tmp_path, text)["manifest.file"]


# --- device URLs urllib refuses ------------------------------------------------------------

@pytest.mark.parametrize("url, reason", [
    ("kerong+serial://[::1/dev/ttyUSB0", "Invalid IPv6 URL"),
    ("kerong+serial://[zz]/dev/ttyUSB0", "is not a device URL"),
    ("kerong+serial:///dev/tty\\u0000USB0", "control character (U+0000)"),
    ("kerong+serial:///dev/tty%00USB0", "control character (U+0000)"),
    ("gpio://?solenoids=17&doors=22&factory=%1b", "control character (U+001B)"),
])
def test_device_urls_urllib_refuses(tmp_path, url, reason):
    assert reason in problems(tmp_path, GOOD.replace(LOCKS, f'locks = "{url}"'))["devices.locks"]


# --- numbers and lists ---------------------------------------------------------------------

@pytest.mark.parametrize("line, key, reason", [
    ("hold_days = [3]", "holding.hold_days", "must be a number, not a list"),
    ("hold_days = 0", "holding.hold_days", "must be between 0.01 and 60 (not 0)"),
    ("reminder_hours = 6", "holding.reminder_hours", "must be a list of numbers, not an integer (6)"),
    ("reminder_hours = [24, 0]", "holding.reminder_hours",
     "item 2 of the list must be greater than 0 and at most 1440 (not 0)"),
    ("reminder_hours = [24, -6]", "holding.reminder_hours",
     "item 2 of the list must be greater than 0 and at most 1440 (not -6)"),
    ("reminder_hours = [[24]]", "holding.reminder_hours", "item 1 of the list must be a number, not a list"),
    ("hold_days = nan", "holding.hold_days", "must be a finite number, not nan"),
    ("hold_days = inf", "holding.hold_days", "must be a finite number, not inf"),
    ("hold_days = 1" + "0" * 400, "holding.hold_days", "must be between 0.01 and 60 (not 1000000000…(401 digits))"),
    ("hold_days = 2024-01-02", "holding.hold_days", "must be a number, not a date"),
    ("hold_days = true", "holding.hold_days", "must be a number, not true/false (true)"),
])
def test_holding_values(tmp_path, line, key, reason):
    text = GOOD.replace("hold_days = 3 ", "").replace("reminder_hours = [24, 6]", "")
    assert problems(tmp_path, text.replace("[holding]", f"[holding]\n{line}"))[key] == reason


def test_an_integer_too_long_for_python_is_not_valid_toml(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, GOOD.replace("count", "x") + "\n[lockers]\ncount = " + "9" * 5000))


def test_a_missing_section_names_its_required_keys(tmp_path):
    found = problems(tmp_path, GOOD.replace("[devices]", "[other]"))
    assert found["devices.locks"] == "is required"
    assert found["other"].startswith("unknown section (known: site, devices, lockers,")


def test_a_section_that_is_not_a_table(tmp_path):
    found = problems(tmp_path, 'lockers = 5\n' + GOOD.replace("[lockers]", "[old_lockers]"))
    assert found["lockers"] == "must be a table ([lockers]), not an integer (5)"


def test_no_python_type_names_in_reasons(tmp_path):
    text = (GOOD.replace('id = "sim-0001"', "id = 7").replace("count", "x")
            .replace("max_attempts_per_parcel = 5", "max_attempts_per_parcel = 5.5")
            .replace("inactivity_timeout_s = 45", 'inactivity_timeout_s = "45"')
            .replace('languages = ["en", "ja"]', "languages = [1]")
            .replace("argon2_lanes = 1", "argon2_lanes = {}")
            .replace("hold_days = 3", "hold_days = 1979-05-27T07:32:00"))
    found = problems(tmp_path, text)
    assert len(found) == 6, found
    for reason in found.values():
        assert not re.search(r"\b(str|int|float|dict|list\[|tuple|NoneType|bool|datetime)\b", reason), reason


# --- keys that go together, and keys that were not checked before -------------------------

def test_tags_store_public_key_must_be_a_key(tmp_path):
    (tmp_path / "tags.key").write_bytes(b"k" * 32)
    text = GOOD.replace("[ui]", f'[tags]\nkey_file = "tags.key"\nstore_public_key = "{KEY}"\n\n[ui]')
    assert "not an Ed25519 public key" in problems(tmp_path, text)["tags.store_public_key"]


@pytest.mark.parametrize("entry, key, reason", [
    ('id = ""', "couriers[0].id", "must not be empty"),
    ('id = "a\\tb"', "couriers[0].id", "contains a control character (U+0009)"),
    ("code_hash = 24680", "couriers[0].code_hash", "must be text in quotes, not an integer (24680)"),
])
def test_courier_entries(tmp_path, entry, key, reason):
    head, tail = GOOD.split("[[couriers]]")
    name = entry.split(" =")[0]
    tail = "\n".join(line if not line.startswith(name + " =") else entry for line in tail.splitlines())
    assert problems(tmp_path, head + "[[couriers]]" + tail)[key] == reason


def test_couriers_keep_their_place_in_messages(tmp_path):
    head, tail = GOOD.split("[[couriers]]")
    text = head + "[[couriers]]" + tail + "[[couriers]]\nid = 3\n" + "[[couriers]]" + tail
    found = problems(tmp_path, text)
    assert found["couriers[1].id"].startswith("must be text in quotes")
    assert found["couriers[2].id"] == "'courier-demo' is used twice"


# --- languages: one list ------------------------------------------------------------------

def test_ui_languages_come_from_the_one_list(tmp_path):
    for code in CODES:
        cfg = config.load(write(tmp_path, GOOD.replace('languages = ["en", "ja"]', f'languages = ["{code}"]')))
        assert cfg.ui_languages == (code,)
    found = problems(tmp_path, GOOD.replace('languages = ["en", "ja"]', 'languages = ["en", "fr"]'))
    listed = ", ".join(f"'{code}'" for code in CODES[:-1]) + f" or '{CODES[-1]}'"   # 'en', 'ja' or 'ko'
    assert found["ui.languages"] == f"must be a non-empty list of {listed}, not 'fr'"
    found = problems(tmp_path, GOOD.replace('languages = ["en", "ja"]', 'languages = ["en", "en"]'))
    assert found["ui.languages"] == "names a language twice"
    assert config.load(write(tmp_path, GOOD.replace('languages = ["en", "ja"]\n', ""))).ui_languages == CODES


def test_a_staff_line_for_every_listed_language(tmp_path):
    ja = next(line for line in GOOD.splitlines() if line.startswith("ja = "))   # config/kiosk.toml's [ui.staff]
    text = GOOD.replace(ja, ja + '\nko = "매장 안 서비스 카운터"').replace('languages = ["en", "ja"]', 'languages = ["ko", "en"]')
    cfg = config.load(write(tmp_path, text))
    assert cfg.ui_languages == ("ko", "en") and cfg.staff_contact["ko"] == "매장 안 서비스 카운터"
    found = problems(tmp_path, GOOD.replace(ja, ja + '\nfr = "le comptoir"'))
    assert found["ui.staff.fr"] == f"unknown key (known: {', '.join(CODES)})"


# --- the schema names what the rest of the code knows --------------------------------------

def test_devices_section_names_every_role():
    assert {f for f in schema.Devices.__dataclass_fields__} == set(ROLES)
    assert tuple(schema.StaffContact.__dataclass_fields__) == CODES


def test_verification_section_names_every_method():
    settings = {"fallback", "online_rate_per_minute", "online_burst", "online_timeout_s"}
    assert set(schema.Verification.__dataclass_fields__) - settings == set(METHODS)
