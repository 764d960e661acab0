"""F3 at the counter through the real controller: the label scanned, the card in the desk's
reader (the real PC/SC driver and pcscd), the PIN typed, the clerk's confirmation, the card
signing then, the store receiving the signature."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest

from drivers.cards.openpgp import OpenPGPCard, verify_signature
from drivers.cards.provisioning import provision
from hwsim.cards.openpgp_card import DirectLink
from hwsim.cards.openpgp_state import DEFAULT_PW3
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, CounterIncomplete, SeeStaff
from kiosk.security.card_receipt import parse
from kiosk.service.card_counter import verify_card
from kiosk.errors import CardProblem
from tests.sync.conftest import LINK

pytestmark = pytest.mark.slow
SITE = "sim-site"


@pytest.fixture
async def desk(tmp_path, pcscd):
    clock = ManualClock()
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=4) as store:
        site = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio",
                                doors=2, card="sim+pcsc://")
        try:
            made = store.create_parcel(SITE, "ic_card")
            c = site.controller
            await c.pull_manifest()
            await c.counter_receive("clerk-1", made.trade_number)
            reader = c.card_reader
            for _ in range(500):
                if reader.card_present:
                    break
                await asyncio.sleep(0.02)
            key = provision(OpenPGPCard(DirectLink(reader.sim.card)), trade_number=made.trade_number,
                            pin=made.secret, admin_pin=DEFAULT_PW3.decode())
            yield site, store, made, reader, key
        finally:
            await site.controller.stop()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_verify_then_confirm_signs_and_hands_over(desk):
    site, store, made, reader, key = desk
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    ticket = await c.counter_verify_card(made.secret)
    assert reader.sim.card.signature_counter == 0                    # nothing signed before the clerk confirms
    assert await c.counter_confirm("clerk-1", ticket.ticket) == made.trade_number
    db = c.site.db
    assert db.parcel(made.trade_number).state == ParcelState.COLLECTED
    receipt, record, signature = parse(reader.sim.card.state.dos[0x0101])
    assert receipt.place == "counter" and receipt.handover_id == ticket.ticket
    assert verify_signature(key, hashlib.sha256(record).digest(), signature)
    collected = [e for e in db.outbox() if e["kind"] == "parcel_collected"][-1]
    assert collected["payload"]["method"] == "ic_card"
    await c.sync.settle()
    [uploaded] = store.card_signatures(SITE)
    assert unb64(uploaded["signature"]) == signature
    assert made.secret not in str(db.audit_entries()) and db.verify_audit().ok


async def test_no_label_wrong_pin_and_a_typed_secret_are_refused(desk):
    site, store, made, reader, key = desk
    c = site.controller
    with pytest.raises(CounterIncomplete):
        await c.counter_verify_card(made.secret)
    await c.counter_present(made.trade_number.encode())
    wrong = "000000" if made.secret != "000000" else "111111"
    with pytest.raises(CodeInvalid) as err:
        await c.counter_verify_card(wrong)
    assert err.value.attempts_left == 2
    with pytest.raises(SeeStaff, match="IC card"):
        await c.counter_verify(made.secret)                          # the secret alone never hands it over
    assert c.site.db.parcel(made.trade_number).state == ParcelState.ARRIVED


async def test_a_card_pulled_before_the_clerk_confirms_hands_nothing_over(desk):
    site, store, made, reader, key = desk
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    ticket = await c.counter_verify_card(made.secret)
    card = reader.sim.remove()
    with pytest.raises(CardProblem) as err:
        await c.counter_confirm("clerk-1", ticket.ticket)
    assert err.value.reason == "removed"
    db = c.site.db
    assert db.parcel(made.trade_number).state == ParcelState.ARRIVED
    assert not [e for e in db.outbox() if e["kind"] == "card_signature"]
    assert card.state.dos.get(0x0101, b"") == b"" and card.signature_counter == 0


async def test_cancel_forgets_the_armed_card(desk):
    site, store, made, reader, key = desk
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    ticket = await c.counter_verify_card(made.secret)
    await c.counter_cancel()
    with pytest.raises(CounterIncomplete):
        await c.counter_confirm("clerk-1", ticket.ticket)
    assert reader.sim.card.signature_counter == 0
    # The reset card is no longer armed: signing without the PIN is refused by the card itself.
    card = OpenPGPCard(reader)
    card.select()
    assert reader.sim.card.process(bytes.fromhex("002A9E9A20" + "11" * 32 + "00"))[-2:] == b"\x69\x82"
    reader.release()


async def test_a_parcel_of_another_method_is_not_verified_by_a_card(desk):
    site, store, made, reader, key = desk
    c = site.controller
    other = store.create_parcel(SITE, "secret")
    await c.pull_manifest()
    await c.counter_receive("clerk-1", other.trade_number)
    await c.counter_present(other.trade_number.encode())
    with pytest.raises(SeeStaff, match="not by a card"):
        await verify_card(c.site, object(), made.secret)             # refused before the card is touched
