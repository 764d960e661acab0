"""One site's MQTT connection to the fleet's broker, over paho-mqtt (the Eclipse client).

``FleetLink`` wraps a paho ``Client`` run by paho's own network thread (``loop_start``),
which connects, keeps the connection alive and reconnects with a doubling delay capped at
``[fleet] reconnect_max_s``. Set up once:

- TLS with the broker's CA pinned (``ca_file`` only; the system trust store is not used),
  host name checked; or plain TCP to a loopback broker (tests, the demo);
- the site's user name and password (the broker's ACL lets this user write only
  ``kiosk/v1/<site>/#`` and read only its own ``cmd``);
- a last will: ``kiosk/v1/<site>/status`` = "offline", retained, QoS 1, which the broker
  publishes when it loses the site without a goodbye; "online" (retained) on every connect;
- a persistent session (MQTT 5: clean start off, a session expiry; 3.1.1: clean session
  off), so commands sent while the site was away reach it when it is back;
- the site's ``cmd`` topic subscribed at QoS 1 on every connect.

Everything paho reports happens on its thread and is handed to the asyncio loop with
``call_soon_threadsafe``: ``on_ack(mid, ok, reason)`` for each PUBACK (``ok`` False when
an MQTT 5 broker refused the message, e.g. not authorised), ``on_command(payload)`` for
each message on the cmd topic, ``on_connection(up)`` for each connect and disconnect.
``publish`` hands one QoS 1 message to paho and returns its message id; paho keeps it
until the broker's PUBACK and sends it again after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.endpoints import pinned_tls_context
from kiosk.errors import FleetError
from kiosk.fleet import topics
from kiosk.fleet.settings import FleetSettings, parse_broker

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 86400   # the broker keeps a site's subscription and queued commands this long
WINDOW = 100                   # QoS 1 messages handed to paho and not yet acknowledged, at most


def tls_context(ca_file) -> ssl.SSLContext:
    return pinned_tls_context(ca_file, "fleet.ca_file")


class FleetLink:
    def __init__(self, settings: FleetSettings, *, password: str | None,
                 on_ack: Callable[[int, bool, str], None], on_command: Callable[[bytes], None],
                 on_connection: Callable[[bool], None] = lambda up: None, client_id: str | None = None):
        """Raises ConfigError (a CA file that cannot be loaded)."""
        if settings.broker is None:
            raise FleetError("no [fleet] broker is configured")
        self.settings = settings
        self.site = settings.site
        self.host, self.port, tls = parse_broker(settings.broker)
        self._on_ack, self._on_command, self._on_connection = on_ack, on_command, on_connection
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self.connects = 0
        self.last_error: str | None = None
        self.v5 = settings.protocol == "5"
        protocol = MQTTProtocolVersion.MQTTv5 if self.v5 else MQTTProtocolVersion.MQTTv311
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"kiosk-{self.site}",
                                  clean_session=None if self.v5 else False, protocol=protocol)
        if tls:
            self.client.tls_set_context(tls_context(settings.ca_file))
        self.client.username_pw_set(settings.user, password)
        self.client.will_set(topics.status(self.site), topics.OFFLINE, qos=1, retain=True)
        self.client.reconnect_delay_set(1, max(1, int(settings.reconnect_max_s)))
        self.client.max_inflight_messages_set(WINDOW)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._connected
        self.client.on_connect_fail = self._connect_failed
        self.client.on_disconnect = self._disconnected
        self.client.on_publish = self._published
        self.client.on_message = self._message

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<FleetLink {self.site} {self.settings.broker} {state}>"

    # --- life cycle --------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start paho's thread; it connects (and reconnects) by itself."""
        self._loop = loop
        properties = None
        if self.v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(self.host, self.port, keepalive=self.settings.keepalive_s,
                                  clean_start=False if self.v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
                                  properties=properties)
        self.client.loop_start()

    def stop(self, goodbye_s: float = 2.0) -> None:
        """Say "offline" (retained; waiting at most ``goodbye_s``), disconnect, join paho's
        thread. Blocking: call it in a worker thread. Never raises."""
        try:
            if self.connected:
                info = self.client.publish(topics.status(self.site), topics.OFFLINE, qos=1, retain=True)
                info.wait_for_publish(goodbye_s)
        except (RuntimeError, ValueError, OSError) as err:
            log.warning("fleet: no goodbye for %s (%s)", self.site, err)
        self.client.disconnect()
        self.client.loop_stop()
        self._loop = None

    def publish(self, topic: str, payload: str | bytes, *, retain: bool) -> int:
        """Hand one QoS 1 message to paho; returns its message id (its PUBACK comes to
        ``on_ack``). Raises FleetError when paho refuses it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise FleetError(f"paho refused the message: {mqtt.error_string(info.rc)}")
        return info.mid

    # --- paho's thread -------------------------------------------------------------------------

    def _post(self, func, *args) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(func, *args)
        except RuntimeError:
            pass   # the loop is closing: nobody is listening any more

    def _connected(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.last_error = f"the broker refused the connection: {reason}"
            log.error("fleet: %s", self.last_error)
            return
        self.connected = True
        self.connects += 1
        self.last_error = None
        client.subscribe(topics.command(self.site), qos=1)
        client.publish(topics.status(self.site), topics.ONLINE, qos=1, retain=True)
        self._post(self._on_connection, True)

    def _connect_failed(self, client, userdata) -> None:
        err = sys.exc_info()[1]   # paho calls this from inside its ``except OSError``
        error = f"cannot connect to {self.host}:{self.port}: {err or 'refused'}"
        # Once per reason: paho retries every few seconds for as long as the broker is away.
        log.log(logging.DEBUG if error == self.last_error else logging.WARNING, "fleet: %s", error)
        self.last_error = error

    def _disconnected(self, client, userdata, flags, reason, properties) -> None:
        was = self.connected
        self.connected = False
        if reason.is_failure:
            self.last_error = f"connection lost: {reason}"
        if was:
            self._post(self._on_connection, False)

    def _published(self, client, userdata, mid, reason, properties) -> None:
        self._post(self._on_ack, mid, not reason.is_failure, str(reason))

    def _message(self, client, userdata, message) -> None:
        if message.topic == topics.command(self.site):
            self._post(self._on_command, bytes(message.payload))
