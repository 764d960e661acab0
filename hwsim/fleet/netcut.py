"""A TCP path to the broker that can lose the network, the way a site's uplink does.

``NetPath(broker_port)`` listens on a loopback port and forwards every connection to the
broker. ``cut()`` makes it a black hole: bytes in either direction are dropped, nothing
is closed, no FIN, no RST — so neither end learns of it except by its keep-alive (the
broker then publishes the site's last will). New connections are accepted and held the
same way. ``restore()`` resets what was held and forwards again. Runs on the asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time


class NetPath:
    def __init__(self, broker_port: int, host: str = "127.0.0.1"):
        self.broker_port, self.host = broker_port, host
        self.port = 0
        self.cut_at: float | None = None      # time.monotonic() of the cut
        self._restored = asyncio.Event()
        self._restored.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def is_cut(self) -> bool:
        return not self._restored.is_set()

    async def start(self) -> NetPath:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def cut(self) -> None:
        self.cut_at = time.monotonic()
        self._restored.clear()

    def restore(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self.cut_at = None
        self._restored.set()

    async def close(self) -> None:
        self._restored.set()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.is_cut:
            await self._restored.wait()
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.broker_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._copy(reader, up_writer), self._copy(up_reader, writer), return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = await reader.read(65536)
                if self.is_cut:            # the black hole: drop it, close nothing, wait for the line back
                    await self._restored.wait()
                    return
                if not data:
                    return
                writer.write(data)
                await writer.drain()
