"""The metrics endpoint (issue 14 §3): the pickup point in the Prometheus text format.

``[metrics] listen = "127.0.0.1:9108"`` starts the standard client library's HTTP server
(``prometheus_client.start_http_server``) with a collector of our own that reads the
database at scrape time over a read-only connection of its own (the scrape runs in the
server's thread; the controller's connection stays on its loop):

    kiosk_parcels{state}              parcels by state
    kiosk_lockers{state}              lockers by state
    kiosk_events_total{kind}          events recorded for the store, by kind (pickups are
                                      parcel_collected, refusals verification_failed, ...)
    kiosk_collected_total{method}     hand-overs by verification method
    kiosk_audit_total{action}         audit entries by action (door faults, alarms, backups)
    kiosk_outbox_pending              events not yet acknowledged by the store
    kiosk_outbox_oldest_age_seconds   how long the oldest of them has waited
    kiosk_outbox_quarantined          events the store refused for good
    kiosk_device_up{role}             1 when the configured device is open and answering
    kiosk_device_events_total{role,name}  the driver's own counters: timeouts, checksum errors,
                                      replies, scans; a camera's frames and decoded frames
                                      (its fps: rate(kiosk_device_events_total{name="frames"}[1m]))
    kiosk_device_frames_total{role,direction}  frames sent and received on a device's line
    kiosk_device_round_trip_seconds{role,stat}  request-to-answer time, last/p50/max of the
                                      last 200 exchanges (lock bus, ccTalk, fingerprint, PC/SC)
    kiosk_verification_seconds{outcome}  how long each check through the attempt gate took
                                      (secret, card, finger, token), passed/refused/failed

Nothing personal and no trade number is exported: counts only. Keep the endpoint on
loopback or a management network; it has no authentication of its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kiosk.errors import ConfigError
from kiosk.devices.wire import WireLog
from kiosk.service import traffic


class SiteCollector(Collector):
    def __init__(self, database: Path, now: Callable[[], float]) -> None:
        self.database, self.now = database, now

    def collect(self) -> Iterator[Metric]:
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            yield from self._families(conn)
        finally:
            conn.close()

    def _families(self, conn: sqlite3.Connection) -> Iterator[Metric]:
        parcels = GaugeMetricFamily("kiosk_parcels", "Parcels by state", labels=["state"])
        for state, n in conn.execute("SELECT state, COUNT(*) FROM parcels GROUP BY state"):
            parcels.add_metric([state], n)
        yield parcels
        lockers = GaugeMetricFamily("kiosk_lockers", "Lockers by state", labels=["state"])
        for state, n in conn.execute("SELECT state, COUNT(*) FROM lockers GROUP BY state"):
            lockers.add_metric([state], n)
        yield lockers
        events = CounterMetricFamily("kiosk_events", "Events recorded for the store, by kind", labels=["kind"])
        collected: dict[str, int] = {}
        for kind, n in conn.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind"):
            events.add_metric([kind], n)
        for (payload,) in conn.execute("SELECT payload FROM outbox WHERE kind = 'parcel_collected'"):
            method = str(json.loads(payload).get("method", "unknown"))
            collected[method] = collected.get(method, 0) + 1
        yield events
        by_method = CounterMetricFamily("kiosk_collected", "Parcels handed over, by verification method",
                                        labels=["method"])
        for method, n in sorted(collected.items()):
            by_method.add_metric([method], n)
        yield by_method
        audits = CounterMetricFamily("kiosk_audit", "Audit entries by action", labels=["action"])
        for action, n in conn.execute("SELECT action, COUNT(*) FROM audit GROUP BY action"):
            audits.add_metric([action], n)
        yield audits
        pending, oldest = conn.execute(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL AND quarantined_at IS NULL").fetchone()
        quarantined = conn.execute("SELECT COUNT(*) FROM outbox WHERE quarantined_at IS NOT NULL").fetchone()[0]
        yield GaugeMetricFamily("kiosk_outbox_pending", "Events not yet acknowledged by the store", value=pending)
        yield GaugeMetricFamily("kiosk_outbox_oldest_age_seconds", "Age of the oldest event not yet acknowledged",
                                value=max(0.0, self.now() - oldest) if oldest is not None else 0.0)
        yield GaugeMetricFamily("kiosk_outbox_quarantined", "Events the store refused for good", value=quarantined)


Configured = tuple[str, str, object | None, str]   # role, URL, the open device or None, why not


class DeviceCollector(Collector):
    """Each configured device: up or not, its driver's own counters and its line's round
    trips (kiosk.devices.wire). From memory only: the scrape runs in the server's thread."""

    def __init__(self, devices: Callable[[], list[Configured]]) -> None:
        self.devices = devices

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kiosk_device_up", "1 when the configured device is open", labels=["role"])
        counters = CounterMetricFamily("kiosk_device_events", "A driver's own counters (frames, timeouts, "
                                       "checksum errors, scans...)", labels=["role", "name"])
        frames = CounterMetricFamily("kiosk_device_frames", "Frames on a device's line", labels=["role", "direction"])
        rtt = GaugeMetricFamily("kiosk_device_round_trip_seconds", "A device's request-to-answer time over its "
                                "last exchanges", labels=["role", "stat"])
        for role, _url, device, _why in self.devices():
            up.add_metric([role], 1.0 if device is not None else 0.0)
            if device is None:
                continue
            for name, n in traffic.counters_of(device).items():
                counters.add_metric([role, name], n)
            wire = getattr(device, "wire", None)
            if isinstance(wire, WireLog):
                snap = wire.snapshot(0)
                frames.add_metric([role, "sent"], snap.sent)
                frames.add_metric([role, "received"], snap.received)
                for stat, ms in (("last", snap.rtt_last_ms), ("p50", snap.rtt_p50_ms), ("max", snap.rtt_max_ms)):
                    if ms is not None:
                        rtt.add_metric([role, stat], ms / 1000)
        yield from (up, counters, frames, rtt)


class MetricsServer:
    """The endpoint; ``port`` is the one bound (useful with port 0)."""

    def __init__(self, listen: str, database: Path, now: Callable[[], float], *,
                 devices: Callable[[], list[Configured]] | None = None) -> None:
        host, _, port = listen.rpartition(":")
        self.registry = CollectorRegistry()
        self.registry.register(SiteCollector(database, now))
        if devices is not None:
            self.registry.register(DeviceCollector(devices))
        self.checks = Histogram("kiosk_verification_seconds", "Checks through the attempt gate, by outcome",
                                ["outcome"], registry=self.registry,
                                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        try:
            self._server, self._thread = start_http_server(int(port), addr=host.strip("[]"), registry=self.registry)
        except OSError as err:
            raise ConfigError([("metrics.listen", f"cannot listen on {listen}: {err.strerror or err}")]) from None
        self.port: int = self._server.server_port

    def observe_check(self, seconds: float, outcome: str) -> None:
        self.checks.labels(outcome).observe(seconds)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if isinstance(self._thread, threading.Thread):
            self._thread.join(5)
