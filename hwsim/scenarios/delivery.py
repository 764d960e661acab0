"""What the store received, judged against what the pickup point created.

Computed from the two databases only — the controller's outbox and the store emulator's
events — never from the scenario's intentions:

    events_created        events in the pickup point's outbox
    events_at_store       distinct events the store holds for the site
    duplicates_at_store   events the store holds twice: the same event under a second id,
                          or one id that arrived with different content
    unknown_at_store      events at the store the pickup point never created
    lost                  events created here that the store does not have
    sent_but_missing      of those, events marked sent here (the worst kind of loss)
    out_of_order          events that reached the store after a later event (higher seq)
                          about the same parcel
    resends_deduplicated  repeats the store answered as duplicates (retries after a lost
                          reply: expected, harmless)
"""

from __future__ import annotations

import json

from kiosk.clock import iso
from kiosk.storage.database import Reader


def judge(reader: Reader, store, site_id: str) -> dict:
    outbox = reader.outbox()
    mine = {row["event_id"]: row for row in outbox}
    received = store.events(site_id)
    at_store = {e["event_id"] for e in received}

    seen_content: set[tuple] = set()
    same_event_twice = 0
    for event in received:
        content = (event["kind"], event["trade_number"], event["created_at"],
                   json.dumps(event["payload"], sort_keys=True))
        same_event_twice += content in seen_content
        seen_content.add(content)
    conflicts = sum(e["conflicts"] for e in received)

    # Does what the store holds say what the pickup point said?
    altered = sum(1 for e in received if e["event_id"] in mine and not _same(mine[e["event_id"]], e))

    lost = [i for i in mine if i not in at_store]
    return {
        "events_created": len(outbox),
        "events_at_store": len(at_store),
        "duplicates_at_store": same_event_twice + conflicts,
        "unknown_at_store": len(at_store - set(mine)),
        "altered_at_store": altered,
        "lost": len(lost),
        "sent_but_missing": sum(1 for i in lost if mine[i]["sent_at"] is not None),
        "out_of_order": _out_of_order(received),
        "resends_deduplicated": store.duplicates_received,
        "still_pending": sum(1 for row in outbox if row["sent_at"] is None),
    }


def _same(row: dict, event: dict) -> bool:
    return (row["kind"], row["trade_number"], row["seq"], iso(row["created_at"]), row["payload"]) == \
        (event["kind"], event["trade_number"], event["seq"], event["created_at"], event["payload"])


def _out_of_order(received: list[dict]) -> int:
    newest: dict[str, int] = {}
    late = 0
    for event in received:   # in the order the store first received them
        trade = event["trade_number"]
        if trade is None:
            continue
        if event["seq"] < newest.get(trade, -1):
            late += 1
        newest[trade] = max(event["seq"], newest.get(trade, -1))
    return late
