"""The real Kerong driver against the emulated CU16 boards, over a pty.

Nothing here sleeps to let time pass: tests wait for door changes (or for the emulator to
act) on a condition, with a timeout generous enough for a busy shared machine.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from tests.support import DoorRecorder
import serial
import serial.rs485

from drivers.locks.kerong import LockBankKerong
from drivers.locks.kerong_line import KerongLine
from hwsim.kerong_board import KerongBoardSim
from hwsim.kerong_console import console_main
from kiosk.devices import registry
from kiosk.devices.roles import DoorState, LockBank
from kiosk.errors import DeviceClosed, DeviceInitError, DeviceOperationError, DeviceTimeout, DeviceUnavailable, DeviceURLError

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

WAIT = 5.0  # seconds; only ever reached when a test is failing
OPEN, CLOSED, UNKNOWN = DoorState.OPEN, DoorState.CLOSED, DoorState.UNKNOWN


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- fixtures and helpers ------------------------------------------------------------------

@pytest.fixture
def make_bank():
    """Build, subscribe and open ``sim+kerong://`` banks; close them all afterwards."""
    banks = []

    def make(open_it: bool = True, **params) -> tuple[LockBankKerong, DoorRecorder]:
        params = {"poll_ms": 20, **params}
        bank = registry.create("locks", "sim+kerong://?" + urlencode(params))
        banks.append(bank)
        recorder = DoorRecorder()
        bank.subscribe(recorder)
        if open_it:
            bank.open()
        return bank, recorder

    yield make
    for bank in banks:
        bank.close()


def rx_frames(sim: KerongBoardSim) -> list[str]:
    return [e.detail["frame"] for e in sim.history.entries("kerong", "rx")]


# --- the happy path ------------------------------------------------------------------------

@pytest.mark.parametrize("polarity", ["closed-high", "closed-low"])
def test_open_reads_every_door_before_returning(make_bank, polarity):
    bank, recorder = make_bank(doors=8, polarity=polarity, ir="fitted")
    assert isinstance(bank, LockBank)
    assert bank.door_states() == {d: CLOSED for d in range(1, 9)}
    assert sorted(c.door for c in recorder.changes) == list(range(1, 9))
    assert bank.occupancy() == {d: False for d in range(1, 9)}
    assert rx_frames(bank.sim)[0] == "02 00 30 03 35"  # the reference's status query, on the wire
    assert recorder.threads == {f"kerong-bus {bank.port}"}  # reported from the bus thread


@pytest.mark.parametrize("polarity", ["closed-high", "closed-low"])
def test_unlock_opens_the_door_and_a_person_closes_it(make_bank, polarity):
    bank, recorder = make_bank(doors=8, polarity=polarity)
    mark = recorder.mark()
    bank.unlock(3)
    assert "02 02 31 03 38" in rx_frames(bank.sim)
    recorder.wait_for(3, OPEN, since=mark)
    bank.sim.doors.close(3)
    recorder.wait_for(3, CLOSED, since=mark)
    assert [c.state for c in recorder.since(mark, door=3)] == [OPEN, CLOSED]
    assert bank.sim.doors[3].pulses == 1


def test_two_boards_on_one_bus(make_bank):
    bank, recorder = make_bank(boards=2, doors=20, ir="fitted")
    mark = recorder.mark()
    bank.unlock(18)  # board 1, lock 2
    assert "02 11 31 03 47" in rx_frames(bank.sim)
    recorder.wait_for(18, OPEN, since=mark)
    assert bank.sim.doors[18].pulses == 1 and bank.sim.doors[2].pulses == 0
    bank.sim.doors.put(20)
    bank.refresh()
    assert bank.occupancy()[20] is True and bank.occupancy()[4] is False
    assert bank.door_states()[2] is CLOSED


def test_a_board_that_answers_unlock_with_status_is_tolerated(make_bank):
    bank, recorder = make_bank(doors=4, reply_to_unlock=1)
    bank.sim.split_replies(True)  # a slow answer: the driver must not talk over it
    bank.unlock(2)
    recorder.wait_for(2, OPEN)
    assert bank.sim.history.count("kerong", "collision") == 0
    # The answer to 0x31 was read as a status reply, not drained as stray bytes.
    assert bank.stats["unexpected_frames"] == 0
    assert bank.offline_boards == set()


def test_mismatched_polarity_reads_every_door_inverted():
    # The same bus read with the wrong polarity: proves the setting reaches the bits. One
    # door really open reads closed, so the board is not refused as all-open.
    with KerongBoardSim(doors=4, polarity="closed-high") as sim:
        sim.doors.force_open(2)
        with LockBankKerong(sim.port, doors=4, polarity="closed-low", poll_ms=20) as bank:
            assert bank.door_states() == {1: OPEN, 2: CLOSED, 3: OPEN, 4: OPEN}
            assert bank.refused_boards == {}


def test_wrong_polarity_is_refused_with_one_message_naming_it(caplog):
    with KerongBoardSim(doors=8, polarity="closed-low") as sim:
        bank = registry.create("locks", f"kerong+serial://{sim.port}?doors=8&poll_ms=20")
        recorder = DoorRecorder()
        bank.subscribe(recorder)
        with caplog.at_level("WARNING"), pytest.raises(DeviceInitError) as caught:
            bank.open()
        message = str(caught.value)
        assert "polarity=closed-high" in message and "set polarity=closed-low" in message
        assert "board 0" in message and sim.port in message
        assert not bank.is_open
        assert OPEN not in {c.state for c in recorder.changes}  # no tamper alarm per door
        assert [r.getMessage() for r in caplog.records if r.name.startswith("drivers")] == []
        assert sum(1 for f in rx_frames(sim) if f.split()[2] == "31") == 0


def test_one_all_open_board_is_refused_and_the_others_serve(make_bank, caplog):
    bank, recorder = make_bank(open_it=False, boards=2, doors=20)
    for door in range(17, 21):
        bank.sim.doors.force_open(door)
    with caplog.at_level("WARNING"):
        bank.open()
    assert bank.refused_boards.keys() == {1} and "polarity" in bank.refused_boards[1]
    assert "refused=[1]" in repr(bank)
    errors = [r.getMessage() for r in caplog.records if r.name.startswith("drivers")]
    assert len(errors) == 1 and "board 1" in errors[0] and "polarity=closed-high" in errors[0]
    states = bank.door_states()
    assert {states[d] for d in range(17, 21)} == {UNKNOWN} and {states[d] for d in range(1, 17)} == {CLOSED}
    assert OPEN not in {c.state for c in recorder.changes}
    with pytest.raises(DeviceOperationError, match="polarity"):
        bank.unlock(18)
    assert bank.sim.doors[18].pulses == 0
    bank.refresh()  # the refused board is not polled: it stays as it was refused
    assert bank.door_states()[18] is UNKNOWN and bank.offline_boards == set()
    bank.unlock(2)
    recorder.wait_for(2, OPEN)


def test_a_single_open_door_at_start_up_is_no_polarity_problem(make_bank):
    bank, _ = make_bank(open_it=False, doors=1)
    bank.sim.doors.force_open(1)
    bank.open()
    assert bank.door_states() == {1: OPEN} and bank.refused_boards == {}


def test_production_url_on_the_emulators_pty():
    with KerongBoardSim(boards=2, first_board=3, doors=18) as sim:
        bank = registry.create("locks", f"kerong+serial://{sim.port}?boards=2&first_board=3&doors=18&poll_ms=20")
        with bank:
            bank.unlock(17)  # board 4, lock 1
            assert "02 40 31 03 76" in rx_frames(sim)
            assert bank.door_states()[17] is OPEN
            assert sim.port in repr(bank) and "open" in repr(bank)
            assert bank.stats["frames_sent"] > 0 and bank.stats["replies"] > 0


def test_a_door_opened_and_shut_between_two_routine_polls_is_seen_open(make_bank):
    # Routine polls 5 s apart; the door pops open 300 ms after the pulse (a slow spring)
    # and a quick hand shuts it 400 ms later: only a fast poll after the unlock sees it.
    bank, recorder = make_bank(doors=4, poll_ms=5000)
    bank.sim.doors.set_timing(3, spring_ms=300, shut_after_ms=400)
    shut = threading.Event()
    bank.sim.doors[3].on_change(lambda door: door.is_open or shut.set())
    mark = recorder.mark()
    bank.unlock(3)
    recorder.wait_for(3, OPEN, since=mark)
    assert shut.wait(WAIT)
    assert bank.refresh()[3] is CLOSED
    assert [c.state for c in recorder.since(mark, door=3)] == [OPEN, CLOSED]
    # Once seen open, the board is back to routine polling: no fast polls flood the bus.
    queries = len([f for f in rx_frames(bank.sim) if f == "02 00 30 03 35"])
    bank.refresh()
    assert len([f for f in rx_frames(bank.sim) if f == "02 00 30 03 35"]) == queries + 1


# --- lock buses as in the field ---------------------------------------------------------------

def test_unlock_reply_none_confirms_by_the_status_query_without_the_reply_wait(make_bank):
    # Firmware that never answers 0x31 (the emulator's default): "maybe" listens the whole
    # reply timeout for nothing on every unlock, and says so in stats; "none" does not.
    bank, recorder = make_bank(doors=4, unlock_reply="maybe")
    bank.unlock(1)
    assert bank.stats["unlock_reply_waits"] == 1
    bank, recorder = make_bank(doors=4, unlock_reply="none")
    bank.unlock(2)
    recorder.wait_for(2, OPEN)
    assert bank.stats["unlock_reply_waits"] == 0
    frames = rx_frames(bank.sim)
    unlock_at = frames.index("02 01 31 03 37")
    assert frames[unlock_at + 1] == "02 00 30 03 35"  # the status query confirms it


def test_unlock_reply_status_takes_the_answer_as_the_confirmation(make_bank):
    bank, recorder = make_bank(doors=4, reply_to_unlock=1, unlock_reply="status", poll_ms=5000)
    bank.sim.split_replies(True)  # a slow answer: still not talked over
    bank.unlock(3)
    recorder.wait_for(3, OPEN)
    assert bank.stats["unlock_reply_waits"] == 0 and bank.stats["unexpected_frames"] == 0
    assert bank.sim.history.count("kerong", "collision") == 0


def test_unlock_reply_none_against_firmware_that_answers_is_survived(make_bank):
    # Set wrongly: the answer collides on a real line; here it is read or drained, and the
    # unlock is still confirmed by a status reply from the right board.
    bank, recorder = make_bank(doors=4, reply_to_unlock=1, unlock_reply="none")
    bank.unlock(4)
    recorder.wait_for(4, OPEN)
    assert bank.offline_boards == set()


def test_a_silent_board_gives_up_its_probe_for_an_unlock_on_a_healthy_board(make_bank):
    # A long reply timeout makes the cost visible: each probe of the silent board would
    # hold the bus for 2 s. An unlock arriving during one is served once a reply could no
    # longer be on its way, not after the timeout.
    bank, recorder = make_bank(open_it=False, boards=2, doors=20, timeout_ms=2000, retries=0)
    bank.sim.silent(True, board=1)
    bank.open()
    assert bank.offline_boards == {1}
    probes = bank.sim.history.count("kerong", "silent")
    assert bank.sim.history.wait_for("kerong", "silent", probes + 1, WAIT)  # a probe is in flight
    bank.unlock(2)
    recorder.wait_for(2, OPEN)
    assert bank.stats["probes_abandoned"] >= 1
    bank.sim.silent(False, board=1)
    bank.refresh()
    assert bank.offline_boards == set()


def test_a_second_pulse_on_one_door_waits_out_min_pulse_gap_ms(make_bank):
    bank, recorder = make_bank(doors=4, min_pulse_gap_ms=1000, unlock_reply="none")
    bank.unlock(1)
    bank.unlock(2)  # another door: not held back
    bank.unlock(1)
    assert bank.sim.doors[1].pulses == 2 and bank.stats["pulses_deferred"] == 1
    sent = [e.monotonic for e in bank.sim.history.entries("kerong", "rx") if e.detail["frame"] == "02 00 31 03 36"]
    assert sent[1] - sent[0] >= 1.0  # a lower bound only: a slow machine cannot break it


def test_rs485_rts_asks_pyserial_for_the_kernel_rs485_mode():
    line = KerongLine("loop://", baud=19200, timeout_s=0.2, polarity="closed-high", rs485="rts")
    line.open()  # loop:// keeps the settings it is given; a real port hands them to the kernel
    try:
        settings = line.serial_port.rs485_mode
        assert isinstance(settings, serial.rs485.RS485Settings)
        assert settings.rts_level_for_tx is True and settings.rts_level_for_rx is False
    finally:
        line.close()
    plain = KerongLine("loop://", baud=19200, timeout_s=0.2, polarity="closed-high")
    plain.open()
    assert plain.serial_port.rs485_mode is None
    plain.close()
    assert not plain.is_open


def test_rs485_rts_on_a_port_without_kernel_rs485_mode_says_so():
    # A pty, like many USB adapters, has no TIOCSRS485: pySerial refuses, the driver explains.
    with KerongBoardSim(doors=4) as sim:
        bank = registry.create("locks", f"kerong+serial://{sim.port}?doors=4&rs485=rts")
        with pytest.raises(DeviceInitError, match="no kernel RS-485 mode.*rs485=off"):
            bank.open()
        assert not bank.is_open


# --- door faults ---------------------------------------------------------------------------

def test_jammed_door_stays_closed_after_unlock(make_bank):
    bank, recorder = make_bank(doors=8)
    bank.sim.doors.jam(4)
    mark = recorder.mark()
    bank.unlock(4)  # returns once the board has been read back after the pulse
    assert bank.door_states()[4] is CLOSED
    assert bank.sim.doors[4].pulses == 1
    assert bank.sim.history.count("door 4", "jammed_stays_shut") == 1
    assert recorder.since(mark, door=4) == []


def test_forced_door_is_reported_without_an_unlock(make_bank):
    bank, recorder = make_bank(doors=8)
    bank.sim.doors.force_open(5)
    recorder.wait_for(5, OPEN)
    assert bank.sim.doors[5].pulses == 0
    assert not [f for f in rx_frames(bank.sim) if f.split()[2] == "31"]


def test_door_left_open_stays_open(make_bank):
    bank, recorder = make_bank(doors=8)
    bank.unlock(6)
    bank.sim.doors.leave_open(6)
    mark = recorder.mark()
    assert bank.sim.doors.close(6) is False
    assert bank.refresh()[6] is OPEN  # read after the close attempt
    assert recorder.since(mark, door=6) == []
    bank.sim.doors.leave_open(6, False)
    bank.sim.doors.close(6)
    recorder.wait_for(6, CLOSED, since=mark)


# --- bus faults ----------------------------------------------------------------------------

def test_silent_board_reads_unknown_refuses_unlock_and_recovers(make_bank):
    bank, recorder = make_bank(boards=2, doors=20)
    mark = recorder.mark()
    bank.sim.silent(True, board=1)
    change = recorder.wait_for(17, UNKNOWN, since=mark)
    assert change.detail == "board 1 not answering"
    recorder.wait_for(20, UNKNOWN, since=mark)
    assert bank.offline_boards == {1}
    assert bank.occupancy()[17] is None
    assert all(bank.door_states()[d] is CLOSED for d in range(1, 17))
    with pytest.raises(DeviceTimeout, match="board 1"):
        bank.unlock(17)
    assert bank.sim.doors[17].pulses == 0  # no pulse fired at a board we cannot hear
    bank.sim.silent(False, board=1)
    recorder.wait_for(17, CLOSED, since=mark)
    bank.unlock(17)
    assert bank.door_states()[17] is OPEN and bank.offline_boards == set()


def test_board_going_quiet_right_after_an_unlock(make_bank):
    bank, recorder = make_bank(doors=4)
    mark = recorder.mark()
    # The board hears the unlock and fires the lock, then stops answering.
    bank.sim.doors[2].on_change(lambda door: bank.sim.silent(True))
    with pytest.raises(DeviceTimeout, match="may have opened"):
        bank.unlock(2)
    assert bank.sim.doors[2].is_open
    assert bank.door_states()[2] is UNKNOWN
    bank.sim.silent(False)
    recorder.wait_for(2, OPEN, since=mark)  # the evidence arrives once the board is heard again


def test_corrupt_checksums_are_counted_and_survived(make_bank):
    bank, recorder = make_bank(doors=4)
    mark = recorder.mark()
    bank.sim.corrupt_checksum(True)
    assert recorder.wait_for(1, UNKNOWN, since=mark).detail == "board 0 not answering"
    assert bank.stats["checksum_errors"] >= 3  # one per attempt
    bank.sim.corrupt_checksum(False)
    recorder.wait_for(1, CLOSED, since=mark)
    bank.unlock(1)
    assert bank.door_states()[1] is OPEN


def test_garbage_on_the_line_is_discarded(make_bank):
    bank, recorder = make_bank(doors=8)
    mark = recorder.mark()
    fake_all_open = h("02 00 35 00 00 00 00 03 3B")  # "every door open", bad checksum (3A)
    for _ in range(10):
        bank.sim.inject_garbage(h("FF 00 02 02 41") + fake_all_open + h("02 00 35"))
        bank.refresh()
    assert set(bank.refresh().values()) == {CLOSED}
    assert recorder.since(mark) == []
    assert bank.stats["discarded_bytes"] > 0
    bank.unlock(2)
    recorder.wait_for(2, OPEN, since=mark)


def test_split_replies_are_reassembled(make_bank):
    bank, recorder = make_bank(doors=8)
    bank.sim.split_replies(True)
    mark = recorder.mark()
    bank.unlock(7)
    recorder.wait_for(7, OPEN, since=mark)
    bank.sim.doors.close(7)
    recorder.wait_for(7, CLOSED, since=mark)
    assert [e for e in bank.sim.history.entries("kerong", "tx") if e.detail["split"]]
    assert bank.offline_boards == set()


def test_emulator_vanishing_turns_every_door_unknown(make_bank):
    bank, recorder = make_bank(doors=4)
    mark = recorder.mark()
    bank.sim.stop()  # like pulling the USB adapter out
    assert "serial port failed" in recorder.wait_for(1, UNKNOWN, since=mark).detail
    with pytest.raises(DeviceOperationError):
        bank.unlock(1)
    bank.close()


# --- open, close, make_safe ----------------------------------------------------------------

def test_open_with_no_board_answering_raises(make_bank):
    bank, _ = make_bank(open_it=False, doors=4, timeout_ms=20)
    bank.sim.silent(True)
    with pytest.raises(DeviceInitError, match="no board answered") as caught:
        bank.open()
    assert bank.sim.port in str(caught.value)
    assert not bank.is_open


def test_open_a_port_that_does_not_exist():
    bank = LockBankKerong("/dev/no-such-kerong-port")
    with pytest.raises(DeviceUnavailable, match="no-such-kerong-port") as caught:
        bank.open()
    assert isinstance(caught.value.__cause__, serial.SerialException)


def test_open_something_that_is_not_a_serial_port(tmp_path):
    not_a_tty = tmp_path / "plain-file"
    not_a_tty.write_bytes(b"")
    with pytest.raises(DeviceInitError, match="cannot open") as caught:
        LockBankKerong(str(not_a_tty)).open()
    assert caught.value.__cause__ is not None


def test_close_is_idempotent_and_stops_everything(make_bank):
    bank, _ = make_bank(doors=4)
    bank.close()
    bank.close()
    assert not bank.is_open and not bank.sim.running
    assert set(bank.door_states().values()) == {UNKNOWN}
    assert not [t for t in threading.enumerate() if t.name.startswith("kerong")]
    with pytest.raises(DeviceClosed):
        bank.unlock(1)
    with pytest.raises(DeviceClosed):
        bank.refresh()


def test_make_safe_cancels_unlocks_still_waiting_for_the_bus(make_bank):
    bank, recorder = make_bank(doors=4)
    parked, release = threading.Event(), threading.Event()

    def park_the_bus(change):  # subscribers run on the bus thread, so this holds it
        if change.door == 4 and change.state is OPEN:
            parked.set()
            release.wait(WAIT)
    bank.subscribe(park_the_bus)
    bank.sim.doors.force_open(4)
    assert parked.wait(WAIT)
    with ThreadPoolExecutor(1) as pool:
        unlocking = pool.submit(bank.unlock, 2)
        with bank._cv:  # white box: wait until the unlock is queued behind the parked poll
            assert bank._cv.wait_for(lambda: bank._jobs, WAIT)
        bank.make_safe()
        release.set()
        with pytest.raises(DeviceOperationError, match="make_safe"):
            unlocking.result(WAIT)
    bank.refresh()
    assert bank.sim.doors[2].pulses == 0


# --- configuration -------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    *(f"kerong+serial:///dev/ttyUSB0?{query}" for query in (
        "boards=0", "boards=17", "boards=2&doors=33", "boards=2&first_board=15",
        "polarity=upside-down", "poll_ms=fast", "bauds=9600", "rs485=dtr", "unlock_reply=sometimes",
        "min_pulse_gap_ms=-1", "open_watch_ms=soon")),
    "kerong+serial://dev/ttyUSB0", "kerong+serial://",
    "sim+kerong://?boards=1&doors=8&bogus=1", "sim+kerong://?reply_to_unlock=maybe",
])
def test_bad_urls_are_refused(url):
    with pytest.raises(DeviceURLError):
        registry.create("locks", url)


# --- the emulator on its own, against the reference's byte strings -------------------------

def test_emulator_answers_the_reference_frames_from_a_plain_serial_client():
    with KerongBoardSim(boards=2, doors=32) as sim:
        with serial.Serial(sim.port, 19200, timeout=WAIT) as client:
            client.write(h("02 00 30 03 35"))
            assert client.read(9) == h("02 00 35 FF FF 00 00 03 38")
            client.write(h("02 00 32 03 37"))
            assert client.read(9) == h("02 00 36 FF FF 00 00 03 39")
            client.write(h("02 12 31 03 48"))  # board 1, lock 3 = door 19
            client.write(h("02 10 30 03 45"))
            assert client.read(9) == h("02 10 35 FB FF 00 00 03 44")
    assert sim.doors[19].is_open and sim.doors[19].pulses == 1


def test_a_paced_emulator_answers_no_sooner_than_the_wire_allows():
    # 1200 baud: a 5-byte question and a 9-byte answer are 14 x 10 bits = 117 ms on the wire.
    with KerongBoardSim(doors=4, baud=1200) as sim:
        with serial.Serial(sim.port, 1200, timeout=WAIT) as client:
            client.write(h("02 00 30 03 35"))
            assert client.read(9) == h("02 00 35 FF FF 00 00 03 38")
    asked, answered = sim.history.entries("kerong", "rx")[0], sim.history.entries("kerong", "tx")[0]
    assert answered.monotonic - asked.monotonic >= 14 * 10 / 1200 * 0.99  # a lower bound only


def test_console_drives_the_emulator():
    out = io.StringIO()
    commands = "jam 3\nput 4\nsilent on 1\ngarbage 02 FF\nbogus\nstatus\nquit\n"
    assert console_main(["--boards", "2", "--doors", "20"], stdin=io.StringIO(commands), stdout=out) == 0
    text = out.getvalue()
    assert "port: /dev/pts/" in text
    assert "faults=jammed" in text and "board 1: SILENT" in text
    assert "error: unknown command 'bogus'" in text
    assert "garbage" in text and "02 FF" in text  # the history printed as it happened


def test_console_refuses_an_impossible_bus():
    out = io.StringIO()
    assert console_main(["--boards", "2", "--doors", "40"], stdin=io.StringIO(""), stdout=out) == 2
    assert "do not fit" in out.getvalue()


def test_ir_bits_mean_nothing_unless_sensors_are_fitted(make_bank):
    """A CU16 without IR sensors reads 0 on every IR input: that must never say "empty"."""
    bank, _ = make_bank(doors=4)
    bank.sim.doors.put(2)
    bank.refresh()
    assert bank.occupancy() == dict.fromkeys(range(1, 5))
