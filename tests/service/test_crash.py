"""A kill -9 of the controller at the worst moments: nothing lost, nothing released twice.

The controller runs in a child process with the real Kerong driver on the pty of an
emulator that lives here, in the test; the child is SIGKILLed mid-pickup; the doors are
moved while it is down; a new controller on the same database reconciles.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.parcels import manifest_document
from hwsim.site import COURIER_CODE, write_config
from kiosk.config import load
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import NotCollectable, SeeStaff
from kiosk.service.controller import Controller

CHILD = Path(__file__).with_name("crash_child.py")
pytestmark = pytest.mark.slow


def run_child_until(tmp_path, bus, parcel, mode, url_extra: str = "") -> int:
    """Run the child to the moment under test, SIGKILL it, return the pickup's locker."""
    config = write_config(tmp_path, locks=f"kerong+serial://{bus.port}?boards=1&doors=4&poll_ms=20{url_extra}")
    man = tmp_path / "manifest.json"
    man.write_text(json.dumps(manifest_document([parcel])))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, str(CHILD), str(config), str(man), parcel.trade_number,
                              parcel.secret, COURIER_CODE, mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        while True:
            line = child.stdout.readline()
            if not line:
                raise AssertionError("child ended early: " + child.stderr.read())
            word, locker = line.split()
            locker = int(locker)
            if word == "DEPOSIT_OPEN":
                bus.doors.put(locker)
                bus.doors.close(locker)
            elif word == "ARRIVED" and mode == "commanded":
                bus.doors.jam(locker)  # the pickup pulse will go out, the door stay shut
            elif word in ("OPENED", "COMMANDED"):
                os.kill(child.pid, signal.SIGKILL)  # no clean-up of any kind
                child.wait(10)
                return locker
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        child.stdout.close()
        child.stderr.close()


async def restart(tmp_path) -> Controller:
    controller = Controller(load(tmp_path / "kiosk.toml"))
    await controller.start()
    return controller


def collected_notices(controller, trade):
    return [e for e in controller.site.db.outbox() if e["kind"] == "parcel_collected" and e["trade_number"] == trade]


async def test_killed_after_door_opened_then_closed_while_down(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "opened")
    bus.doors.take(locker)
    bus.doors.close(locker)   # the recipient closes the door while the controller is dead
    c = await restart(tmp_path)
    try:
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
        assert len(collected_notices(c, parcel.trade_number)) == 1
        assert c.site.db.locker(locker).state == LockerState.FREE
        with pytest.raises(NotCollectable, match="already been collected"):
            await c.submit_code(parcel.trade_number, parcel.secret)
        assert bus.doors[locker].pulses == 2  # the deposit and the one pickup: never a second pickup pulse
        assert c.site.db.verify_audit().ok
    finally:
        await c.stop()


async def test_killed_after_door_opened_door_still_open_at_restart(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "opened")
    c = await restart(tmp_path)
    try:
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
        assert c.site.db.locker(locker).state == LockerState.UNLOADING
        with c.subscribe() as events:
            bus.doors.take(locker)
            bus.doors.close(locker)
            await events.next("parcel_collected", timeout=10)
        assert len(collected_notices(c, parcel.trade_number)) == 1
    finally:
        await c.stop()


async def test_killed_after_pulse_with_no_evidence_is_never_collected(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "commanded")
    bus.doors.jam(locker, on=False)
    c = await restart(tmp_path)
    try:
        # Door closed and no evidence it ever opened: a person must look. Not collected.
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
        lk = c.site.db.locker(locker)
        assert lk.state == LockerState.FAULT and "interrupted" in lk.fault and lk.parcel == parcel.trade_number
        assert collected_notices(c, parcel.trade_number) == []
        assert [e["kind"] for e in c.site.db.outbox()].count("door_fault") == 1
        with pytest.raises(SeeStaff):
            await c.submit_code(parcel.trade_number, parcel.secret)
    finally:
        await c.stop()


async def test_killed_after_pulse_door_found_open_at_restart(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "commanded")
    bus.doors.jam(locker, on=False)
    bus.doors.force_open(locker)  # it gave way while the controller was down
    c = await restart(tmp_path)
    try:
        # An opening was commanded and the door is open: that is the evidence it needs.
        assert c.site.db.locker(locker).state == LockerState.UNLOADING
        with c.subscribe() as events:
            bus.doors.take(locker)
            bus.doors.close(locker)
            await events.next("parcel_collected", timeout=10)
        assert len(collected_notices(c, parcel.trade_number)) == 1
        assert [e["kind"] for e in c.site.db.outbox()].count("tamper") == 0
    finally:
        await c.stop()
