"""The ccTalk codec on its own: frames, checksums, the parser, event counters."""

from __future__ import annotations

import pytest

from drivers.cash import cctalk_codec as codec


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_simple_poll_to_the_validator_is_the_reference_bytes():
    # devices-and-protocols.md §6: 40 0 1 254 217, verified there.
    assert codec.build_frame(40, 1, 254) == h("28 00 01 FE D9")
    assert codec.decode_frame(h("28 00 01 FE D9")) == codec.Frame(40, 1, 254)


def test_every_simple_frame_sums_to_zero():
    frame = codec.build_frame(2, 1, 231, b"\xff\xff")
    assert sum(frame) % 256 == 0 and frame[1] == 2


def test_crc16_variant_round_trips_and_is_told_apart():
    frame = codec.build_frame(40, 1, 159, crc=True)
    value = codec.crc16(bytes([40, 0, 159]))
    assert frame == bytes([40, 0, value & 0xFF, 159, value >> 8])
    decoded = codec.decode_frame(frame, crc=True)
    assert decoded.crc16 and decoded.header == 159
    with pytest.raises(codec.FrameError):
        codec.decode_frame(frame, crc=False)


@pytest.mark.parametrize("raw", ["28 00 01 FE D8", "28 01 01 FE D9", "28", "28 05 01 FE D9 00"])
def test_bad_frames_are_refused(raw):
    with pytest.raises(codec.FrameError):
        codec.decode_frame(h(raw))


def test_too_much_data_is_refused():
    with pytest.raises(codec.FrameError):
        codec.build_frame(2, 1, 0, bytes(253))


def test_parser_finds_frames_cut_anywhere_and_behind_noise():
    a, b = codec.build_frame(1, 2, 0, b"\x07" * 11), codec.build_frame(1, 40, 0, b"JP0100A")
    stream = b"\x05\xf0\x13" + a + b
    parser = codec.FrameParser()
    frames = [f for i in range(len(stream)) for f in parser.feed(stream[i:i + 1])]
    assert [f.encode() for f in frames] == [a, b]
    assert parser.discarded + sum(len(f.encode()) for f in frames) + len(parser.pending) == len(stream)


def test_noise_claiming_a_long_frame_does_not_hide_the_reply_behind_it():
    reply = codec.build_frame(1, 2, 0)
    parser = codec.FrameParser()
    # 0xC8 as a length byte would make the parser wait for 205 bytes.
    assert parser.feed(b"\x01\xc8" + reply) == [codec.Frame(1, 2, 0)]


def test_event_buffer_round_trip():
    data = codec.encode_event_buffer(7, [(3, 1), (0, 2)])
    buffer = codec.parse_event_buffer(data)
    assert buffer.counter == 7 and buffer.results[:3] == ((3, 1), (0, 2), (0, 0))
    with pytest.raises(codec.FrameError):
        codec.parse_event_buffer(data[:-1])


@pytest.mark.parametrize("counter, steps, expected", [(0, 1, 1), (1, 1, 2), (254, 1, 255), (255, 1, 1),
                                                      (255, 3, 3), (9, 0, 9)])
def test_the_counter_wraps_from_255_to_1_never_0(counter, steps, expected):
    assert codec.next_counter(counter, steps) == expected


def buffer_after(counter: int, newest_first: list[tuple[int, int]]) -> codec.EventBuffer:
    return codec.parse_event_buffer(codec.encode_event_buffer(counter, newest_first))


def test_new_events_are_the_ones_behind_the_last_counter_oldest_first():
    fresh = codec.new_events(5, buffer_after(7, [(4, 1), (3, 1), (1, 1)]))
    assert fresh.results == ((3, 1), (4, 1)) and fresh.missed == 0 and not fresh.reset


def test_the_same_reading_twice_is_nothing_new():
    buffer = buffer_after(7, [(4, 1)])
    assert codec.new_events(7, buffer).results == ()


def test_a_first_reading_without_a_stored_counter_is_only_the_baseline():
    assert codec.new_events(None, buffer_after(9, [(4, 1)])).results == ()


def test_events_across_the_wrap():
    fresh = codec.new_events(254, buffer_after(2, [(1, 1), (2, 1), (3, 1), (4, 1)]))
    assert fresh.results == ((3, 1), (2, 1), (1, 1)) and fresh.missed == 0  # counters 255, 1, 2


def test_more_than_five_events_between_polls_are_counted_as_missed():
    fresh = codec.new_events(1, buffer_after(9, [(1, 1)] * 5))
    assert len(fresh.results) == 5 and fresh.missed == 3


def test_counter_zero_is_a_reset():
    fresh = codec.new_events(40, buffer_after(0, []))
    assert fresh.reset and fresh.results == ()
    # ... and after it, events count from 1 again
    assert codec.new_events(0, buffer_after(2, [(1, 1), (3, 1)])).results == ((3, 1), (1, 1))


@pytest.mark.parametrize("ident, value", [("JP100A", 100), ("JP010A", 10), ("......", None), ("EU2K0A", None)])
def test_coin_values(ident, value):
    assert codec.coin_value(ident) == value


def test_bill_values_are_scaled():
    assert codec.bill_value("JP1000A", 10) == 10_000
    assert codec.bill_value(".......", 10) is None


def test_inhibit_masks():
    assert codec.inhibit_mask({1, 2, 9}) == h("03 01")
    assert codec.enabled_positions(h("03 01")) == {1, 2, 9}
