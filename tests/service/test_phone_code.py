"""The recipient's phone code (``P/<trade number>/<secret>``): parsing, and the
controller's routing of scans (phone codes to the pickup, the rest to the counter)."""

from __future__ import annotations

import asyncio

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.devices.roles import Scan
from kiosk.service.controller import Controller
from kiosk.service.pickup import PhoneCode, looks_like_phone_code, parse_phone_code


@pytest.mark.parametrize("text, expected", [
    ("P/1234-5678/123456", PhoneCode("1234-5678", "123456")),
    ("P/ab12-cd34/Secret9", PhoneCode("AB12-CD34", "Secret9")),
])
def test_parse_good(text, expected):
    assert parse_phone_code(text) == expected


@pytest.mark.parametrize("text", [
    "", "P", "P/", "P/1234-5678", "P/1234-5678/", "P//123456", "P/1234-5678/123456/", "P/1234-5678/12 34",
    "P/123/123456", "P/-123-4567/123456", "P/1234-5678/" + "1" * 65, "S/123456", "p/1234-5678/123456",
    " P/1234-5678/123456", "P/1234-5678/12345６", "P/1234-5678/123456\n", "P/" + "1" * 41 + "/123456", None, b"P/1/2",
])
def test_parse_rejects_every_other_shape(text):
    assert parse_phone_code(text) is None


def test_phone_code_is_not_the_counter_code():
    assert looks_like_phone_code("P/x") and not looks_like_phone_code("S/123456")
    assert repr(PhoneCode("1234-5678", "123456")).count("123456") == 0   # never the secret in a repr


async def scan(controller: Controller, data: bytes, desk: str | None = None) -> None:
    assert controller.scans is not None
    controller.scans.feed(Scan(data, "qr", "test://", 0.0), desk)
    await asyncio.wait_for(controller.scans.settle(), 5)   # the secret is checked in the hasher's thread


async def test_controller_routes_scans(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4)
    c = site.controller
    try:
        [parcel] = await site.add_parcels(1, rng)
        locker = await site.deposit(parcel)
        with c.subscribe() as events:
            await scan(c, b"\xff\xfeP/", desk="counter")  # not UTF-8, from the desk's scanner: the counter's
            assert (await events.next("counter_rejected", timeout=5))["reason"] == "unreadable"
            await scan(c, b"P/1234-5678/12/34")           # malformed: counted, ignored
            await scan(c, f"P/{parcel.trade_number}/0{parcel.secret}".encode())
            rejected = await events.next("scan_rejected", timeout=5)
            assert rejected.data == {"code": "recipient", "trade_number": parcel.trade_number,
                                     "reason": "wrong_secret", "attempts_left": 4, "retry_after": None,
                                     "detail": None, "message": None, "amount_due": None}
            await scan(c, b"P/9999-0000/123456")
            rejected = await events.next("scan_rejected", timeout=5)
            assert rejected["reason"] == "unknown_parcel"
            await scan(c, f" P/{parcel.trade_number}/{parcel.secret}\r\n".encode())
            started = await events.next("pickup_started", timeout=5)
            assert started.data == {"locker": locker, "trade_number": parcel.trade_number, "source": "scan",
                                    "with_locker": None}
            await scan(c, f"P/{parcel.trade_number}/{parcel.secret}".encode())   # again, door already open
            rejected = await events.next("scan_rejected", timeout=5)
            assert rejected["reason"] == "not_collectable" and rejected["detail"] == "door_busy"
            assert not [e for e in events.drain() if e.kind.startswith("counter_")]
        assert dict(c.scans.counts) == {"counter": 1, "phone_code_malformed": 1, "phone_code": 4}
        assert c.site.db.parcel(parcel.trade_number).failed_attempts == 1
    finally:
        await c.stop()
