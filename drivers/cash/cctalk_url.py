"""The URL of a ccTalk bus (``cctalk+serial://``) and what it asks for.

URL grammar (every parameter optional)::

    cctalk+serial:///dev/ttyUSB1?acceptor=2&validator=40&hopper=3&baud=9600&echo=1
                                &crc=40&country=JP&poll_ms=200&timeout_ms=100&retries=2

    acceptor    bus address of the coin acceptor (empty: none)
    validator   bus address of the bill validator (empty: none)
    hopper      bus addresses of the change hoppers, comma-separated (empty: none); each
                says which coin it pays (header 171)
    baud        9600 is the ccTalk standard
    echo        1 on a single-wire bus (the host reads back its own bytes), 0 on a
                two-wire (RS-232 style) interface that does not echo
    crc         addresses that use the CRC-16 checksum variant instead of the simple one
    country     the validator's country code, for its scaling factor (header 156)
    coins       coin values accepted, e.g. 10,50,100,500 (default: every coin the acceptor knows);
                the others stay inhibited, position by position
    notes       note values accepted, e.g. 1000,5000 (default: every note the validator knows)
    poll_ms     how often the event buffers are read (the buffer holds 5 events)
    timeout_ms  how long to wait for a reply beyond the wire time
    retries     extra attempts for commands that are safe to repeat
"""

from __future__ import annotations

from drivers.cash import cctalk_codec as codec
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError


def options(url: DeviceURL) -> dict:
    """The keyword arguments of ``CashDevicesCcTalk`` the URL's query asks for. Raises DeviceURLError."""
    def one(key: str, default: int) -> int | None:
        values = url.ints(key, [default])
        if values is None or not values:
            return None
        if len(values) > 1 or not 2 <= values[0] <= 255:
            raise DeviceURLError(f"{url.raw!r}: {key} is one bus address in 2..255")
        return values[0]
    hoppers = tuple(url.ints("hopper", [codec.ADDR_HOPPER]) or ())
    crc = tuple(url.ints("crc", []) or ())
    for address in hoppers + crc:
        if not 2 <= address <= 255:
            raise DeviceURLError(f"{url.raw!r}: bus address {address} is not in 2..255")
    country = url.str("country", "JP") or ""
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise DeviceURLError(f"{url.raw!r}: country={country!r} is not a two-letter code")
    options = dict(
        acceptor=one("acceptor", codec.ADDR_COIN_ACCEPTOR),
        validator=one("validator", codec.ADDR_BILL_VALIDATOR),
        hoppers=hoppers,
        baud=url.int("baud", 9600, lo=1200, hi=115200),
        echo=url.bool("echo", True),
        crc=crc,
        country=country.upper(),
        coins=_values(url, "coins"),
        notes=_values(url, "notes"),
        poll_ms=url.int("poll_ms", 200, lo=5, hi=10_000),
        timeout_ms=url.int("timeout_ms", 100, lo=5, hi=10_000),
        retries=url.int("retries", 2, lo=0, hi=10),
    )
    addresses = [a for a in (options["acceptor"], options["validator"], *hoppers) if a is not None]
    if len(set(addresses)) != len(addresses) or not addresses:
        raise DeviceURLError(f"{url.raw!r}: give at least one device, each at its own address")
    return options


def _values(url: DeviceURL, key: str) -> tuple[int, ...] | None:
    values = url.ints(key)
    if values is not None and any(v <= 0 for v in values):
        raise DeviceURLError(f"{url.raw!r}: {key} lists values in minor units, each above 0")
    return tuple(values) if values is not None else None
