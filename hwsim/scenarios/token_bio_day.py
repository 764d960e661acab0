"""A scripted day of token (F4) and fingerprint (F5) hand-overs through the real drivers.

The store makes the parcels; they reach the pickup point through the manifest pull. The
site has a fingerprint sensor at the lockers (``[devices] biometric = sim+r30x://``: the
R30x driver over a pty to the emulated module) and a 125 kHz token reader at the counter
(``[devices] token = sim+rdm6300://``). The day runs twice, once with each
``[verification] biometric`` (``local``: the reference fetched and matched on the module;
``online``: the capture matched by the store). During each:

Fingerprints, at a locker:
    same         the enrolled finger: the door opens
    other        a different finger first (a failed attempt), then the right one
    none         no finger on the sensor (no attempt), then placed
    poor         a poor image (no attempt), then a good one
    faults       the module silent once, a damaged answer once, a module reset: then it works
    impostor     someone else's finger until the parcel locks: it never opens

Tokens, at the counter (125 kHz EM4100 ids bound in the manifest; then, in a third run,
NFC tokens holding the store-signed tag, on a PC/SC contactless reader through pcscd):
    straight     label, the parcel's token, the secret, the clerk confirms
    copied       another parcel's token first (a copy of the wrong one), then the right one
    edited       a token with an id nobody issued, then the right one
    removed      the token taken away mid-read (a cut frame, a tag pulled: nothing read),
                 then held again
    mistyped     the right token and a wrong secret, then the right secret
    (NFC: "copied" is another parcel's genuine token, "edited" one digit of the tag changed)

The verdict comes from the records: the site's database (collected parcels, door evidence,
audit chain, any trace of a template), the module's buffers, and the store's events.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from pathlib import Path

from hwsim import tags as hwtags
from hwsim.biometrics.fingers import MAGIC, finger_of
from hwsim.parcels import DemoParcel
from hwsim.scenarios.invariants import summarise
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from hwsim.tokens.ntag_sim import NtagSim, token_image
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import (CodeInvalid, CounterIncomplete, FingerProblem, KioskError, LockedOut, TagSwapped,
                          TokenMismatch)
from kiosk.security.keys import b64url
from kiosk.security.secrets import hash_secret
from kiosk.service import manifest

SITE = "sim-site"
DOORS = 8
LINK = {"timeout_s": 2.0, "backoff_initial_s": 1.0, "backoff_max_s": 30.0, "batch_size": 50,
        "manifest_interval_s": 300}
FINGER_VISITS = ("same", "other", "none", "poor", "faults", "impostor")
TOKEN_VISITS = ("straight", "copied", "edited", "removed", "mistyped")


class TokenBioDay:
    def __init__(self, site, store: StoreEmulator, rng: random.Random, mode: str):
        self.sim, self.store, self.rng, self.mode = site, store, rng, mode
        self.c = site.controller
        self.sensor = self.c.fingerprint.sim if self.c.fingerprint else None
        self.tokens = self.c.token_reader.sim if self.c.token_reader else None
        self.n = {"pickups": 0, "token_forgery_accepted": 0, "wrong_finger_accepted": 0, "impostors_locked_out": 0}
        self.unexpected: list[str] = []
        self.impostor_parcels: set[str] = set()

    async def run(self) -> None:
        if self.sensor is None or self.tokens is None:
            raise RuntimeError("the fingerprint sensor or the token reader did not open")
        made = [self.store.create_parcel(SITE, "biometric") for _ in FINGER_VISITS]
        tokened = [self.store.create_parcel(SITE, "token") for _ in TOKEN_VISITS]
        await self.c.pull_manifest()
        for parcel in made:
            await self.sim.deposit(DemoParcel(parcel.trade_number, "", {}))
        for parcel in tokened:
            await self.c.counter_receive("clerk-token", parcel.trade_number)
        for visit, parcel in zip(FINGER_VISITS, made, strict=True):
            await self.finger_visit(visit, parcel.trade_number, finger_of(parcel.template))
        for visit, parcel in zip(TOKEN_VISITS, tokened, strict=True):
            await self.token_visit(visit, parcel, tokened)

    # --- fingerprints at a locker --------------------------------------------------------------------

    async def finger_visit(self, visit: str, trade: str, finger: int) -> None:
        self.n["pickups"] += 1
        sensor = self.sensor
        if visit == "other":
            sensor.place(finger + 1)
            await self.finger_refused(trade, CodeInvalid, wrong_finger=True)
        elif visit == "none":
            sensor.lift()
            await self.finger_refused(trade, FingerProblem)
        elif visit == "poor":
            sensor.place(finger)
            sensor.poor_image()
            await self.finger_refused(trade, FingerProblem)
        elif visit == "faults":
            sensor.place(finger)
            sensor.timeout()
            await self.finger_refused(trade, FingerProblem)
            sensor.corrupt_reply()
            await self.finger_refused(trade, FingerProblem)
            sensor.reset()
        elif visit == "impostor":
            self.impostor_parcels.add(trade)
            sensor.place(finger + 7)
            for _ in range(self.c.config.attempts.per_parcel_max + 1):
                try:
                    await self.finger_refused(trade, CodeInvalid, wrong_finger=True, quiet=LockedOut)
                except LockedOut:
                    self.n["impostors_locked_out"] += 1
                    return
            self.unexpected.append(f"{trade}: the impostor was never locked out")
            return
        sensor.place(finger)
        if not await self.open_and_take(trade):
            self.unexpected.append(f"{trade} ({visit}): the rightful finger could not collect")

    async def finger_refused(self, trade: str, kind, *, wrong_finger: bool = False, quiet=()) -> None:
        try:
            opening = await self.c.submit_finger(trade)
        except kind:
            return
        except quiet:
            raise
        except KioskError as err:
            self.unexpected.append(f"{trade}: {type(err).__name__}: {err}")
            return
        if wrong_finger:
            self.n["wrong_finger_accepted"] += 1
        self.unexpected.append(f"{trade}: door {opening.locker} opened where a refusal was due")

    async def open_and_take(self, trade: str) -> bool:
        try:
            await self.sim.take_out(self.c.submit_finger(trade))
        except KioskError as err:
            self.unexpected.append(f"{trade}: {type(err).__name__}: {err}")
            return False
        return True

    # --- tokens at the counter ---------------------------------------------------------------------------

    async def read_token(self, uid: str | None = None, *, cut: bool = False) -> None:
        before = self.c.scans.counts["counter"]
        if cut:
            self.tokens.cut(uid)
        else:
            self.tokens.hold(uid)
        for _ in range(250):
            if self.c.scans.counts["counter"] > before:
                break
            if cut and _ > 10:   # a cut frame is never a read: give it a moment, then go on
                break
            await _tick()
        await self.c.scans.settle()

    async def token_visit(self, visit: str, parcel, all_parcels) -> None:
        self.n["pickups"] += 1
        trade, own = parcel.trade_number, parcel.token_id
        await self.c.counter_cancel()
        await self.c.counter_present(trade.encode())
        if visit == "copied":
            # A parcel not yet handed over: a token read moments ago would be a repeat the reader suppresses.
            other = next(p.token_id for p in reversed(all_parcels) if p.token_id != own)
            await self.read_token(other)
            await self.token_refused(f"{trade} (copied)", parcel.secret, TokenMismatch, forged=True)
        elif visit == "edited":
            edited = f"{(int(own, 16) ^ 0x1) :010X}"
            await self.read_token(edited)
            await self.token_refused(trade, parcel.secret, TokenMismatch, forged=True)
        elif visit == "removed":
            await self.read_token(own, cut=True)
            await self.token_refused(trade, parcel.secret, CounterIncomplete)
        await self.read_token(own)
        if visit == "mistyped":
            wrong = "000000" if parcel.secret != "000000" else "111111"
            await self.token_refused(trade, wrong, CodeInvalid)
        try:
            ticket = await self.c.counter_verify(parcel.secret)
            await self.c.counter_confirm("clerk-token", ticket.ticket)
        except KioskError as err:
            self.unexpected.append(f"{trade} ({visit}) at the counter: {type(err).__name__}: {err}")

    async def token_refused(self, trade: str, secret: str, kind, *, forged: bool = False) -> None:
        try:
            ticket = await self.c.counter_verify(secret)
        except kind:
            return
        except KioskError as err:
            self.unexpected.append(f"{trade}: {type(err).__name__}: {err}")
            return
        if forged:
            self.n["token_forgery_accepted"] += 1
        self.unexpected.append(f"{trade}: verified ({ticket.method}) where a refusal was due")
        await self.c.counter_cancel()

    # --- the verdict ---------------------------------------------------------------------------------------

    def templates_left_behind(self) -> int:
        left = sum(1 for data in self.sensor.buffers.values() if any(data)) if self.sensor else 0
        database = self.c.config.database
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        return left + sum(stored.count(trace) for trace in (MAGIC, b64url(MAGIC)[:5].encode()))

    def verdict(self) -> dict:
        db = self.c.site.db
        collected = {p.trade_number for p in db.parcels() if p.state == ParcelState.COLLECTED}
        impostor_released = len(collected & self.impostor_parcels)
        return {"pickups": self.n["pickups"], "released": len(collected),
                "token_forgery_accepted": self.n["token_forgery_accepted"],
                "wrong_finger_accepted": self.n["wrong_finger_accepted"] + impostor_released,
                "impostors_locked_out": self.n["impostors_locked_out"],
                "templates_left_behind": self.templates_left_behind()}


async def _tick() -> None:
    await asyncio.sleep(0.02)


async def run_phase(base: Path, mode: str, seed: int, locks: str) -> tuple[dict, list[str]]:
    clock = ManualClock()
    store = StoreEmulator(base / f"store-{mode}", clock=clock, hash_params=FAST_HASH, seed=seed)
    store.start()
    site = await start_site(base / f"site-{mode}", clock=clock, store=store, store_settings=LINK, locks=locks,
                            doors=DOORS, rng=random.Random(seed), biometric="sim+r30x://?finger_wait_ms=300",
                            token="sim+rdm6300://?dedupe_ms=200", verification={"biometric": mode})
    day = TokenBioDay(site, store, random.Random(seed), mode)
    crashes = 0
    try:
        await day.run()
        await site.controller.settle()
        await site.controller.sync.settle()
    except Exception as err:  # noqa: BLE001 - a crash is a finding, reported in the result
        crashes += 1
        day.unexpected.append(f"crash ({mode}): {type(err).__name__}: {err}")
    finally:
        result = day.verdict() | summarise(site.controller.site.db)
        result["audit_chain_ok"] = site.controller.site.db.verify_audit().ok
        await site.controller.stop()
        store.close()
    result["crashes"] = crashes
    return result, day.unexpected


class NfcDay:
    """The token visits again with NFC tokens (the counter's reader: sim+pcsc-nfc)."""

    def __init__(self, site, rng: random.Random):
        self.sim, self.c, self.rng = site, site.controller, rng
        self.n = {"pickups": 0, "token_forgery_accepted": 0}
        self.unexpected: list[str] = []
        self.field = self.c.token_reader.sim if self.c.token_reader else None

    async def run(self) -> None:
        if self.field is None:
            raise RuntimeError("the NFC token reader did not open (pcscd/vpcd missing?)")
        issuer = hwtags.TagIssuer(self.c.config.site_id)
        self.c.site.tag_keys = issuer.keys()
        made = issuer.parcels(len(TOKEN_VISITS), self.rng, method="f1_tag", now=self.sim.clock.now())
        entries = [{**p.entry, "method": "token",
                    "secret_hash": hash_secret(p.secret, self.c.config.hash_params)} for p in made]
        self.c.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "token-bio-day")
        for p in made:
            await self.c.counter_receive("clerk-token", p.trade_number)
        for visit, parcel in zip(TOKEN_VISITS, made, strict=True):
            await self.visit(visit, parcel, made)

    async def hold(self, text: str, *, pull: bool = False) -> None:
        reader = self.c.token_reader
        before = sum(reader.counts.values())
        if pull:
            self.field.slot.slot.pull_on(lambda cmd: cmd.ins == 0xB0 and cmd.p2 > 4)
        await asyncio.to_thread(self.field.present, NtagSim(token_image(bytes([4]) + os.urandom(6), text)))
        for _ in range(500):
            if sum(reader.counts.values()) > before:
                break
            await _tick()
        await asyncio.sleep(0)
        await self.c.scans.settle()

    async def visit(self, visit: str, parcel, all_parcels) -> None:
        self.n["pickups"] += 1
        trade = parcel.trade_number
        await self.c.counter_cancel()
        await self.c.counter_present(trade.encode())
        refused: tuple = ()
        if visit == "copied":
            await self.hold(next(p.tag for p in reversed(all_parcels) if p.trade_number != trade))
            refused = (TagSwapped,)
        elif visit == "edited":
            digit = self.rng.randrange(len(parcel.tag) - 2)
            edited = parcel.tag[:digit] + str((int(parcel.tag[digit]) + 1) % 10) + parcel.tag[digit + 1:]
            await self.hold(edited)
            refused = (CounterIncomplete,)   # refused at the read (check digits, signature): nothing held
        elif visit == "removed":
            await self.hold(parcel.tag, pull=True)
            refused = (CounterIncomplete,)
        if refused:
            try:
                ticket = await self.c.counter_verify(parcel.secret)
                self.n["token_forgery_accepted"] += visit != "removed"
                self.unexpected.append(f"{trade} (nfc {visit}): verified where a refusal was due")
                await self.c.counter_cancel()
            except refused:
                pass
            except KioskError as err:
                self.unexpected.append(f"{trade} (nfc {visit}): {type(err).__name__}: {err}")
            await self.c.counter_present(trade.encode())
        await self.hold(parcel.tag)
        if visit == "mistyped":
            try:
                await self.c.counter_verify("000000" if parcel.secret != "000000" else "111111")
                self.unexpected.append(f"{trade} (nfc mistyped): a wrong secret was accepted")
            except CodeInvalid:
                pass
        try:
            ticket = await self.c.counter_verify(parcel.secret)
            await self.c.counter_confirm("clerk-token", ticket.ticket)
        except KioskError as err:
            self.unexpected.append(f"{trade} (nfc {visit}) at the counter: {type(err).__name__}: {err}")

    def verdict(self) -> dict:
        collected = [p for p in self.c.site.db.parcels() if p.state == ParcelState.COLLECTED]
        return {"pickups": self.n["pickups"], "released": len(collected),
                "token_forgery_accepted": self.n["token_forgery_accepted"], "nfc_pickups": self.n["pickups"]}


async def run_nfc_phase(base: Path, seed: int, locks: str) -> tuple[dict, list[str]]:
    clock = ManualClock()
    site = await start_site(base / "site-nfc", clock=clock, locks=locks, doors=DOORS, rng=random.Random(seed),
                            token="sim+pcsc-nfc://")
    day = NfcDay(site, random.Random(seed))
    crashes = 0
    try:
        await day.run()
        await site.controller.settle()
    except Exception as err:  # noqa: BLE001 - a crash is a finding, reported in the result
        crashes += 1
        day.unexpected.append(f"crash (nfc): {type(err).__name__}: {err}")
    finally:
        result = day.verdict() | summarise(site.controller.site.db)
        result["audit_chain_ok"] = site.controller.site.db.verify_audit().ok
        await site.controller.stop()
    result["crashes"] = crashes
    return result, day.unexpected


async def run(locks: str = "gpio", seed: int = 0, folder: Path | None = None, nfc: bool = True) -> dict:
    totals: dict = {}
    unexpected: list[str] = []
    with tempfile.TemporaryDirectory(prefix="token-bio-day-") as tmp:
        base = Path(folder or tmp)
        phases = [run_phase(base, "local", seed, locks), run_phase(base, "online", seed, locks)]
        if nfc:
            phases.append(run_nfc_phase(base, seed, locks))
        for phase in phases:
            result, found = await phase
            unexpected += found
            for key, value in result.items():
                if isinstance(value, bool):
                    totals[key] = totals.get(key, True) and value
                elif isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
    for key in ("token_forgery_accepted", "wrong_finger_accepted", "templates_left_behind", "crashes",
                "released_without_door_evidence", "released_twice"):
        if totals.get(key):
            unexpected.append(f"{key} is {totals[key]}")
    return {"scenario": "token-bio-day", "locks": locks, "seed": seed, "modes": ["local", "online"], "nfc": nfc,
            **totals,
            "unexpected": unexpected}
