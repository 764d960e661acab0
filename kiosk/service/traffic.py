"""A device's wire for the technician panel (``device_traffic``): what its driver keeps in
its ``wire`` (kiosk.devices.wire), turned into the service's plain DTO, with the driver's
counters (``stats``) beside it. GPIO lock banks have no line to show; a device not open
has nothing yet."""

from __future__ import annotations

from kiosk.devices.wire import WireLog
from kiosk.service.dto import DeviceTraffic, WireLine

MAX_LIMIT = 400


def of(role: str, url: str, device: object | None, why: str, *, limit: int = 200) -> DeviceTraffic:
    if device is None:
        return DeviceTraffic(role, url, kept=False, why=why or "not open")
    wire = getattr(device, "wire", None)
    counters = counters_of(device)
    if not isinstance(wire, WireLog):
        return DeviceTraffic(role, url, kept=False, why="this device has no serial line (pins or a camera)",
                             counters=counters)
    snap = wire.snapshot(max(0, min(int(limit), MAX_LIMIT)))
    lines = tuple(WireLine(f.at, f.direction, f.hex, f.meaning) for f in snap.frames)
    return DeviceTraffic(role, url, kept=True, lines=lines, sent=snap.sent, received=snap.received,
                         noise_bytes=snap.noise_bytes, rtt_last_ms=snap.rtt_last_ms, rtt_p50_ms=snap.rtt_p50_ms,
                         rtt_max_ms=snap.rtt_max_ms, counters=counters)


def counters_of(device: object) -> dict[str, int]:
    """The driver's own counters (``stats``: a dict or a property giving one), numbers only."""
    stats = getattr(device, "stats", None)
    if callable(stats):
        stats = stats()
    if not isinstance(stats, dict):
        return {}
    return {str(k): int(v) for k, v in stats.items() if isinstance(v, int) and not isinstance(v, bool)}
