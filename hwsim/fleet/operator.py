"""The fleet operator's side: a subscriber that hears every site, and the key that signs commands.

``Operator(broker_url, password, key)`` connects as the broker's ``operator`` user with a
persistent session (a broker restart or a dropped connection loses nothing it was sent at
QoS 1), subscribes to ``kiosk/v1/#`` and keeps, per site, the events by id (a repeat is
counted, not kept twice: the consumer's dedupe), the ``seq`` numbers seen, the latest
retained state, the ``status`` timeline ("online"/"offline", stamped with time.monotonic;
``live_status`` leaves out what the broker replays from its retained store)
and the command results by nonce. ``command(...)`` signs one (kiosk.fleet.commands) and
``send(site, payload)`` publishes any payload on a site's cmd topic.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.fleet import topics
from kiosk.fleet.commands import make_command, sign_command
from kiosk.fleet.settings import parse_broker

BARRIER = f"{topics.PREFIX}/_barrier"   # none of the sites' topics: the operator's own marker


@dataclass
class SiteView:
    events: dict[str, dict] = field(default_factory=dict)          # id -> envelope
    seqs: set[int] = field(default_factory=set)
    duplicates: int = 0
    state: dict[str, dict] = field(default_factory=dict)            # health/doors/counters -> latest envelope
    status: list[tuple[float, str]] = field(default_factory=list)   # (monotonic, "online"/"offline")
    live_status: list[tuple[float, str]] = field(default_factory=list)   # the same, as it happened (not retained)
    results: dict[str, list[dict]] = field(default_factory=dict)    # nonce -> every result received

    @property
    def online(self) -> bool | None:
        return None if not self.status else self.status[-1][1] == topics.ONLINE


class Operator:
    def __init__(self, url: str, password: str, key: Ed25519PrivateKey, *, ca_file=None, user: str = "operator",
                 client_id: str = "fleet-operator"):
        self.key = key
        self.host, self.port, tls = parse_broker(url)
        self.sites: dict[str, SiteView] = defaultdict(SiteView)
        self.unknown: list[str] = []                 # topics that are none of ours
        self.barriers: set[str] = set()
        self.received = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=MQTTProtocolVersion.MQTTv5)
        if tls:
            self.client.tls_set_context(ssl.create_default_context(cafile=str(ca_file)))
        self.client.username_pw_set(user, password)
        self.client.max_inflight_messages_set(1000)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> Operator:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 86400
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=properties)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            self.stop()
            raise RuntimeError("the operator could not connect to the broker")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if not reason.is_failure:
            if not flags.session_present:   # a kept session keeps its subscription (no retained replay)
                client.subscribe(f"{topics.PREFIX}/#", qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, message) -> None:
        now = time.monotonic()
        parts = topics.split(message.topic)
        with self._lock:
            self.received += 1
            if message.topic == BARRIER:
                self.barriers.add(message.payload.decode(errors="replace"))
                return
            if parts is None:
                self.unknown.append(message.topic)
                return
            site, channel, name = parts
            view = self.sites[site]
            if channel == "status":
                state = message.payload.decode(errors="replace")
                view.status.append((now, state))
                if not message.retain:   # published now, not replayed from the broker's store
                    view.live_status.append((now, state))
                return
            if channel == "cmd" and name is None:
                return   # commands (ours, echoed by the subscription)
            try:
                body = json.loads(message.payload)
                body["id"], body["data"]   # every message of ours has them
            except (ValueError, KeyError, TypeError):
                self.unknown.append(message.topic)
                return
            body["_received"] = now
            body["_received_at"] = time.time()   # wall clock, to compare with the sender's "at" (one machine)
            if channel == "event":
                if body["id"] in view.events:
                    view.duplicates += 1
                else:
                    view.events[body["id"]] = body
                    view.seqs.add(body.get("seq", 0))
            elif channel == "state" and name is not None:
                view.state[name] = body
            elif channel == "cmd" and name == "result":
                view.results.setdefault(body["data"].get("nonce") or "", []).append(body)
            else:
                self.unknown.append(message.topic)

    # --- commands --------------------------------------------------------------------------

    def command(self, op: str, site: str, *, key: Ed25519PrivateKey | None = None, valid_s: float = 300.0,
                issued_at: float | None = None, **args: Any) -> tuple[str, bytes]:
        """(nonce, payload) of a command signed with ``key`` (default: the operator's)."""
        document = make_command(op, site, now=time.time(), valid_s=valid_s, issued_at=issued_at, **args)
        return document["nonce"], sign_command(key or self.key, document)

    def barrier(self, timeout: float = 60.0) -> bool:
        """Publish a marker to ourselves and wait until it comes back: whatever the broker had
        queued for this subscriber before it has been delivered by then (one client, in order).
        Blocking."""
        import uuid
        token = uuid.uuid4().hex
        self.client.publish(BARRIER, token, qos=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if token in self.barriers:
                    return True
            time.sleep(0.01)
        return False

    def send(self, site: str, payload: bytes) -> None:
        self.client.publish(topics.command(site), payload, qos=1)

    def results(self, site: str, nonce: str) -> list[dict]:
        with self._lock:
            return list(self.sites[site].results.get(nonce, []))

    def view(self, site: str) -> SiteView:
        with self._lock:
            return self.sites[site]


def probe_acl(broker, user: str, password: str, other: str, operator: Operator, *, ca_file=None,
              timeout: float = 10.0) -> int:
    """Publish, with ``user``'s credentials, a well-formed event into site ``other``'s topics
    and its command topic, then a marker into ``user``'s own; once the operator has the
    marker, return how many of the foreign messages reached it (must be 0). Blocking."""
    import uuid
    probe_id = f"acl-probe-{uuid.uuid4().hex}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=probe_id, protocol=MQTTProtocolVersion.MQTTv5)
    if ca_file is not None:
        client.tls_set_context(ssl.create_default_context(cafile=str(ca_file)))
    client.username_pw_set(user, password)
    client.connect(broker_host(broker), broker.port)
    client.loop_start()
    try:
        forged = topics.envelope(probe_id, other, "alarm", time.time(), {"alarm": "tamper"}, seq=10**9)
        client.publish(topics.event(other, "alarm"), forged, qos=1).wait_for_publish(timeout)
        client.publish(topics.state(other, "health"), forged, qos=1).wait_for_publish(timeout)
        client.publish(topics.command(other), b"{}", qos=1).wait_for_publish(timeout)
        marker = f"{topics.root(user)}/probe"
        client.publish(marker, b'{"marker": true}', qos=1).wait_for_publish(timeout)
        deadline = time.monotonic() + timeout
        while marker not in operator.unknown and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        client.disconnect()
        client.loop_stop()
    view = operator.view(other)
    return int(probe_id in view.events) + int(view.state.get("health", {}).get("id") == probe_id)


def broker_host(broker) -> str:
    return parse_broker(broker.url)[0]
