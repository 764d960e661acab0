"""Put a virtual card into a vpcd reader: the card side of vsmartcard's socket protocol.

pcscd loads vpcd (``libifdvpcd.so``), which listens on a TCP port per slot. Inserting a
card is connecting to that port; removing it is closing the connection. Framing, both
ways: a 2-byte big-endian length, then the payload. A 1-byte payload from vpcd is a
control message (00 power off, 01 power on, 02 reset, 04 "send the ATR"); anything
longer is a command APDU, answered with the response APDU. vpcd polls presence with
04 about every 400 ms, so the card answers it at any time.

Faults: ``pull_on(match, after=False)`` pulls the card out when a command matching
``match(cmd)`` arrives: before the card ran it (``after=False``), or after it ran but
before the answer left (``after=True``), the two ways a real pull can fall.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable

from drivers.cards.apdu import APDUError, Command
from hwsim.cards.openpgp_card import OpenPGPCardSim
from hwsim.history import History

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
SOURCE = "card"


class VirtualCardSlot:
    """One vpcd slot on ``host:port`` and the card that may be in it."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", history: History | None = None):
        self.host, self.port = host, port
        self.history = history or History()
        self.card: OpenPGPCardSim | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pull: tuple[Callable[[Command], bool], bool] | None = None
        self.apdus = 0

    def __repr__(self) -> str:
        state = f"card {self.card.state.serial.hex()}" if self.inserted and self.card else "empty"
        return f"<VirtualCardSlot {self.host}:{self.port} {state}>"

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, card: OpenPGPCardSim, *, timeout: float = 10.0) -> None:
        """Put ``card`` in (connect to vpcd). Raises RuntimeError if a card is already in,
        ConnectionError when vpcd does not listen within ``timeout`` (pcscd not running)."""
        with self._lock:
            if self._sock is not None:
                raise RuntimeError(f"{self!r}: a card is already inserted")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=2.0)
                    break
                except OSError as err:
                    if time.monotonic() > deadline:
                        raise ConnectionError(f"vpcd does not listen on {self.host}:{self.port}: {err}") from err
                    time.sleep(0.05)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.card, self._sock = card, sock
            card.power_on()
            greeted = threading.Event()
            self._thread = threading.Thread(target=self._serve, args=(sock, card, greeted), daemon=True,
                                            name=f"vpcd-card-{self.port}")
            self._thread.start()
        # vpcd takes a new card only after it noticed the last one left (its next poll), so
        # wait for its first message: from then on pcscd reports this card, not a stale one.
        if not greeted.wait(timeout):
            self.remove()
            raise ConnectionError(f"vpcd on {self.host}:{self.port} accepted no card within {timeout} s")
        self.history.record(SOURCE, "inserted", port=self.port, serial=card.state.serial.hex())

    def remove(self) -> OpenPGPCardSim | None:
        """Take the card out (close the connection). Returns it; None if the slot was empty."""
        with self._lock:
            card, thread = self.card, self._thread
            self._close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        return card

    def pull_on(self, match: Callable[[Command], bool], *, after: bool = False) -> None:
        """Pull the card out when the next command with ``match(cmd)`` true arrives."""
        self._pull = (match, after)

    # --- the socket ----------------------------------------------------------------------------

    def _close(self) -> None:
        sock, self._sock = self._sock, None
        self._thread = None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            self.history.record(SOURCE, "removed", port=self.port)

    def _serve(self, sock: socket.socket, card: OpenPGPCardSim, greeted: threading.Event) -> None:
        try:
            while True:
                (n,) = struct.unpack("!H", _recv(sock, 2))
                msg = _recv(sock, n)
                greeted.set()
                if n == 1:
                    if msg[0] == CTRL_ATR:
                        _send(sock, card.atr)
                    elif msg[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                        card.power_on()
                    continue
                if self._should_pull(msg, card):
                    return
                self.apdus += 1
                _send(sock, card.process(msg))
        except (EOFError, OSError):
            pass
        finally:
            with self._lock:
                if self._sock is sock:
                    self._close()

    def _should_pull(self, msg: bytes, card: OpenPGPCardSim) -> bool:
        if self._pull is None:
            return False
        try:
            cmd = Command.parse(msg)
        except APDUError:
            return False
        match, after = self._pull
        if not match(cmd):
            return False
        self._pull = None
        if after:
            card.process(msg)
        self.history.record(SOURCE, "pulled", ins=f"{cmd.ins:02X}", after=after)
        return True


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        # vpcd writes the length and the payload separately; without an immediate ACK the
        # second write waits for Linux's delayed ACK (~40 ms per APDU). QUICKACK does not
        # stick, so it is set again after every read.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        buf += chunk
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("!H", len(payload)) + payload)
