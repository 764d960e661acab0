"""The URL of a Kerong KR-CU16 bus (``kerong+serial://``) and what it asks for.

URL grammar (every parameter optional)::

    kerong+serial:///dev/ttyUSB0?boards=1&first_board=0&doors=16&baud=19200
                                &polarity=closed-high&poll_ms=100&timeout_ms=200&retries=2
                                &open_watch_ms=15000&unlock_reply=maybe&min_pulse_gap_ms=500
                                &rs485=off&ir=none

    boards       number of CU16 boards on the bus, 1..16 (16 locks each)
    first_board  bus address of the first board (DIP switch), 0..16-boards; the rest follow
    doors        doors actually fitted, 1..boards*16 (default: all); door n is lock
                 (n-1) % 16 + 1 of board first_board + (n-1) // 16
    baud         serial speed; the CU16 factory default is 19200 8N1
    polarity     closed-high (lock bit 1 = latched) or closed-low; calibrate on the hardware.
                 A board whose every fitted door (two or more) reads open at start-up is
                 refused, with one message naming this option, rather than raising a tamper
                 alarm per door; when every board answering is refused, open() fails
    poll_ms      how often each board's status is read
    timeout_ms   how long to wait for one reply
    retries      extra attempts after a timeout or a bad checksum before a board counts
                 as offline (its doors then read UNKNOWN until it answers again)
    open_watch_ms  after an unlock, that board is polled every 25 ms until the door is seen
                 open or this long has passed (match [lockers] open_timeout_s), so a door
                 opened and shut quickly between two routine polls is still seen open
    unlock_reply what the firmware does after an unlock (0x31): maybe (default: listen up to
                 timeout_ms for a status reply before talking again, safe for any firmware),
                 status (it answers: the answer confirms the unlock), none (it never
                 answers: the status query sent at once confirms it, no reply wait)
    min_pulse_gap_ms  a second unlock of one door within this long of the last pulse waits
                 until it has passed (the CU16 is still driving the first pulse)
    rs485        off (default: the adapter switches direction itself) or rts: the host
                 switches the transceiver with RTS, through pySerial's RS-485 mode (the
                 kernel's TIOCSRS485: RTS high while sending, low to receive)
    ir           none (default: no occupancy sensors fitted; the IR bits mean nothing) or
                 fitted: each compartment's IR sensor says whether a parcel is inside (bit 1
                 = parcel), which lets a restart settle an opening it did not see finish
"""

from __future__ import annotations

from drivers.locks import kerong_codec as codec
from drivers.locks.kerong_line import RS485_MODES
from kiosk.devices.url import DeviceURL

UNLOCK_REPLIES = ("maybe", "status", "none")
IR_MODES = ("none", "fitted")     # compartment occupancy (IR) sensors


def options(url: DeviceURL) -> dict:
    """The keyword arguments of ``LockBankKerong`` the URL's query asks for. Raises DeviceURLError."""
    boards = url.int("boards", 1, lo=1, hi=codec.MAX_BOARDS)
    lock_count = boards * codec.LOCKS_PER_BOARD
    return dict(
        boards=boards,
        first_board=url.int("first_board", 0, lo=0, hi=codec.MAX_BOARDS - boards),
        doors=url.int("doors", lock_count, lo=1, hi=lock_count),
        baud=url.int("baud", 19200, lo=1200, hi=115200),
        polarity=url.choice("polarity", codec.POLARITIES, "closed-high"),
        poll_ms=url.int("poll_ms", 100, lo=5, hi=60_000),
        timeout_ms=url.int("timeout_ms", 200, lo=5, hi=10_000),
        retries=url.int("retries", 2, lo=0, hi=10),
        open_watch_ms=url.int("open_watch_ms", 15_000, lo=0, hi=600_000),
        unlock_reply=url.choice("unlock_reply", UNLOCK_REPLIES, "maybe"),
        min_pulse_gap_ms=url.int("min_pulse_gap_ms", 500, lo=0, hi=60_000),
        rs485=url.choice("rs485", RS485_MODES, "off"),
        ir=url.choice("ir", IR_MODES, "none"),
    )


def check_port(url: DeviceURL) -> None:
    url.require_port("kerong+serial:///dev/ttyUSB0", "kerong+serial")
