"""Remote commands as a site carries them out: checked, remembered, done once, audited, answered.

A message on ``kiosk/v1/<site>/cmd`` is opened by kiosk.fleet.commands (signature with the
pinned operator key, this site, not expired, known operation), then its nonce is checked
and remembered in the same transaction as the ``fleet_command_accepted`` audit entry — so
a command delivered twice (QoS 1 does that), replayed later, or replayed after a restart
is refused as ``replayed`` and never done twice. Accepted commands run one at a time
through the controller's own clerk calls (``SiteTarget``: kiosk.service.clerk for doors
and lockers, the manifest pull for a resync), under the actor ``clerk:fleet:<clerk>``.
Every command, accepted or refused, is audited (``fleet_command_accepted`` / ``_refused``,
then ``_done`` / ``_failed``) and answered on ``kiosk/v1/<site>/cmd/result`` through the
fleet outbox: ``{"nonce", "op", "outcome": "done" | "failed" | "refused", "reason", "detail"}``.

A command is carried out at most once: its nonce is committed before it runs, so a kioskd
killed in between leaves it undone (the audit shows it accepted and never finished).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.clock import Clock
from kiosk.errors import CommandRefused, KioskError, StorageError
from kiosk.fleet import topics
from kiosk.fleet.commands import SKEW_S, Command, open_command, peek
from kiosk.service import clerk
from kiosk.service.site import Site
from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Database

log = logging.getLogger(__name__)
ACTOR = "fleet"


class CommandTarget(Protocol):
    """What carries an accepted command out; returns the detail for the answer. Raises KioskError."""

    async def run(self, command: Command) -> dict[str, Any]: ...


class SiteTarget:
    """A running controller's site: the clerk's own calls, nothing of their logic repeated here."""

    def __init__(self, site: Site, pull_manifest: Callable[[], Awaitable[Any]]):
        self.site = site
        self.pull_manifest = pull_manifest

    async def run(self, command: Command) -> dict[str, Any]:
        who = f"fleet:{command.clerk}"
        args = command.args
        if command.op == "open_door":
            return {"op_id": await clerk.open_locker(self.site, who, args["locker"])}
        if command.op in ("locker_out_of_service", "locker_in_service"):
            clerk.set_in_service(self.site, who, args["locker"], command.op == "locker_in_service", args["reason"])
            return {"state": self.site.db.require_locker(args["locker"]).state.value}
        if command.op == "resync_manifest":
            result = await self.pull_manifest()
            return {"pages": result.pages, "added": result.added, "cancelled": result.cancelled}
        raise CommandRefused("unknown_op", f"no operation {command.op!r}")


class CommandDesk:
    def __init__(self, db: Database, clock: Clock, site: str, operator_key: Ed25519PublicKey, target: CommandTarget,
                 *, max_validity_s: float, queued: Callable[[], None]):
        self.db, self.clock, self.site, self.key, self.target = db, clock, site, operator_key, target
        self.max_validity_s = max_validity_s
        self._queued = queued
        self.accepted = self.refused = self.done = self.failed = 0

    async def handle(self, payload: bytes) -> str:
        """Check, remember, carry out, audit and answer one message. Returns the outcome
        ("done", "failed" or "refused"); never raises for a bad command."""
        now = self.clock.now()
        try:
            command = open_command(payload, self.key, self.site, now, max_validity_s=self.max_validity_s)
            self._accept(command, now)
        except CommandRefused as err:
            self._refuse(payload, err, now)
            return "refused"
        except StorageError as err:   # not remembered, so not done: the operator sees no answer and may retry
            log.error("fleet: command %s not accepted: %s", command.nonce, err)
            return "failed"
        try:
            detail = await self.target.run(command)
        except (KioskError, KeyError, ValueError) as err:
            reason = err.reason if isinstance(err, CommandRefused) else type(err).__name__
            self._finish(command, "failed", reason, {"error": str(err)[:300]})
            return "failed"
        self._finish(command, "done", None, detail)
        return "done"

    def _accept(self, command: Command, now: float) -> None:
        with self.db.transaction(now) as tx:
            fleet_store.forget_nonces(tx, now - SKEW_S)
            if fleet_store.nonce_seen(tx, command.nonce):
                raise CommandRefused("replayed", "this command's nonce was used before")
            fleet_store.remember_nonce(tx, command.nonce, command.expires_at)
            fleet_store.bump(tx, "commands_accepted")
            tx.audit(f"{ACTOR}:{command.clerk}", "fleet_command_accepted", _subject(command), op=command.op,
                     nonce=command.nonce, args=command.args, issued_at=command.issued_at,
                     expires_at=command.expires_at)
        self.accepted += 1

    def _refuse(self, payload: bytes, err: CommandRefused, now: float) -> None:
        seen = peek(payload)
        log.warning("fleet: command %s refused: %s (%s)", seen.get("nonce", "?"), err.reason, err)
        try:
            with self.db.transaction(now) as tx:
                fleet_store.bump(tx, "commands_refused")
                tx.audit(ACTOR, "fleet_command_refused", None, reason=err.reason, detail=str(err)[:200], **seen)
                self._answer(tx, {**seen, "outcome": "refused", "reason": err.reason, "detail": {}})
        except StorageError as store_err:
            log.error("fleet: a refusal was not recorded: %s", store_err)
            return
        self.refused += 1
        self._queued()

    def _finish(self, command: Command, outcome: str, reason: str | None, detail: dict[str, Any]) -> None:
        try:
            with self.db.transaction(self.clock.now()) as tx:
                fleet_store.bump(tx, f"commands_{outcome}")
                tx.audit(f"{ACTOR}:{command.clerk}", f"fleet_command_{outcome}", _subject(command), op=command.op,
                         nonce=command.nonce, reason=reason, **detail)
                self._answer(tx, {"nonce": command.nonce, "op": command.op, "outcome": outcome, "reason": reason,
                                  "detail": detail})
        except StorageError as err:
            log.error("fleet: the outcome of command %s was not recorded: %s", command.nonce, err)
            return
        if outcome == "done":
            self.done += 1
        else:
            self.failed += 1
        self._queued()

    def _answer(self, tx, data: dict[str, Any]) -> None:
        msg_id = fleet_store.new_id()
        fleet_store.queue(tx, topics.result(self.site),
                          topics.envelope(msg_id, self.site, "command_result", tx.now, data),
                          retain=False, msg_id=msg_id)


def _subject(command: Command) -> str | None:
    locker = command.args.get("locker")
    return f"locker:{locker}" if locker is not None else None
