"""NFC parcel tokens (NTAG21x) on a PC/SC contactless reader.

A contactless reader under PC/SC (ACR122U and the many readers following PC/SC part 3)
presents a tag in its field as a card: the driver (drivers.cards.pcsc) sees it inserted,
and the reader answers pseudo-APDUs for it:

    FF CA 00 00 00          GET DATA: the tag's UID
    FF B0 00 <page> 10      READ BINARY: 16 bytes (4 pages) from <page>
    FF D6 00 <page> 04 ..   UPDATE BINARY: write one page (the store's station only)

On every tag brought into the field this reader reads the Capability Container, then the
data area from page 4 only as far as the NDEF TLV reaches (drivers.tokens.ntag), decodes
the Text record, and delivers it as a Scan with symbology ``nfc-ndef`` (the data is the
store-signed tag text; the counter checks it as it checks a printed F1 tag). A tag taken
away mid-read, a broken NDEF message and a tag of another kind are counted and never
delivered.

URL::

    pcsc-nfc://?reader=ACS%20ACR122U
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable

from drivers.cards.apdu import APDUError
from drivers.cards.pcsc import CardReaderPcsc
from drivers.tokens import ntag
from kiosk.devices.roles import CardEvent, CardPresence, CardReader, Scan
from kiosk.devices.url import DeviceURL
from kiosk.errors import CardRemoved, DeviceError, DeviceURLError

log = logging.getLogger(__name__)
SYMBOLOGY = "nfc-ndef"
READ_BYTES = 16
SW_OK = b"\x90\x00"


def get_uid() -> bytes:
    return bytes([0xFF, 0xCA, 0x00, 0x00, 0x00])


def read_binary(page: int) -> bytes:
    return bytes([0xFF, 0xB0, 0x00, page, READ_BYTES])


def update_binary(page: int, data: bytes) -> bytes:
    return bytes([0xFF, 0xD6, 0x00, page, len(data)]) + data


class NfcTokenReader:
    """The token role (a Scanner) over a PC/SC contactless reader."""

    kind = "pcsc-nfc"

    def __init__(self, reader: CardReader, *, url: str, monotonic: Callable[[], float] = time.monotonic):
        self.card_reader, self.url, self._monotonic = reader, url, monotonic
        self._subscribers: list[Callable[[Scan], None]] = []
        self._touches: queue.Queue[CardEvent | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.counts: Counter[str] = Counter(dict.fromkeys(("reads", "removed", "malformed", "wrong_type",
                                                           "errors"), 0))
        reader.subscribe(self._on_card)

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        if url.host or url.path not in ("", "/"):
            raise DeviceURLError(f"{url.raw!r}: the reader goes in ?reader=..., not in the host or path")
        if not url.str("reader"):
            raise DeviceURLError(f"{url.raw!r}: name the reader, e.g. pcsc-nfc://?reader=ACS%20ACR122U")

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "NfcTokenReader":
        cls.check_url(url)
        reader = CardReaderPcsc(url.str("reader") or "", url=url.raw)
        url.reject_unknown()
        return cls(reader, url=url.raw)

    def __repr__(self) -> str:
        return f"<NfcTokenReader {self.card_reader!r}>"

    # --- Scanner --------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Scan], None]) -> None:
        self._subscribers.append(callback)

    def open(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, daemon=True, name=f"nfc-token {self.url}")
            self._worker.start()
        self.card_reader.open()

    def close(self) -> None:
        self.card_reader.close()
        worker, self._worker = self._worker, None
        if worker is not None:
            self._touches.put(None)
            worker.join(timeout=5)

    def health(self) -> dict:
        return {"kind": self.kind, **self.card_reader.health(), **{f"tokens_{k}": v for k, v in self.counts.items()}}

    # --- reading a tag ----------------------------------------------------------------------

    def _on_card(self, event: CardEvent) -> None:
        if event.presence == CardPresence.INSERTED:
            self._touches.put(event)

    def _work(self) -> None:
        while self._touches.get() is not None:
            try:
                text = self.read_text()
            except CardRemoved:
                self.counts["removed"] += 1
                continue
            except ntag.NtagError as err:
                self.counts[err.reason] += 1
                log.info("NFC token refused (%s): %s", err.reason, err)
                continue
            except (DeviceError, APDUError) as err:
                self.counts["errors"] += 1
                log.warning("NFC token could not be read: %s", err)
                continue
            finally:
                self.card_reader.release()
            self.counts["reads"] += 1
            scan = Scan(text.encode("utf-8"), SYMBOLOGY, self.url, self._monotonic())
            for callback in list(self._subscribers):
                try:
                    callback(scan)
                except Exception:  # one subscriber's bug must not stop the reader
                    log.exception("token subscriber failed")

    def read_text(self) -> str:
        """Read the tag in the field: its NDEF text. Raises CardRemoved, NtagError, DeviceError."""
        self._command(get_uid())
        size = ntag.data_size(self._command(read_binary(ntag.CC_PAGE))[:4])
        area = b""
        while True:
            span = ntag.ndef_span(area)
            if span is not None and span[0] + span[1] <= len(area):
                start, length = span
                return ntag.text_of(area[start:start + length])
            if len(area) >= size or (span is not None and span[0] + span[1] > size):
                raise ntag.NtagError("the NDEF message runs past the tag's data area", "malformed")
            area += self._command(read_binary(ntag.DATA_PAGE + len(area) // ntag.PAGE))

    def _command(self, apdu: bytes) -> bytes:
        answer = self.card_reader.transmit(apdu)
        if answer[-2:] != SW_OK:
            raise ntag.NtagError(f"the reader refused {apdu[:2].hex()} ({answer[-2:].hex()}): not a Type 2 tag",
                                 "wrong_type")
        return answer[:-2]
