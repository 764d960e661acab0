"""Settings of the store-backend link, as checked by ``kiosk.config``.

``StoreSettings`` is the ``[store]`` table (where the store is, how it is trusted, how
events are batched and retried); ``VerificationSettings`` is the ``[verification]``
table (which methods are checked online at the store, what happens when it cannot be
reached, how often the kiosk may ask). Plain values only: the client and the service
layer turn them into connections, keys and limiters.

``http://`` is allowed only for a loopback host (the store emulator); anything that
leaves the machine goes over TLS with the store's CA pinned (``ca_file``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiosk.endpoints import endpoint_problem

SITE_KEY_FILE = "site_key.pem"

LOCAL, ONLINE = "local", "online"
FALLBACK_LOCAL, FALLBACK_SEE_STAFF = "local", "see_staff"


@dataclass(frozen=True)
class StoreSettings:
    url: str | None = None               # None: no store link (events wait in the outbox)
    public_key: str | None = None        # the store's Ed25519 key, base64url (pinned)
    ca_file: Path | None = None          # the store's CA, pinned (https only)
    site_key: Path | None = None         # None: next to the database
    batch_size: int = 100                # events per POST (the protocol allows 1..500)
    timeout_s: float = 10.0              # per exchange
    manifest_interval_s: float = 300.0   # how often the manifest is pulled
    anchor_interval_s: float = 900.0     # how often the audit chain's head is sent (and at shutdown)
    backoff_initial_s: float = 2.0       # first retry delay after a failure (before jitter)
    backoff_max_s: float = 300.0         # cap on the retry delay

    @property
    def enabled(self) -> bool:
        return self.url is not None


@dataclass(frozen=True)
class VerificationSettings:
    methods: dict[str, str] = field(default_factory=dict)   # method -> "local" | "online"
    fallback: str = FALLBACK_LOCAL        # when the store cannot answer
    online_rate_per_minute: float = 30.0  # sustained online checks this site may ask for
    online_burst: int = 5                 # ... and how many at once
    online_timeout_s: float = 5.0         # a person is waiting

    def mode(self, method: str) -> str:
        return self.methods.get(method, LOCAL)

    @property
    def any_online(self) -> bool:
        return ONLINE in self.methods.values()


def url_problem(url: str, ca_file: Path | None) -> str | None:
    """Why ``url`` cannot be the store's address (None when it can)."""
    return endpoint_problem(url, ca_file, secure="https", plain="http", ca_key="[store] ca_file", path_allowed=True,
                            what="an https:// URL")
