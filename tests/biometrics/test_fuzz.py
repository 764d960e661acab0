"""Bad frames and packets, 10,000 cases each: no crash, no false reading.

The R30x packet parser and the RDM6300 frame parser take random bytes, random damage to
good frames and random splits; neither raises. One damaged byte is always caught: neither
delivers anything that was not sent whole. (Several damaged bytes can fool the R30x's
16-bit additive checksum — the protocol's own weakness — so there the test asks only that
nothing crashes; the driver's checks of every answer's shape and size stand behind it.)"""

from __future__ import annotations

import random

from drivers.biometrics import r30x_codec as C
from drivers.tokens.rdm6300 import RdmFramer, frame_for

CASES = 10_000


def _damaged(rng: random.Random, frame: bytes, times: int = 1) -> bytes:
    data = bytearray(frame)
    for _ in range(times):
        match rng.randrange(3):
            case 0:
                data[rng.randrange(len(data))] ^= rng.randint(1, 255)
            case 1:
                del data[rng.randrange(len(data))]
            case _:
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
    return bytes(data)


def _split(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted(rng.sample(range(len(data) + 1), min(3, len(data) + 1)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def test_r30x_packets():
    rng = random.Random(8)
    sent = {C.Packet(pid, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))))
            for pid in C.PIDS for _ in range(30)}
    good = sorted(sent, key=lambda p: (p.pid, p.payload))   # a set's order follows PYTHONHASHSEED: keep the run repeatable
    parser, heavy = C.PacketParser(), C.PacketParser()
    for _ in range(CASES):
        packet = rng.choice(good)
        frame = C.encode(packet.pid, packet.payload)
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(30)))
        for piece in _split(rng, rng.choice([_damaged(rng, frame), noise, frame])):
            for got in parser.feed(piece):
                assert got in sent, got
        for piece in _split(rng, _damaged(rng, frame, rng.randint(2, 4)) + noise):
            heavy.feed(piece)
    assert parser.counts["packets"] > 1000 and parser.counts["bad_checksum"] > 100


def test_rdm6300_frames():
    rng = random.Random(9)
    uids = [bytes(rng.randrange(256) for _ in range(5)).hex().upper() for _ in range(50)]
    framer, now = RdmFramer(), 0.0
    delivered = 0
    for _ in range(CASES):
        uid = rng.choice(uids)
        wire = rng.choice([_damaged(rng, frame_for(uid)), frame_for(uid),
                           bytes(rng.randrange(256) for _ in range(rng.randrange(20)))])
        for piece in _split(rng, wire):
            now += 0.001
            for got in framer.feed(piece, now):
                assert got in uids, got
                delivered += 1
    assert delivered > 3000
