"""NFC parcel tokens (NTAG215) through the real stack: the token reader (drivers.tokens.nfc)
on the real PC/SC driver, a private pcscd and vpcd, the emulated tag in the field; then
the hand-over at the counter, where the token's store-signed tag and the recipient's secret
are checked; and the codec fuzzed."""

from __future__ import annotations

import random
import threading

import pytest

from drivers.tokens import ntag
from hwsim.parcels import deadline_text
from hwsim.site import start_site
from hwsim.tags import TagIssuer
from hwsim.tokens.ntag_sim import NtagSim, token_image
from kiosk.clock import ManualClock
from kiosk.devices import registry
from kiosk.devices.roles import Scan
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, CounterIncomplete, TagForged
from kiosk.security import tags
from kiosk.security.secrets import hash_secret
from kiosk.service import counter, manifest
from tests.support import wait_until, wait_until_async

pytestmark = pytest.mark.slow
UID = bytes.fromhex("04A1B2C3D4E5F6")


class Reads:
    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.lock = threading.Lock()

    def __call__(self, scan: Scan) -> None:
        with self.lock:
            self.scans.append(scan)


@pytest.fixture
def nfc(pcscd):
    reader = registry.create("token", "sim+pcsc-nfc://")
    reads = Reads()
    reader.subscribe(reads)
    reader.open()
    try:
        yield reader, reads
    finally:
        reader.close()


def test_a_token_in_the_field_is_read_as_its_text(nfc):
    reader, reads = nfc
    reader.sim.present(NtagSim(token_image(UID, "0123456789" * 3), uid=UID))
    wait_until(lambda: reads.scans, "the token's text")
    [scan] = reads.scans
    assert scan.data == b"0123456789" * 3 and scan.symbology == "nfc-ndef" and scan.source == reader.url
    assert reader.counts["reads"] == 1


def test_a_long_text_is_read_past_the_first_pages(nfc):
    reader, reads = nfc
    text = "7" * 300                                   # 2-byte TLV length, 20 reads of 16 bytes
    tag = NtagSim(token_image(UID, text), uid=UID)
    reader.sim.present(tag)
    wait_until(lambda: reads.scans, "the token's text")
    assert reads.scans[0].data == text.encode() and tag.reads <= 2 + (len(text) + 16) // 16


@pytest.mark.parametrize("fault, counted", [("corrupt", "malformed"), ("wrong_type", "wrong_type")])
def test_a_broken_or_foreign_tag_is_counted_never_read(nfc, fault, counted):
    reader, reads = nfc
    tag = NtagSim(token_image(UID, "1" * 40), uid=UID)
    getattr(tag, fault)()
    reader.sim.present(tag)
    wait_until(lambda: reader.counts[counted], counted)
    assert reads.scans == []
    reader.sim.present(NtagSim(token_image(UID, "2" * 40), uid=UID))   # the next good one is read
    wait_until(lambda: reads.scans, "the good token")
    assert reads.scans[0].data == b"2" * 40


def test_a_token_taken_away_mid_read_is_not_a_read(nfc):
    reader, reads = nfc
    reader.sim.slot.slot.pull_on(lambda cmd: cmd.ins == 0xB0 and cmd.p2 > ntag.DATA_PAGE)
    reader.sim.present(NtagSim(token_image(UID, "3" * 100), uid=UID))
    wait_until(lambda: reader.counts["removed"] or reader.counts["errors"], "the tag gone")
    assert reads.scans == []
    reader.sim.present(NtagSim(token_image(UID, "3" * 100), uid=UID))
    wait_until(lambda: reads.scans, "the token held again")


# --- the hand-over at the counter ------------------------------------------------------------------


@pytest.fixture
async def desk(tmp_path, pcscd):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2, token="sim+pcsc-nfc://")
    c = sim.controller
    try:
        issuer = TagIssuer(c.config.site_id, tags.CHEAP)
        c.site.tag_keys = issuer.keys()
        trade, secret = "4321-8765", "482913"
        entry = {"trade_number": trade, "method": "token", "amount_due": 0,
                 "secret_hash": hash_secret(secret, c.config.hash_params),
                 "hold_deadline": deadline_text(sim.clock.now(), 86400)}
        c.import_manifest(manifest.parse({"version": 1, "parcels": [entry]}), "test")
        await c.counter_receive("clerk-1", trade)
        yield c, issuer, trade, secret
    finally:
        await c.stop()


async def hold(c, text: str) -> None:
    before = c.token_reader.counts["reads"] + c.token_reader.counts["malformed"]
    c.token_reader.sim.present(NtagSim(token_image(UID, text), uid=UID))
    await wait_until_async(lambda: c.token_reader.counts["reads"] + c.token_reader.counts["malformed"] > before,
                           "the token read")
    await wait_until_async(lambda: c.scans.counts["counter"] >= c.token_reader.counts["reads"], "routed")
    await c.scans.settle()


async def test_the_nfc_tokens_signed_tag_and_the_secret_hand_it_over(desk):
    c, issuer, trade, secret = desk
    state = await c.counter_present(trade.encode())
    assert "token" in state.missing
    with pytest.raises(CounterIncomplete):
        await c.counter_verify(secret)
    await hold(c, issuer.tag("f1_tag", trade, secret))
    assert counter.desk_state(c.site).missing == ("secret",)
    with pytest.raises(CodeInvalid):
        await c.counter_verify("000000")
    ticket = await c.counter_verify(secret)
    assert ticket.method == "token"
    assert await c.counter_confirm("clerk-1", ticket.ticket) == trade
    assert c.site.db.parcel(trade).state == ParcelState.COLLECTED


async def test_an_edited_or_forged_token_is_refused(desk):
    c, issuer, trade, secret = desk
    await c.counter_present(trade.encode())
    forged = TagIssuer(c.config.site_id, tags.CHEAP, site_key=issuer.site_key).tag("f1_tag", trade, secret)
    with pytest.raises(TagForged):
        await counter.present(c.site, forged.encode(), symbology="nfc-ndef")
    assert not counter.desk_state(c.site).tag_method
    assert [e["payload"]["what"] for e in c.site.db.outbox() if e["kind"] == "tamper"] == ["tag_forged"]


# --- the codec, fuzzed -------------------------------------------------------------------------------


def test_ten_thousand_mutated_data_areas_give_text_or_ntag_error_only():
    rng = random.Random(2026)
    good = bytes(token_image(UID, "9" * 60)[16:16 + 120])
    outcomes = {"text": 0, "refused": 0, "need_more": 0}
    for _ in range(10_000):
        area = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            area[rng.randrange(len(area))] = rng.randrange(256)
        area = area[:rng.randint(0, len(area))]
        try:
            span = ntag.ndef_span(bytes(area))
            if span is None or span[0] + span[1] > len(area):
                outcomes["need_more"] += 1
                continue
            ntag.text_of(bytes(area[span[0]:span[0] + span[1]]))
            outcomes["text"] += 1
        except ntag.NtagError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == 10_000 and min(outcomes.values()) > 0
