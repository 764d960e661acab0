"""Checking a recipient's secret: locally against the held hash, or online at the store.

``[verification]`` chooses per method (【0049】【0173】【0178】). Online, the question is
first put to this site's own rate limit (a token bucket on the injected clock), then to
the store, whose answer counts only with a valid signature for exactly this request.
When the store cannot answer — unreachable, an error status, a forged or broken reply
— the configured fallback applies: the held reference when there is one (and the
fallback is "local"), otherwise a clear "see staff". A 429 from the store is the
store's own guessing limit and is never bypassed by checking locally.

Attempt limits are the caller's, as for a local check: a "mismatch" from the store is
one more failed attempt here too. A "locked" from the store locks the parcel here as
well (audited, reported): otherwise a fallback to the local check — the store briefly
unreachable — would let the guessing go on where the store has stopped it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Callable

from kiosk.domain.parcels import Parcel
from kiosk.errors import BadStoreReply, LockedOut, SeeStaff, SlowDown, StoreBusy, SyncError
from kiosk.security.secrets import is_valid_hash
from kiosk.service import sync_health
from kiosk.service.site import Site
from kiosk.sync.client import StoreClient
from kiosk.sync.ratelimit import TokenBucket
from kiosk.sync.settings import FALLBACK_LOCAL, ONLINE, VerificationSettings

CHANNEL = "verify"
MAX_SECRET_CHARS = 64   # the protocol's bound: nothing longer can be a secret the store issued


@dataclass(frozen=True)
class Check:
    matches: bool
    how: str     # "local", "online", "local_fallback" or "not_asked" (kept in the audit log)


class OnlineVerifier:
    """The store's online check behind this site's own rate limit."""

    def __init__(self, client: StoreClient, settings: VerificationSettings, clock):
        self.client = client
        self.settings = settings
        self.bucket = TokenBucket(settings.online_rate_per_minute / 60.0, settings.online_burst, clock)

    def __repr__(self) -> str:
        return f"<OnlineVerifier {self.bucket!r}>"

    async def ask(self, parcel: Parcel, secret: str) -> str:
        """The store's verdict. Raises SlowDown (our limit or the store's 429), SyncError."""
        wait = self.bucket.take()
        if wait > 0:
            raise SlowDown(wait)
        try:
            return await self.client.verify_secret(parcel.trade_number, parcel.method, secret,
                                                   timeout_s=self.settings.online_timeout_s)
        except StoreBusy as err:
            raise SlowDown(err.retry_after) from err


async def check_secret(site: Site, parcel: Parcel, secret: str, online: OnlineVerifier | None, *,
                       local: Callable[[str, str], bool]) -> Check:
    """Is ``secret`` right for ``parcel``? ``local(secret, hash)`` is the local check
    (run in the hasher pool).

    Raises SlowDown, LockedOut (the store has locked the parcel), SeeStaff (the store does
    not know the parcel, or cannot answer and there is no local fallback)."""
    settings = site.config.verification
    if settings.mode(parcel.method) != ONLINE or online is None:
        return Check(await site.off_loop(local, secret, parcel.secret_hash or ""), "local")
    if not 1 <= len(secret.strip()) <= MAX_SECRET_CHARS:
        return Check(False, "not_asked")   # wrong without asking: the store would refuse the request
    try:
        verdict = await online.ask(parcel, secret)
    except SlowDown as err:
        if isinstance(err.__cause__, StoreBusy):
            sync_health.failed(site, CHANNEL, err.__cause__, next_attempt_at=site.now() + err.retry_after)
        raise
    except SyncError as err:
        sync_health.failed(site, CHANNEL, err, next_attempt_at=None)
        return await _fallback(site, parcel, secret, local, err)
    sync_health.succeeded(site, CHANNEL)
    if verdict == "match":
        return Check(True, "online")
    if verdict == "mismatch":
        return Check(False, "online")
    if verdict == "locked":
        lock_locally(site, parcel.trade_number)
        raise LockedOut("the store has locked this parcel after too many wrong attempts; please see staff")
    raise SeeStaff("the store does not recognise this parcel; please see staff")


def lock_locally(site: Site, trade_number: str) -> None:
    """The store says the parcel is locked: lock it here too (once)."""
    with site.db.transaction(site.now()) as tx:
        parcel = tx.parcel(trade_number)
        if parcel is None or parcel.locked_out:
            return
        tx.save_parcel(replace(parcel, locked_out=True))
        tx.emit("parcel_locked_out", trade_number, at=tx.now, by="store")
        tx.audit("store", "parcel_locked_out", trade_number, failed_attempts=parcel.failed_attempts)


async def _fallback(site: Site, parcel: Parcel, secret: str, local, err: SyncError) -> Check:
    settings = site.config.verification
    if settings.fallback == FALLBACK_LOCAL and is_valid_hash(parcel.secret_hash):
        return Check(await site.off_loop(local, secret, parcel.secret_hash), "local_fallback")
    why = "gave an answer that cannot be trusted" if isinstance(err, BadStoreReply) else "cannot be reached"
    raise SeeStaff(f"your code cannot be checked right now (the store {why}); please see staff")
