"""The HTTP client for the store: pinned TLS, plain HTTP only on loopback, nothing implicit.

- ``https://`` verifies the store's certificate against ``[store] ca_file`` only: the
  system's trust store is not consulted, so a certificate from any other CA is refused.
- ``http://`` is accepted only for a loopback host (the store emulator); anything else
  is a ConfigError, also here, so no code path can send a receipt notice in the clear.
- No proxies from the environment (``trust_env=False``), no redirects, no retries below
  us: retrying is the sync engine's decision, made with backoff and per-parcel order.
"""

from __future__ import annotations

import ssl

import httpx

from kiosk.endpoints import pinned_tls_context
from kiosk.errors import ConfigError
from kiosk.sync.settings import StoreSettings, url_problem

USER_AGENT = "pickup-kiosk/1 (store-sync v1)"


def tls_context(ca_file) -> ssl.SSLContext:
    return pinned_tls_context(ca_file, "store.ca_file")


def make_client(settings: StoreSettings, site_id: str, *,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An AsyncClient for the store at ``settings.url``.

    ``transport`` replaces the network (tests). Raises ConfigError for a URL that is
    not allowed (plain HTTP off loopback, https without a pinned CA)."""
    if not settings.url:
        raise ConfigError([("store.url", "is not set")])
    reason = url_problem(settings.url, settings.ca_file)
    if reason:
        raise ConfigError([("store.url", reason)])
    if transport is None:
        verify: ssl.SSLContext | bool = (tls_context(settings.ca_file) if settings.url.startswith("https:")
                                         else False)
        transport = httpx.AsyncHTTPTransport(verify=verify, retries=0, trust_env=False,
                                             limits=httpx.Limits(max_connections=4, max_keepalive_connections=2))
    return httpx.AsyncClient(base_url=settings.url, transport=transport, trust_env=False, follow_redirects=False,
                             timeout=httpx.Timeout(settings.timeout_s),
                             headers={"User-Agent": USER_AGENT, "X-Site-Id": site_id})
