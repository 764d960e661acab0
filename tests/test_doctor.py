"""`kiosk doctor`: every check reads, none writes; each finding names the fix; the exit
status is the worst finding's (0 ok, 1 warnings, 2 failures)."""

from __future__ import annotations

import json
import sqlite3

from kiosk import cli
from kiosk.clock import ManualClock
from hwsim.site import start_site


async def _ran_site(tmp_path):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="kerong", doors=3)
    await site.controller.stop()
    return tmp_path / "site" / "kiosk.toml", tmp_path / "site" / "kiosk.db"


def _doctor(config, capsys, *extra) -> tuple[int, dict]:
    code = cli.main(["doctor", "--config", str(config), "--json", *extra])
    found = {f["check"]: f for f in json.loads(capsys.readouterr().out)}
    return code, found


async def test_a_healthy_site_is_all_ok_and_nothing_is_written(tmp_path, capsys):
    config, database = await _ran_site(tmp_path)
    before = database.read_bytes()
    code, found = _doctor(config, capsys)
    assert code == 0, found
    assert {f["level"] for f in found.values()} == {"ok"}
    assert found["doors vs books"]["seen"] == "3 doors agree with the books"
    assert "3 doors answered" in found["devices.locks"]["seen"]
    assert database.read_bytes() == before


async def test_a_door_the_books_think_open_is_a_warning(tmp_path, capsys):
    config, database = await _ran_site(tmp_path)
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE lockers SET door = 'open' WHERE number = 2")
    code, found = _doctor(config, capsys)
    assert code == 1
    assert found["doors vs books"]["level"] == "warn" and "2: read closed, books open" in found["doors vs books"]["seen"]


async def test_a_rewritten_audit_entry_is_a_failure(tmp_path, capsys):
    config, database = await _ran_site(tmp_path)
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER audit_no_update")   # what an attacker with the disk can do
        conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 1")
    code, found = _doctor(config, capsys, "--no-probe")
    assert code == 2
    assert found["audit"]["level"] == "fail" and found["audit"]["fix"]
    assert "devices.locks" not in found


async def test_a_missing_lock_board_is_a_failure_with_the_fix(tmp_path, capsys):
    config, _ = await _ran_site(tmp_path)
    text = config.read_text()
    start = text.index('locks = "') + len('locks = "')
    config.write_text(text[:start] + "kerong+serial:///dev/no-such-port?boards=1" + text[text.index('"', start):])
    code, found = _doctor(config, capsys)
    assert code == 2
    assert found["devices.locks"]["level"] == "fail" and "/dev/no-such-port" in found["devices.locks"]["seen"]


def test_the_human_form_has_one_line_per_check(tmp_path, capsys):
    import asyncio
    config, _ = asyncio.run(_ran_site(tmp_path))
    assert cli.main(["doctor", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok   config") and any(line.startswith("ok   versions") for line in lines)
