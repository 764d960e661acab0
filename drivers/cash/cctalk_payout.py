"""Paying out coins from ccTalk hoppers: which hopper pays how many, and each dispense
followed to its end (167 with serial-number security, 166 status, 163 test, 164 enable).

The driver (``drivers.cash.cctalk``) hands in how to ask a device (``ask``) and its
hoppers; nothing here owns the bus. A dispense is never sent twice blindly: when its reply
is lost, the hopper's dispense counter (166) says whether it was obeyed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.cash import cctalk_codec as codec
from kiosk.devices.roles import PayoutResult, PayoutStatus
from kiosk.errors import DeviceError, DeviceTimeout

log = logging.getLogger(__name__)

HOPPER_POLL_S = 0.02
HOPPER_SLACK_S = 3.0           # beyond the hopper's nominal rate, before a payout is given up on
HOPPER_MIN_COINS_PER_S = 2.0   # the slowest real hopper pays faster than this
MAX_COINS = 255                # one 167 dispenses at most this many

Ask = Callable[[int, int, bytes, bool], bytes]  # (address, header, data, repeat) -> the ACK's data
Trouble = tuple[PayoutStatus, str] | None


@dataclass(frozen=True)
class Hopper:
    address: int
    serial: int
    value: int  # the coin it pays (header 171), minor units


def plan(hoppers: list[Hopper], amount: int) -> list[tuple[Hopper, int]]:
    """Coins per hopper, largest coin first, that make ``amount`` exactly; [] if none can."""
    result, rest = [], amount
    for hopper in sorted(hoppers, key=lambda h: -h.value):
        count = rest // hopper.value
        if count:
            result.append((hopper, count))
            rest -= count * hopper.value
    return result if rest == 0 else []


def payout(ask: Ask, hoppers: list[Hopper], amount: int) -> PayoutResult:
    """Pay ``amount``; a hopper that fails is left out and the rest planned again without it."""
    coins: dict[int, int] = {}
    remaining, status, why = amount, PayoutStatus.PAID, None
    working = list(hoppers)
    while remaining:
        steps = plan(working, remaining)
        if not steps:
            break
        hopper, count = steps[0]
        try:
            paid, trouble = dispense(ask, hopper, min(count, MAX_COINS))
        except (DeviceError, serial.SerialException, OSError) as err:
            paid, trouble = 0, (PayoutStatus.CANNOT, str(err))
        if paid:
            coins[hopper.value] = coins.get(hopper.value, 0) + paid
            remaining -= paid * hopper.value
        if trouble is not None:
            working.remove(hopper)
            status, why = trouble
    paid_total = amount - remaining
    if remaining == 0:
        status = PayoutStatus.PAID
    elif why is None:
        status, why = PayoutStatus.CANNOT, "no hopper can make this amount"
    elif status is PayoutStatus.CANNOT and paid_total:
        status = PayoutStatus.SHORT
    return PayoutResult(status, amount, paid_total, remaining, coins, why or "")


def _status(ask: Ask, hopper: Hopper) -> codec.HopperStatus:
    return codec.parse_hopper_status(ask(hopper.address, codec.H_REQUEST_HOPPER_STATUS, b"", True))


def dispense(ask: Ask, hopper: Hopper, count: int) -> tuple[int, Trouble]:
    """Pay ``count`` coins from one hopper; return how many left it and, if not all, why."""
    before = _status(ask, hopper)
    if before.remaining:
        return 0, (PayoutStatus.CANNOT, f"hopper {hopper.address} is still paying")
    ask(hopper.address, codec.H_ENABLE_HOPPER, bytes([codec.ENABLE_HOPPER]), True)
    try:
        command = hopper.serial.to_bytes(3, "little") + bytes([count])
        try:
            ask(hopper.address, codec.H_DISPENSE_HOPPER_COINS, command, False)
        except DeviceTimeout:
            # The reply was lost; the command may have been obeyed. The hopper's counter
            # says which; sending it again blindly could pay twice.
            if _status(ask, hopper).counter == before.counter:
                ask(hopper.address, codec.H_DISPENSE_HOPPER_COINS, command, False)
        return _follow(ask, hopper, count, codec.next_counter(before.counter))
    finally:
        try:
            ask(hopper.address, codec.H_ENABLE_HOPPER, b"\x00", True)
        except (DeviceError, serial.SerialException, OSError) as err:
            log.warning("hopper %d not disabled after payout: %s", hopper.address, err)


def _follow(ask: Ask, hopper: Hopper, count: int, expected: int) -> tuple[int, Trouble]:
    """Read 166 until the dispense numbered ``expected`` has nothing left to pay."""
    deadline = time.monotonic() + HOPPER_SLACK_S + count / HOPPER_MIN_COINS_PER_S
    while time.monotonic() < deadline:
        status = _status(ask, hopper)
        if status.counter != expected:
            if status.counter == 0:
                return 0, (PayoutStatus.SHORT, f"hopper {hopper.address} was reset during the payout")
            return 0, (PayoutStatus.CANNOT, f"hopper {hopper.address} did not start the payout")
        if not status.remaining:
            break
        time.sleep(HOPPER_POLL_S)  # the hopper's motor sets the pace; nothing to do meanwhile
    else:
        return status.paid, (PayoutStatus.SHORT, f"hopper {hopper.address} still paying after the deadline")
    if status.unpaid == 0 and status.paid == count:
        return count, None
    register = ask(hopper.address, codec.H_TEST_HOPPER, b"", True)[:1]
    flags = register[0] if register else 0
    if flags & codec.HOPPER_OPTO_BLOCKED:
        return status.paid, (PayoutStatus.JAMMED, f"hopper {hopper.address} jammed")
    if flags & codec.HOPPER_PAYOUT_TIMEOUT:
        return status.paid, (PayoutStatus.EMPTY, f"hopper {hopper.address} is empty")
    return status.paid, (PayoutStatus.SHORT, f"hopper {hopper.address} stopped short")
