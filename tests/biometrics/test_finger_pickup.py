"""F5 at a locker through the real controller: the real R30x driver over a pty to the
emulated module, the store emulator holding the references (local and central matching),
the attempt limits, door evidence, the outbox and the audit."""

from __future__ import annotations

import pytest

from hwsim.biometrics.fingers import finger_of
from hwsim.parcels import DemoParcel
from hwsim.site import start_site
from hwsim.store import StoreEmulator
from hwsim.site import FAST_HASH
from kiosk.clock import ManualClock
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.security.keys import b64url
from kiosk.errors import CodeInvalid, FingerProblem, LockedOut, NotCollectable
from tests.sync.conftest import LINK

pytestmark = pytest.mark.slow
SITE = "sim-site"
EMPTY = bytes(512)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=5) as emulator:
        yield emulator


async def f5_site(tmp_path, clock, store, mode: str):
    site = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio", doors=4,
                            biometric="sim+r30x://?finger_wait_ms=300", verification={"biometric": mode})
    created = store.create_parcel(SITE, "biometric")
    await site.controller.pull_manifest()
    locker = await site.deposit(DemoParcel(created.trade_number, "", {}))
    return site, created.trade_number, finger_of(created.template), locker


@pytest.fixture(params=["local", "online"])
async def f5(request, tmp_path, clock, store):
    site, trade, finger, locker = await f5_site(tmp_path, clock, store, request.param)
    try:
        yield site, trade, finger, locker, request.param
    finally:
        await site.controller.stop()


def sensor(site):
    return site.controller.fingerprint.sim


async def test_the_enrolled_finger_opens_the_door_and_nothing_stays_behind(f5, store):
    site, trade, finger, locker, mode = f5
    c = site.controller
    sensor(site).place(finger)
    with c.subscribe() as events:
        opening = await c.submit_finger(trade)
        await events.next("door_open", where=lambda e: e["locker"] == locker)
        site.doors.take(locker)
        site.doors.close(locker)
        await events.next("parcel_collected", where=lambda e: e["locker"] == locker)
    db = c.site.db
    assert opening.locker == locker and db.parcel(trade).state == ParcelState.COLLECTED
    [audit] = db.audit_entries("unlock_commanded")[-1:]
    assert audit["detail"]["verified"] == mode and audit["detail"]["source"] == "finger"
    if mode == "local":
        assert audit["detail"]["score"] >= 50          # the module's score against its threshold
    assert sensor(site).buffers == {1: EMPTY, 2: EMPTY}   # the module was wiped after the check
    await c.sync.settle()
    collected = [e for e in store.events(SITE) if e["kind"] == "parcel_collected"]
    assert [e["trade_number"] for e in collected] == [trade]
    assert db.verify_audit().ok


async def test_another_finger_is_a_failed_attempt_and_the_limit_holds(f5, store):
    site, trade, finger, locker, mode = f5
    c = site.controller
    sensor(site).place(finger + 1)
    lefts = []
    with pytest.raises(LockedOut):
        for _ in range(6):
            try:
                await c.submit_finger(trade)
            except CodeInvalid as err:
                lefts.append(err.attempts_left)
    assert lefts == sorted(lefts, reverse=True) and lefts[-1] == 1 and len(lefts) >= 3
    assert c.site.db.parcel(trade).locked_out
    assert c.site.db.locker(locker).state == LockerState.OCCUPIED
    sensor(site).place(finger)                        # locked means locked, even for the right finger
    with pytest.raises(LockedOut):
        await c.submit_finger(trade)
    assert sensor(site).buffers == {1: EMPTY, 2: EMPTY}


async def test_no_finger_and_a_poor_image_cost_no_attempt(f5):
    site, trade, finger, locker, _ = f5
    c = site.controller
    sensor(site).lift()
    with pytest.raises(FingerProblem) as err:
        await c.submit_finger(trade)
    assert err.value.reason == "no_finger"
    sensor(site).place(finger)
    sensor(site).poor_image()
    with pytest.raises(FingerProblem) as err:
        await c.submit_finger(trade)
    assert err.value.reason == "poor_image"
    assert c.site.db.parcel(trade).failed_attempts == 0
    opening = await c.submit_finger(trade)            # placed again, read well: it opens
    assert opening.locker == locker


async def test_a_store_that_cannot_answer_sends_to_staff_without_an_attempt(f5, store):
    site, trade, finger, locker, _ = f5
    c = site.controller
    sensor(site).place(finger)
    store.stop()
    with pytest.raises(FingerProblem) as err:
        await c.submit_finger(trade)
    assert err.value.reason == "unavailable"
    assert c.site.db.parcel(trade).failed_attempts == 0
    assert c.site.db.locker(locker).state == LockerState.OCCUPIED


async def test_a_typed_code_and_another_method_do_not_cross(f5, store):
    site, trade, finger, locker, _ = f5
    c = site.controller
    with pytest.raises(NotCollectable):
        await c.submit_code(trade, "123456")            # a biometric parcel has no secret
    other = store.create_parcel(SITE, "locker")
    await c.pull_manifest()
    await site.deposit(DemoParcel(other.trade_number, other.secret, {}))
    sensor(site).place(finger)
    with pytest.raises(NotCollectable) as err:
        await c.submit_finger(other.trade_number)
    assert err.value.reason == "wrong_method"


def stored_bytes(database) -> bytes:
    return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))


async def test_templates_never_reach_the_database_or_the_log(f5, caplog):
    site, trade, finger, locker, _ = f5
    c = site.controller
    sensor(site).place(finger + 1)
    with pytest.raises(CodeInvalid):
        await c.submit_finger(trade)
    sensor(site).place(finger)
    await c.submit_finger(trade)
    raw, text = stored_bytes(c.config.database), caplog.text
    for trace in (b"HWFP", b64url(b"HWFP")[:5].encode()):   # a template's first bytes, raw or base64url
        assert trace not in raw and trace.decode() not in text
