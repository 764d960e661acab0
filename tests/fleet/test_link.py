"""The fleet link against a real broker: delivery, the last will, the broker's ACL."""

from __future__ import annotations

import pytest

from kiosk.storage import fleet as fleet_store
from tests.support import wait_until_async

pytestmark = pytest.mark.usefixtures("broker")


async def test_events_and_state_reach_the_operator_and_leave_the_outbox(sites, operator):
    s1 = sites("s1")
    await wait_until_async(lambda: operator.view("s1").online, "s1 online")
    s1.door(2, True)
    s1.alarm("tamper", 2)
    s1.door(2, False)
    await wait_until_async(lambda: len(operator.view("s1").events) == 3, "three events at the operator")
    await s1.fleet.settle()
    view = operator.view("s1")
    assert sorted(view.seqs) == [1, 2, 3]
    kinds = [e["kind"] for e in sorted(view.events.values(), key=lambda e: e["seq"])]
    assert kinds == ["door_open", "alarm", "door_closed"]
    assert fleet_store.pending_summary(s1.db)[0] == 0, "acknowledged messages are deleted"
    await wait_until_async(lambda: {"health", "doors", "counters"} <= set(operator.view("s1").state), "state")
    assert [d["locker"] for d in operator.view("s1").state["doors"]["data"]["doors"]] == [1, 2, 3, 4]


def _client(broker, user: str, password: str):
    """A bare MQTT 5 client with ``user``'s credentials, connected (for ACL checks)."""
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-probe-{user}",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(user, password)
    acks: dict[int, object] = {}
    subacks: list = []
    up = threading.Event()
    client.on_connect = lambda c, u, f, reason, p: up.set() if not reason.is_failure else None
    client.on_publish = lambda c, u, mid, reason, p: acks.__setitem__(mid, reason)
    client.on_subscribe = lambda c, u, mid, reasons, p: subacks.extend(reasons)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert up.wait(10), "the probe could not connect"
    return client, acks, subacks


async def test_a_site_cannot_write_or_read_another_sites_topics(broker, operator, sites):
    from tests.fleet.conftest import PASSWORDS
    s2 = sites("s2")
    await wait_until_async(lambda: s2.fleet.link.connected, "s2 connected")
    client, acks, subacks = _client(broker, "s1", PASSWORDS["s1"])
    heard: list[str] = []
    client.on_message = lambda c, u, message: heard.append(message.topic)
    try:
        own = client.publish("kiosk/v1/s1/event/alarm", b'{"probe":"own"}', qos=1).mid
        foreign = client.publish("kiosk/v1/s2/event/alarm", b'{"probe":"foreign"}', qos=1).mid
        cmd = client.publish("kiosk/v1/s2/cmd", b'{"probe":"command"}', qos=1).mid
        client.subscribe([("kiosk/v1/s2/cmd", 1), ("kiosk/v1/+/cmd", 1), ("kiosk/v1/s2/#", 1)])
        await wait_until_async(lambda: {own, foreign, cmd} <= set(acks) and subacks, "the broker's answers")
        assert not acks[own].is_failure
        assert acks[foreign].is_failure and acks[cmd].is_failure, "the broker refused them (MQTT 5: not authorised)"
        operator.send("s2", b"not a command")    # s2 hears it (and refuses it); s1 must not
        await wait_until_async(lambda: s2.fleet.desk.refused == 1, "s2 received its command")
        await s2.fleet.settle()
        await wait_until_async(lambda: operator.view("s2").results, "s2's answer at the operator")
    finally:
        client.disconnect()
        client.loop_stop()
    assert heard == [], "s1 read another site's topics"
    assert not operator.view("s2").events, "a message s1 wrote under s2 reached the operator"


async def test_a_refused_message_stays_in_the_outbox(sites, operator):
    """A broker that refuses a message (an ACL that does not match) never makes the site drop it."""
    s1 = sites("s1")
    await wait_until_async(lambda: s1.fleet.link.connected, "s1 connected")
    with s1.db.transaction(s1.clock.now()) as tx:
        fleet_store.queue(tx, "kiosk/v1/s2/event/alarm", '{"id":"x"}', retain=False, msg_id="misrouted")
    s1.fleet.pump.poke()
    await wait_until_async(lambda: s1.fleet.pump.refusals == 1, "the broker's refusal")
    assert [r["msg_id"] for r in fleet_store.pending(s1.db, 10)] == ["misrouted"]
    assert "not authorised" in (s1.fleet.status()["last_error"] or "").lower().replace("authorized", "authorised")


async def test_a_command_sent_twice_over_the_broker_is_carried_out_once(sites, operator):
    s1 = sites("s1")
    await wait_until_async(lambda: s1.fleet.link.connected, "s1 connected")
    nonce, payload = operator.command("locker_out_of_service", "s1", locker=2, reason="broken hinge")
    operator.send("s1", payload)
    operator.send("s1", payload)
    await wait_until_async(lambda: len(operator.results("s1", nonce)) == 2, "two answers")
    assert [c.nonce for c in s1.target.runs] == [nonce]
    outcomes = sorted((r["data"]["outcome"], r["data"]["reason"]) for r in operator.results("s1", nonce))
    assert outcomes == [("done", None), ("refused", "replayed")]
