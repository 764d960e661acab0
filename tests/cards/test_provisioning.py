"""Store side: provision a card, use it at a kiosk through PC/SC, check it when it comes
back, provision it again for another parcel."""

from __future__ import annotations

import io
import time

import pytest

from drivers.cards.openpgp import PW1_OTHER, PW1_SIGN, OpenPGPCard
from drivers.cards.provisioning import check_returned, provision
from hwsim.cards.console import console_main
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from kiosk.devices.roles import CardPresence
from kiosk.errors import CardPinWrong
from kiosk.security.card_receipt import CardReceipt

ADMIN = DEFAULT_PW3.decode()


def kiosk_handover(card: OpenPGPCard, pin: str, site: str = "site-1") -> CardReceipt:
    card.select()
    card.verify(PW1_OTHER, pin)
    trade = card.get_data(0x0103).decode()
    receipt = CardReceipt(trade, site, int(time.time()), "counter", "h-1", card.signature_counter() + 1)
    card.verify(PW1_SIGN, pin)
    card.put_data(0x0101, receipt.with_signature(card.sign(receipt.digest())))
    return receipt


def test_a_card_is_used_returned_checked_and_reused(open_reader):
    reader, events = open_reader(wait_card=True)
    sim_card = reader.sim.card
    station = OpenPGPCard(DirectLink(sim_card))
    key = provision(station, trade_number="1111-2222", pin="135790", admin_pin=ADMIN)
    receipt = kiosk_handover(OpenPGPCard(reader), "135790")
    returned = check_returned(station, key)
    assert returned.signature_ok and returned.receipt == receipt and returned.signature_counter == 1

    new_key = provision(station, trade_number="3333-4444", pin="246802", admin_pin=ADMIN)
    assert check_returned(station, new_key).receipt is None          # old receipt cleared
    assert not check_returned(station, key).signature_ok              # nothing signed yet
    reader.release()
    assert kiosk_handover(OpenPGPCard(reader), "246802").trade_number == "3333-4444"
    with pytest.raises(CardPinWrong):
        kiosk_handover(OpenPGPCard(reader), "135790")                 # the old PIN is gone
    assert check_returned(station, new_key).signature_ok
    assert not check_returned(station, key).signature_ok              # signed by the new key only


def test_a_forged_receipt_is_caught():
    sim_card = OpenPGPCardSim()
    station = OpenPGPCard(DirectLink(sim_card))
    key = provision(station, trade_number="1111-2222", pin="135790", admin_pin=ADMIN)
    kiosk_handover(OpenPGPCard(DirectLink(sim_card)), "135790")
    data = bytearray(sim_card.state.dos[0x0101])
    data[8] ^= 0x01                                                   # a changed trade number
    sim_card.state.dos[0x0101] = bytes(data)
    result = check_returned(station, key)
    assert not result.signature_ok and result.problem


def test_console_plays_a_card(pcscd, open_reader):
    reader, events = open_reader("sim+pcsc://?inserted=0", wait_card=False)
    out = io.StringIO()
    script = "insert\nprovision 5555-6666 112233\nstatus\nmemory on\nstatus\nhelp\nnonsense\nquit\n"
    assert console_main(["--port", str(reader.sim.slot.port)], stdin=io.StringIO(script), stdout=out) == 0
    text = out.getvalue()
    assert "parcel card of 5555-6666" in text and "trade number set" in text
    assert "unknown command 'nonsense'" in text
    events.wait(CardPresence.INSERTED)
    events.wait(CardPresence.REMOVED)


def test_the_store_command_provisions_and_checks_a_real_reader(pcscd, tmp_path, capsys):
    from drivers.cards.provisioning import main
    from hwsim.cards.sim import CardSlotSim
    import json
    slot = CardSlotSim.take()
    try:
        card = OpenPGPCardSim(algorithm="p256")
        slot.insert(card)
        pem = tmp_path / "card.pem"
        env = {"CARD_PIN": "975310", "CARD_ADMIN_PIN": ADMIN}
        assert main(["provision", "--reader", slot.reader_name, "--trade-number", "7777-8888",
                     "--public-key-out", str(pem)], environ=env) == 0
        made = json.loads(capsys.readouterr().out)
        assert made["ok"] and made["card_id"].endswith(card.state.serial.hex().upper())
        assert "975310" not in json.dumps(made)
        assert main(["check", "--reader", slot.reader_name, "--public-key", str(pem)]) == 1   # no receipt yet
        capsys.readouterr()
        kiosk_handover(OpenPGPCard(DirectLink(card)), "975310")
        assert main(["check", "--reader", slot.reader_name, "--public-key", str(pem)]) == 0
        assert json.loads(capsys.readouterr().out)["receipt"]["trade_number"] == "7777-8888"
        assert main(["provision", "--reader", slot.reader_name, "--trade-number", "1-1",
                     "--public-key-out", str(pem)], environ={}) == 2                        # no PINs given
    finally:
        slot.stop()
