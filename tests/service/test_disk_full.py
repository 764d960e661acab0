"""A full disk (issue 9 §5), on a real, small file system: door evidence that cannot be
written is kept and written, in order and with its own time, as soon as it can; the
pickup point says it is out of service and refuses new hand-overs meanwhile; nothing is
recorded as "did not open" because its evidence was late."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from kiosk.clock import ManualClock
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import OutOfService
from hwsim.site import start_site
from tests.support import wait_until_async


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs the test can fill. Skips where this machine may not mount one."""
    mount = tmp_path / "site"
    mount.mkdir(mode=0o700)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder) -> str:
    """Fill the file system up to the last byte; returns the filler's path."""
    path = os.path.join(folder, "filler")
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC
        try:
            while True:
                f.write(b"\0")
                f.flush()
        except OSError:
            pass
    return path


async def test_a_door_opened_and_closed_on_a_full_disk_is_collected_once_space_returns(small_disk, rng):
    site = await start_site(small_disk, clock=ManualClock(), locks="gpio", doors=4)
    c = site.controller
    try:
        first, second = await site.add_parcels(2, rng)
        await site.deposit(first)
        await site.deposit(second)
        with c.subscribe() as events:
            n = c.site.db.parcel(first.trade_number).locker
            site.doors.jam(n)                          # the latch sticks: the pulse does not open it...
            started = await c.submit_code(first.trade_number, first.secret)
            await wait_until_async(lambda: site.sim.history.count(f"door {n}", "jammed_stays_shut") == 1, "the pulse")
            filler = fill(small_disk)
            site.doors.jam(n, False)
            site.doors[n].pulse(100)                   # ...and lets go a moment later, on a full disk
            await wait_until_async(lambda: c.evidence.pending >= 1, "the door-open reading")
            site.clock.advance(4.0)                    # the recipient takes a few seconds
            site.doors.take(n)                         # the parcel is taken and the door shut:
            site.doors.close(n)                        # none of it can be written
            await wait_until_async(lambda: c.evidence.pending >= 2 and c.site.db.failing, "the evidence to wait")
            site.clock.advance(c.config.timing.open_timeout_s + 5)   # long past the jam timeout
            c.tick()
            went = await events.next("service_state", timeout=5)
            assert went["in_service"] is False
            with pytest.raises(OutOfService):
                await c.submit_code(second.trade_number, second.secret)
            assert c.site.db.parcel(first.trade_number).state == ParcelState.ARRIVED   # not yet in the books
            status = c.status()
            assert not status["storage"]["writable"] and status["storage"]["evidence_waiting"] >= 1

            os.remove(filler)                          # space comes back
            await c.settle()
            c.tick()
            came = await events.next("service_state", timeout=5)
            assert came["in_service"] is True
        parcel = c.site.db.parcel(first.trade_number)
        assert parcel.state == ParcelState.COLLECTED
        assert c.site.db.locker(started.locker).state == LockerState.FREE
        assert not [e for e in c.site.db.audit_entries("door_fault")]
        late = [e for e in c.site.db.audit_entries() if e["detail"].get("source") == "sensor (written late)"]
        assert [e["action"] for e in late] == ["door_open", "door_closed"]
        assert late[0]["at"] < late[1]["at"] < site.clock.now()   # each with the time it was seen
        notices = [e for e in c.site.db.outbox() if e["kind"] == "parcel_collected"]
        assert [n["trade_number"] for n in notices] == [first.trade_number]
        assert c.site.db.verify_audit().ok
        # Back in service: the second parcel can be collected.
        assert (await c.submit_code(second.trade_number, second.secret)).locker
    finally:
        await c.stop()
