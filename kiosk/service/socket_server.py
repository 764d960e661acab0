"""The service API over a local Unix socket: screens in their own processes.

The controller owns the devices, the database and the outbox; a screen connects to
``[service] socket`` and makes the calls of kiosk.service.api, as JSON lines
(kiosk.service.socket_codec). Access is two locks deep:

- the socket file is ``0660`` in a ``0750`` folder: only the kiosk's own user and group
  (the screens' systemd units) can connect at all;
- each connection has a **role**. A new connection is a ``recipient`` screen's: the
  recipient and courier calls (a courier signs in with the courier code as today). A clerk
  or technician signs in with their staff code (``[[staff]]``; wrong codes are charged as
  wrong courier codes are: the site's slow-down and the sign-in lockout). A signed-in
  connection is signed out after ``[service] staff_idle_s`` without a call.
- every call beyond a recipient's is audited under the signed-in person (``service_call``,
  with the call's name and its non-secret arguments), and any ``clerk_id`` argument is the
  signed-in person's own id, whatever the screen sent.

**Never twice.** Every request carries ``rid``, an id the screen chose. The server keeps
the outcome of the last ``RID_MEMORY`` requests: a screen that lost its connection with a
request in flight re-sends it with the same ``rid`` after reconnecting and gets the
original outcome — the call is not made again. A signed-in screen resumes its sign-in
after a reconnect with the ``session`` token it got (until the idle time runs out).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import CodeInvalid, KioskError
from kiosk.service import api
from kiosk.service.deposit import check_sign_in_code
from kiosk.service.events import to_wire
from kiosk.service.site import Site
from kiosk.service.socket_codec import (MAX_LINE, PROTOCOL, NotAllowed, ProtocolError, decode_value, dumps,
                                        encode_error, encode_value, loads)

log = logging.getLogger(__name__)

RID_MEMORY = 4096
SECRET_ARGS = {"secret", "code", "text"}   # never audited, never logged

RECIPIENT_CALLS = (set(api.calls(api.RecipientService)) | set(api.calls(api.CourierService))) - {"subscribe",
                                                                                                 "ui_settings"}
CLERK_CALLS = RECIPIENT_CALLS | set(api.calls(api.CounterService)) | set(api.calls(api.ClerkService))
TECHNICIAN_CALLS = CLERK_CALLS | set(api.calls(api.TechnicianService))
# What a staff screen reads by itself (its refreshes): not the person's activity (a panel left
# open is still signed out after [service] staff_idle_s) and not audited (the audit log
# records what people did, not every two-second refresh of the technician panel).
READ_CALLS = frozenset({"counter_desk", "clerk_overview", "returns", "site_status", "device_traffic"})
ROLE_CALLS = {"recipient": RECIPIENT_CALLS, "clerk": CLERK_CALLS - {"subscribe", "ui_settings"},
              "technician": TECHNICIAN_CALLS - {"subscribe", "ui_settings"}}


@dataclass
class StaffSession:
    token: str
    staff_id: str
    role: str
    last_used: float


class ServiceServer:
    """Serve ``service`` (the Controller) on the Unix socket ``path``."""

    def __init__(self, service: Any, path: Path) -> None:
        self.service = service
        self.path = Path(path)
        self._server: asyncio.AbstractServer | None = None
        self._outcomes: OrderedDict[str, asyncio.Future] = OrderedDict()   # rid -> the call's task
        self._sessions: dict[str, StaffSession] = {}
        self._connections: set[asyncio.Task] = set()
        self._closing = False
        self.repeats = 0     # requests answered from memory (sent again after a reconnect)

    def __repr__(self) -> str:
        return f"<ServiceServer {self.path} connections={len(self._connections)}>"

    @property
    def site(self) -> Site:
        return self.service.site

    async def start(self) -> None:
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()          # a socket left by a killed controller
        old = os.umask(0o117)           # the socket is born 0660: no window where others may connect
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        finally:
            os.umask(old)
        log.info("service socket %s", self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._closing = True
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # --- one connection ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        conn = _Connection(self, writer)
        try:
            await conn.run(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Ended by close(): end quietly (asyncio's stream callback would log a cancelled
            # connection task as an error on every controller stop).
            if not self._closing:
                raise
        finally:
            self._connections.discard(task)
            conn.close()

    # --- sessions and calls --------------------------------------------------------------------

    def session(self, token: str | None) -> StaffSession | None:
        """The signed-in session ``token`` names, if it has not gone idle."""
        session = self._sessions.get(token or "")
        if session is None:
            return None
        if self.site.now() - session.last_used > self.site.config.staff_idle_s:
            self._sessions.pop(session.token, None)
            self._audit(session, "staff_signed_out", reason="inactivity")
            return None
        return session

    async def sign_in(self, code: str) -> StaffSession:
        staff = await check_sign_in_code(self.site, code, self.site.config.staff)
        if staff is None:
            raise CodeInvalid("staff code not recognised")
        session = StaffSession(secrets.token_urlsafe(24), staff.id, staff.role, self.site.now())
        self._sessions[session.token] = session
        self._audit(session, "staff_signed_in")
        return session

    def sign_out(self, session: StaffSession | None) -> None:
        if session is not None and self._sessions.pop(session.token, None) is not None:
            self._audit(session, "staff_signed_out", reason="asked")

    def _audit(self, session: StaffSession, action: str, **detail: Any) -> None:
        with self.site.db.transaction(self.site.now()) as tx:
            tx.audit(f"{session.role}:{session.staff_id}", action, None, **detail)

    async def call(self, session: StaffSession | None, rid: str, name: str, args: dict) -> Any:
        """Make call ``name`` once per ``rid``: a repeated rid gets the first outcome."""
        earlier = self._outcomes.get(rid)
        if earlier is not None:
            self.repeats += 1
            return await asyncio.shield(earlier)
        role = session.role if session else "recipient"
        if name not in ROLE_CALLS[role]:
            raise NotAllowed(f"{name}: sign in as clerk or technician first" if session is None
                             else f"{name}: not a {role}'s call")
        method = getattr(self.service, name)
        params = inspect.signature(method).parameters
        if set(args) - set(params):
            raise ProtocolError(f"{name}: unknown argument(s) {', '.join(sorted(set(args) - set(params)))}")
        if session is not None:
            if name not in READ_CALLS:
                session.last_used = self.site.now()
            if "clerk_id" in params:
                args = {**args, "clerk_id": session.staff_id}   # who is signed in, not who the screen says
            if name not in RECIPIENT_CALLS | READ_CALLS:
                self._audit(session, "service_call", call=name,
                            **{k: v for k, v in args.items() if k not in SECRET_ARGS and _scalar(v)})
        # The call is its own task: a screen whose connection drops does not cancel a door
        # half-opened; its repeat (same rid) waits for this same outcome.
        task = asyncio.ensure_future(method(**args))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())   # retrieved: a repeat may never come
        self._outcomes[rid] = task
        while len(self._outcomes) > RID_MEMORY:
            self._outcomes.popitem(last=False)
        return await asyncio.shield(task)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class _Connection:
    def __init__(self, server: ServiceServer, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.session: StaffSession | None = None
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    async def send(self, message: dict) -> None:
        async with self._write_lock:
            self.writer.write(dumps(message))
            await self.writer.drain()

    async def run(self, reader: asyncio.StreamReader) -> None:
        service = self.server.service
        await self.send({"hello": {"protocol": PROTOCOL, "role": "recipient",
                                   "ui_settings": encode_value(service.ui_settings())}})
        self._tasks.add(asyncio.create_task(self._events()))
        while True:
            try:
                line = await reader.readline()
            except ValueError:      # asyncio's "line too long": the stream cannot be resynchronised
                await self.send({"id": None, "error": encode_error(ProtocolError("line too long"))})
                return
            if not line:
                return
            try:
                message = loads(line)
            except ProtocolError as err:
                await self.send({"id": None, "error": encode_error(err)})
                continue
            task = asyncio.create_task(self._request(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _events(self) -> None:
        with self.server.service.subscribe() as events:
            async for event in events:
                await self.send({"event": to_wire(event)})

    async def _request(self, message: dict) -> None:
        ident = message.get("id")
        try:
            result = await self._dispatch(message)
        except KioskError as err:
            await self.send({"id": ident, "error": encode_error(err)})
        except Exception as err:
            log.exception("service call %s failed", message.get("call"))
            await self.send({"id": ident, "error": encode_error(KioskError(f"internal error: {type(err).__name__}"))})
        else:
            await self.send({"id": ident, "ok": encode_value(result)})

    async def _dispatch(self, message: dict) -> Any:
        name, rid, args = message.get("call"), message.get("rid"), message.get("args", {})
        if not isinstance(name, str) or not isinstance(rid, str) or not 8 <= len(rid) <= 64 \
                or not isinstance(args, dict):
            raise ProtocolError("a request needs call (text), rid (8-64 characters) and args (object)")
        args = {k: decode_value(v) for k, v in args.items()}
        server = self.server
        if name == "sign_in":
            self.session = await server.sign_in(str(args.get("code", "")))
            return {"session": self.session.token, "role": self.session.role, "staff_id": self.session.staff_id}
        if name == "resume":
            self.session = server.session(str(args.get("session", "")))
            return self.session.role if self.session else "recipient"
        if name == "sign_out":
            server.sign_out(self.session)
            self.session = None
            return None
        if self.session is not None and server.session(self.session.token) is None:
            self.session = None    # gone idle: this call is made as a recipient screen's (and refused if staff-only)
        return await server.call(self.session, rid, name, args)

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.writer.close()
