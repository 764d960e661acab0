"""The Kerong CU16 codec against the byte strings verified in the reference notes
(lockers-and-lock-boards.md, 3.1), and the frame parser under fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.locks import kerong_codec as codec
from drivers.locks.kerong_codec import Frame, FrameParser


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- verified frames -----------------------------------------------------------------------

@pytest.mark.parametrize("board, lock_index, wire", [
    (0, 0, "02 00 31 03 36"),   # board 0, lock 1
    (1, 2, "02 12 31 03 48"),   # board 1, lock 3
])
def test_unlock_frame_matches_the_reference(board, lock_index, wire):
    assert codec.unlock_frame(board, lock_index) == h(wire)


def test_status_and_bus_query_frames_match_the_reference():
    assert codec.status_query_frame(0) == h("02 00 30 03 35")
    assert codec.bus_query_frame() == h("02 00 32 03 37")
    assert codec.bus_query_frame(0xF0) == h("02 F0 32 03 27")


def test_checksum_is_the_byte_sum_from_stx_to_etx():
    assert codec.checksum(h("02 12 31 03")) == 0x48
    assert codec.checksum(h("FF FF 02")) == 0x00  # wraps at 256


@pytest.mark.parametrize("board, lock_index", [(16, 0), (-1, 0), (0, 16), (0, -1)])
def test_addresses_out_of_range_are_refused(board, lock_index):
    with pytest.raises(ValueError):
        codec.unlock_frame(board, lock_index)


# --- status replies ------------------------------------------------------------------------

# Board 1; locks 1, 2 and 9 latched; parcels behind locks 1 and 16. Written out by hand:
# L1-8 = 0b0000_0011, L9-16 = 0b0000_0001, IR1-8 = 0b0000_0001, IR9-16 = 0b1000_0000.
CLOSED_HIGH = "02 10 35 03 01 01 80 03 CF"
# The same doors with closed-low polarity: the lock bytes are inverted.
CLOSED_LOW = "02 10 35 FC FE 01 80 03 C5"


@pytest.mark.parametrize("polarity, wire", [("closed-high", CLOSED_HIGH), ("closed-low", CLOSED_LOW)])
def test_status_reply_parses_with_either_polarity(polarity, wire):
    [frame] = FrameParser().feed(h(wire))
    status = codec.parse_status(frame, polarity)
    assert status.board == 1
    assert [i + 1 for i, c in enumerate(status.closed) if c] == [1, 2, 9]
    assert [i + 1 for i, o in enumerate(status.occupied) if o] == [1, 16]


@pytest.mark.parametrize("polarity, wire", [("closed-high", CLOSED_HIGH), ("closed-low", CLOSED_LOW)])
def test_status_reply_builds_the_same_bytes(polarity, wire):
    closed = [n in (1, 2, 9) for n in range(1, 17)]
    occupied = [n in (1, 16) for n in range(1, 17)]
    assert codec.status_reply(1, closed, occupied, polarity) == h(wire)


def test_a_board_reporting_all_closed_and_empty():
    # What a freshly powered CU16 with every door shut says, closed-high (checksum by hand).
    status = codec.parse_status(Frame(0x00, 0x35, h("FF FF 00 00")), "closed-high")
    assert all(status.closed) and not any(status.occupied)
    assert codec.status_reply(0, [True] * 16, [False] * 16, "closed-high") == h("02 00 35 FF FF 00 00 03 38")


def test_parse_status_refuses_other_frames_and_polarities():
    with pytest.raises(ValueError):
        codec.parse_status(Frame(0x00, codec.CMD_UNLOCK), "closed-high")
    with pytest.raises(ValueError):
        codec.parse_status(Frame(0x00, 0x35, h("FF FF 00 00")), "upside-down")


# --- the parser on known streams -----------------------------------------------------------

def test_parser_reassembles_a_frame_cut_into_single_bytes():
    parser = FrameParser()
    found = [f for byte in h(CLOSED_HIGH) for f in parser.feed(bytes([byte]))]
    assert [f.encode() for f in found] == [h(CLOSED_HIGH)]
    assert parser.pending == b"" and parser.discarded == 0


def test_parser_skips_noise_and_a_damaged_frame_before_a_good_one():
    damaged = h("02 00 35 FF FF 00 00 03 39")        # checksum off by one
    noise = h("00 FF 02 02 41 03")                     # stray STX bytes, unknown command
    parser = FrameParser()
    found = parser.feed(noise + damaged + h("02 12 31 03 48") + h("02 00"))
    assert found == [Frame(0x12, codec.CMD_UNLOCK)]
    assert parser.bad_checksums == 1
    assert parser.pending == h("02 00")  # may still become a frame
    assert parser.discarded == len(noise) + len(damaged)


def test_a_good_frame_starting_inside_a_rejected_candidate_is_found():
    # "02 00 35" announces nine bytes, but a real unlock frame starts two bytes later.
    parser = FrameParser()
    assert parser.feed(h("02 00 35") + h("02 12 31 03 48") + h("02 00 30 03 35")) == [
        Frame(0x12, codec.CMD_UNLOCK), Frame(0x00, codec.CMD_STATUS)]


def test_a_frame_without_etx_is_refused_even_if_its_sum_adds_up():
    parser = FrameParser()
    assert parser.feed(h("02 00 30 04 36")) == []  # 04 where ETX belongs; 36 is its sum
    assert parser.discarded == 5 and parser.bad_checksums == 0


def test_reset_discards_what_is_pending():
    parser = FrameParser()
    parser.feed(h("02 00 35 FF"))
    assert parser.reset() == 4
    assert parser.pending == b"" and parser.discarded == 4


# --- fuzzing -------------------------------------------------------------------------------

frames = st.builds(
    lambda addr, cmd, data: codec.build_frame(addr, cmd, data[:codec.DATA_LENGTH[cmd]]),
    st.integers(0, 255), st.sampled_from(sorted(codec.DATA_LENGTH)), st.binary(min_size=4, max_size=4))


@st.composite
def mutated(draw, piece):
    """A piece with one byte changed, dropped or duplicated, or cut short."""
    data = bytearray(draw(piece))
    i = draw(st.integers(0, len(data) - 1))
    how = draw(st.sampled_from(["flip", "drop", "dup", "cut"]))
    if how == "flip":
        data[i] ^= draw(st.integers(1, 255))
    elif how == "drop":
        del data[i]
    elif how == "dup":
        data.insert(i, data[i])
    else:
        del data[i:]
    return bytes(data)


noisy_streams = st.lists(
    st.one_of(frames, mutated(frames), st.binary(max_size=12), st.sampled_from([b"\x02", b"\x03", b"\x02\x00\x35"])),
    max_size=12).map(b"".join)
chunk_sizes = st.lists(st.integers(1, 12), min_size=1, max_size=8)


def feed_in_chunks(parser: FrameParser, stream: bytes, sizes: list[int]) -> list[Frame]:
    found, at, i = [], 0, 0
    while at < len(stream):
        size = sizes[i % len(sizes)]
        found += parser.feed(stream[at:at + size])
        at, i = at + size, i + 1
    return found


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=st.one_of(noisy_streams, st.binary(max_size=64)), sizes=chunk_sizes)
def test_parser_fuzz_never_raises_and_yields_only_sound_frames(stream, sizes):
    parser = FrameParser()
    found = feed_in_chunks(parser, stream, sizes)
    for frame in found:
        wire = frame.encode()
        assert wire in stream
        assert wire[0] == codec.STX and wire[-2] == codec.ETX and wire[-1] == codec.checksum(wire[:-1])
        assert len(frame.data) == codec.DATA_LENGTH[frame.cmd]
    # Every byte is accounted for, and no more than one unfinished frame is held back.
    assert sum(len(f.encode()) for f in found) + parser.discarded + len(parser.pending) == len(stream)
    assert len(parser.pending) < codec.MAX_FRAME_LENGTH


@pytest.mark.slow
@settings(max_examples=500, deadline=None, database=None)
@given(pieces=st.lists(st.tuples(st.binary(max_size=10).map(lambda b: b.replace(b"\x02", b"")), frames), max_size=8),
       sizes=chunk_sizes)
def test_parser_recovers_every_frame_between_noise_without_stx(pieces, sizes):
    stream = b"".join(noise + frame for noise, frame in pieces)
    found = feed_in_chunks(FrameParser(), stream, sizes)
    assert [f.encode() for f in found] == [frame for _, frame in pieces]
