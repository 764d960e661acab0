"""Structured journal lines (issue 14 §3): each audited action of a real pickup becomes
one line with KIOSK_* fields through systemd's own JournalHandler — the trade number only
as a keyed pseudonym, no secret anywhere — and nothing is logged for a transaction that
rolled back."""

from __future__ import annotations

import logging

import pytest
from systemd.journal import JournalHandler

from hwsim.site import start_site
from kiosk import journal
from kiosk.clock import ManualClock
from kiosk.errors import CodeInvalid


class Captured:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def __call__(self, MESSAGE: str, **fields) -> None:   # systemd.journal.send's own signature
        self.sent.append({"MESSAGE": MESSAGE, **fields})


@pytest.fixture
def journal_lines():
    captured = Captured()
    handler = JournalHandler(sender_function=captured, SYSLOG_IDENTIFIER="kioskd-test")
    logger = logging.getLogger(journal.LOGGER)
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield captured.sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


async def test_a_pickup_in_the_journal(tmp_path, rng, journal_lines):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = site.controller
    try:
        [parcel] = await site.add_parcels(1, rng)
        locker = await site.deposit(parcel)
        wrong = "000000" if parcel.secret != "000000" else "111111"
        with pytest.raises(CodeInvalid):
            await c.submit_code(parcel.trade_number, wrong)
        with c.subscribe() as events:
            await c.submit_code(parcel.trade_number, parcel.secret)
            await events.next("door_open")
            site.doors.take(locker)
            site.doors.close(locker)
            await events.next("parcel_collected")
        audited = len(c.site.db.audit_entries())
    finally:
        await c.stop()
    by_event = {}
    for line in journal_lines:
        by_event.setdefault(line["KIOSK_EVENT"], []).append(line)
    collected = by_event["parcel_collected"][0]
    assert collected["KIOSK_LOCKER"] == str(locker) and collected["SYSLOG_IDENTIFIER"] == "kioskd-test"
    assert collected["KIOSK_TRADE_HASH"] == journal.pseudonym(parcel.trade_number)
    assert len(collected["KIOSK_TRADE_HASH"]) == 16
    everything = repr(journal_lines)
    assert parcel.trade_number not in everything and parcel.secret not in everything and wrong not in everything
    assert len(journal_lines) == audited                              # one line per audit entry, no more


def test_the_pseudonym_depends_on_the_key():
    journal.set_pseudonym_key(b"k" * 32)
    a = journal.pseudonym("1234-5678")
    journal.set_pseudonym_key(b"j" * 32)
    assert journal.pseudonym("1234-5678") != a
    with pytest.raises(ValueError):
        journal.set_pseudonym_key(b"short")


def test_fields_take_only_what_is_named():
    got = journal.fields("door_fault", "kioskd", None, {"locker": 3, "desk": "counter", "opening_id": "op-1",
                                                        "secret": "123456", "reason": "jam"})
    assert got == {"KIOSK_EVENT": "door_fault", "KIOSK_ACTOR": "kioskd", "KIOSK_LOCKER": "3",
                   "KIOSK_DEVICE": "counter", "KIOSK_OP": "op-1"}
