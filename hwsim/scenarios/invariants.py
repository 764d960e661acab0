"""What a day's records must show, computed from the controller's own database.

Read from the audit log and outbox only (not from the scenario's intentions), so a
scenario cannot report success the records do not bear out.
"""

from __future__ import annotations

from collections import defaultdict

from kiosk.domain.parcels import ParcelState
from kiosk.storage.database import Reader


def summarise(reader: Reader) -> dict:
    audit = reader.audit_entries()
    outbox = reader.outbox()
    kinds = defaultdict(int)
    for event in outbox:
        kinds[event["kind"]] += 1

    # Door evidence per opening: op_id -> set of door readings recorded while it was under way.
    evidence: dict[str, list[str]] = defaultdict(list)
    pickups_opened: dict[str, set[str]] = defaultdict(set)   # trade number -> pickup op_ids with door-open evidence
    op_parcel: dict[str, str] = {}
    for entry in audit:
        detail = entry["detail"]
        if entry["action"] == "unlock_commanded" and detail.get("op") == "pickup":
            op_parcel[detail["op_id"]] = entry["subject"]
        if entry["action"] in ("door_open", "door_closed") and detail.get("op_id"):
            evidence[detail["op_id"]].append(entry["action"])
            if entry["action"] == "door_open" and detail["op_id"] in op_parcel:
                pickups_opened[op_parcel[detail["op_id"]]].add(detail["op_id"])

    collected_by_parcel: dict[str, int] = defaultdict(int)
    without_evidence = 0
    for entry in audit:
        if entry["action"] != "parcel_collected":
            continue
        collected_by_parcel[entry["subject"]] += 1
        if entry["actor"].startswith("clerk:"):
            continue  # an audited clerk action is the other lawful way
        op_id = entry["detail"].get("op_id")
        if evidence.get(op_id, [])[:1] != ["door_open"] or "door_closed" not in evidence.get(op_id, []):
            without_evidence += 1

    released_twice = sum(1 for t in set(collected_by_parcel) | set(pickups_opened)
                         if collected_by_parcel[t] > 1 or len(pickups_opened[t]) > 1)
    parcels = reader.parcels()
    return {
        "parcels": len(parcels),
        "arrived": kinds["parcel_arrived"],
        "collected": sum(1 for p in parcels if p.state == ParcelState.COLLECTED),
        "wrong_attempts": sum(1 for e in audit if e["action"] == "verification_failed"),
        "lockouts": kinds["parcel_locked_out"],
        "door_faults": kinds["door_fault"],
        "tamper_alarms": kinds["tamper"],
        "left_open_alarms": kinds["door_left_open"],
        "site_alarms": kinds["site_attempts_alarm"],
        "released_without_door_evidence": without_evidence,
        "released_twice": released_twice,
        "receipt_notices": kinds["parcel_collected"],
        "outbox_events": len(outbox),
        "outbox_event_ids_unique": len({e["event_id"] for e in outbox}) == len(outbox),
        "secrets_at_rest": sum(1 for p in parcels if p.state in (ParcelState.COLLECTED, ParcelState.RETURNED)
                               and p.secret_hash is not None),
    }
