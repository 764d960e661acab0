"""The fleet day's figures, from the sites' own databases and what the operator received.

Nothing here trusts the script's intentions: a command counts as carried out when the
site's audit log says it was accepted (``fleet_command_accepted``: its nonce was
remembered and it was run), an event as published when the site's event counter says so
(``fleet_counters.events``, written with the event), as received when the operator holds
its id, and as lost when its ``seq`` never reached the operator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Reader
from hwsim.fleet.operator import Operator

BAD_KINDS = ("forged", "expired", "unsigned", "wrong_site")


@dataclass
class Sent:
    """Every command the script sent: kind -> [(site it was sent to, nonce)]."""
    by_kind: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    replays: list[tuple[str, str]] = field(default_factory=list)   # (site, nonce) of every repeat of a valid one

    def add(self, kind: str, site: str, nonce: str) -> None:
        self.by_kind.setdefault(kind, []).append((site, nonce))


def judge(dbs: dict[str, Reader], operator: Operator, sent: Sent) -> dict:
    published = received = lost = duplicates = pending = 0
    accepted: dict[str, Counter] = {}
    refused: dict[str, set[tuple[str, str]]] = {}
    done: dict[str, set[str]] = {}
    chains_ok = True
    for site, db in dbs.items():
        count = fleet_store.counter(db, fleet_store.EVENTS)
        view = operator.view(site)
        seen = {s for s in view.seqs if 1 <= s <= count}
        published += count
        received += len(view.events)
        duplicates += view.duplicates
        lost += count - len(seen)
        pending += fleet_store.pending_summary(db)[0]
        accepted[site] = Counter(e["detail"]["nonce"] for e in db.audit_entries("fleet_command_accepted"))
        refused[site] = {(e["detail"].get("nonce", ""), e["detail"]["reason"])
                         for e in db.audit_entries("fleet_command_refused")}
        done[site] = {e["detail"]["nonce"] for e in db.audit_entries("fleet_command_done")}
        chains_ok = chains_ok and db.verify_audit().ok

    def executed(kind: str) -> int:
        return sum(accepted[site][nonce] > 0 for site, nonce in sent.by_kind.get(kind, []) if site in accepted)

    valid = sent.by_kind.get("valid", [])
    replayed_executed = sum(n - 1 for counts in accepted.values() for n in counts.values() if n > 1)
    unaudited = sum((nonce, _reason(kind)) not in refused.get(site, set())
                    for kind in BAD_KINDS for site, nonce in sent.by_kind.get(kind, []))
    unaudited += sum((nonce, "replayed") not in refused.get(site, set()) for site, nonce in sent.replays)
    answered = sum(bool(operator.results(site, nonce)) for kind in ("valid", *BAD_KINDS)
                   for site, nonce in sent.by_kind.get(kind, []))
    return {"events_published": published, "events_received": received, "lost": lost,
            "duplicates_received": duplicates, "still_pending": pending,
            "forged_commands_executed": executed("forged"), "replayed_commands_executed": replayed_executed,
            "expired_commands_executed": executed("expired"), "unsigned_commands_executed": executed("unsigned"),
            "wrong_site_commands_executed": executed("wrong_site"),
            "valid_commands_sent": len(valid), "valid_commands_done": sum(n in done[s] for s, n in valid if s in done),
            "bad_commands_sent": sum(len(sent.by_kind.get(k, [])) for k in BAD_KINDS) + len(sent.replays),
            "refusals_unaudited": unaudited,
            "commands_answered": answered,
            "audit_chains_ok": chains_ok}


def _reason(kind: str) -> str:
    return {"forged": "bad_signature", "expired": "expired", "unsigned": "unsigned", "wrong_site": "wrong_site"}[kind]
