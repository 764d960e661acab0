"""The devices on a ccTalk bus as the driver knows them (``Unit``), and how it learns them at
open(): each one's identity (its category must match its role) and what it takes or pays,
coin by coin, note by note (docs/cash.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.cash import cctalk_codec as codec
from kiosk.errors import DeviceInitError

CATEGORIES = {"acceptor": "Coin Acceptor", "validator": "Bill Validator", "hopper": "Payout"}


@dataclass
class Unit:
    """One device on the bus, as the driver knows it after open()."""

    role: str            # acceptor | validator | hopper
    address: int
    crc: bool
    serial: int = 0
    manufacturer: str = ""
    product: str = ""
    values: dict[int, tuple[str, int]] = field(default_factory=dict)  # position -> (id, value)
    last: int | None = None   # last event counter acted on (None: not read yet)
    failures: int = 0



Ask = Callable[..., bytes]   # (unit, header, data=b"") -> the reply's data (CashDevicesCcTalk._ask)


def identify(unit: Unit, ask: Ask) -> None:
    """Check the device at ``unit.address`` is the kind its role says; learn who made it."""
    ask(unit, codec.H_SIMPLE_POLL)
    category = codec.parse_ascii(ask(unit, codec.H_EQUIPMENT_CATEGORY))
    if category != CATEGORIES[unit.role]:
        raise DeviceInitError(f"device {unit.address} is a {category!r}, not a {CATEGORIES[unit.role]!r}")
    unit.manufacturer = codec.parse_ascii(ask(unit, codec.H_MANUFACTURER))
    unit.product = codec.parse_ascii(ask(unit, codec.H_PRODUCT_CODE))
    unit.serial = codec.parse_serial(ask(unit, codec.H_SERIAL_NUMBER))


def configure(unit: Unit, ask: Ask, country: str) -> None:
    """Learn what the device takes or pays (the driver then leaves it refusing money)."""
    unit.values.clear()
    if unit.role == "hopper":
        ident = codec.parse_ascii(ask(unit, codec.H_REQUEST_HOPPER_COIN))
        value = codec.coin_value(ident)
        if value:
            unit.values[0] = (ident, value)
        ask(unit, codec.H_ENABLE_HOPPER, b"\x00")
        return
    scaling = 1
    if unit.role == "validator":
        scale = ask(unit, codec.H_REQUEST_COUNTRY_SCALING, country.encode())
        scaling = int.from_bytes(scale[:2], "little") if len(scale) == 3 else 0
        if scaling == 0:
            raise DeviceInitError(f"bill validator {unit.address} knows no country {country!r}")
        ask(unit, codec.H_MODIFY_BILL_OPERATING_MODE, b"\x03")  # stacker + escrow
    for position in range(1, 17):
        if unit.role == "acceptor":
            ident = codec.parse_ascii(ask(unit, codec.H_REQUEST_COIN_ID, bytes([position])))
            value = codec.coin_value(ident)
        else:
            ident = codec.parse_ascii(ask(unit, codec.H_REQUEST_BILL_ID, bytes([position])))
            value = codec.bill_value(ident, scaling)
        if value:
            unit.values[position] = (ident, value)
