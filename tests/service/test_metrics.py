"""The metrics endpoint (issue 14 §3): a real controller, a pickup, then a scrape over HTTP
parsed by the Prometheus client's own parser."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import wait_until_async
from prometheus_client.parser import text_string_to_metric_families

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import CodeInvalid, ConfigError
from kiosk.service.controller import Controller
from tests.config.test_checks import GOOD, problems


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(port: int) -> dict:
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    return samples(reply.text)


async def test_a_pickup_shows_in_the_metrics(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4,
                            extra='\n[metrics]\nlisten = "127.0.0.1:0"\n')
    c = site.controller
    try:
        [parcel, other] = await site.add_parcels(2, rng)
        for p in (parcel, other):
            await site.deposit(p)
        before = await scrape(c.metrics.port)
        assert before[("kiosk_parcels", (("state", "arrived"),))] == 2
        with c.subscribe() as events:
            opening = await c.submit_code(parcel.trade_number, parcel.secret)
            await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
            site.doors.take(opening.locker)
            site.doors.close(opening.locker)
            await events.next("parcel_collected")
        got = await scrape(c.metrics.port)
        assert got[("kiosk_parcels", (("state", "collected"),))] == 1
        assert got[("kiosk_collected_total", (("method", "locker"),))] == 1
        assert got[("kiosk_events_total", (("kind", "parcel_collected"),))] == 1
        assert got[("kiosk_outbox_pending", ())] >= 1          # no store linked: everything waits
        assert parcel.trade_number not in str(got) and parcel.secret not in str(got)
        assert got[("kiosk_device_up", (("role", "locks"),))] == 1
        wrong = "000000" if other.secret != "000000" else "111111"
        with pytest.raises(CodeInvalid):
            await c.submit_code(other.trade_number, wrong)
        got = await scrape(c.metrics.port)
        checks = ("kiosk_verification_seconds_count", (("outcome", "passed"),))
        assert got[checks] == before[checks] + 1                # the pickup (couriers' codes pass the gate too)
        assert got[("kiosk_verification_seconds_count", (("outcome", "refused"),))] == 1
        assert got[("kiosk_verification_seconds_sum", (("outcome", "passed"),))] > 0
    finally:
        await c.stop()


async def test_a_lock_bus_round_trips_and_counters_are_exported(tmp_path):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="kerong", doors=4,
                            extra='\n[metrics]\nlisten = "127.0.0.1:0"\n')
    c = site.controller
    try:
        await wait_until_async(lambda: c.site.locks.wire.snapshot(0).received >= 3, "a few status replies")
        got = await scrape(c.metrics.port)
        assert got[("kiosk_device_frames_total", (("direction", "received"), ("role", "locks")))] >= 3
        assert 0 < got[("kiosk_device_round_trip_seconds", (("role", "locks"), ("stat", "p50")))] < 5
        assert got[("kiosk_device_events_total", (("name", "replies"), ("role", "locks")))] >= 3
    finally:
        await c.stop()


async def test_a_port_in_use_is_a_clear_config_error(tmp_path):
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        site = await start_site(tmp_path / "a", clock=ManualClock(), locks="gpio", doors=2)
        await site.controller.stop()
        path = site.controller.config.path
        path.write_text(path.read_text() + f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
        c = Controller(load(path), clock=ManualClock())
        with pytest.raises(ConfigError, match="metrics.listen"):
            await c.start()
        await c.stop()
    finally:
        blocker.close()


@pytest.mark.parametrize("listen", ["9108", "localhost:", ":9108", "127.0.0.1:99999", "127.0.0.1:http"])
def test_listen_must_be_host_and_port(tmp_path, listen):
    text = GOOD + f'\n[metrics]\nlisten = "{listen}"\n'
    assert "metrics.listen" in problems(tmp_path, text)
