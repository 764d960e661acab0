"""Fidelity: an OpenPGP client nobody here wrote (OpenPGPpy, on pyscard) uses the virtual
card through pcscd: its PIN, GET DATA and signing calls succeed and the signature verifies.
It builds its own APDUs (extended Le, an empty extended Lc, Lc=00 status queries), so it
catches drift between the card and the spec that our own driver would not."""

from __future__ import annotations

import hashlib

import pytest

from drivers.cards.openpgp import OpenPGPCard, verify_signature
from drivers.cards.provisioning import provision
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from hwsim.cards.sim import CardSlotSim

OpenPGPpy = pytest.importorskip("OpenPGPpy", reason="OpenPGPpy is installed by ./dev setup (--no-deps)")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("algorithm, protocol", [("ed25519", "T=1"), ("p256", "T=1"), ("ed25519", "T=0"),
                                                 ("p256", "T=0")])
def test_openpgppy_verifies_reads_and_signs(pcscd, algorithm, protocol):
    card = OpenPGPCardSim(algorithm=algorithm)
    key = provision(OpenPGPCard(DirectLink(card)), trade_number="1234-5678", pin="135790",
                    admin_pin=DEFAULT_PW3.decode())
    card.protocol = protocol
    slot = CardSlotSim.take()
    try:
        slot.insert(card)
        client = OpenPGPpy.OpenPGPcard(reader_index=pcscd.reader_names.index(slot.reader_name))
        try:
            assert (client.pgpvermaj, client.pgpvermin) == (3, 4)
            assert client.get_pin_status(1) == 3
            with pytest.raises(OpenPGPpy.PGPCardException):
                client.get_data("0103")                           # not before VERIFY 82
            client.verify_pin(2, "135790")
            assert bytes(client.get_data("0103")) == b"1234-5678"
            digest = hashlib.sha256(b"a receipt").digest()
            client.verify_pin(1, "135790")
            signature = client.sign(digest)
            assert verify_signature(key, digest, signature)
            assert card.signature_counter == 1
            with pytest.raises(OpenPGPpy.PinException):
                client.verify_pin(1, "000000")
            assert client.get_pin_status(1) == 2
        finally:
            client.connection.disconnect()
    finally:
        slot.stop()
