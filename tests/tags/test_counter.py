"""The counter hand-over (kiosk.service.counter) end to end through the real Controller on
a simulated site: F1, F2 and the plain secret; every refusal; attempt limits; records."""

from __future__ import annotations

import json
import random

import pytest

from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import (CodeInvalid, CounterIncomplete, KioskError, LockedOut, NotCollectable, SeeStaff,
                          SlowDown, TagForged, TagMalformed, TagNotForThisSite, TagSwapped, UnknownParcel)
from kiosk.service import counter, manifest
from hwsim import tags as hwtags
from hwsim.parcels import make_parcels
from hwsim.site import start_site


class Counter:
    """A started site with tagged and plain parcels arrived at the counter."""

    def __init__(self, sim, issuer, parcels):
        self.sim, self.issuer, self.by_method = sim, issuer, parcels
        self.c = sim.controller
        self.site = sim.controller.site

    def parcel(self, method: str, i: int = 0):
        return self.by_method[method][i]

    async def show(self, *payloads):
        shown = None
        for payload in payloads:
            shown = await counter.present(self.site, payload.encode() if isinstance(payload, str) else payload)
        return shown

    def state(self, parcel):
        return self.c.site.db.parcel(parcel.trade_number)


@pytest.fixture
async def desk(tmp_path, issuer):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    try:
        site = sim.controller.site
        site.tag_keys = issuer.keys()
        rng = random.Random(5)
        taken: set[str] = set()
        now = sim.clock.now()
        by_method = {m: issuer.parcels(3, rng, method=m, now=now, taken=taken) for m in ("f1_tag", "f2_tag")}
        plain = [p for p in make_parcels(6, rng, sim.controller.config.hash_params, now=now, method="secret")
                 if p.trade_number not in taken][:3]
        by_method["secret"] = plain
        entries = [p.entry for ps in by_method.values() for p in ps]
        sim.controller.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "test")
        for ps in by_method.values():
            for p in ps[:2]:            # the third of each stays "expected" (not arrived)
                counter.receive(site, "clerk-1", p.trade_number)
        yield Counter(sim, issuer, by_method)
    finally:
        await sim.controller.stop()


def outbox(d: Counter, kind: str) -> list[dict]:
    return [e for e in d.c.site.db.outbox() if e["kind"] == kind]


# --- hand-overs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["f1_tag", "f2_tag"])
async def test_tag_hand_over(desk, method):
    p = desk.parcel(method)
    shown = await desk.show(p.tag)
    assert shown.read == "tag" and shown.state.tag_method == method and "label" in shown.state.missing
    assert shown.state.tag_trade_number == (p.trade_number if method == "f1_tag" else None)
    shown = await desk.show(p.trade_number)
    assert shown.state.label == p.trade_number and not shown.state.mismatch
    ready = await counter.verify(desk.site, p.secret)
    assert ready.trade_number == p.trade_number and ready.method == method and ready.checked == "local"
    assert counter.confirm(desk.site, "clerk-9", ready.ticket) == p.trade_number
    assert desk.state(p).state == ParcelState.COLLECTED
    notice = outbox(desk, "parcel_collected")[-1]
    assert notice["trade_number"] == p.trade_number and notice["payload"]["method"] == method
    assert notice["payload"]["evidence"]["confirmation"] == "clerk confirmed"
    assert notice["payload"]["evidence"]["clerk"] == "clerk-9"
    entry = desk.c.site.db.audit_entries("parcel_collected")[-1]
    assert entry["actor"] == "clerk:clerk-9" and entry["detail"]["verified_by"] == method
    assert desk.c.site.db.verify_audit().ok


async def test_plain_secret_hand_over_and_secret_shown_as_a_code(desk):
    p = desk.parcel("secret")
    shown = await desk.show(p.trade_number, "S/" + p.secret)
    assert shown.read == "secret" and shown.state.missing == ()
    ready = await counter.verify(desk.site)          # the code shown on the phone
    counter.confirm(desk.site, "clerk-2", ready.ticket)
    assert desk.state(p).state == ParcelState.COLLECTED and desk.state(p).secret_hash is None
    assert outbox(desk, "parcel_collected")[-1]["payload"]["method"] == "secret"


async def test_f1_recipient_may_state_the_trade_number_too(desk):
    p = desk.parcel("f1_tag")
    await desk.show(p.tag, p.trade_number)
    with pytest.raises(CodeInvalid, match="not this parcel") as err:
        await counter.verify(desk.site, p.secret, trade_number="9999-9999")
    assert err.value.attempts_left == 4
    await desk.show(p.trade_number)
    ready = await counter.verify(desk.site, p.secret, trade_number=p.trade_number.lower())
    assert ready.trade_number == p.trade_number


# --- refusals ------------------------------------------------------------------------------------

async def test_forged_tag_is_refused_at_once_and_reported(desk):
    p = desk.parcel("f2_tag")
    with pytest.raises(TagForged):
        await desk.show(hwtags.forged(desk.issuer, p, "000000"))
    tamper = outbox(desk, "tamper")
    assert tamper and tamper[-1]["payload"]["what"] == "tag_forged"
    assert desk.state(p).failed_attempts == 0                # never charged to the parcel
    assert len(desk.c.site.db.site_failures_since(0)) == 1     # but to the site
    # With the forged tag refused, nothing can be verified for that parcel by tag.
    await desk.show(p.trade_number)
    with pytest.raises(CounterIncomplete) as err:
        await counter.verify(desk.site, "000000")
    assert err.value.missing == "tag"


@pytest.mark.parametrize("method", ["f1_tag", "f2_tag"])
async def test_swapped_tag_is_refused_even_with_its_own_secret(desk, method):
    mine, other = desk.parcel(method, 0), desk.parcel(method, 1)
    shown = await desk.show(other.tag, mine.trade_number)      # other's tag stuck on my parcel
    assert shown.state.mismatch
    with pytest.raises(TagSwapped):
        await counter.verify(desk.site, other.secret)          # the swapper knows other's secret
    assert desk.state(mine).state == desk.state(other).state == ParcelState.ARRIVED
    assert desk.state(mine).failed_attempts == 0
    assert outbox(desk, "tamper")[-1]["payload"]["what"] == "tag_swapped"


async def test_tag_for_another_site(desk):
    p = desk.parcel("f1_tag")
    with pytest.raises(TagNotForThisSite):
        await desk.show(hwtags.foreign(desk.issuer, p))
    assert not outbox(desk, "tamper") and not desk.c.site.db.site_failures_since(0)


async def test_damaged_reads_are_harmless(desk):
    p = desk.parcel("f2_tag")
    rng = random.Random(3)
    for bad in (hwtags.truncated(p.tag, rng), hwtags.damaged(p.tag, rng), hwtags.garbage(rng), b"\xff\x00"):
        with pytest.raises(TagMalformed):
            await desk.show(bad)
    assert not desk.c.site.db.site_failures_since(0) and not outbox(desk, "tamper")
    await desk.show(p.tag, p.trade_number)
    assert (await counter.verify(desk.site, p.secret)).trade_number == p.trade_number


@pytest.mark.parametrize("method", ["f1_tag", "f2_tag", "secret"])
async def test_wrong_secrets_count_down_then_lock(desk, method):
    p = desk.parcel(method)
    reads = (p.tag, p.trade_number) if method != "secret" else (p.trade_number,)
    for left in (4, 3, 2, 1):
        await desk.show(*reads)
        with pytest.raises(CodeInvalid) as err:
            await counter.verify(desk.site, "000000" if p.secret != "000000" else "111111")
        assert err.value.attempts_left == left
    await desk.show(*reads)
    with pytest.raises(LockedOut):
        await counter.verify(desk.site, "999999" if p.secret != "999999" else "111111")
    await desk.show(*reads)
    with pytest.raises(LockedOut):
        await counter.verify(desk.site, p.secret)             # even the right one, now
    await desk.c.clerk_reset_attempts("clerk-1", p.trade_number)
    await desk.show(*reads)
    assert (await counter.verify(desk.site, p.secret)).trade_number == p.trade_number


async def test_not_arrived_already_collected_unknown(desk):
    waiting = desk.parcel("f2_tag", 2)                          # never received at the counter
    await desk.show(waiting.tag, waiting.trade_number)
    with pytest.raises(NotCollectable, match="not arrived"):
        await counter.verify(desk.site, waiting.secret)
    p = desk.parcel("f1_tag")
    await desk.show(p.tag, p.trade_number)
    counter.confirm(desk.site, "clerk-1", (await counter.verify(desk.site, p.secret)).ticket)
    await desk.show(p.tag, p.trade_number)
    with pytest.raises(NotCollectable, match="already been collected"):
        await counter.verify(desk.site, p.secret)
    await desk.show("0000-0000", "S/123456")
    with pytest.raises(UnknownParcel):
        await counter.verify(desk.site)


async def test_confirm_needs_a_fresh_verification_of_this_parcel(desk):
    p, q = desk.parcel("f2_tag", 0), desk.parcel("f2_tag", 1)
    with pytest.raises(CounterIncomplete):
        counter.confirm(desk.site, "clerk-1", "no-such-ticket")
    await desk.show(p.tag, p.trade_number)
    ready = await counter.verify(desk.site, p.secret)
    await desk.show(q.tag)                                      # the clerk moved on to another parcel
    with pytest.raises(CounterIncomplete):
        counter.confirm(desk.site, "clerk-1", ready.ticket)
    await desk.show(p.tag, p.trade_number)
    ready = await counter.verify(desk.site, p.secret)
    desk.sim.clock.advance(counter.READY_TTL_S + 1)
    with pytest.raises(CounterIncomplete):
        counter.confirm(desk.site, "clerk-1", ready.ticket)
    assert desk.state(p).state == ParcelState.ARRIVED


async def test_what_is_missing_is_said(desk):
    p = desk.parcel("f2_tag")
    with pytest.raises(CounterIncomplete) as err:
        await counter.verify(desk.site, p.secret)
    assert err.value.missing == "label"
    await desk.show(p.tag, p.trade_number)
    with pytest.raises(CounterIncomplete) as err:
        await counter.verify(desk.site)
    assert err.value.missing == "secret"
    desk.sim.clock.advance(desk.site.desks.ttl_s + 1)              # the customer walked away
    with pytest.raises(CounterIncomplete) as err:
        await counter.verify(desk.site, p.secret)
    assert err.value.missing == "label"


async def test_tag_of_the_wrong_method(desk):
    p = desk.parcel("f2_tag")
    f1_for_it = desk.issuer.tag("f1_tag", p.trade_number, p.secret)   # the store would not, but
    await desk.show(f1_for_it, p.trade_number)
    with pytest.raises(SeeStaff, match="registered for f2_tag"):
        await counter.verify(desk.site, p.secret)
    plain = desk.parcel("secret")
    await desk.show(desk.parcel("f1_tag").tag, plain.trade_number)
    with pytest.raises(SeeStaff):
        await counter.verify(desk.site, plain.secret)


async def test_a_parcel_in_a_locker_is_collected_there(desk):
    p = desk.parcel("secret", 2)                                # still expected: a courier loads it
    locker = await desk.sim.deposit(p)
    with pytest.raises(NotCollectable, match=f"locker {locker}"):
        counter.receive(desk.site, "clerk-1", p.trade_number)
    await desk.show(p.trade_number)
    with pytest.raises(NotCollectable, match=f"in locker {locker}"):
        await counter.verify(desk.site, p.secret)


async def test_burst_of_forgeries_slows_the_site(desk):
    p = desk.parcel("f1_tag")
    forged = hwtags.forged(desk.issuer, p)
    for _ in range(desk.c.config.attempts.site_threshold):
        with pytest.raises(TagForged):
            await desk.show(forged)
    await desk.show(p.tag, p.trade_number)
    with pytest.raises(SlowDown):
        await counter.verify(desk.site, p.secret)
    desk.sim.clock.advance(desk.c.config.attempts.site_slowdown_s + 1)
    assert (await counter.verify(desk.site, p.secret)).trade_number == p.trade_number


async def test_tags_not_set_up(desk):
    desk.site.tag_keys = None
    with pytest.raises(SeeStaff, match="not set up"):
        await desk.show(desk.parcel("f1_tag").tag)


async def test_no_secret_reaches_the_records_or_the_events(desk):
    with desk.c.subscribe() as sub:
        for method in ("f1_tag", "f2_tag", "secret"):
            p = desk.parcel(method)
            reads = [p.tag] if method != "secret" else []
            await desk.show(*reads, p.trade_number, "S/" + p.secret)
            with pytest.raises(CodeInvalid):
                await counter.verify(desk.site, "S3cr3t-WRONG")
            await desk.show(*reads, p.trade_number)
            counter.confirm(desk.site, "clerk-1", (await counter.verify(desk.site, p.secret)).ticket)
        events = sub.drain()
    records = json.dumps([desk.c.site.db.audit_entries(), desk.c.site.db.outbox(), [repr(e) for e in events]])
    for method in ("f1_tag", "f2_tag", "secret"):
        assert desk.parcel(method).secret not in records
    assert "S3cr3t-WRONG" not in records


async def test_present_survives_any_bytes(desk):
    rng = random.Random(11)
    for _ in range(300):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        try:
            await counter.present(desk.site, payload)
        except KioskError:
            pass


async def test_a_read_while_the_secret_is_checked_voids_the_result(desk):
    import asyncio
    p, q = desk.parcel("f2_tag", 0), desk.parcel("f2_tag", 1)
    await desk.show(p.tag, p.trade_number)
    checking = asyncio.create_task(counter.verify(desk.site, p.secret))
    await asyncio.sleep(0)                                      # the check is now in the hasher pool
    await desk.show(q.tag)                                      # the clerk scans the next parcel
    ready = await checking
    with pytest.raises(CounterIncomplete):
        counter.confirm(desk.site, "clerk-1", ready.ticket)
    assert desk.state(p).state == ParcelState.ARRIVED
