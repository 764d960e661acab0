"""F4 at the counter through the real controller: the counter's 125 kHz reader (the real
RDM6300 driver over a pty to the emulator, ``[devices] token``), the token id bound to the
parcel by the store's manifest as a slow hash, the recipient's secret, the clerk's
confirmation, and the store emulator receiving the receipt notice."""

from __future__ import annotations

import pytest

from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, CounterIncomplete, TokenMismatch
from kiosk.service import counter
from tests.support import wait_until_async
from tests.sync.conftest import LINK

pytestmark = pytest.mark.slow
SITE = "sim-site"


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=11) as emulator:
        yield emulator


@pytest.fixture
async def f4(tmp_path, clock, store):
    site = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio", doors=2,
                            token="sim+rdm6300://?dedupe_ms=200")
    c = site.controller
    try:
        made = store.create_parcel(SITE, "token")
        await c.pull_manifest()
        counter.receive(c.site, "clerk-1", made.trade_number)
        yield site, made
    finally:
        await c.stop()


async def read_token(site, uid: str) -> None:
    """Hold a token to the counter's reader and wait until the desk holds it."""
    c = site.controller
    before = c.scans.counts["counter"]
    c.token_reader.sim.hold(uid)
    await wait_until_async(lambda: c.scans.counts["counter"] > before, "the token read")
    await c.scans.settle()


async def test_the_parcels_token_and_secret_hand_it_over(f4, store):
    site, made = f4
    c = site.controller
    assert c.site.db.parcel(made.trade_number).token_hash.startswith("$argon2id$")   # never the id itself
    assert made.token_id not in str(c.site.db.parcel(made.trade_number))
    state = await c.counter_present(made.trade_number.encode())
    assert state.missing == ("secret", "token")
    await read_token(site, made.token_id)
    assert counter.desk_state(c.site).token and counter.desk_state(c.site).missing == ("secret",)
    ticket = await c.counter_verify(made.secret)
    assert ticket.method == "token"
    assert await c.counter_confirm("clerk-1", ticket.ticket) == made.trade_number
    assert c.site.db.parcel(made.trade_number).state == ParcelState.COLLECTED
    assert c.site.db.parcel(made.trade_number).token_hash is None                   # purged with the secret
    await c.sync.settle()
    assert [e["kind"] for e in store.events(SITE) if e["trade_number"] == made.trade_number][-1] == "parcel_collected"


async def test_no_token_read_is_incomplete_and_costs_nothing(f4):
    site, made = f4
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    with pytest.raises(CounterIncomplete) as err:
        await c.counter_verify(made.secret)
    assert err.value.missing == "token"
    assert c.site.db.parcel(made.trade_number).failed_attempts == 0


async def test_another_token_is_a_tamper_and_never_counts_against_the_parcel(f4):
    site, made = f4
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    other = "0123456789" if made.token_id != "0123456789" else "9876543210"
    await read_token(site, other)
    with pytest.raises(TokenMismatch):
        await c.counter_verify(made.secret)
    parcel = c.site.db.parcel(made.trade_number)
    assert parcel.failed_attempts == 0 and parcel.state == ParcelState.ARRIVED
    [tamper] = [e for e in c.site.db.outbox() if e["kind"] == "tamper"]
    assert tamper["payload"]["what"] == "token_mismatch"
    assert not counter.desk_state(c.site).token                       # dropped: read the right one again
    await read_token(site, made.token_id)
    ticket = await c.counter_verify(made.secret)
    assert ticket.trade_number == made.trade_number


async def test_the_right_token_with_a_wrong_secret_is_a_failed_attempt(f4):
    site, made = f4
    c = site.controller
    await c.counter_present(made.trade_number.encode())
    await read_token(site, made.token_id)
    with pytest.raises(CodeInvalid):
        await c.counter_verify("000000" if made.secret != "000000" else "111111")
    assert c.site.db.parcel(made.trade_number).failed_attempts == 1


async def test_a_token_id_typed_or_scanned_as_a_code_is_a_label_not_a_token(f4):
    site, made = f4
    c = site.controller
    state = await c.counter_present(made.token_id.encode())        # ten hex digits from a barcode scanner
    assert state.label == made.token_id and not state.token        # only a token reader reads tokens


async def test_bad_frames_on_the_line_are_not_reads(f4):
    site, made = f4
    c = site.controller
    sim = c.token_reader.sim
    sim.bad_checksum(made.token_id)
    sim.cut(made.token_id)
    sim.garbage()
    sim.wrong_type()
    await read_token(site, made.token_id)                 # the good frame after them is the only read
    assert c.scans.counts["counter"] == 1
    assert counter.desk_state(c.site).token
