"""A screen's end of the service socket: the same calls as the in-process controller.

``ServiceClient`` implements every Protocol of kiosk.service.api (its methods are made from
the Protocols themselves, so the two cannot drift apart), plus ``sign_in``/``sign_out`` for
staff. Events pushed by the controller are delivered through ``subscribe()`` as in process.

When the connection drops, the client says so on its own event stream (``service_state``
with ``in_service`` False, reason ``reconnecting``) so the screen can show it, reconnects
with backoff, resumes a staff sign-in, and re-sends each request that was in flight with
its original ``rid``: the controller answers it from memory and never makes it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import logging
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from kiosk.errors import KioskError
from kiosk.service import api
from kiosk.service.dto import UiSettings
from kiosk.service.events import EventBus, EventKind, Subscription, from_wire
from kiosk.service.socket_codec import (MAX_LINE, PROTOCOL, ProtocolError, decode_error, decode_value, dumps,
                                        encode_value, loads)

log = logging.getLogger(__name__)

RECONNECT_S = (0.05, 0.2, 0.5, 1.0, 2.0)


class ServiceClient:
    """Connect with ``await ServiceClient.connect(path)``; ``await client.close()`` at the end."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.bus = EventBus()
        self._settings: UiSettings | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future, dict]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._stream: asyncio.StreamReader | None = None
        self._reader_task: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._session: str | None = None
        self.role = "recipient"
        self.staff_id: str | None = None
        self.reconnects = 0

    def __repr__(self) -> str:
        return f"<ServiceClient {self.path} role={self.role} {'up' if self._connected.is_set() else 'down'}>"

    @classmethod
    async def connect(cls, path: Path) -> ServiceClient:
        client = cls(path)
        await client._open()
        client._reader_task = asyncio.create_task(client._run())
        return client

    async def close(self) -> None:
        self._closing = True
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self._drop_connection()
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(KioskError("the screen closed its service connection"))

    # --- the connection ---------------------------------------------------------------------

    async def _open(self) -> asyncio.StreamReader:
        reader, writer = await asyncio.open_unix_connection(str(self.path), limit=MAX_LINE)
        hello = loads(await reader.readline()).get("hello")
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL:
            writer.close()
            raise ProtocolError(f"the controller speaks service protocol {hello and hello.get('protocol')!r}, "
                                f"this screen {PROTOCOL}")
        self._settings = decode_value(hello["ui_settings"])
        self._writer, self._stream = writer, reader
        return reader

    async def _run(self) -> None:
        delays: Iterator[float] = iter(())
        while not self._closing:
            reader = self._stream
            if reader is None:
                try:
                    reader = await self._open()
                except (OSError, ProtocolError):
                    await asyncio.sleep(next(delays, RECONNECT_S[-1]))
                    continue
                await self._resume()
            self._connected.set()
            self.bus.publish(EventKind.SERVICE_STATE, time.time(), in_service=True, reason="connected")
            delays = iter(RECONNECT_S)
            try:
                await self._read(reader)
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as err:
                log.warning("service connection lost: %s", err)
            self._drop_connection()
            if not self._closing:
                self.reconnects += 1
                self.bus.publish(EventKind.SERVICE_STATE, time.time(), in_service=False, reason="reconnecting")

    async def _resume(self) -> None:
        """After a reconnect: the staff sign-in back, then every request still unanswered."""
        assert self._writer is not None
        if self._session:
            self._writer.write(dumps({"id": 0, "rid": secrets.token_hex(8), "call": "resume",
                                      "args": {"session": self._session}}))
        for _, request in self._pending.values():
            self._writer.write(dumps(request))
        await self._writer.drain()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionResetError("the controller closed the connection")
            message = loads(line)
            if "event" in message:
                try:
                    event = from_wire(message["event"])
                except (ValueError, KeyError, TypeError):
                    log.warning("an event this screen does not know was skipped")
                    continue
                self.bus.deliver(event)
                continue
            if message.get("id") == 0 and "ok" in message:
                self.role = message["ok"] if isinstance(message["ok"], str) else "recipient"
                if self.role == "recipient":
                    self._session = None
                continue
            ident = message.get("id")
            entry = self._pending.pop(ident, None) if isinstance(ident, int) else None
            if entry is None:
                continue
            future = entry[0]
            if future.done():
                continue
            if "error" in message:
                future.set_exception(decode_error(message["error"]))
            else:
                future.set_result(decode_value(message.get("ok")))

    def _drop_connection(self) -> None:
        self._connected.clear()
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        self._stream = None

    async def request(self, call: str, **args: Any) -> Any:
        """Make ``call`` with ``args``; answered once, even across reconnects."""
        ident = next(self._ids)
        message = {"id": ident, "rid": secrets.token_hex(16), "call": call,
                   "args": {k: encode_value(v) for k, v in args.items()}}
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[ident] = (future, message)
        if self._writer is not None:
            try:
                self._writer.write(dumps(message))
                await self._writer.drain()
            except OSError:
                pass        # re-sent after the reconnect
        return await future

    def as_service(self) -> api.KioskService:
        """This client, typed as the service it implements: its methods are made from the
        Protocols at import (below), which a type checker cannot see; the conformance test
        (tests/service/test_service_socket.py) checks them call for call."""
        return cast(api.KioskService, self)

    # --- every screen -----------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        return self.bus.subscribe()

    def ui_settings(self) -> UiSettings:
        assert self._settings is not None
        return self._settings

    async def sign_in(self, code: str) -> str:
        """Sign this screen in with a staff code; returns the role (clerk, technician).
        Raises CodeInvalid, SlowDown."""
        answer = await self.request("sign_in", code=code)
        self._session, self.role, self.staff_id = answer["session"], answer["role"], answer["staff_id"]
        return self.role

    async def sign_out(self) -> None:
        await self.request("sign_out")
        self._session, self.role, self.staff_id = None, "recipient", None


def _remote(name: str, declared: Any):
    signature = inspect.signature(declared)

    @functools.wraps(declared)
    async def call(self: ServiceClient, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop("self")
        return await self.request(name, **params)
    return call


for _name, _declared in api.calls(api.KioskService).items():
    if _name not in ("subscribe", "ui_settings") and inspect.iscoroutinefunction(_declared):
        setattr(ServiceClient, _name, _remote(_name, _declared))
