"""CardReader driver over PC/SC (pcsc-lite's pcscd, through pyscard).

URL grammar::

    pcsc://?reader=ACS%20ACR39U%20ICC%20Reader&protocol=any&share=exclusive

    reader    the reader's PC/SC name: exact, or a prefix that only one reader has
              (pcscd adds " 00 00"-style suffixes). Required: never "the first reader",
              so a reader plugged in by someone else (or vpcd on the network) is never used.
    protocol  any (default: what the card's ATR offers first), t0, t1
    share     exclusive (default: no other program may talk to the card while we do),
              shared

Transport rules applied here, so callers see one complete response per command:
T=0 case-4 commands go without Le (the card answers ``61xx``); ``61xx`` is followed
by GET RESPONSE until the data is complete (T=0 and T=1 alike); ``6Cxx`` (wrong Le) is
re-sent once with the exact Le. Extended-length APDUs go as they are over T=1 and are
refused over T=0 (the application layer chains instead).

Threads: a monitor thread with its own PC/SC context watches the reader with
SCardGetStatusChange and delivers CardEvents; ``transmit`` uses a second context. A
card swapped between two polls (new ATR or event counter) is reported as a removal
then an insertion, and the old connection is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from smartcard import scard as pcsc

from drivers.cards.apdu import INS_GET_RESPONSE, APDUError, Command, Response, describe_command, sw_text
from kiosk.devices.wire import WireLog
from kiosk.devices.roles import CardEvent, CardPresence
from kiosk.devices.url import DeviceURL
from kiosk.errors import (CardRemoved, DeviceClosed, DeviceError, DeviceInitError, DeviceOperationError,
                          DeviceUnavailable, DeviceURLError)

log = logging.getLogger(__name__)

PROTOCOLS = {"any": pcsc.SCARD_PROTOCOL_T0 | pcsc.SCARD_PROTOCOL_T1, "t0": pcsc.SCARD_PROTOCOL_T0,
             "t1": pcsc.SCARD_PROTOCOL_T1}
SHARES = {"exclusive": pcsc.SCARD_SHARE_EXCLUSIVE, "shared": pcsc.SCARD_SHARE_SHARED}
POLL_MS = 1000                     # the monitor's wait; close() cancels it sooner
MAX_GET_RESPONSE = 300             # 300 x 256 bytes: far past any answer we ask for
RETRY_S = (0.2, 0.5, 1.0, 2.0)     # re-establishing PC/SC after pcscd went away

# PC/SC results that mean "the card is gone or was reset under us".
_CARD_LOST = {pcsc.SCARD_W_REMOVED_CARD, pcsc.SCARD_E_NO_SMARTCARD, pcsc.SCARD_W_RESET_CARD,
              pcsc.SCARD_E_NOT_TRANSACTED, pcsc.SCARD_F_COMM_ERROR, pcsc.SCARD_W_UNPOWERED_CARD,
              pcsc.SCARD_W_UNRESPONSIVE_CARD, pcsc.SCARD_E_READER_UNAVAILABLE}


def _message(result: int) -> str:
    return f"{pcsc.SCardGetErrorMessage(result)} (0x{result & 0xFFFFFFFF:08X})"


class CardReaderPcsc:
    """A PC/SC reader chosen by name. See the module docstring for the URL.

    ``open()`` raises DeviceUnavailable (no pcscd, no such reader) or DeviceInitError.
    ``stats``: apdus, get_responses, resends, events, errors."""

    kind = "pcsc"

    def __init__(self, reader: str, *, protocol: str = "any", share: str = "exclusive", url: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        """Raises ValueError for an unknown protocol or share mode."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if share not in SHARES:
            raise ValueError(f"share {share!r} is not one of {', '.join(SHARES)}")
        if not reader:
            raise ValueError("a reader name is needed")
        self.reader_wanted, self.protocol, self.share = reader, protocol, share
        self.url = url or f"pcsc://?reader={reader}"
        self._monotonic = monotonic
        self.reader: str | None = None           # the full PC/SC name once found
        self._ctx: int | None = None
        self._card: tuple[int, int] | None = None  # (handle, active protocol)
        self._tx_lock = threading.RLock()
        self._subscribers: list[Callable[[CardEvent], None]] = []
        self._present = False
        self._atr = b""
        self._monitor: threading.Thread | None = None
        self._monitor_ctx: int | None = None
        self._stopping = threading.Event()
        self._last_error = ""
        self.stats = {"apdus": 0, "get_responses": 0, "resends": 0, "events": 0, "errors": 0}
        self.wire = WireLog()      # the last APDUs both ways (a PIN's bytes are never kept)

    # --- URL -----------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        reader = url.str("reader")
        if not reader:
            raise DeviceURLError(f"{url.raw!r}: name the reader, e.g. pcsc://?reader=ACS%20ACR39U")
        return dict(reader=reader, protocol=url.choice("protocol", tuple(PROTOCOLS), "any"),
                    share=url.choice("share", tuple(SHARES), "exclusive"))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a pcsc:// URL without touching PC/SC. Raises DeviceURLError."""
        if url.host or url.path not in ("", "/"):
            raise DeviceURLError(f"{url.raw!r}: the reader goes in ?reader=..., not in the host or path")
        cls.options_from_url(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "CardReaderPcsc":
        """Build (not open) the reader a ``pcsc://`` URL describes. Raises DeviceURLError."""
        cls.check_url(url)
        extra = {k: context[k] for k in ("monotonic",) if k in context}
        return cls(url=url.raw, **cls.options_from_url(url), **extra)

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Find the reader and start watching it. Idempotent. Raises DeviceUnavailable
        (pcscd not running, no reader of that name), DeviceInitError."""
        if self._ctx is not None:
            return
        ctx = self._establish()
        try:
            self.reader = self._find_reader(ctx)
            self._monitor_ctx = self._establish()
        except BaseException:
            pcsc.SCardReleaseContext(ctx)
            raise
        self._ctx = ctx
        self._stopping.clear()
        self._monitor = threading.Thread(target=self._watch, daemon=True, name=f"pcsc-monitor {self.reader}")
        self._monitor.start()

    def close(self) -> None:
        """Stop watching, disconnect (resetting the card), release PC/SC. Idempotent."""
        self._stopping.set()
        if self._monitor_ctx is not None:
            pcsc.SCardCancel(self._monitor_ctx)
        if self._monitor is not None:
            self._monitor.join(timeout=5)
            self._monitor = None
        with self._tx_lock:
            self.release()
            for name in ("_ctx", "_monitor_ctx"):
                ctx = getattr(self, name)
                if ctx is not None:
                    pcsc.SCardReleaseContext(ctx)
                    setattr(self, name, None)

    def __enter__(self) -> "CardReaderPcsc":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._ctx is None else ("card present" if self._present else "no card")
        return f"<CardReaderPcsc {self.reader or self.reader_wanted!r} {state}>"

    # --- CardReader ----------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[CardEvent], None]) -> None:
        self._subscribers.append(callback)

    @property
    def card_present(self) -> bool:
        return self._present

    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def active_protocol(self) -> str | None:
        """"T=0" or "T=1" while connected to a card, else None."""
        if self._card is None:
            return None
        return "T=0" if self._card[1] == pcsc.SCARD_PROTOCOL_T0 else "T=1"

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; returns the complete response (data + SW1 SW2).
        Raises DeviceClosed, CardRemoved, APDUError (malformed, or extended length over
        T=0), DeviceOperationError."""
        command = Command.parse(apdu)
        with self._tx_lock:
            if self._ctx is None:
                raise DeviceClosed(f"{self!r} is not open")
            _, protocol = self._connect()
            send = command
            if protocol == pcsc.SCARD_PROTOCOL_T0:
                if command.extended:
                    raise APDUError("extended-length APDUs cannot go over T=0; use command chaining")
                if command.case == 4:
                    send = command.with_le(None)   # T=0 carries no Le in a case-4 TPDU (ISO 7816-3 12.2)
            response = self._exchange(send)
            if response.sw >> 8 == 0x6C and command.le is not None:
                self.stats["resends"] += 1          # wrong Le: the card says the exact length
                response = self._exchange(command.with_le(response.sw & 0xFF or 256))
            data = response.data
            for _ in range(MAX_GET_RESPONSE):
                if response.sw >> 8 != 0x61:
                    break
                self.stats["get_responses"] += 1
                response = self._exchange(Command(command.cla & 0x03, INS_GET_RESPONSE, 0, 0,
                                                  le=response.sw & 0xFF or 256))
                data += response.data
            else:
                raise DeviceOperationError(f"{self!r}: the card never stopped answering 61xx")
            return data + response.sw.to_bytes(2, "big")

    def release(self) -> None:
        """Disconnect from the card, resetting it (no verified PIN survives). Idempotent."""
        with self._tx_lock:
            card, self._card = self._card, None
            if card is not None:
                pcsc.SCardDisconnect(card[0], pcsc.SCARD_RESET_CARD)

    def health(self) -> dict:
        return {"kind": self.kind, "reader": self.reader or self.reader_wanted, "open": self._ctx is not None,
                "card_present": self._present, "connected": self._card is not None,
                "protocol": self.active_protocol, "last_error": self._last_error, **self.stats}

    # --- PC/SC ---------------------------------------------------------------------------------

    def _establish(self) -> int:
        result, ctx = pcsc.SCardEstablishContext(pcsc.SCARD_SCOPE_USER)
        if result != pcsc.SCARD_S_SUCCESS:
            if result == pcsc.SCARD_E_NO_SERVICE:
                raise DeviceUnavailable(f"pcsc: pcscd is not running ({_message(result)})")
            raise DeviceInitError(f"pcsc: cannot reach pcscd: {_message(result)}")
        return ctx

    def _readers(self, ctx: int) -> list[str]:
        result, readers = pcsc.SCardListReaders(ctx, [])
        if result == pcsc.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if result != pcsc.SCARD_S_SUCCESS:
            raise DeviceInitError(f"pcsc: cannot list readers: {_message(result)}")
        return list(readers)

    def _find_reader(self, ctx: int) -> str:
        readers = self._readers(ctx)
        if self.reader_wanted in readers:
            return self.reader_wanted
        matches = [r for r in readers if r.startswith(self.reader_wanted)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise DeviceUnavailable(f"pcsc: {self.reader_wanted!r} names several readers: {matches}; "
                                    f"give the whole name")
        raise DeviceUnavailable(f"pcsc: no reader {self.reader_wanted!r} (readers: {readers or 'none'})")

    def _connect(self) -> tuple[int, int]:
        if self._card is not None:
            return self._card
        result, handle, protocol = pcsc.SCardConnect(self._ctx, self.reader, SHARES[self.share],
                                                     PROTOCOLS[self.protocol])
        if result in _CARD_LOST or result == pcsc.SCARD_W_UNRESPONSIVE_CARD:
            raise CardRemoved(f"{self!r}: {_message(result)}")
        if result != pcsc.SCARD_S_SUCCESS:
            self.stats["errors"] += 1
            raise DeviceOperationError(f"{self!r}: cannot connect to the card: {_message(result)}")
        self._card = (handle, protocol)
        return self._card

    def _exchange(self, command: Command) -> Response:
        assert self._card is not None
        handle, protocol = self._card
        self.stats["apdus"] += 1
        encoded = command.encode()
        meaning, secret = describe_command(command)
        self.wire.sent(encoded, meaning, hidden=secret)
        result, raw = pcsc.SCardTransmit(handle, protocol, list(encoded))
        if result != pcsc.SCARD_S_SUCCESS:
            self._drop_card()
            if result in _CARD_LOST:
                raise CardRemoved(f"{self!r}: card lost during a command: {_message(result)}")
            self.stats["errors"] += 1
            raise DeviceOperationError(f"{self!r}: transmit failed: {_message(result)}")
        if len(raw) < 2:
            # No status word: the card went away mid-command (vpcd and some readers then
            # report success with nothing) or is mute. Either way nothing it said is known.
            self._drop_card()
            raise CardRemoved(f"{self!r}: the card gave no answer ({len(raw)} bytes): pulled out or mute")
        response = Response.parse(bytes(raw))
        self.wire.received(bytes(raw), sw_text(response.sw) + (f", {len(response.data)} data bytes" if response.data else ""))
        return response

    def _drop_card(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            pcsc.SCardDisconnect(card[0], pcsc.SCARD_LEAVE_CARD)

    # --- the monitor thread ---------------------------------------------------------------------

    def _watch(self) -> None:
        state = pcsc.SCARD_STATE_UNAWARE
        failures = 0
        while not self._stopping.is_set():
            ctx = self._monitor_ctx
            if ctx is None:
                return
            result, states = pcsc.SCardGetStatusChange(ctx, POLL_MS, [(self.reader, state)])
            if result == pcsc.SCARD_E_TIMEOUT:
                continue
            if result == pcsc.SCARD_E_CANCELLED or self._stopping.is_set():
                return
            if result != pcsc.SCARD_S_SUCCESS:
                self._last_error = _message(result)
                self.stats["errors"] += 1
                self._set_presence(False, b"")
                self._stopping.wait(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
                state = pcsc.SCARD_STATE_UNAWARE
                if result in (pcsc.SCARD_E_NO_SERVICE, pcsc.SCARD_E_SERVICE_STOPPED, pcsc.SCARD_E_INVALID_HANDLE):
                    self._reestablish()
                continue
            failures = 0
            _, event, atr = states[0]
            present = bool(event & pcsc.SCARD_STATE_PRESENT) and not event & pcsc.SCARD_STATE_MUTE
            swapped = (present and self._present and
                       ((event >> 16) != (state >> 16) and state != pcsc.SCARD_STATE_UNAWARE
                        or bytes(atr) != self._atr))
            if swapped:                    # out and in again between two polls: another card
                self._set_presence(False, b"")
            self._set_presence(present, bytes(atr) if present else b"")
            state = event & ~pcsc.SCARD_STATE_CHANGED

    def _reestablish(self) -> None:
        try:
            ctx = self._establish()
        except DeviceError as err:
            self._last_error = str(err)
            return
        old, self._monitor_ctx = self._monitor_ctx, ctx
        if old is not None:
            pcsc.SCardReleaseContext(old)

    def _set_presence(self, present: bool, atr: bytes) -> None:
        if present == self._present:
            return
        self._present, self._atr = present, atr
        if not present:
            with self._tx_lock:
                self._drop_card()
        event = CardEvent(CardPresence.INSERTED if present else CardPresence.REMOVED, self.reader or "",
                          atr, self._monotonic())
        self.stats["events"] += 1
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # one subscriber's bug must not stop the monitor
                log.exception("card event subscriber failed")
