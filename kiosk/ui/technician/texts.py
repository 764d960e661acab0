"""Every word the technician panel shows: in English here, in every other language in the
``technician`` catalogues (the pattern of ``kiosk.ui.counter.texts``: a phrase missing in
a language fails at import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n.catalogue import tables
from kiosk.languages import LANGUAGES as language_names
from kiosk.languages import every_language


@dataclass(frozen=True)
class TechnicianTexts:
    language_name: str
    clear: str
    ok: str
    title: str
    quit: str
    devices: str
    tasks: str
    lockers: str
    col_role: str
    col_device: str
    col_state: str
    col_detail: str
    col_task: str
    col_restarts: str
    col_last_error: str
    col_locker: str
    col_door: str
    col_fault: str
    up: str
    down: str
    running: str
    stopped: str
    storage_ok: str              # {free}
    storage_failing: str         # {why}
    store_line: str              # {pending} {age} {at}
    store_off: str
    pull_manifest: str
    pulled: str                  # {added} {cancelled}
    failed: str                  # {why}
    reconnecting: str
    out_of_service: str
    sign_in_title: str
    staff_code: str
    sign_in: str
    sign_in_refused: str       # also: the code is not a technician's
    signed_out: str
    back: str
    wire_hint: str
    wire_title: str            # {role}
    wire_summary: str          # {sent} {received} {noise} {last} {p50} {max}
    wire_not_kept: str         # {why}
    col_time: str
    col_bytes: str
    col_meaning: str


EN = TechnicianTexts(
    language_name="English",
    clear="Clear",
    ok="OK",
    title="Technician · site status",
    quit="Close",
    devices="Devices",
    tasks="Controller tasks",
    lockers="Lockers",
    col_role="Role",
    col_device="Device",
    col_state="State",
    col_detail="Detail",
    col_task="Task",
    col_restarts="Restarts",
    col_last_error="Last error",
    col_locker="Locker",
    col_door="Door",
    col_fault="Fault",
    up="up",
    down="DOWN",
    running="running",
    stopped="STOPPED",
    storage_ok="Database writable · {free} free",
    storage_failing="DATABASE NOT WRITABLE: {why}",
    store_line="Store link: {pending} events waiting (oldest {age}) · last sent {at}",
    store_off="Store link: not configured",
    pull_manifest="Pull manifest now",
    pulled="Manifest pulled: {added} new, {cancelled} cancelled.",
    failed="Not done: {why}",
    reconnecting="The controller is not answering; reconnecting…",
    out_of_service="The controller is out of service.",
    sign_in_title="Technician · sign in",
    staff_code="Your technician code",
    sign_in="Sign in",
    sign_in_refused="That code was not accepted here (a technician's code is needed). Type it again.",
    signed_out="You were signed out after a while without use. Sign in again.",
    back="Back",
    wire_hint="Enter on a device shows its line: every frame both ways, in hex, with its meaning.",
    wire_title="{role} · the line",
    wire_summary="Sent {sent} · received {received} · {noise} bytes of noise · round trip: last {last}, median {p50}, worst {max}",
    wire_not_kept="No line to show: {why}",
    col_time="Time",
    col_bytes="Bytes (hex)",
    col_meaning="Meaning",
)

LANGUAGES: dict[str, TechnicianTexts] = every_language(tables(EN, "technician", language_names), __name__)
JA = LANGUAGES["ja"]   # the languages the tests name; the others by LANGUAGES[code]

Say = Callable[[TechnicianTexts], str]
