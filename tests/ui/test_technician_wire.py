"""The technician's view of a device's line (issue 12 §4): over kioskd's socket, Enter on a
device shows the frames its driver exchanged — a Kerong board's status queries and replies
with their meaning and round-trip times, an unlock when a clerk opens a door — and a
token reader's reads with their bytes left out (a token's id is a credential). Plus the
wire log's own rules and its picture."""

from __future__ import annotations

import pytest

from drivers.biometrics import r30x_codec as R
from drivers.cards.apdu import Command, describe_command
from kiosk.devices.wire import WireLog
from kiosk.errors import UnknownDevice
from kiosk.ui.technician import TechnicianApp
from kiosk.ui.technician.texts import EN, JA
from kiosk.ui.technician.wire import WireScreen
from tests.support import wait_until_async
from tests.ui.conftest import technician_site, wait_for

UID = "0A001B2C3D"


@pytest.fixture
async def linked(tmp_path):
    async with technician_site(tmp_path, locks="kerong", doors=4, token="sim+rdm6300://") as linked:
        yield linked


@pytest.mark.slow
async def test_a_lock_boards_line_and_a_token_readers_reads(linked, tmp_path):
    site, client = linked
    app = TechnicianApp(client.as_service(), client.staff_id or "")
    async with app.run_test(size=(130, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.status is not None and screen.devices.row_count == 2, "the devices")
        screen.devices.focus()
        await pilot.press("enter")                                   # the first device: the lock bus
        await wait_for(pilot, lambda: isinstance(app.screen, WireScreen), "the line")
        wire = app.screen
        assert wire.role == "locks"

        def meanings() -> list[str]:
            return [line.meaning for line in wire.traffic.lines] if wire.traffic else []
        await wait_for(pilot, lambda: any(m.startswith("board 0: status:") for m in meanings()), "a status reply")
        assert any(m == "board 0: status query" for m in meanings())
        assert wire.traffic.rtt_p50_ms is not None and wire.traffic.counters["frames_sent"] >= 1
        assert "02 00 30 03 35" in {line.hex for line in wire.traffic.lines}   # the documented status query
        await site.controller.clerk_open_locker("clerk-1", 3)
        await wait_for(pilot, lambda: "board 0 lock 3: unlock" in meanings(), "the unlock on the wire")
        assert EN.wire_summary.split("{")[0] in str(wire.head.text)
        (tmp_path / "technician-wire-en.svg").write_text(app.export_screenshot())
        app.language = "ja"
        await wait_for(pilot, lambda: JA.wire_summary.split("{")[0] in str(wire.head.text), "the line in Japanese")
        (tmp_path / "technician-wire-ja.svg").write_text(app.export_screenshot())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, WireScreen), "back")

    site.controller.token_reader.sim.hold(UID, frames=2)
    await wait_until_async(lambda: site.controller.token_reader.stats["frames"] >= 2, "the token's frames")
    token = await client.device_traffic("token")
    assert token.kept and token.received >= 1
    assert all(UID.encode().hex() not in line.hex and "hidden" in line.hex for line in token.lines)
    with pytest.raises(UnknownDevice):
        await client.device_traffic("no such role")


def test_what_is_secret_or_personal_never_enters_the_log():
    log = WireLog(frames=3)
    verify = Command(0x00, 0x20, 0x00, 0x82, b"123456")
    meaning, secret = describe_command(verify)
    assert meaning.startswith("VERIFY") and secret
    log.sent(verify.encode(), meaning, hidden=secret)
    log.received(bytes.fromhex("9000"), "9000 ok")
    template = R.Packet(R.DATA, bytes(range(64)))
    meaning, private = R.describe(template)
    assert private and meaning == "template data"
    log.sent(R.encode(template.pid, template.payload), meaning, hidden=private)
    log.noise(b"\x00\xff")
    snap = log.snapshot()
    assert [f.direction for f in snap.frames] == ["rx", "tx", "noise"]      # only the last 3 kept
    assert snap.frames[1].data == b"" and snap.frames[1].hex.endswith("[75 bytes hidden]")
    assert (snap.sent, snap.received, snap.noise_bytes) == (2, 1, 2)
    assert snap.rtt_last_ms is not None and snap.rtt_p50_ms == snap.rtt_last_ms
    assert describe_command(Command(0x00, 0xCA, 0x00, 0x6E, le=256))[1] is False
    assert R.describe(R.Packet(R.COMMAND, bytes([R.VFY_PWD, 0, 0, 0, 0])))[1] is True
