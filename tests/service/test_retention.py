"""Retention (issue 14): finished parcels, their payments and the events the store
acknowledged are forgotten after ``[retention] days``; anything open, unsent or quarantined
stays, and so does the audit chain."""

from __future__ import annotations

import pytest

from hwsim.parcels import DemoParcel
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import ConfigError
from kiosk.service import retention
from tests.sync.conftest import LINK

SITE = "sim-site"
DAY = 86400


@pytest.fixture
def clock():
    return ManualClock()


async def test_finished_parcels_and_sent_events_go_open_ones_stay(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=9) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio",
                               doors=4, extra="\n[retention]\ndays = 30\n")
        c = sim.controller
        try:
            done, waiting = (store.create_parcel(SITE, "locker", hold_s=90 * DAY) for _ in range(2))
            await c.pull_manifest()
            for made in (done, waiting):
                await sim.deposit(DemoParcel(made.trade_number, made.secret, {}))
            with c.subscribe() as events:
                opening = await c.submit_code(done.trade_number, done.secret)
                await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
                sim.doors.take(opening.locker)
                sim.doors.close(opening.locker)
                await events.next("parcel_collected")
            await c.sync.settle()
            sent = len(c.site.db.outbox())
            assert sent and not c.site.db.outbox(pending_only=True)
            assert retention.purge(c.site, c.config.retention_s) == (0, 0)     # nothing is old yet
            clock.advance(31 * DAY)
            assert retention.purge(c.site, c.config.retention_s) == (1, sent)
            db = c.site.db
            assert db.parcel(done.trade_number) is None
            assert db.parcel(waiting.trade_number) is not None                   # still waiting in its locker
            [entry] = db.audit_entries("retention_purge")
            assert entry["detail"]["parcels"] == 1 and entry["detail"]["events"] == sent
            assert db.verify_audit().ok
            assert retention.purge(c.site, c.config.retention_s) == (0, 0)
        finally:
            await c.stop()


def test_retention_has_a_floor(tmp_path):
    from hwsim.site import write_config
    with pytest.raises(ConfigError) as err:
        load(write_config(tmp_path, locks="gpio", doors=2, extra="\n[retention]\ndays = 1\n"))
    assert "retention.days" in str(err.value)
