"""Pickup at a locker with a fingerprint (F5; docs/biometrics.md).

The recipient gives the trade number and places a finger on the sensor. The store holds
the reference; ``[verification] biometric`` says where the finger is matched (【0192】【0194】):

- ``local``: the reference is fetched from the store for this check only (signed, over
  the pinned link), downloaded into the module, the finger captured and matched there
  with the module's score against its threshold;
- ``online``: the finger's template is captured and sent to the store's matcher, whose
  signed answer is for exactly this request.

Either way the template lives in memory for the one check: never written to the database,
a log or an event, and the module's buffers are overwritten after every check (the
driver's ``finally``). The checks and limits are those of every other method:
site slow-down → parcel known, collectable, of method ``biometric``, in a working locker
→ the attempt gate → a different finger is one failed attempt of the parcel and the site
(a "locked" from the store locks it here too) → one transaction opening the locker with
its audit entry (how it was matched and the score, never a template) → pulse. The parcel
becomes collected only on door evidence, as for every pickup.

No finger, a poor image and a sensor or store that cannot answer are not attempts: the
screen says what to do (FingerProblem with a reason).
"""

from __future__ import annotations

import asyncio
import logging
from typing import NoReturn

from kiosk.devices.roles import BiometricMatcher
from kiosk.domain import attempts as A
from kiosk.domain.parcels import LOCKED_OUT_MESSAGE
from kiosk.errors import (CodeInvalid, DeviceError, FingerProblem, LockedOut, NotCollectable, SeeStaff, StoreBusy,
                          StoreRejected, SyncError)
from kiosk.service import sync_health
from kiosk.service.dto import DoorOpening
from kiosk.service.pickup import (_check_collectable, check_trade_number, open_for_pickup, recent_failures,
                                  record_failure)
from kiosk.service.site import Site
from kiosk.service.verification import lock_locally
from kiosk.sync.client import StoreClient
from kiosk.sync.settings import ONLINE

log = logging.getLogger(__name__)
METHOD = "biometric"
CHANNEL = "verify"   # the store's checks share one health channel with online verification


async def submit_finger(site: Site, matcher: BiometricMatcher | None, store: StoreClient | None,
                        trade_number: str) -> DoorOpening:
    """Match the finger on the sensor for ``trade_number``; on success the locker door is
    unlocked. ``store`` is the link to the store (it holds the references).

    Raises OutOfService, SlowDown, UnknownParcel, LockedOut, NotCollectable, SeeStaff,
    CodeInvalid (another finger: attempts left), FingerProblem, DoorFault."""
    parcel = check_trade_number(site, trade_number)
    trade, policy = parcel.trade_number, site.config.attempts
    if parcel.method != METHOD:
        raise NotCollectable("this parcel is not collected with a fingerprint", "wrong_method")
    with site.gate.admit(recent_failures(site), site.now(), policy, trade):
        matched, score, how = await match_finger(site, matcher, store, trade)
        parcel = site.db.require_parcel(trade)   # the world may have moved meanwhile
        _check_collectable(site, parcel)
        if not matched:
            raise_wrong_finger(site, trade)
    detail = {"score": score} if score is not None else {}
    return await open_for_pickup(site, parcel, how, "finger", **detail)


async def match_finger(site: Site, matcher: BiometricMatcher | None, store: StoreClient | None,
                       trade: str) -> tuple[bool, int | None, str]:
    """Match the finger on the sensor for ``trade`` as ``[verification] biometric`` says:
    (matched, the module's score or None, "local" or "online"). Call it inside the attempt
    gate. Raises FingerProblem, LockedOut, SeeStaff."""
    if matcher is None:
        raise FingerProblem("there is no fingerprint sensor here; please see staff", "unavailable")
    if store is None:
        raise FingerProblem("fingerprints cannot be checked here (no link to the store); please see staff",
                            "unavailable")
    if site.config.verification.mode(METHOD) == ONLINE:
        matched, score = await _match_at_store(site, matcher, store, trade)
        return matched, score, "online"
    matched, score = await _match_here(site, matcher, store, trade)
    return matched, score, "local"


def raise_wrong_finger(site: Site, trade: str) -> NoReturn:
    """Another finger: one failed attempt of the parcel and the site. Raises CodeInvalid or LockedOut."""
    parcel = record_failure(site, trade, known=True)
    if parcel.locked_out:
        raise LockedOut(LOCKED_OUT_MESSAGE)
    raise CodeInvalid("the finger does not match", A.attempts_left(parcel, site.config.attempts))


async def _match_here(site: Site, matcher: BiometricMatcher, store: StoreClient, trade: str) -> tuple[bool, int | None]:
    """Local matching: the store's reference into the module, the finger matched there."""
    try:
        reference = await store.fetch_biometric_reference(trade, timeout_s=site.config.verification.online_timeout_s)
    except SyncError as err:
        _store_failed(site, err)
    sync_health.succeeded(site, CHANNEL)
    try:
        result = await asyncio.to_thread(matcher.verify, reference)
    except (DeviceError, ValueError) as err:
        raise _sensor_failed(site, err) from None
    finally:
        del reference
    if result.outcome in ("no_finger", "poor_image"):
        raise _not_read(result.outcome)
    return result.matched, result.score


async def _match_at_store(site: Site, matcher: BiometricMatcher, store: StoreClient,
                          trade: str) -> tuple[bool, int | None]:
    """Central matching: the finger's template captured here, judged by the store."""
    try:
        captured = await asyncio.to_thread(matcher.capture)
    except DeviceError as err:
        raise _sensor_failed(site, err) from None
    if not isinstance(captured, bytes):
        raise _not_read(captured.outcome)
    try:
        verdict = await store.match_biometric(trade, captured, timeout_s=site.config.verification.online_timeout_s)
    except SyncError as err:
        _store_failed(site, err)
    finally:
        del captured
    sync_health.succeeded(site, CHANNEL)
    if verdict == "locked":
        lock_locally(site, trade)
        raise LockedOut("the store has locked this parcel after too many wrong attempts; please see staff")
    if verdict == "unknown":
        raise SeeStaff("the store does not recognise this parcel; please see staff")
    return verdict == "match", None


def _not_read(outcome: str) -> FingerProblem:
    if outcome == "no_finger":
        return FingerProblem("no finger was placed on the sensor; place it flat and try again", "no_finger")
    return FingerProblem("the finger could not be read; clean it, place it flat and try again", "poor_image")


def _sensor_failed(site: Site, err: Exception) -> FingerProblem:
    log.error("fingerprint sensor failed: %s", err)
    with site.db.transaction(site.now()) as tx:
        tx.emit("device_health", None, component="biometric", problem=str(err)[:200], at=site.now())
        tx.audit("kioskd", "device_unavailable", "biometric", reason=str(err)[:200])
    return FingerProblem("the fingerprint sensor is not working; please see staff", "unavailable")


def _store_failed(site: Site, err: SyncError) -> NoReturn:
    """The store could not give a reference or an answer: no attempt, staff (never a fallback:
    there is nothing here to match against). Always raises."""
    if isinstance(err, StoreRejected) and err.code == "unknown_parcel":
        raise SeeStaff("the store does not recognise this parcel; please see staff")
    if isinstance(err, StoreBusy):
        sync_health.failed(site, CHANNEL, err, next_attempt_at=site.now() + err.retry_after)
    else:
        sync_health.failed(site, CHANNEL, err, next_attempt_at=None)
    raise FingerProblem("fingerprints cannot be checked right now (the store cannot answer); please see staff",
                        "unavailable")
