"""The health of the link to the store, kept in the database (``sync_status``).

One row per channel: ``events`` (the outbox pump), ``manifest`` (the pull) and
``verify`` (online verification). `kiosk status` reads it without the controller, the
UI gets it through ``Controller.status()``, and a change between working and failing is
published on the event bus as ``sync_status``.

A reply the store should never have sent (bad signature, wrong shape) is more than a
failed exchange: it is written to the audit log, and the first of a run is also queued
for the store as a ``device_health`` event, so somebody there learns that this pickup
point is being sent forged or broken documents.
"""

from __future__ import annotations

import logging

from kiosk.errors import BadStoreReply, BadStoreSignature
from kiosk.service.site import Site

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 300


def describe(err: BaseException) -> str:
    """How an error is kept and shown: its class and words, bounded (never a secret)."""
    return f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]


def succeeded(site: Site, channel: str, tx=None, **fields) -> None:
    """Record a successful exchange on ``channel`` (in ``tx`` when given)."""
    now = site.now()
    was = site.db.sync_channel(channel)
    values = dict(last_attempt_at=now, last_success_at=now, failures=0, next_attempt_at=None) | fields
    if tx is None:
        with site.db.transaction(now) as own:
            own.save_sync_channel(channel, **values)
    else:
        tx.save_sync_channel(channel, **values)
    if was["failures"]:
        log.info("store %s: working again after %d failure(s)", channel, was["failures"])
        site.bus.publish("sync_status", now, channel=channel, ok=True)


def failed(site: Site, channel: str, err: BaseException, *, next_attempt_at: float | None,
           event_ids: list[str] | None = None) -> int:
    """Record a failed exchange on ``channel``; returns the count of consecutive failures."""
    now = site.now()
    was = site.db.sync_channel(channel)
    failures = was["failures"] + 1
    words = describe(err)
    rejected = isinstance(err, BadStoreReply)
    with site.db.transaction(now) as tx:
        if event_ids:
            tx.record_send_failure(event_ids, words)
        tx.save_sync_channel(channel, last_attempt_at=now, last_error=words, last_error_at=now,
                             failures=failures, next_attempt_at=next_attempt_at)
        if rejected:
            tx.audit("kioskd", "store_reply_rejected", channel, reason=words,
                     signature=isinstance(err, BadStoreSignature))
            if was["last_error"] != words:
                tx.emit("device_health", None, component="store_link", channel=channel,
                        problem="bad_signature" if isinstance(err, BadStoreSignature) else "bad_reply", at=now)
    level = logging.WARNING if rejected or failures == 1 else logging.DEBUG
    log.log(level, "store %s: %s (failure %d)", channel, words, failures)
    if failures == 1 or rejected:
        site.bus.publish("sync_status", now, channel=channel, ok=False, error=words, rejected=rejected)
    return failures
