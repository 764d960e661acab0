"""The outbox pump against the store emulator, one test per fault the emulator can show.

Each test queues events, lets the fault bite, and then checks what the issue demands:
every event reaches the store exactly once as the store counts it (a repeat is answered
as a duplicate), in the pickup point's order, and an event is marked sent here only
after the store acknowledged it.
"""

import asyncio

import pytest

from kiosk.errors import StoreUnreachable
from tests.sync.conftest import deliver_all, delivered_once_in_order, pending, queue_events
from tests.support import wait_until_async

SITE = "sim-site"


async def test_a_receipt_notice_leaves_within_a_second_when_the_store_is_up(linked):
    c, store = linked.controller, linked.store
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    ids = queue_events(c.site.db, c.clock.now(), 1)
    await wait_until_async(lambda: pending(c) == 0, timeout=5)
    assert loop.time() - t0 < 1.0
    delivered_once_in_order(store, SITE, ids)
    row = c.site.db.outbox()[-1]
    assert row["sent_at"] is not None and row["attempts"] == 0


async def test_batches_are_bounded_and_in_seq_order(linked):
    c, store = linked.controller, linked.store
    ids = queue_events(c.site.db, c.clock.now(), 180)
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)
    posts = [r for r in store.requests if r.path.endswith("/events")]
    assert len(posts) == 4   # 180 events in batches of at most 50
    status = c.status()["store_link"]
    events = status["channels"]["events"]
    assert status["pending"] == 0 and events["failures"] == 0 and events["last_success_at"]


async def test_down_for_hours_then_everything_arrives(linked):
    c, store, clock = linked.controller, linked.store, linked.clock
    store.set_fault("down")
    ids = queue_events(c.site.db, c.clock.now(), 30)
    await c.sync.settle()
    attempts_before = c.site.db.sync_channel("events")["failures"]
    assert attempts_before == 1 and pending(c) == 30
    for _ in range(4 * 12):   # four hours in 5-minute steps: retries back off, never hot-loop
        clock.advance(300)
        c.tick()
        await c.sync.settle()
    status = c.status()["store_link"]
    assert status["pending"] == 30 and status["oldest_pending"] is not None
    assert "StoreUnreachable" in status["channels"]["events"]["last_error"]
    # The backoff is capped at 60 s < each 5-minute step: exactly one retry per step, no more.
    assert status["channels"]["events"]["failures"] == 1 + 4 * 12
    assert all(row["attempts"] >= 1 and row["last_error"] for row in c.site.db.outbox(pending_only=True))
    store.clear_faults()
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)
    assert c.status()["store_link"]["channels"]["events"]["failures"] == 0


async def test_http_500_is_retried(linked):
    c, store = linked.controller, linked.store
    store.set_fault("http_500", times=3)
    ids = queue_events(c.site.db, c.clock.now(), 10)
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)
    assert store.duplicates_received == 0   # a 500 before handling: nothing was stored the first times
    assert c.site.db.outbox()[0]["attempts"] == 3


async def test_timeout_after_processing_is_a_duplicate_at_the_store_but_counted_once(linked):
    c, store = linked.controller, linked.store
    store.set_fault("timeout_after_processing", times=1)   # processed, then the connection is dropped
    ids = queue_events(c.site.db, c.clock.now(), 20)
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)
    assert store.duplicates_received == 20
    assert sum(e["duplicates"] for e in store.events(SITE)) == 20
    assert all(e["conflicts"] == 0 for e in store.events(SITE))   # the same id always carried the same event


async def test_a_reply_held_past_our_timeout_is_retried(linked):
    c, store = linked.controller, linked.store
    store.set_fault("timeout_after_processing", mode="hold", seconds=2.0, times=1)
    ids = queue_events(c.site.db, c.clock.now(), 5)
    await c.sync.settle()
    assert pending(c) == 5 and "in time" in c.site.db.sync_channel("events")["last_error"]
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)
    assert store.duplicates_received == 5


@pytest.mark.parametrize("seconds, fails", [(0.1, False), (1.0, True)], ids=["within-timeout", "past-timeout"])
async def test_slow_store(linked, seconds, fails):
    c, store = linked.controller, linked.store
    store.set_fault("slow", seconds=seconds, times=1)
    ids = queue_events(c.site.db, c.clock.now(), 5)
    await c.sync.settle()
    assert (pending(c) == 5) == fails
    await deliver_all(linked)
    await wait_until_async(lambda: len(store.requests) >= 2 + fails)   # the slow request has been handled too
    delivered_once_in_order(store, SITE, ids)


@pytest.mark.parametrize("variant", ["truncated", "not_json", "wrong_shape"])
async def test_malformed_json_fails_the_exchange(linked, variant):
    c, store = linked.controller, linked.store
    store.set_fault("malformed_json", variant=variant, path="/events", times=1)
    ids = queue_events(c.site.db, c.clock.now(), 8)
    await c.sync.settle()
    assert pending(c) == 8 + 1   # nothing believed from a broken reply, which is reported to the store too
    assert c.site.db.outbox()[-1]["kind"] == "device_health"
    assert "BadStoreReply" in c.site.db.sync_channel("events")["last_error"]
    assert c.site.db.audit_entries("store_reply_rejected")
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids + [e["event_id"] for e in c.site.db.outbox()
                                                if e["kind"] == "device_health"])


async def test_out_of_order_ack_marks_nothing_sent(linked):
    c, store = linked.controller, linked.store
    store.set_fault("out_of_order", path="/events", times=1)   # leaves one id out, names one never sent
    ids = queue_events(c.site.db, c.clock.now(), 6)
    await c.sync.settle()
    assert pending(c) == 6 + 1   # and a device_health report of the bad ack
    await deliver_all(linked)
    health = [e["event_id"] for e in c.site.db.outbox() if e["kind"] == "device_health"]
    delivered_once_in_order(store, SITE, ids + health)
    assert store.duplicates_received == 6


@pytest.mark.parametrize("variant", ["wrong_key", "tampered"])
async def test_a_badly_signed_ack_marks_nothing_sent(linked, variant):
    """v1.1: acks are signed documents. One that does not verify is a failed exchange: the
    events stay pending and go again (answered as duplicates) once the store signs properly."""
    c, store = linked.controller, linked.store
    store.set_fault("bad_signature", variant=variant, path="/events")
    ids = queue_events(c.site.db, c.clock.now(), 4)
    await c.sync.settle()
    # The four, and the report that this store link is being sent forged answers.
    assert pending(c) == 5 and len(store.events(SITE)) == 4
    assert [e["kind"] for e in c.site.db.outbox(pending_only=True)][-1] == "device_health"
    assert "BadStoreSignature" in c.status()["store_link"]["channels"]["events"]["last_error"]
    store.clear_faults()
    await deliver_all(linked)
    delivered_once_in_order(store, SITE, ids)


async def test_rate_limited_waits_at_least_retry_after(linked):
    c, store, clock = linked.controller, linked.store, linked.clock
    store.set_fault("rate_limit", retry_after=600, times=1)
    ids = queue_events(c.site.db, c.clock.now(), 3)
    await c.sync.settle()
    row = c.site.db.sync_channel("events")
    assert pending(c) == 3 and row["next_attempt_at"] >= clock.now() + 600
    clock.advance(599)
    c.tick()
    await c.sync.settle()
    assert pending(c) == 3   # not before the store said
    clock.advance(2)
    c.tick()
    await wait_until_async(lambda: pending(c) == 0)
    delivered_once_in_order(store, SITE, ids)


async def test_new_events_during_backoff_wait_for_the_retry(linked):
    c, store = linked.controller, linked.store
    store.set_fault("down")
    queue_events(c.site.db, c.clock.now(), 2)
    await c.sync.settle()
    requests = len(store.requests)
    queue_events(c.site.db, c.clock.now(), 2)
    await c.sync.settle()
    assert len(store.requests) == requests and pending(c) == 4   # no hammering a store that is down
    store.clear_faults()
    await deliver_all(linked)


async def test_pull_on_demand_reports_an_unreachable_store(linked):
    linked.store.set_fault("down")
    with pytest.raises(StoreUnreachable):
        await linked.controller.pull_manifest()
    assert linked.controller.status()["store_link"]["channels"]["manifest"]["failures"] == 1


async def test_one_event_the_store_refuses_is_quarantined_and_the_rest_flows(linked):
    """Issue 8 §2: one invalid event (here 65 payload fields; the protocol allows 64) wedged
    the queue: the whole batch was refused, again and again, and nothing after it arrived."""
    c, store = linked.controller, linked.store
    with c.subscribe() as bus:
        with c.site.db.transaction(c.clock.now()) as tx:
            before = tx.emit("verification_failed", "1111-0001", failed_attempts=1)
            bad = tx.emit("device_health", None, **{f"k{i}": i for i in range(65)})
            after = tx.emit("verification_failed", "1111-0002", failed_attempts=1)
        await deliver_all(linked)
        alarms = [e for e in bus.drain() if e.kind == "alarm" and e["alarm"] == "event_rejected"]
    at_store = [e["event_id"] for e in store.events(SITE)]
    assert before in at_store and after in at_store and bad not in at_store
    [kept] = c.site.db.quarantined()
    assert kept["event_id"] == bad and "payload" in kept["rejected_reason"] and kept["sent_at"] is None
    assert c.status()["store_link"]["quarantined"] == 1 and pending(c) == 0
    assert len(alarms) == 1
    [audit] = c.site.db.audit_entries("event_rejected")
    assert audit["detail"]["event_id"] == bad and audit["detail"]["kind"] == "device_health"
    [report] = [e for e in store.events(SITE) if e["kind"] == "event_rejected"]
    assert report["payload"]["event_id"] == bad
    clock = linked.clock
    clock.advance(3600)
    c.tick()
    await c.sync.settle()
    assert bad not in [e["event_id"] for e in store.events(SITE)]   # never sent again
