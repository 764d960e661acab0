"""The real ccTalk driver against the emulated bus (coin acceptor, bill validator, hopper) on a pty.

Nothing sleeps to let time pass: a test waits for an event, and proves that something did
*not* happen by waiting for a later marker event (a counterfeit coin's rejection) that the
driver can only report after it has read past the moment in question.
"""

from __future__ import annotations

import pytest

from drivers.cash import cctalk_codec as codec
from drivers.cash.cctalk import CashDevicesCcTalk
from hwsim.cash.bus import CcTalkBusSim, standard_bus
from hwsim.cash.devices import BillValidatorSim, CoinAcceptorSim, HopperSim
from kiosk.devices import registry
from kiosk.devices.roles import CashDevices, CashEventKind as K, PayoutStatus
from kiosk.errors import CashDeviceError, DeviceClosed, DeviceInitError, DeviceURLError, EscrowEmpty
from tests.cash.conftest import Events, wait_until


def marker(cash, events: Events) -> None:
    """Wait until the driver has read every acceptor event up to now."""
    seen = len(events.of(K.REJECTED, "acceptor"))
    cash.sim.acceptor.counterfeit()
    events.wait_for(K.REJECTED, seen + 1, "acceptor")


def credits(events: Events) -> list[int]:
    return [e.amount for e in events.of(K.CREDIT)]


# --- identification and inhibits -----------------------------------------------------------

def test_open_identifies_every_device_and_leaves_money_refused(make_cash):
    cash, events = make_cash()
    assert isinstance(cash, CashDevices)
    health = cash.health()
    assert health["accepting"] is False
    assert health["devices"]["validator@40"]["serial"] == 0x123456
    assert cash.coin_values == {3: 100}
    rx = [e.detail["header"] for e in cash.sim.history.entries("cctalk", "rx")]
    assert {254, 245, 246, 244, 242, 184, 157, 156, 153, 171, 231, 228} <= set(rx)
    assert cash.sim.acceptor.insert(100) == "inhibited"
    assert cash.sim.validator.insert(1000) == "inhibited"
    events.wait_for(K.REJECTED, 1, "validator")
    marker(cash, events)
    assert credits(events) == []


def test_accept_then_refuse_again(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    assert cash.sim.acceptor.insert(500) == "accepted"
    events.wait_for(K.CREDIT)
    cash.accept(False)
    assert cash.sim.acceptor.insert(100) == "inhibited"
    assert not cash.sim.acceptor.master and not cash.sim.acceptor.enabled
    marker(cash, events)
    assert credits(events) == [500]


def test_only_the_configured_denominations_are_taken(make_cash):
    cash, events = make_cash(coins="100,500", notes="1000")
    cash.accept(True)
    assert cash.sim.acceptor.enabled == {3, 4} and cash.sim.validator.enabled == {1}
    assert cash.sim.acceptor.insert(10) == "inhibited"
    assert cash.sim.acceptor.insert(100) == "accepted"
    assert cash.sim.validator.insert(5000) == "inhibited"
    assert cash.sim.validator.insert(1000) == "escrow"
    events.wait_for(K.ESCROW, 1)
    marker(cash, events)
    assert credits(events) == [100]


def test_close_leaves_the_acceptors_inhibited(make_cash):
    cash, _ = make_cash()
    cash.accept(True)
    sim = cash.sim
    acceptor = sim.acceptor
    # Keep the emulator running past close() to look at what the driver left behind.
    cash.sim = None
    try:
        cash.close()
        assert not acceptor.master and not sim.validator.master
    finally:
        sim.stop()


# --- credit exactly once -------------------------------------------------------------------

def test_each_coin_is_credited_once_over_many_polls(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    for value in (10, 50, 100, 500, 100):
        cash.sim.acceptor.insert(value)
    events.wait_for(K.CREDIT, 5)
    for _ in range(3):
        marker(cash, events)
    assert credits(events) == [10, 50, 100, 500, 100]
    assert [e.counter for e in events.of(K.CREDIT)] == [1, 2, 3, 4, 5]
    assert cash.counters()["acceptor"] == 8


def test_events_lost_between_polls_are_reported_not_invented(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.silent(codec.ADDR_COIN_ACCEPTOR)
    for _ in range(7):
        cash.sim.acceptor.insert(100)
    cash.sim.silent(codec.ADDR_COIN_ACCEPTOR, on=False)
    missed = events.wait_for(K.MISSED, 1, "acceptor")
    assert missed[0].missed == 2
    events.wait_for(K.CREDIT, 5)
    marker(cash, events)
    assert credits(events) == [100] * 5  # the five still in the buffer; two are reported lost


def test_coin_on_a_string_is_credited_once_and_reported(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.acceptor.coin_on_string(500)
    fraud = events.wait_for(K.FRAUD, 1, "acceptor")
    assert fraud[0].code == 20
    marker(cash, events)
    assert credits(events) == [500]


def test_a_power_cut_is_reported_and_acceptance_restored(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.acceptor.insert(100)
    events.wait_for(K.CREDIT, 1)
    cash.sim.acceptor.power_cut()
    events.wait_for(K.RESET, 1, "acceptor")
    wait_until(lambda: cash.sim.acceptor.master, "acceptor re-enabled after its reset")
    cash.sim.acceptor.insert(50)
    events.wait_for(K.CREDIT, 2)
    marker(cash, events)
    assert credits(events) == [100, 50]


def test_a_power_cut_with_the_counter_at_zero_is_noticed_by_the_refused_coin(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.acceptor.power_cut()  # counter 0 before and after: no reset to read
    assert cash.sim.acceptor.insert(100) == "inhibited"  # the coin bounces ...
    events.wait_for(K.REJECTED, 1, "acceptor")
    wait_until(lambda: cash.sim.acceptor.master, "acceptor enabled again")
    assert cash.sim.acceptor.insert(100) == "accepted"  # ... and goes in the second time
    events.wait_for(K.CREDIT, 1)


def test_resume_delivers_what_happened_while_down_and_nothing_twice():
    sim = standard_bus().start()
    try:
        first = CashDevicesCcTalk(sim.port, poll_ms=10)
        events = Events()
        first.subscribe(events)
        first.open()
        first.accept(True)
        sim.acceptor.insert(100)
        stored = events.wait_for(K.CREDIT, 1)[0].counter  # the service stores it with the credit
        # The controller dies; the devices keep counting (a coin already in the chute).
        first.close()
        sim.acceptor.master, sim.acceptor.enabled = True, {1, 2, 3, 4}
        sim.acceptor.insert(500)
        second = CashDevicesCcTalk(sim.port, poll_ms=10)
        again = Events()
        second.subscribe(again)
        second.resume({"acceptor": stored})
        second.open()
        try:
            again.wait_for(K.CREDIT, 1)
            sim.acceptor.counterfeit()
            again.wait_for(K.REJECTED, 1, "acceptor")
            assert credits(again) == [500]
        finally:
            second.close()
        # Without a stored counter the buffer is history: nothing is credited from it.
        third = CashDevicesCcTalk(sim.port, poll_ms=10)
        fresh = Events()
        third.subscribe(fresh)
        third.open()
        try:
            sim.acceptor.counterfeit()
            fresh.wait_for(K.REJECTED, 1, "acceptor")
            assert credits(fresh) == []
        finally:
            third.close()
    finally:
        sim.stop()


# --- notes and escrow ------------------------------------------------------------------------

def test_a_note_waits_in_escrow_and_is_credited_when_stacked(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    assert cash.sim.validator.insert(10_000) == "escrow"
    held = events.wait_for(K.ESCROW, 1)[0]
    assert (held.amount, held.denomination) == (10_000, "JP1000A")
    assert cash.escrow == 10_000
    assert credits(events) == []
    cash.accept_escrow()
    assert events.wait_for(K.CREDIT, 1)[0].amount == 10_000
    assert cash.sim.validator.stacked == [10_000]
    assert cash.escrow is None
    with pytest.raises(EscrowEmpty):
        cash.accept_escrow()


def test_a_returned_note_is_never_credited(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.validator.insert(1000)
    events.wait_for(K.ESCROW, 1)
    cash.return_escrow()
    events.wait_for(K.RETURNED, 1)
    cash.sim.validator.counterfeit()
    events.wait_for(K.REJECTED, 1, "validator")
    assert credits(events) == [] and cash.sim.validator.stacked == []


def test_a_note_pulled_back_after_credit_is_not_credited_again(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.validator.insert(1000)
    events.wait_for(K.ESCROW, 1)
    cash.accept_escrow()
    events.wait_for(K.CREDIT, 1)
    cash.sim.validator.pull_back()
    assert events.wait_for(K.FRAUD, 1, "validator")[0].code == 8
    marker(cash, events)
    assert credits(events) == [1000]


def test_a_jam_in_escrow_is_an_error_and_no_credit(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.validator.insert(2000)
    events.wait_for(K.ESCROW, 1)
    cash.sim.validator.jam_in_escrow = True
    with pytest.raises(CashDeviceError):
        cash.accept_escrow()
    events.wait_for(K.FAULT, 1, "validator")
    assert credits(events) == []


def test_a_lost_reply_to_route_does_not_stack_twice(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.validator.insert(5000)
    events.wait_for(K.ESCROW, 1)
    cash.sim.lose_reply_to(codec.H_ROUTE_BILL)  # the note is stacked; the driver never hears so, asks again
    cash.accept_escrow()
    events.wait_for(K.CREDIT, 1)
    marker(cash, events)
    assert credits(events) == [5000] and cash.sim.validator.stacked == [5000]


# --- payout --------------------------------------------------------------------------------

def test_payout_pays_exactly(make_cash):
    cash, _ = make_cash(hopper_coins=20)
    result = cash.payout(700)
    assert (result.status, result.paid, result.unpaid, result.coins) == (PayoutStatus.PAID, 700, 0, {100: 7})
    assert cash.sim.hopper.paid_out == 7 and not cash.sim.hopper.enabled


def test_payout_of_an_amount_no_hopper_can_make_pays_nothing(make_cash):
    cash, _ = make_cash()
    result = cash.payout(150)
    assert (result.status, result.paid, result.unpaid) == (PayoutStatus.CANNOT, 0, 150)
    assert cash.sim.hopper.paid_out == 0


def test_an_empty_hopper_says_what_is_owed(make_cash):
    cash, _ = make_cash(hopper_coins=3)
    result = cash.payout(500)
    assert (result.status, result.paid, result.unpaid) == (PayoutStatus.EMPTY, 300, 200)
    assert cash.sim.hopper.paid_out == 3


def test_a_jammed_hopper_says_what_is_owed(make_cash):
    cash, _ = make_cash(hopper_coins=30)
    cash.sim.hopper.jam_after(2)
    result = cash.payout(600)
    assert (result.status, result.paid, result.unpaid) == (PayoutStatus.JAMMED, 200, 400)


def test_a_lost_dispense_reply_never_pays_twice(make_cash):
    cash, _ = make_cash(hopper_coins=30)
    hopper_frames = len([e for e in cash.sim.history.entries("cctalk", "rx") if e.detail["header"] == 167])
    cash.sim.lose_reply_to(codec.H_DISPENSE_HOPPER_COINS)  # the hopper pays; the host never hears so
    result = cash.payout(400)
    assert result.status is PayoutStatus.PAID and cash.sim.hopper.paid_out == 4
    sent = [e for e in cash.sim.history.entries("cctalk", "rx") if e.detail["header"] == 167]
    assert len(sent) - hopper_frames == 1


def test_two_hoppers_make_change_largest_coin_first(make_cash):
    cash, _ = make_cash(hopper="3,4", hopper_coin="JP100A,JP010A", hopper_coins=20)
    result = cash.payout(430)
    assert result.status is PayoutStatus.PAID and result.coins == {100: 4, 10: 3}


def test_payout_rejects_a_negative_amount(make_cash):
    cash, _ = make_cash()
    with pytest.raises(ValueError):
        cash.payout(-1)


# --- the line --------------------------------------------------------------------------------

def test_garbage_corruption_and_lost_bytes_cost_retries_not_credits(make_cash):
    cash, events = make_cash()
    cash.accept(True)
    cash.sim.inject_garbage(bytes([0x01, 0xC8, 0x02, 0xFF, 0x00]))
    cash.sim.corrupt_replies(3)
    cash.sim.acceptor.insert(100)
    events.wait_for(K.CREDIT, 1)
    cash.sim.drop_bytes(2)
    cash.sim.lose_replies(2)
    cash.sim.acceptor.insert(50)
    events.wait_for(K.CREDIT, 2)
    marker(cash, events)
    assert credits(events) == [100, 50]
    stats = cash.health()["link"]
    assert stats["bad_checksums"] >= 3 and stats["timeouts"] >= 2


def test_no_echo_on_a_two_wire_interface(make_cash):
    cash, events = make_cash(echo=0)
    assert not cash.sim.echo
    cash.accept(True)
    cash.sim.acceptor.insert(10)
    events.wait_for(K.CREDIT, 1)
    assert "echo_missing" not in cash.health()["link"]


def test_a_driver_expecting_echo_counts_a_missing_one():
    sim = standard_bus(echo=False).start()
    try:
        with CashDevicesCcTalk(sim.port, echo=True, poll_ms=10) as cash:
            assert cash.health()["link"]["echo_missing"] > 0
    finally:
        sim.stop()


def test_a_validator_on_the_crc16_variant(make_cash):
    cash, events = make_cash(crc=40)
    assert cash.sim.validator.crc
    cash.accept(True)
    cash.sim.validator.insert(1000)
    events.wait_for(K.ESCROW, 1)
    cash.accept_escrow()
    assert events.wait_for(K.CREDIT, 1)[0].amount == 1000


def test_a_silent_device_fails_open():
    sim = CcTalkBusSim([CoinAcceptorSim(), BillValidatorSim(), HopperSim()]).start()
    sim.silent(codec.ADDR_HOPPER)
    try:
        cash = CashDevicesCcTalk(sim.port, timeout_ms=20, retries=0)
        with pytest.raises(DeviceInitError, match="no valid reply"):
            cash.open()
        assert not cash.is_open
    finally:
        sim.stop()


def test_a_device_of_the_wrong_kind_fails_open():
    sim = CcTalkBusSim([CoinAcceptorSim(address=40)]).start()
    try:
        cash = CashDevicesCcTalk(sim.port, acceptor=None, validator=40, hoppers=())
        with pytest.raises(DeviceInitError, match="Coin Acceptor"):
            cash.open()
    finally:
        sim.stop()


def test_commands_on_a_closed_device(make_cash):
    cash, _ = make_cash(open_it=False)
    with pytest.raises(DeviceClosed):
        cash.accept(True)
    with pytest.raises(DeviceClosed):
        cash.payout(100)


# --- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "cctalk+serial:///dev/ttyUSB1",
    "cctalk+serial:///dev/ttyUSB1?acceptor=2&validator=40&hopper=3,4&crc=40&echo=0",
    "cctalk+serial:///dev/ttyUSB1?validator=&hopper=",
    "cctalk+serial:///dev/ttyUSB1?coins=10,50,100,500&notes=1000,5000",
    "sim+cctalk://?hopper=3,4&hopper_coin=JP100A,JP010A&hopper_coins=9",
])
def test_good_urls_pass_the_check(url):
    registry.check("cash", url)


@pytest.mark.parametrize("url", [
    "cctalk+serial://",
    "cctalk+serial://host/dev/ttyUSB1",
    "cctalk+serial:///dev/ttyUSB1?acceptor=1",
    "cctalk+serial:///dev/ttyUSB1?acceptor=40",
    "cctalk+serial:///dev/ttyUSB1?acceptor=2,5",
    "cctalk+serial:///dev/ttyUSB1?hopper=300",
    "cctalk+serial:///dev/ttyUSB1?country=JPN",
    "cctalk+serial:///dev/ttyUSB1?acceptor=&validator=&hopper=",
    "cctalk+serial:///dev/ttyUSB1?bogus=1",
    "cctalk+serial:///dev/ttyUSB1?coins=0",
    "cctalk+serial:///dev/ttyUSB1?notes=a",
    "sim+cctalk://?hopper_coin=yen",
])
def test_bad_urls_are_refused_by_the_check(url):
    with pytest.raises(DeviceURLError):
        registry.check("cash", url)
