"""The emulator's admin API: the control API over HTTP for ``hwsim store …`` commands.

Not part of the contract (no signatures, no versioning): it listens on its own loopback
port so that faults on the store's port never reach it. JSON in, JSON out:

    GET  /_admin/info                        url, public key, faults, counts
    POST /_admin/sites       {site_id, public_key}
    POST /_admin/parcels     {site_id, method?, secret?, amount_due?, hold_s?, locker_hint?, size?, low_door?}
                             -> {trade_number, secret, template?}   (what the recipient is told)
    POST /_admin/parcels/cancel {site_id, trade_number}
    GET  /_admin/events[?site_id=ID]         -> {events, duplicates_received}
    GET  /_admin/requests[?last=N]           -> {requests}
    POST /_admin/faults      {name, params}
    POST /_admin/faults/clear {name?}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from kiosk.errors import KioskError
from kiosk.security.keys import b64url
from hwsim.store.server import Reply, Request, error_reply, json_reply

if TYPE_CHECKING:
    from hwsim.store.emulator import StoreEmulator


class AdminApp:
    def __init__(self, store: "StoreEmulator"):
        self.store = store

    def __call__(self, request: Request) -> Reply:
        handler = _ROUTES.get((request.method, request.path))
        if handler is None:
            known = {path for _, path in _ROUTES}
            if request.path in known:
                allow = ", ".join(m for m, p in _ROUTES if p == request.path)
                return error_reply(405, "method_not_allowed", f"use {allow}", {"Allow": allow})
            return error_reply(404, "not_found", f"no admin operation {request.path}")
        try:
            body = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return json_reply(200, handler(self.store, body, request.query))
        except LookupError as err:
            return error_reply(404, "not_found", str(err))
        except (ValueError, TypeError, KioskError) as err:
            return error_reply(400, "invalid", str(err))


def _info(store, body, query) -> dict:
    return {"url": store.url, "public_key": store.public_key_text, "faults": store.faults,
            "events": len(store.events()), "duplicates_received": store.duplicates_received}


def _register(store, body, query) -> dict:
    store.register_site(body["site_id"], body["public_key"])
    return {"registered": body["site_id"]}


def _create(store, body, query) -> dict:
    options = {k: body[k] for k in ("secret", "amount_due", "hold_s", "locker_hint") if k in body}
    made = store.create_parcel(body["site_id"], body.get("method", "locker"), **options)
    told = {"trade_number": made.trade_number, "secret": made.secret}
    if made.template is not None:
        told["template"] = b64url(made.template)
    return told


def _cancel(store, body, query) -> dict:
    store.cancel_parcel(body["site_id"], body["trade_number"])
    return {"cancelled": body["trade_number"]}


def _events(store, body, query) -> dict:
    site = query.get("site_id", [None])[0]
    return {"events": store.events(site), "duplicates_received": store.duplicates_received}


def _requests(store, body, query) -> dict:
    last = int(query.get("last", ["100"])[0])
    return {"requests": [asdict(r) for r in store.requests[-last:]]}


def _fault(store, body, query) -> dict:
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise ValueError("params must be an object")
    store.set_fault(body["name"], **params)
    return {"faults": store.faults}


def _clear(store, body, query) -> dict:
    store.clear_faults(body.get("name"))
    return {"faults": store.faults}


def _missing(handler):
    """A KeyError from a missing field is the caller's mistake: 400, not 404."""
    def wrapped(store, body, query):
        try:
            return handler(store, body, query)
        except KeyError as err:
            raise ValueError(f"missing field {err}") from None
    return wrapped


_ROUTES = {
    ("GET", "/_admin/info"): _info,
    ("POST", "/_admin/sites"): _missing(_register),
    ("POST", "/_admin/parcels"): _missing(_create),
    ("POST", "/_admin/parcels/cancel"): _missing(_cancel),
    ("GET", "/_admin/events"): _events,
    ("GET", "/_admin/requests"): _requests,
    ("POST", "/_admin/faults"): _missing(_fault),
    ("POST", "/_admin/faults/clear"): _clear,
}
