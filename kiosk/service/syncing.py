"""The link to the store backend as the controller runs it: three loops and a verifier.

``Sync`` builds the StoreClient (kiosk.sync) from ``[store]`` and the site key, and
runs the outbox pump, the manifest pull and the audit anchoring (kiosk.service.anchoring)
as tasks on the controller's event loop; at ``stop`` it anchors the audit chain once more
and gives the pump one last, short pass to deliver it;
``verifier`` answers online checks for kiosk.service.pickup. All three keep time with
the controller's injected clock (``poke`` after moving a ManualClock) and share one
backoff policy, whose random source can be seeded.

    sync = Sync(site, site_key)      # raises ConfigError for a URL or key not allowed
    sync.start(); ...; await sync.stop()
"""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.service import anchoring
from kiosk.service.anchoring import AuditAnchorer
from kiosk.service.manifest_pull import ManifestPuller, PullResult
from kiosk.service.outbox_pump import OutboxPump
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier
from kiosk.service.wakeup import Wakeup
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import StoreClient

log = logging.getLogger(__name__)


class Sync:
    def __init__(self, site: Site, site_key: Ed25519PrivateKey, *, rng: random.Random | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, max_wait_s: float = 0.5):
        """Raises ConfigError."""
        settings = site.config.store
        self.site = site
        self.client = StoreClient(settings, site.config.site_id, site_key, transport=transport, clock=site.clock)
        self.backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s, rng)
        self._pump_wakeup = Wakeup(site.clock, max_wait_s)
        self._pull_wakeup = Wakeup(site.clock, max_wait_s)
        self._anchor_wakeup = Wakeup(site.clock, max_wait_s)
        self.pump = OutboxPump(site, self.client, self.backoff, batch_size=settings.batch_size,
                               wakeup=self._pump_wakeup)
        self.puller = ManifestPuller(site, self.client, self.backoff, interval_s=settings.manifest_interval_s,
                                     wakeup=self._pull_wakeup)
        self.anchorer = AuditAnchorer(site, interval_s=settings.anchor_interval_s, wakeup=self._anchor_wakeup)
        self.verifier = OnlineVerifier(self.client, site.config.verification, site.clock)
        self._tasks: list[asyncio.Task] = []

    def __repr__(self) -> str:
        return f"<Sync {self.client!r}>"

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._pump_wakeup.bind(loop)
        self._pull_wakeup.bind(loop)
        self._anchor_wakeup.bind(loop)
        self.site.db.on_emit(self._pump_wakeup.poke)
        self._tasks = [asyncio.create_task(self.pump.run(), name="outbox-pump"),
                       asyncio.create_task(self.puller.run(), name="manifest-pull"),
                       asyncio.create_task(self.anchorer.run(), name="audit-anchor")]

    async def stop(self, *, flush_s: float = 2.0) -> None:
        """Stop the loops; anchor the audit chain's head and, unless the pump is backing off,
        try (for at most ``flush_s`` real seconds) to deliver it. Whatever is not delivered
        waits in the outbox."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        try:
            anchoring.anchor(self.site)
            if self.pump.due():   # not while backing off: the store is known to be failing
                async with asyncio.timeout(flush_s):   # not wait_for: it can swallow a cancellation on 3.11
                    await self.pump.pass_once()
        except Exception as err:   # noqa: BLE001 - a last delivery must never stop the shutdown
            log.warning("store sync: the shutdown anchor stays queued (%s)", type(err).__name__)
        await self.client.aclose()

    def poke(self) -> None:
        """The clock has moved (or something is queued): look at the deadlines again now."""
        self._pump_wakeup.poke()
        self._pull_wakeup.poke()
        self._anchor_wakeup.poke()

    async def pull_now(self) -> PullResult:
        """Pull the manifest now. Raises the SyncError family (already recorded)."""
        return await self.puller.pull_now()

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait (real time, at most ``timeout``) until neither loop has anything due at the
        current time of the clock: for scenarios and tests driving a ManualClock.

        Raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.poke()
        while not (self.pump.settled() and self.puller.settled() and self.anchorer.settled()):
            if loop.time() > deadline:
                raise TimeoutError(f"store sync did not settle in {timeout} s ({self.pump!r}, {self.puller!r})")
            self.poke()
            await self.pump.wait_passed(0.02)

    def status(self) -> dict:
        return {"enabled": True, "store": self.client.settings.url, **self.site.db.sync_summary()}
