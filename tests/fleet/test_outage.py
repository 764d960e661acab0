"""Losing the network and the broker: the last will, and nothing lost while it is down."""

from __future__ import annotations

import time

import pytest

from hwsim.fleet.netcut import NetPath
from kiosk.fleet import topics
from kiosk.storage import fleet as fleet_store
from tests.support import wait_until_async


@pytest.mark.slow
async def test_a_site_that_loses_the_network_is_seen_offline_then_online(broker, operator, sites):
    path = await NetPath(broker.port).start()
    try:
        s1 = sites("s1", url=f"mqtt://127.0.0.1:{path.port}", keepalive_s=1)
        await wait_until_async(lambda: operator.view("s1").online, "s1 online")
        path.cut()
        cut_at = time.monotonic()
        s1.alarm("tamper", 1)          # happens while the site is cut off
        await wait_until_async(lambda: operator.view("s1").online is False, "the last will", timeout=15)
        offline_at = next(t for t, state in operator.view("s1").live_status if state == topics.OFFLINE)
        # The broker's keep-alive: 1.5 x 1 s, then Mosquitto 2.0's own check runs every few seconds.
        assert offline_at - cut_at < 1.5 * 1 + 10, "the broker did not notice the site was gone"
        assert not operator.view("s1").events
        path.restore()
        await wait_until_async(lambda: operator.view("s1").online, "s1 online again", timeout=15)
        await wait_until_async(lambda: len(operator.view("s1").events) == 1, "the alarm, after the outage")
        await s1.fleet.stop()
    finally:
        await path.close()


async def test_a_site_stopped_says_goodbye(operator, sites):
    s1 = sites("s1")
    await wait_until_async(lambda: operator.view("s1").online, "s1 online")
    await s1.fleet.stop()
    await wait_until_async(lambda: operator.view("s1").online is False, "offline, said by the site itself")


@pytest.mark.slow
async def test_events_queued_while_the_broker_is_down_all_arrive_once_it_is_back(broker, operator, sites, tmp_path):
    s1 = sites("s1")
    await wait_until_async(lambda: s1.fleet.link.connected, "s1 connected")
    broker.stop()
    await wait_until_async(lambda: not s1.fleet.link.connected, "s1 sees the broker gone")
    for n in range(1, 41):
        s1.door(1 + n % 4, n % 2 == 1)
    await wait_until_async(lambda: s1.fleet.publisher.events_queued == 40, "40 events queued")
    assert fleet_store.pending_summary(s1.db)[0] >= 40
    # kioskd stops (or dies) with the broker still down: the outbox keeps them
    await s1.fleet.stop()
    s1.db.close()
    broker.start()
    await wait_until_async(lambda: operator.connected.is_set(), "the operator back")
    again = sites("s1")    # the same folder, database and client id: a restarted kioskd
    await wait_until_async(lambda: len(operator.view("s1").events) == 40, lambda: f"{len(operator.view('s1').events)}")
    await again.fleet.settle()
    assert sorted(operator.view("s1").seqs) == list(range(1, 41)), "none lost, none out of the numbering"
    assert fleet_store.pending_summary(again.db)[0] == 0
