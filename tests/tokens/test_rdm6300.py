"""125 kHz RFID readers (RDM6300 frames): the real driver through the emulated reader on a
pty. A tag held in the field is delivered once; damaged frames never deliver an id."""

from __future__ import annotations


import pytest
from hypothesis import given, strategies as st

from drivers.tokens.rdm6300 import RdmFramer, frame_for
from kiosk.devices import registry
from kiosk.errors import DeviceURLError
from tests.support import wait_until

UID = "1A00C3D4E5"


def test_a_frame_by_hand():
    # 1A ^ 00 ^ C3 ^ D4 ^ E5 = 0xE8
    assert frame_for("1a00c3d4e5") == b"\x021A00C3D4E5E8\x03"


@given(st.binary(min_size=5, max_size=5), st.integers(0, 13), st.integers(1, 255))
def test_one_damaged_byte_never_delivers_another_id(data, where, flip):
    uid = data.hex().upper()
    frame = bytearray(frame_for(uid))
    assert RdmFramer().feed(bytes(frame), 0.0) == [uid]
    frame[where] ^= flip
    delivered = RdmFramer().feed(bytes(frame) + frame_for(uid), 0.0)
    assert delivered in ([uid], [uid, uid])    # the damaged one dropped, the good one after it read


def test_a_frame_cut_off_is_dropped_after_the_gap():
    framer = RdmFramer(gap_s=0.1)
    assert framer.feed(frame_for(UID)[:6], 0.0) == []
    assert framer.feed(frame_for(UID)[6:], 0.5) == []          # its tail came too late
    assert framer.counts["partial"] == 1
    assert framer.feed(frame_for(UID), 0.6) == [UID]


@pytest.fixture
def reader():
    device = registry.create("token", "sim+rdm6300://?dedupe_ms=500&chunk=3")
    got = []
    device.subscribe(got.append)
    device.open()
    try:
        yield device, got
    finally:
        device.close()


def test_a_tag_held_in_the_field_is_read_once(reader):
    device, got = reader
    device.sim.hold(UID, frames=6)
    wait_until(lambda: device.stats["frames"] == 6)
    assert [(s.data, s.symbology) for s in got] == [(UID.encode(), "em4100")]
    assert device.stats["duplicates"] == 5


def test_damaged_frames_deliver_nothing_and_the_next_good_one_arrives(reader):
    device, got = reader
    device.sim.bad_checksum(UID)
    device.sim.garbage(30)
    device.sim.wrong_type()
    device.sim.cut(UID)
    device.sim.hold("0000000001", frames=1)
    wait_until(lambda: got)
    assert [s.data for s in got] == [b"0000000001"]
    stats = device.stats
    assert stats["bad_checksum"] == 1 and stats["malformed"] == 1 and stats["stray_bytes"] >= 30


def test_an_unplugged_reader_comes_back(reader):
    device, got = reader
    device.sim.disconnect()
    wait_until(lambda: not device.health()["ok"])
    device.sim.reconnect()
    wait_until(lambda: device.health()["ok"])
    device.sim.hold(UID, frames=1)
    wait_until(lambda: got)
    assert got[0].data == UID.encode()


@pytest.mark.parametrize("url", ["rdm6300://host/dev/ttyUSB0", "rdm6300:///dev/ttyUSB0?baud=7",
                                 "rdm6300:///dev/ttyUSB0?speed=9600"])
def test_bad_urls_are_named(url):
    with pytest.raises(DeviceURLError):
        registry.check("token", url)
