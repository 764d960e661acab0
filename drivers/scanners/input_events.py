"""The Linux input-event wire format: ``struct input_event`` as read from /dev/input/event*.

A keyboard-wedge scanner's keystrokes reach the driver as these records, so the driver
decodes the kernel's own format from a file descriptor and needs python-evdev only to
open, grab and inspect the device (``drivers.scanners.evdev_device``). The emulator
writes the same records into a pipe, which is how the whole decoding path is tested on a
machine without /dev/uinput.

    struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; };

``timeval`` is two C longs: 24 bytes a record on 64-bit Linux, 16 on 32-bit (the native
layout, as the kernel writes it for a process of the same word size).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

RECORD = struct.Struct("@llHHi")
SIZE = RECORD.size

# linux/input-event-codes.h
EV_SYN, EV_KEY, EV_MSC, EV_LED = 0x00, 0x01, 0x04, 0x11
SYN_REPORT, SYN_DROPPED = 0, 3
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2


class InputEvent(NamedTuple):
    sec: int
    usec: int
    type: int
    code: int
    value: int


def pack(type_: int, code: int, value: int, timestamp: float = 0.0) -> bytes:
    """One record, as the kernel would write it."""
    sec = int(timestamp)
    return RECORD.pack(sec, int((timestamp - sec) * 1_000_000), type_, code, value)


class EventStream:
    """Bytes in (any chunking), whole records out. Never raises on input."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[InputEvent]:
        self._buf += chunk
        whole = len(self._buf) - len(self._buf) % SIZE
        if not whole:
            return []
        events = [InputEvent(*fields) for fields in RECORD.iter_unpack(bytes(self._buf[:whole]))]
        del self._buf[:whole]
        return events

    def reset(self) -> None:
        self._buf.clear()
