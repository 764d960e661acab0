"""The production PC/SC driver and OpenPGP layer against the virtual card, through the
real pcscd and vpcd (a private daemon; see conftest)."""

from __future__ import annotations

import hashlib

import pytest

from drivers.cards.openpgp import PW1_OTHER, PW1_SIGN, PW3, OpenPGPCard, verify_signature
from drivers.cards.pcsc import CardReaderPcsc
from hwsim.cards.openpgp_card import OpenPGPCardSim
from kiosk.devices import registry
from tests.support import strict_no_leaks
from kiosk.devices.roles import CardPresence
from kiosk.errors import (CardNotSupported, CardPinBlocked, CardPinWrong, CardRemoved, CardStatusError,
                          DeviceClosed, DeviceUnavailable, DeviceURLError)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_leaks(pcscd):
    """A reader's close() and a slot's stop() end their threads and close their sockets
    (the private pcscd, started once per session before this, is not the test's)."""
    with strict_no_leaks():
        yield


def provision(card: OpenPGPCard, trade: str = "1234-5678", pin: str = "123456"):
    card.select()
    card.verify(PW3, "12345678")
    public = card.generate_key()
    card.verify(PW1_OTHER, pin)
    card.put_data(0x0103, trade.encode())
    return public


@pytest.mark.parametrize("url", ["sim+pcsc://?algorithm=ed25519", "sim+pcsc://?algorithm=p256",
                                 "sim+pcsc://?card_protocol=t0", "sim+pcsc://?card_protocol=t0&algorithm=p256"])
def test_full_check_signs_and_writes_back(open_reader, url):
    reader, _ = open_reader(url)
    card = OpenPGPCard(reader)
    public = provision(card)
    reader.release()                                        # a fresh session: nothing stays verified
    info = card.select()
    with pytest.raises(CardStatusError) as refused:
        card.get_data(0x0103)
    assert refused.value.sw == 0x6982
    card.verify(PW1_OTHER, "123456")
    assert card.get_data(0x0103) == b"1234-5678"
    before = card.signature_counter()
    digest = hashlib.sha256(b"receipt").digest()
    card.verify(PW1_SIGN, "123456")
    signature = card.sign(digest)
    assert verify_signature(public, digest, signature)
    assert verify_signature(card.public_key(), digest, signature)
    assert card.signature_counter() == before + 1
    card.put_data(0x0101, b"R" * 100 + signature)
    assert card.get_data(0x0101) == b"R" * 100 + signature
    sim_card = reader.sim.card
    assert sim_card.state.dos[0x0101][-64:] == signature    # really on the card
    if "t0" in url:
        assert reader.active_protocol == "T=0" and info.algorithm in ("ed25519", "p256")
        assert reader.stats["get_responses"] > 0 and reader.stats["resends"] > 0
    else:
        assert reader.active_protocol == "T=1" and reader.stats["resends"] == 0


def test_wrong_pin_shows_tries_and_a_blocked_card_is_not_sent_the_pin(open_reader):
    reader, _ = open_reader()
    card = OpenPGPCard(reader)
    provision(card)
    reader.release()
    card.select()
    tries = []
    for _ in range(2):
        with pytest.raises(CardPinWrong) as wrong:
            card.verify(PW1_OTHER, "000000")
        tries.append(wrong.value.tries_left)
    assert tries == [2, 1]
    with pytest.raises(CardPinBlocked):
        card.verify(PW1_OTHER, "000000")
    sent = reader.sim.slot.apdus
    with pytest.raises(CardPinBlocked):
        card.verify(PW1_OTHER, "123456")                    # the right PIN, but the card is blocked
    assert reader.sim.slot.apdus == sent + 1                # only the status query went to the card
    assert card.pin_tries(PW1_OTHER) == 0


def test_insert_remove_events_and_a_swapped_card(open_reader):
    reader, events = open_reader()
    first_atr = events.wait(CardPresence.INSERTED).atr
    assert first_atr == reader.sim.card.atr and reader.card_present
    old = reader.sim.remove()
    events.wait(CardPresence.REMOVED)
    assert not reader.card_present
    with pytest.raises(CardRemoved):
        reader.transmit(bytes.fromhex("00A4040006D27600012401"))
    reader.sim.insert(OpenPGPCardSim(serial=0x0BADCAFE))
    events.wait(CardPresence.INSERTED, 2)
    info = OpenPGPCard(reader).select()
    assert info.serial == "0BADCAFE" and old.state.serial.hex().upper() != info.serial


def test_card_pulled_mid_write_leaves_the_old_receipt(open_reader):
    reader, events = open_reader()
    card = OpenPGPCard(reader)
    provision(card)
    card.put_data(0x0101, b"old")
    reader.sim.slot.pull_on(lambda cmd: cmd.ins == 0xDA and (cmd.p1, cmd.p2) == (1, 1))
    with pytest.raises(CardRemoved):
        card.put_data(0x0101, b"new")
    events.wait(CardPresence.REMOVED)
    pulled = reader.sim.remove() or reader.sim.slot.card
    assert pulled.state.dos[0x0101] == b"old"


def test_card_pulled_after_the_card_wrote_is_still_a_removal(open_reader):
    reader, events = open_reader()
    card = OpenPGPCard(reader)
    provision(card)
    reader.sim.slot.pull_on(lambda cmd: cmd.ins == 0xDA, after=True)
    with pytest.raises(CardRemoved):
        card.put_data(0x0101, b"new")
    events.wait(CardPresence.REMOVED)
    assert reader.sim.slot.card.state.dos[0x0101] == b"new"   # the caller must read back to know


def test_memory_failure_and_a_wrong_status_word(open_reader):
    reader, _ = open_reader()
    card = OpenPGPCard(reader)
    provision(card)
    reader.sim.card.faults.memory_failure = True
    with pytest.raises(CardStatusError) as failed:
        card.put_data(0x0101, b"receipt")
    assert failed.value.sw == 0x6581
    reader.sim.card.faults.status_word = 0x6F00
    with pytest.raises(CardStatusError) as odd:
        card.get_data(0x0101)
    assert odd.value.sw == 0x6F00


@pytest.mark.parametrize("extended, chaining", [(True, True), (False, True), (False, False)])
def test_long_data_uses_extended_length_or_chaining(open_reader, extended, chaining):
    reader, events = open_reader()
    reader.sim.remove()
    events.wait(CardPresence.REMOVED)
    reader.sim.insert(OpenPGPCardSim(special_do_max=1024, extended_length=extended, chaining=chaining))
    events.wait(CardPresence.INSERTED, 2)
    card = OpenPGPCard(reader)
    card.select()
    card.verify(PW1_OTHER, "123456")
    if not (extended or chaining):
        with pytest.raises(CardNotSupported):
            card.put_data(0x0101, bytes(range(256)) * 2)
        return
    card.put_data(0x0101, bytes(range(256)) * 2)
    assert card.get_data(0x0101) == bytes(range(256)) * 2      # 512 bytes back: 61xx + GET RESPONSE
    assert reader.stats["get_responses"] >= 1


def test_a_card_without_openpgp_or_private_dos_is_refused(open_reader):
    reader, _ = open_reader()
    reader.sim.card.faults.status_word = 0x6A82
    with pytest.raises(CardNotSupported):
        OpenPGPCard(reader).select()


def test_reader_is_chosen_by_name(pcscd):
    with pytest.raises(DeviceUnavailable, match="several readers"):
        CardReaderPcsc("HWSIM Card Reader").open()
    with pytest.raises(DeviceUnavailable, match="no reader"):
        CardReaderPcsc("ACS ACR39U").open()
    reader = registry.create("card", "pcsc://?reader=HWSIM%20Card%20Reader%2000%2001")
    with reader:
        assert reader.reader == pcscd.reader_names[1]
    with pytest.raises(DeviceClosed):
        reader.transmit(bytes.fromhex("00A4040006D27600012401"))


@pytest.mark.parametrize("url", ["pcsc://", "pcsc://?reader=", "pcsc://host?reader=x", "pcsc://?reader=x&protocol=t2",
                                 "pcsc://?reader=x&speed=9", "sim+pcsc://?algorithm=rsa", "sim+pcsc://?inserted=maybe"])
def test_bad_urls_are_refused_without_touching_pcsc(url):
    with pytest.raises(DeviceURLError):
        registry.check("card", url)


def test_good_urls_pass_the_check():
    registry.check("card", "pcsc://?reader=ACS%20ACR39U&protocol=t1&share=shared")
    registry.check("card", "sim+pcsc://?algorithm=p256&card_protocol=t0&inserted=0")
