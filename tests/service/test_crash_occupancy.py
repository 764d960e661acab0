"""Issue 9 §1: a kill between the pickup pulse and any door evidence costs no locker where
the bank has occupancy sensors (Kerong CU16 IR inputs, ``ir=fitted``): the restart looks
into the compartment. Empty: collected, on occupancy evidence, audited as such. The parcel
still inside: not collected, the locker back in service and the parcel collectable."""

import pytest

from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from tests.service.test_crash import collected_notices, restart, run_child_until

pytestmark = pytest.mark.slow
IR = "&ir=fitted"


async def test_pickup_interrupted_and_the_compartment_now_empty_is_collected(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "commanded", IR)
    bus.doors.jam(locker, on=False)
    bus.doors.take(locker)      # opened and shut while the controller was down: the parcel is gone
    c = await restart(tmp_path)
    try:
        db = c.site.db
        assert db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
        lk = db.locker(locker)
        assert lk.state == LockerState.FREE and lk.parcel is None and lk.fault is None
        [notice] = collected_notices(c, parcel.trade_number)
        assert notice["payload"]["evidence"]["occupancy"] == "compartment empty after a restart"
        assert db.audit_entries("parcel_collected")[-1]["detail"]["occupancy"]
        assert [e["kind"] for e in db.outbox()].count("door_fault") == 0
    finally:
        await c.stop()


async def test_pickup_interrupted_with_the_parcel_still_inside_goes_back_to_arrived(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "commanded", IR)
    bus.doors.jam(locker, on=False)
    c = await restart(tmp_path)
    try:
        db = c.site.db
        assert db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
        lk = db.locker(locker)
        assert lk.state == LockerState.OCCUPIED and lk.parcel == parcel.trade_number and lk.fault is None
        assert collected_notices(c, parcel.trade_number) == []
        assert db.audit_entries("opening_undone")[-1]["detail"]["op"] == "pickup"
        with c.subscribe() as events:     # the recipient simply tries again
            opening = await c.submit_code(parcel.trade_number, parcel.secret)
            await events.next("door_open", timeout=10, where=lambda e: e["locker"] == opening.locker)
            bus.doors.take(locker)
            bus.doors.close(locker)
            await events.next("parcel_collected", timeout=10)
        assert len(collected_notices(c, parcel.trade_number)) == 1
    finally:
        await c.stop()


async def test_without_sensors_a_person_still_inspects(tmp_path, bus, parcel):
    locker = run_child_until(tmp_path, bus, parcel, "commanded")   # ir=none: the IR bits mean nothing
    bus.doors.jam(locker, on=False)
    bus.doors.take(locker)
    c = await restart(tmp_path)
    try:
        assert c.site.db.locker(locker).state == LockerState.FAULT
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    finally:
        await c.stop()
