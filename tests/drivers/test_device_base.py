"""DeviceBase: the lifecycle both role bases (LockBankBase, ScannerBase) take from it."""

from __future__ import annotations

import threading

import pytest

from drivers.base import DeviceBase
from drivers.locks.base import LockBankBase
from drivers.locks.gpio import LockBankGpio
from drivers.locks.kerong import LockBankKerong
from drivers.scanners.base import ScannerBase
from drivers.scanners.serial_scanner import ScannerSerial
from kiosk.errors import DeviceClosed, DeviceInitError


class Counting(DeviceBase):
    def __init__(self, url: str = "test://x", fail: bool = False):
        super().__init__(url)
        self.opened = self.closed = 0
        self.fail = fail

    def _open_device(self) -> None:
        if self.fail:
            raise DeviceInitError("no")
        self.opened += 1

    def _close_device(self) -> None:
        self.closed += 1


def test_open_and_close_are_idempotent():
    device = Counting()
    device.open()
    device.open()
    assert device.is_open and device.opened == 1
    device.close()
    device.close()
    assert not device.is_open and device.closed == 1


def test_a_failed_open_leaves_it_closed_and_close_does_nothing():
    device = Counting(fail=True)
    with pytest.raises(DeviceInitError):
        device.open()
    assert not device.is_open
    device.close()
    assert device.closed == 0


def test_context_manager_returns_the_device_and_closes_it():
    with Counting() as device:
        assert isinstance(device, Counting) and device.is_open
    assert not device.is_open and device.closed == 1


def test_closed_state_check_and_repr():
    device = Counting("test://here")
    assert repr(device) == "<Counting 'test://here' closed>"
    with pytest.raises(DeviceClosed, match="test://here"):
        device._check_open()
    device.open()
    device._check_open()
    assert repr(device) == "<Counting 'test://here' open>"
    device.close()


def test_concurrent_opens_open_once():
    device = Counting()
    threads = [threading.Thread(target=device.open) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert device.opened == 1
    device.close()


@pytest.mark.parametrize("cls", [LockBankBase, ScannerBase, LockBankKerong, LockBankGpio, ScannerSerial])
def test_every_driver_takes_its_lifecycle_from_device_base(cls):
    assert issubclass(cls, DeviceBase)
    for name in ("open", "close", "is_open", "__enter__", "__exit__", "_check_open"):
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        assert owner is DeviceBase, f"{cls.__name__}.{name} redefined in {owner.__name__}"


def test_unlock_on_a_closed_bank_names_it():
    bank = LockBankKerong("/dev/ttyUSB9")
    with pytest.raises(DeviceClosed, match="ttyUSB9"):
        bank.unlock(1)
