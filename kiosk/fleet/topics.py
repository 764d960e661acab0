"""The topic scheme and the message envelope (docs/fleet.md).

    kiosk/v1/<site>/status              "online" (retained, on connect) / "offline" (retained last will)
    kiosk/v1/<site>/state/health        retained, QoS 1: the site at a glance
    kiosk/v1/<site>/state/doors         retained, QoS 1: every locker's door and state
    kiosk/v1/<site>/state/counters      retained, QoS 1: parcels and lockers by state, backlogs
    kiosk/v1/<site>/event/<kind>        QoS 1: door_open, alarm, locker_fault, ... (one message each)
    kiosk/v1/<site>/cmd                 QoS 1, in: signed commands (kiosk.fleet.commands)
    kiosk/v1/<site>/cmd/result          QoS 1: the answer to each command, accepted or refused

Every message but ``status`` is one JSON object, the envelope ``{"id", "site", "kind", "at",
"data"}`` (events add ``seq``: the site's event counter, 1, 2, 3 … with no gap, so a consumer
sees a loss as a hole). ``id`` is chosen when the message is queued and never changes: the
link delivers at least once, and a consumer drops a repeat by ``id``.
"""

from __future__ import annotations

import json
from typing import Any

PREFIX = "kiosk/v1"
STATE_NAMES = ("health", "doors", "counters")
ONLINE, OFFLINE = "online", "offline"


def root(site: str) -> str:
    return f"{PREFIX}/{site}"


def everything(site: str) -> str:
    """The filter of every topic of ``site`` (what its ACL lets it write)."""
    return f"{root(site)}/#"


def status(site: str) -> str:
    return f"{root(site)}/status"


def state(site: str, name: str) -> str:
    if name not in STATE_NAMES:
        raise ValueError(f"no state topic {name!r}")
    return f"{root(site)}/state/{name}"


def event(site: str, kind: str) -> str:
    return f"{root(site)}/event/{kind}"


def command(site: str) -> str:
    return f"{root(site)}/cmd"


def result(site: str) -> str:
    return f"{root(site)}/cmd/result"


def split(topic: str) -> tuple[str, str, str | None] | None:
    """(site, channel, name) of one of our topics — ("s1", "event", "alarm"), ("s1", "status",
    None), ("s1", "cmd", "result") — or None for any other topic."""
    parts = topic.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != PREFIX or not parts[2]:
        return None
    if len(parts) == 4:
        return parts[2], parts[3], None
    if len(parts) == 5:
        return parts[2], parts[3], parts[4]
    return None


def envelope(msg_id: str, site: str, kind: str, at: float, data: dict[str, Any], *, seq: int | None = None) -> str:
    """One message's JSON text (compact, keys sorted)."""
    body: dict[str, Any] = {"id": msg_id, "site": site, "kind": kind, "at": at, "data": data}
    if seq is not None:
        body["seq"] = seq
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
