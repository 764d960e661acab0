"""F3 at a locker through the real controller: the real PC/SC driver and pcscd, the
virtual card, the attempt limits, door evidence, the outbox and the store emulator."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest

from drivers.cards.openpgp import OpenPGPCard, verify_signature
from drivers.cards.provisioning import provision
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from hwsim.parcels import DemoParcel
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, NotCollectable
from kiosk.security.card_receipt import parse
from kiosk.errors import SeeStaff
from kiosk.errors import CardProblem
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from tests.sync.conftest import LINK

pytestmark = pytest.mark.slow
SITE = "sim-site"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=3) as emulator:
        yield emulator


@pytest.fixture
async def f3(tmp_path, clock, store, pcscd):
    """A linked site ([devices] card = sim+pcsc) with one ic_card parcel in a locker and its
    provisioned card in the reader."""
    site = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio", doors=4,
                            card="sim+pcsc://")
    try:
        created = store.create_parcel(SITE, "ic_card")
        await site.controller.pull_manifest()
        parcel = DemoParcel(created.trade_number, created.secret, {})
        locker = await site.deposit(parcel)
        reader = site.controller.card_reader
        await card_seen(reader)
        key = provision(OpenPGPCard(DirectLink(reader.sim.card)), trade_number=parcel.trade_number,
                        pin=parcel.secret, admin_pin=DEFAULT_PW3.decode())
        yield site, parcel, locker, reader, key
    finally:
        await site.controller.stop()


async def card_seen(reader) -> None:
    for _ in range(500):       # pcscd polls vpcd every 400 ms; only a failing test waits 10 s
        if reader.card_present:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("pcscd never saw the card")


async def attempt(site, reader, trade, pin):
    return await site.controller.submit_card(trade, pin)


async def test_card_pickup_signs_writes_back_opens_and_reaches_the_store(f3, store):
    site, parcel, locker, reader, key = f3
    c = site.controller
    with c.subscribe() as events:
        opening = await attempt(site, reader, parcel.trade_number, parcel.secret)
        await events.next("door_open", where=lambda e: e["locker"] == locker)
        site.doors.take(locker)
        site.doors.close(locker)
        await events.next("parcel_collected", where=lambda e: e["locker"] == locker)
    db = c.site.db
    assert opening.locker == locker and db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
    receipt, record, signature = parse(reader.sim.card.state.dos[0x0101])
    assert receipt.trade_number == parcel.trade_number and receipt.handover_id == opening.op_id
    assert receipt.signature_number == reader.sim.card.signature_counter == 1
    assert verify_signature(key, hashlib.sha256(record).digest(), signature)
    [event] = [e for e in db.outbox() if e["kind"] == "card_signature"]
    assert unb64(event["payload"]["signature"]) == signature and unb64(event["payload"]["signed_data"]) == record
    [audit] = db.audit_entries("unlock_commanded")[-1:]
    assert audit["detail"]["verified"] == "ic_card" and audit["detail"]["signature_number"] == 1
    assert parcel.secret not in str(db.audit_entries())
    await c.sync.settle()
    [uploaded] = store.card_signatures(SITE)
    assert uploaded["trade_number"] == parcel.trade_number and unb64(uploaded["signature"]) == signature
    assert "parcel_collected" in [e["kind"] for e in store.events(SITE)]
    assert db.verify_audit().ok


async def test_a_typed_secret_does_not_open_a_card_parcel(f3):
    site, parcel, locker, reader, _ = f3
    with pytest.raises(NotCollectable) as err:
        await site.controller.submit_code(parcel.trade_number, parcel.secret)
    assert err.value.reason == "card_required"
    assert site.controller.site.db.locker(locker).state == LockerState.OCCUPIED


async def test_wrong_pin_counts_on_the_card_and_here(f3):
    site, parcel, locker, reader, _ = f3
    wrong = "000000" if parcel.secret != "000000" else "111111"
    with pytest.raises(CodeInvalid) as err:
        await attempt(site, reader, parcel.trade_number, wrong)
    assert err.value.attempts_left == 2                              # the card's 2 left < the parcel's 4
    assert reader.sim.card.tries_left() == 2
    assert site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 1
    assert site.controller.site.db.locker(locker).state == LockerState.OCCUPIED
    await attempt(site, reader, parcel.trade_number, parcel.secret)  # the right PIN still works


async def test_a_blocked_card_gets_no_pin_and_sends_to_staff(f3):
    site, parcel, locker, reader, _ = f3
    reader.sim.card.state.tries[0x81] = 0
    before = reader.sim.slot.apdus
    with pytest.raises(CardProblem) as err:
        await attempt(site, reader, parcel.trade_number, parcel.secret)
    assert err.value.reason == "blocked"
    assert reader.sim.slot.apdus - before == 3                       # SELECT, GET DATA 6E, PIN status: no PIN
    assert site.controller.site.db.audit_entries("card_blocked")
    assert site.controller.site.db.locker(locker).state == LockerState.OCCUPIED


async def test_another_parcels_card_is_refused_and_counted(f3):
    site, parcel, locker, reader, _ = f3
    provision(OpenPGPCard(DirectLink(reader.sim.card)), trade_number="9999-0000", pin=parcel.secret,
              admin_pin=DEFAULT_PW3.decode())
    with pytest.raises(CodeInvalid, match="another parcel"):
        await attempt(site, reader, parcel.trade_number, parcel.secret)
    db = site.controller.site.db
    assert db.parcel(parcel.trade_number).failed_attempts == 1 and db.audit_entries("card_swapped")
    assert not [e for e in db.outbox() if e["kind"] == "card_signature"]


@pytest.mark.parametrize("ins", [0x2A, 0xDA])
async def test_card_pulled_mid_signature_or_write_changes_nothing(f3, ins):
    site, parcel, locker, reader, _ = f3
    reader.sim.slot.pull_on(lambda cmd: cmd.ins == ins)
    with pytest.raises(CardProblem) as err:
        await attempt(site, reader, parcel.trade_number, parcel.secret)
    assert err.value.reason == "removed"
    db = site.controller.site.db
    assert db.locker(locker).state == LockerState.OCCUPIED and not db.locker(locker).busy
    assert db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    assert not [e for e in db.outbox() if e["kind"] == "card_signature"]
    card = reader.sim.remove() or reader.sim.slot.card
    reader.sim.insert(card)                                          # put it back: it works
    await card_seen(reader)
    opening = await attempt(site, reader, parcel.trade_number, parcel.secret)
    assert opening.locker == locker


async def test_a_parcel_of_another_method_or_locked_out_is_refused(f3, store):
    site, parcel, locker, reader, _ = f3
    other = store.create_parcel(SITE, "locker")
    await site.controller.pull_manifest()
    await site.deposit(DemoParcel(other.trade_number, other.secret, {}))
    with pytest.raises(NotCollectable):
        await attempt(site, reader, other.trade_number, parcel.secret)
    wrong = "000000" if parcel.secret != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(CodeInvalid):
            await attempt(site, reader, parcel.trade_number, wrong)
    with pytest.raises(CardProblem):
        await attempt(site, reader, parcel.trade_number, wrong)      # the card blocks on its 3rd
    assert site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 3
    with pytest.raises(CardProblem):
        await attempt(site, reader, parcel.trade_number, parcel.secret)
    assert reader.sim.card.pins_sent_while_blocked == 0


async def test_no_card_reader_configured_sends_to_staff(tmp_path, clock):
    site = await start_site(tmp_path / "site", clock=clock, locks="gpio", doors=2)
    try:
        with pytest.raises(SeeStaff, match="no card reader"):
            await site.controller.submit_card("1234-5678", "123456")
    finally:
        await site.controller.stop()


async def test_the_counter_collects_used_cards_for_the_store(f3, store):
    site, parcel, locker, reader, _ = f3
    c = site.controller
    with c.subscribe() as events:
        opening = await attempt(site, reader, parcel.trade_number, parcel.secret)
        await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
    used = await c.counter_collect_card("clerk-1")
    assert used.trade_number == parcel.trade_number and used.signature_number == 1
    assert used.card_id.endswith(reader.sim.card.state.serial.hex().upper())
    assert reader.sim.card.state.dos[0x0101]                             # the card is not changed
    [entry] = c.site.db.audit_entries("card_collected")
    assert entry["actor"] == "clerk:clerk-1" and entry["detail"]["card"] == used.card_id
    await c.sync.settle()
    assert "card_collected" in [e["kind"] for e in store.events(SITE)]
    reader.sim.remove()
    reader.sim.insert(OpenPGPCardSim())                                  # a blank card: no receipt
    await card_seen(reader)
    assert (await c.counter_collect_card("clerk-1")).trade_number is None
    reader.sim.remove()
    await until_gone(reader)
    with pytest.raises(SeeStaff, match="put the card"):
        await c.counter_collect_card("clerk-1")


async def until_gone(reader) -> None:
    for _ in range(500):
        if not reader.card_present:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("pcscd never saw the card go")


async def test_a_pin_the_card_refuses_for_its_length_is_a_failed_attempt_here(f3):
    """The card answers 6700 to a PIN shorter than its minimum without using a try; the
    pickup point counts it all the same, and the screen says "wrong PIN", not "see staff"."""
    site, parcel, locker, reader, _ = f3
    with pytest.raises(CodeInvalid) as err:
        await attempt(site, reader, parcel.trade_number, "12")
    assert err.value.attempts_left == site.controller.config.attempts.per_parcel_max - 1
    assert site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 1
    assert site.controller.site.db.locker(locker).state == LockerState.OCCUPIED
