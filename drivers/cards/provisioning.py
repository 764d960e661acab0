"""Store side of the parcel-card profile (docs/cards.md): provision a card for a parcel,
and check a card that came back.

Runs at the store's provisioning station (or in the simulator), over any reader the
OpenPGP layer can use. The admin PIN (PW3) never reaches a kiosk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from drivers.cards.openpgp import PW1_OTHER, PW3, OpenPGPCard, PublicKey, verify_signature
from kiosk.security.card_receipt import CardReceipt, ReceiptError, parse


@dataclass(frozen=True)
class ReturnedCard:
    """What a returned card holds: its receipt if there is one, and whether it verifies."""

    serial: str
    receipt: CardReceipt | None
    signature_ok: bool
    signature_counter: int
    problem: str = ""


def provision(card: OpenPGPCard, *, trade_number: str, pin: str, admin_pin: str) -> PublicKey:
    """Make ``card`` the parcel card of ``trade_number`` with user PIN ``pin``: a new
    signing key (resets the signature counter), the PIN reset (and unblocked), PW1 valid
    for one signature per VERIFY, the trade number in 0103, the old receipt cleared.
    Returns the public key to register. Raises CardStatusError, CardPinWrong (admin PIN),
    CardNotSupported, CardRemoved."""
    card.select()
    card.verify(PW3, admin_pin)
    public = card.generate_key()
    card.reset_pin(pin)
    card.put_data(0xC4, b"\x00")
    card.verify(PW1_OTHER, pin)
    card.put_data(0x0103, trade_number.encode("ascii"))
    card.put_data(0x0101, b"")
    return public


def check_returned(card: OpenPGPCard, registered_key: PublicKey) -> ReturnedCard:
    """Read a returned card's receipt (DO 0101, readable without a PIN) and verify its
    signature with the key the store registered for this card. Raises CardRemoved,
    CardStatusError, CardNotSupported."""
    info = card.select()
    counter = card.signature_counter()
    data = card.get_data(0x0101)
    if not data:
        return ReturnedCard(info.serial, None, False, counter, "no receipt on the card")
    try:
        receipt, record, signature = parse(data)
    except ReceiptError as err:
        return ReturnedCard(info.serial, None, False, counter, f"unreadable receipt: {err}")
    ok = verify_signature(registered_key, hashlib.sha256(record).digest(), signature)
    problem = "" if ok else "the receipt's signature does not verify with the registered key"
    if ok and receipt.signature_number > counter:
        ok, problem = False, "the receipt claims a signature number the card never reached"
    return ReturnedCard(info.serial, receipt, ok, counter, problem)


# --- the store's command line -------------------------------------------------------------------

USAGE = """\
Store side, with a PC/SC reader at the provisioning station:

    python -m drivers.cards.provisioning provision --reader NAME --trade-number 1234-5678 \\
        --public-key-out card.pem            (PIN and admin PIN from $CARD_PIN, $CARD_ADMIN_PIN)
    python -m drivers.cards.provisioning check --reader NAME --public-key card.pem

PINs come from the environment, never the command line (other users see argv in ps)."""


def main(argv: list[str] | None = None, *, environ: Mapping[str, str] | None = None) -> int:
    """Provision a card, or check a returned one; prints one JSON object. Exit status:
    0 done / receipt verifies, 1 the returned receipt does not verify, 2 usage or card error."""
    import argparse
    import json
    import os
    import sys

    from cryptography.hazmat.primitives import serialization

    from drivers.cards.pcsc import CardReaderPcsc
    from kiosk.errors import DeviceError

    env: Mapping[str, str] = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m drivers.cards.provisioning", description=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("provision", help="make the card in the reader the parcel card of a trade number")
    p.add_argument("--reader", required=True)
    p.add_argument("--trade-number", required=True)
    p.add_argument("--public-key-out", required=True, help="where to write the card's new public key (PEM)")
    c = sub.add_parser("check", help="read and verify the receipt on a returned card")
    c.add_argument("--reader", required=True)
    c.add_argument("--public-key", required=True, help="the public key registered for this card (PEM)")
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(json.dumps({"ok": False, "error": message}))
        return 2

    try:
        with CardReaderPcsc(args.reader) as reader:
            card = OpenPGPCard(reader)
            if args.command == "provision":
                pin, admin = env.get("CARD_PIN"), env.get("CARD_ADMIN_PIN")
                if not pin or not admin:
                    return fail("set CARD_PIN and CARD_ADMIN_PIN in the environment")
                public = provision(card, trade_number=args.trade_number, pin=pin, admin_pin=admin)
                pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                with open(args.public_key_out, "wb") as out:
                    out.write(pem)
                info = card.info
                print(json.dumps({"ok": True, "card_id": f"openpgp-{info.manufacturer:04X}-{info.serial}"
                                  if info else None, "trade_number": args.trade_number,
                                  "algorithm": info.algorithm if info else None}))
                return 0
            with open(args.public_key, "rb") as f:
                key = serialization.load_pem_public_key(f.read())
            result = check_returned(card, key)  # type: ignore[arg-type]
    except (DeviceError, OSError, ValueError) as err:
        return fail(f"{type(err).__name__}: {err}")
    receipt = result.receipt
    print(json.dumps({"ok": result.signature_ok, "serial": result.serial, "signature_counter": result.signature_counter,
                      "problem": result.problem, "receipt": None if receipt is None else receipt.__dict__}),
          file=sys.stdout)
    return 0 if result.signature_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
