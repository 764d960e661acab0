"""Fuzzing the ccTalk frame parser and the driver's line: no crash, nothing invalid out, no credit.

Hypothesis explores the parser's accounting and the event-counter arithmetic; 10,000+
random and mutated byte streams go through the parser cut into random read sizes; then a
few hundred damaged frames go over the wire to the real driver, which must credit nothing.
"""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from drivers.cash import cctalk_codec as codec
from kiosk.devices.roles import CashEventKind as K
from tests.cash.test_cctalk_driver import marker

STREAMS = 10_000


def chunks(rng: random.Random, data: bytes):
    i = 0
    while i < len(data):
        n = rng.choice([1, 2, 3, 7, 16, 64, 4096])
        yield data[i:i + n]
        i += n


frames = st.builds(lambda dest, src, header, data, crc: codec.build_frame(dest, src, header, data, crc=crc),
                   st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20), st.booleans())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(frames, st.binary(max_size=30)), max_size=8), st.integers(0, 2**32))
def test_parser_accounts_for_every_byte_and_returns_only_valid_frames(parts, seed):
    stream = b"".join(parts)
    parser = codec.FrameParser(crc=None)
    out = [f for piece in chunks(random.Random(seed), stream) for f in parser.feed(piece)]
    for frame in out:
        assert codec.decode_frame(frame.encode(), crc=frame.crc16) == frame
    assert parser.discarded + sum(len(f.encode()) for f in out) + len(parser.pending) == len(stream)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)),
                                                         max_size=5))
def test_new_events_never_invents_or_repeats(last, counter, results):
    buffer = codec.parse_event_buffer(codec.encode_event_buffer(counter, results))
    fresh = codec.new_events(last, buffer)
    assert len(fresh.results) <= codec.EVENT_SLOTS and fresh.missed >= 0
    # Reading the same buffer again after acting on it yields nothing new.
    assert codec.new_events(counter, buffer).results == ()


def credit_reply(rng: random.Random) -> bytes:
    counter = rng.randint(1, 255)
    results = [(rng.randint(1, 4), 1) for _ in range(5)]
    return codec.build_frame(codec.HOST, codec.ADDR_COIN_ACCEPTOR, codec.ACK, codec.encode_event_buffer(counter, results))


def flip_one_bit(rng: random.Random, frame: bytes) -> bytes:
    out = bytearray(frame)
    out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def test_damaged_credit_replies_never_parse_as_a_credit():
    rng = random.Random(13)
    for i in range(STREAMS):
        frame = credit_reply(rng)
        damaged = flip_one_bit(rng, frame)
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))) if i % 3 == 0 else b""
        parser = codec.FrameParser(crc=None)
        out = [f for piece in chunks(rng, noise + damaged) for f in parser.feed(piece)]
        # A single damaged byte always breaks the 8-bit sum, so no 16-byte event buffer comes out.
        assert not [f for f in out if f.dest == codec.HOST and len(f.data) == 11], (damaged.hex(), out)


def test_random_streams_do_not_crash_the_parser():
    rng = random.Random(7)
    total = 0
    for _ in range(STREAMS):
        stream = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        parser = codec.FrameParser(crc=None)
        for piece in chunks(rng, stream):
            total += len(parser.feed(piece))
        assert parser.discarded + parser.frames * 5 <= len(stream)
    assert total >= 0


def test_garbage_on_the_line_credits_nothing(make_cash):
    cash, events = make_cash(timeout_ms=30)
    cash.accept(True)
    rng = random.Random(5)
    for i in range(300):
        burst = flip_one_bit(rng, credit_reply(rng)) if i % 2 else bytes(rng.randrange(256) for _ in range(20))
        cash.sim.inject_garbage(burst)
    marker(cash, events)
    assert events.of(K.CREDIT) == []
    cash.sim.acceptor.insert(100)  # and the line still works
    assert events.wait_for(K.CREDIT, 1)[0].amount == 100
