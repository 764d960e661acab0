"""APDU and BER-TLV codecs: both length forms, every case, and malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from drivers.cards import tlv
from drivers.cards.apdu import APDUError, Command, Response, sw_text


@pytest.mark.parametrize("raw, case, le, extended", [
    ("00A4040006D27600012401", 3, None, False),
    ("00CA006E00", 2, 256, False),
    ("00CA006E07", 2, 7, False),
    ("00200081", 1, None, False),
    ("002A9E9A03AABBCC00", 4, 256, False),
    ("00CA006E000000", 2, 65536, True),
    ("00DA0101000003AABBCC", 3, None, True),
    ("002A9E9A000003AABBCC0100", 4, 256, True),
])
def test_parse_each_case(raw, case, le, extended):
    cmd = Command.parse(bytes.fromhex(raw))
    assert (cmd.case, cmd.le, cmd.extended) == (case, le, extended)
    assert cmd.encode().hex().upper() == raw


@given(data=st.binary(max_size=600), le=st.one_of(st.none(), st.integers(1, 65536)), cla=st.integers(0, 255))
def test_extended_roundtrip(data, le, cla):
    cmd = Command(cla, 0xDA, 1, 2, data, le, extended=True)
    if cmd.case == 1:  # no length fields: the same bytes as short case 1
        assert cmd.encode() == bytes((cla, 0xDA, 1, 2))
    else:
        assert Command.parse(cmd.encode()) == cmd


@given(data=st.binary(max_size=255), le=st.one_of(st.none(), st.integers(1, 256)))
def test_short_roundtrip(data, le):
    cmd = Command(0, 0xCA, 0, 0x6E, data, le)
    assert Command.parse(cmd.encode()) == cmd


def test_an_empty_extended_lc_before_le_is_read_as_case_2e():
    # OpenPGPpy sends GET DATA this way; cards accept it, so the virtual card must too.
    cmd = Command.parse(bytes.fromhex("00CA7F740000000000"))
    assert (cmd.case, cmd.le, cmd.extended, cmd.data) == (2, 65536, True, b"")


@pytest.mark.parametrize("raw", ["00A404", "00A4040006D276", "00DA01010000", "00DA0101000005AABB"])
def test_malformed_commands_are_refused(raw):
    with pytest.raises(APDUError):
        Command.parse(bytes.fromhex(raw))


def test_short_length_limits():
    with pytest.raises(APDUError, match="extended length"):
        Command(0, 0xDA, 1, 1, bytes(256)).encode()
    with pytest.raises(APDUError):
        Command(0, 0xCA, 0, 0x6E, le=257).encode()


def test_response_and_status_words():
    r = Response.parse(bytes.fromhex("01029000"))
    assert r.ok and r.data == b"\x01\x02"
    assert "2 tries left" in sw_text(0x63C2)
    assert "blocked" in sw_text(0x6983)
    with pytest.raises(APDUError):
        Response.parse(b"\x90")


def test_tlv_nested_and_long_lengths():
    inner = tlv.encode(0xC4, bytes(7)) + tlv.encode(0x93, b"\x00\x00\x05")
    outer = tlv.encode(0x6E, tlv.encode(0x73, inner) + tlv.encode(0x5F52, bytes(200)))
    assert tlv.find(outer, 0x93) == b"\x00\x00\x05"
    assert tlv.find(outer, 0x5F52) == bytes(200)
    assert tlv.find(outer, 0x7F49) is None
    with pytest.raises(APDUError):
        tlv.parse(outer[:-1])
