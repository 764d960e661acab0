"""A scripted day of IC-card (F3) pickups at a locker, through the real PC/SC stack.

The store makes parcels of method ``ic_card`` and provisions a card for each (its own
station: new key, the recipient's secret as PIN, the trade number in DO 0103); the
parcels reach the pickup point through the manifest pull and a courier loads them. The
site's card reader is ``[devices] card = sim+pcsc://``: the production PC/SC driver,
a private pcscd and vpcd, and the virtual card (hwsim.cards). During the day:

    straight     card in, PIN, door opens, parcel out, door shut
    mistyped     one wrong PIN (the card counts it, and so does the parcel), then right
    swapped      someone holds another parcel's card (and knows its PIN) to this parcel
    blocked      three wrong PINs block the card; the right PIN is refused without being
                 sent; the card goes back to the store, which resets it (new PIN, new key)
                 and the recipient collects with it later
    pulled       the card comes out mid-signature, then mid-write-back; put back, it works
    counter      two parcels at the counter: the label scanned, the card checked, the
                 clerk confirms and the card signs (one first meets another parcel's card)
Evening: the store takes back the used cards, checks each receipt against the key it
registered, provisions them for new parcels, and those are collected with them too.

The verdict comes from the records: the site's database (door evidence, audit chain),
its outbox and the store's received card signatures, verified with the registered keys.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import tempfile
from pathlib import Path

from drivers.cards.openpgp import OpenPGPCard, verify_signature
from drivers.cards.provisioning import check_returned, provision
from hwsim.cards.openpgp_card import DirectLink, OpenPGPCardSim
from hwsim.cards.openpgp_state import DEFAULT_PW3
from hwsim.parcels import DemoParcel
from hwsim.scenarios.invariants import summarise
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, KioskError
from kiosk.security.card_receipt import parse
from kiosk.service.card_pickup import CardProblem

SITE = "sim-site"
DOORS = 8
ADMIN = DEFAULT_PW3.decode()
LINK = {"timeout_s": 2.0, "backoff_initial_s": 1.0, "backoff_max_s": 30.0, "batch_size": 50,
        "manifest_interval_s": 300}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CardDay:
    def __init__(self, site, store: StoreEmulator, rng: random.Random):
        self.sim, self.store, self.rng = site, store, rng
        self.c = site.controller
        self.reader = self.c.card_reader
        self.keys: dict[str, list] = {}            # card id -> the public keys the store registered, in turn
        self.cards: dict[str, OpenPGPCardSim] = {}  # trade number -> its card
        self.n = {"pickups": 0, "wrong_card_accepted": 0, "cards_reused": 0, "returned_receipts_ok": 0,
                  "returned_receipts_bad": 0, "pulled_mid_card": 0}
        self.unexpected: list[str] = []
        self.all_cards: list[OpenPGPCardSim] = []

    # --- the store's side ------------------------------------------------------------------------

    def provision(self, card: OpenPGPCardSim, parcel: DemoParcel) -> None:
        key = provision(OpenPGPCard(DirectLink(card)), trade_number=parcel.trade_number, pin=parcel.secret,
                        admin_pin=ADMIN)
        self.keys.setdefault(f"openpgp-FF00-{card.state.serial.hex().upper()}", []).append(key)
        self.cards[parcel.trade_number] = card

    async def new_parcels(self, count: int) -> list[DemoParcel]:
        made = [self.store.create_parcel(SITE, "ic_card") for _ in range(count)]
        await self.c.pull_manifest()
        parcels = [DemoParcel(p.trade_number, p.secret, {}) for p in made]
        for parcel in parcels:
            await self.sim.deposit(parcel)
        return parcels

    # --- the person at the locker ------------------------------------------------------------------

    async def insert(self, card: OpenPGPCardSim) -> None:
        if self.reader.sim.card is not None:
            self.reader.sim.remove()
        self.reader.sim.insert(card)
        await self.until(lambda: self.reader.card_present)

    async def until(self, condition, rounds: int = 500) -> None:
        for _ in range(rounds):
            if condition():
                return
            await asyncio.sleep(0.02)
        self.unexpected.append("timed out waiting for the card reader")

    async def collect(self, parcel: DemoParcel, pin: str | None = None) -> bool:
        """The recipient's attempt with the card now in the reader; True when the door opened."""
        try:
            await self.sim.take_out(self.c.submit_card(parcel.trade_number, pin or parcel.secret))
        except KioskError:
            return False
        return True

    async def expect_refused(self, parcel, pin, kind) -> None:
        """An attempt that must be refused with ``kind`` (an error class or a tuple of them)."""
        try:
            opening = await self.c.submit_card(parcel.trade_number, pin)
        except kind:
            return
        except KioskError as err:
            self.unexpected.append(f"{parcel.trade_number}: {type(err).__name__}: {err}")
            return
        self.unexpected.append(f"{parcel.trade_number}: door {opening.locker} opened where a refusal was due")

    def wrong(self, parcel) -> str:
        while (guess := f"{self.rng.randrange(10**6):06d}") == parcel.secret:
            pass
        return guess

    async def later(self) -> None:
        self.sim.clock.advance(self.rng.uniform(60, 600))
        self.c.tick()

    # --- the day ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        straight, mistyped, swapped, blocked, pulled, owner = await self.new_parcels(6)
        for parcel in (straight, mistyped, swapped, blocked, pulled, owner):
            card = OpenPGPCardSim(algorithm=self.rng.choice(("ed25519", "p256")))
            self.all_cards.append(card)
            self.provision(card, parcel)

        await self.visit(straight)

        await self.insert(self.cards[mistyped.trade_number])
        await self.expect_refused(mistyped, self.wrong(mistyped), CodeInvalid)
        await self.visit(mistyped, insert=False)

        # Another parcel's card (its PIN known to the holder) against this parcel: refused.
        await self.insert(self.cards[owner.trade_number])
        try:
            await self.c.submit_card(swapped.trade_number, owner.secret)
            self.n["wrong_card_accepted"] += 1
        except CodeInvalid:
            pass
        await self.visit(swapped)

        card = self.cards[blocked.trade_number]
        await self.insert(card)
        for _ in range(3):
            await self.expect_refused(blocked, self.wrong(blocked), (CodeInvalid, CardProblem))
        await self.expect_refused(blocked, blocked.secret, CardProblem)   # blocked: the PIN is not even sent
        self.reader.sim.remove()
        await self.until(lambda: not self.reader.card_present)
        # The clerk sends the card back; the store resets it and tells the recipient a new PIN.
        renewed = DemoParcel(blocked.trade_number, f"{self.rng.randrange(10**6):06d}", {})
        self.provision(card, renewed)
        self.store.reset_attempts(SITE, blocked.trade_number)
        await self.c.clerk_reset_attempts("clerk-card", blocked.trade_number)
        await self.visit(renewed)

        card = self.cards[pulled.trade_number]
        for ins in (0x2A, 0xDA):                   # mid-signature, then mid-write-back
            await self.insert(card)
            self.reader.sim.slot.pull_on(lambda cmd, ins=ins: cmd.ins == ins)
            await self.expect_refused(pulled, pulled.secret, CardProblem)
            self.n["pulled_mid_card"] += 1
        await self.visit(pulled)
        await self.visit(owner)
        await self.later()

        # At the counter: the label scanned, the card in the desk's reader, the clerk confirms.
        at_counter = await self.counter_parcels(2)
        for parcel in at_counter:
            card = OpenPGPCardSim(algorithm=self.rng.choice(("ed25519", "p256")))
            self.all_cards.append(card)
            self.provision(card, parcel)
        first, second = at_counter
        await self.insert(self.cards[first.trade_number])            # the wrong parcel's card on the desk
        await self.c.counter_present(second.trade_number.encode())
        try:
            await self.c.counter_verify_card(first.secret)
            self.n["wrong_card_accepted"] += 1
        except CodeInvalid:
            pass
        await self.c.counter_cancel()
        for parcel in at_counter:
            await self.counter_visit(parcel)

        # Evening: the used cards go back to the store, are checked, and reused.
        for card in self.all_cards:
            serial = f"openpgp-FF00-{card.state.serial.hex().upper()}"
            result = check_returned(OpenPGPCard(DirectLink(card)), self.keys[serial][-1])
            self.n["returned_receipts_ok" if result.signature_ok else "returned_receipts_bad"] += 1
        fresh = await self.new_parcels(2)
        for card, parcel in zip(self.all_cards[:2], fresh, strict=True):
            self.provision(card, parcel)
            if await self.visit(parcel):
                self.n["cards_reused"] += 1

    async def counter_parcels(self, count: int) -> list[DemoParcel]:
        made = [self.store.create_parcel(SITE, "ic_card") for _ in range(count)]
        await self.c.pull_manifest()
        for p in made:
            await self.c.counter_receive("clerk-card", p.trade_number)
        return [DemoParcel(p.trade_number, p.secret, {}) for p in made]

    async def counter_visit(self, parcel: DemoParcel) -> None:
        self.n["pickups"] += 1
        await self.insert(self.cards[parcel.trade_number])
        try:
            await self.c.counter_present(parcel.trade_number.encode())
            ticket = await self.c.counter_verify_card(parcel.secret)
            await self.c.counter_confirm("clerk-card", ticket.ticket)
        except KioskError as err:
            self.unexpected.append(f"{parcel.trade_number} at the counter: {type(err).__name__}: {err}")
        await self.later()

    async def visit(self, parcel: DemoParcel, insert: bool = True) -> bool:
        self.n["pickups"] += 1
        if insert:
            await self.insert(self.cards[parcel.trade_number])
        opened = await self.collect(parcel)
        if not opened:
            self.unexpected.append(f"{parcel.trade_number}: the rightful recipient could not collect")
        await self.later()
        return opened

    # --- the verdict --------------------------------------------------------------------------------------

    def verifies(self, card_id: str, record: bytes, signature: bytes) -> bool:
        """Does a key the store registered for this card (any of its provisionings) verify it?"""
        digest = hashlib.sha256(record).digest()
        return any(verify_signature(key, digest, signature) for key in self.keys.get(card_id, []))

    def verdict(self) -> dict:
        db = self.c.site.db
        written = [e for e in db.outbox() if e["kind"] == "card_signature"]
        signed: set[str] = set()
        for event in written:
            payload = event["payload"]
            receipt, record, signature = parse(_unb64(payload["signed_data"]) + b"\x9e\x40" + _unb64(payload["signature"]))
            if receipt.trade_number == event["trade_number"] and self.verifies(payload["card_id"], record, signature):
                signed.add(event["trade_number"])
        at_store = 0
        for upload in self.store.card_signatures(SITE):
            if self.verifies(upload["card_id"], _unb64(upload["signed_data"]), _unb64(upload["signature"])):
                at_store += 1
        collected = [p.trade_number for p in db.parcels() if p.state == ParcelState.COLLECTED]
        return {"pickups": self.n["pickups"], "released": len(collected), "signatures_written": len(written),
                "signatures_verified_by_store": at_store,
                "wrong_card_accepted": self.n["wrong_card_accepted"],
                "blocked_card_retried": sum(card.pins_sent_while_blocked for card in self.all_cards),
                "released_without_signature": sum(1 for t in collected if t not in signed),
                "cards_reused": self.n["cards_reused"], "cards_pulled": self.n["pulled_mid_card"],
                "returned_receipts_ok": self.n["returned_receipts_ok"],
                "returned_receipts_bad": self.n["returned_receipts_bad"]}


async def run(locks: str = "gpio", seed: int = 0, folder: Path | None = None) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="card-day-") as tmp:
        base = Path(folder or tmp)
        clock = ManualClock()
        store = StoreEmulator(base / "store", clock=clock, hash_params=FAST_HASH, seed=seed)
        store.start()
        site = await start_site(base / "site", clock=clock, store=store, store_settings=LINK, locks=locks,
                                doors=DOORS, rng=random.Random(seed), card="sim+pcsc://?inserted=0")
        day = CardDay(site, store, rng)
        result: dict = {}
        try:
            if day.reader is None:
                raise RuntimeError("the card reader did not open (pcscd/vpcd missing?)")
            await day.run()
            await site.controller.settle()
            await site.controller.sync.settle()
        except Exception as err:  # noqa: BLE001 - a crash is a finding, reported in the result
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            result = day.verdict() | summarise(site.controller.site.db)
            result["audit_chain_ok"] = site.controller.site.db.verify_audit().ok
            await site.controller.stop()
            store.close()
    for key in ("wrong_card_accepted", "blocked_card_retried", "released_without_signature"):
        if result[key]:
            day.unexpected.append(f"{key} is {result[key]}")
    if result["returned_receipts_bad"]:
        day.unexpected.append(f"{result['returned_receipts_bad']} returned card(s) with a bad receipt")
    return {"scenario": "card-day", "locks": locks, "seed": seed, **result, "unexpected": day.unexpected}
