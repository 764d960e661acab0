"""The store-backend client: events out, manifests in, online verification.

No SQL and no rules of the pickup point here: this package speaks the wire protocol
(docs/api/PROTOCOL.md) and nothing else. The service layer (kiosk.service.syncing)
decides what to send, when, and what an answer means for the parcels.

    settings   the [store] and [verification] tables as plain values
    http       the httpx client: pinned TLS, loopback-only plain HTTP, no proxies
    wire       strict parsing of every reply (signed documents checked with the pinned key,
               each for exactly the request sent); EventBatch, a batch of outbox events
               as the exact request body
    client     StoreClient: post_batch, fetch_manifest, fetch_audit_anchors, verify_secret
    backoff    exponential backoff with full jitter, seeded
    ratelimit  a token bucket on an injected clock (online verification)
"""
