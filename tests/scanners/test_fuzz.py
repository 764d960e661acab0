"""Fuzzing the scanners' framing: random and mutated streams, no crash, nothing malformed out.

10,000+ byte streams go into the serial framing and 10,000+ input-event streams into the
keyboard-wedge decoding, each cut into random read sizes; then a few hundred go over the
wire to the real drivers, which must keep running and still read the next good code.
"""

from __future__ import annotations

import random

import pytest

from drivers.scanners import aim
from drivers.scanners import input_events as ie
from drivers.scanners.framing import _FORBIDDEN, SUFFIXES, SerialFramer
from drivers.scanners.keymap import KeyDecoder
from hwsim.scanners.keyboard import KeyboardWedgeSim

from tests.support import wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

STREAMS = 10_000
KNOWN = set(aim.CODE_CHARACTERS.values()) | {"ean13", "ean8", "ean-addon", "unknown"}


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)          # bit flip
        elif op == 1:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))  # insertion
        elif op == 2:
            del out[pos:pos + rng.randint(1, 8)]                           # deletion
        elif op == 3:
            out[pos:pos] = rng.choice([b"\r", b"\n", b"\r\n", b"]Q1", b"]", b"\x00", b"\xff" * 3])
        elif op == 4:
            out = out[:pos]                                                # truncation
        else:
            out += out[:rng.randint(0, len(out))]                          # repetition
    return bytes(out)


def chunks(rng: random.Random, data: bytes):
    i = 0
    while i < len(data):
        n = rng.choice([1, 2, 3, 7, 16, 64, 4096])
        yield data[i:i + n]
        i += n


def valid_serial_stream(rng: random.Random, suffix: bytes) -> bytes:
    frames = []
    for _ in range(rng.randint(1, 5)):
        ident = rng.choice(["]Q1", "]d2", "]C0", "]E0", "]z0"])
        payload = bytes(rng.randrange(0x20, 0x7F) for _ in range(rng.randint(0, 120)))
        frames.append(ident.encode() + payload + suffix)
    return b"".join(frames)


@pytest.mark.parametrize("suffix_name", ["crlf", "cr"])
def test_serial_framing_fuzz(rng, suffix_name):
    suffix = SUFFIXES[suffix_name]
    max_len = 200
    total_frames = 0
    for i in range(STREAMS // 2):
        framer = SerialFramer(suffix, aim_ids=i % 3 != 0, max_len=max_len, gap_s=0.25, prefix=b"\x02" if i % 7 == 0 else b"")
        if i % 4 == 0:
            stream = bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
        else:
            stream = mutate(rng, valid_serial_stream(rng, suffix))
        t = 0.0
        for piece in chunks(rng, stream):
            t += rng.choice([0.0, 0.001, 0.3])  # now and then a gap long enough to cut a frame
            for frame in framer.feed(piece, t):
                total_frames += 1
                assert 0 < len(frame.data) <= max_len
                assert len(frame.data.translate(None, _FORBIDDEN)) == len(frame.data)
                assert frame.symbology in KNOWN
            assert framer.pending <= max_len + 8
        framer.reset()
        assert framer.pending == 0
    assert total_frames > 1000  # the mutations left many good frames: the fuzz reached the parser


def valid_event_stream(rng: random.Random, sim: KeyboardWedgeSim) -> bytes:
    text = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabc0123456789-:/.") for _ in range(rng.randint(1, 40)))
    strokes = sim._strokes("", text) + [((), 28)]
    records = []
    for modifiers, key in strokes:
        records += [ie.pack(ie.EV_KEY, m, 1) for m in modifiers]
        for code in key if isinstance(key, tuple) else (key,):
            records += [ie.pack(ie.EV_KEY, code, 1), ie.pack(ie.EV_SYN, 0, 0), ie.pack(ie.EV_KEY, code, 0)]
        records += [ie.pack(ie.EV_KEY, m, 0) for m in modifiers]
    return b"".join(records)


def mutate_events(rng: random.Random, wire: bytes) -> bytes:
    records = [wire[i:i + ie.SIZE] for i in range(0, len(wire), ie.SIZE)]
    for _ in range(rng.randint(1, 5)):
        op = rng.randrange(5)
        pos = rng.randrange(len(records) + 1)
        if op == 0 and records:
            del records[min(pos, len(records) - 1)]                        # a lost event
        elif op == 1:
            records.insert(pos, ie.pack(ie.EV_SYN, ie.SYN_DROPPED, 0))
        elif op == 2:
            records.insert(pos, ie.pack(rng.randrange(0x20), rng.randrange(0x300), rng.randint(-5, 5)))
        elif op == 3 and records:
            records[min(pos, len(records) - 1)] = ie.pack(ie.EV_KEY, rng.randrange(0x300), rng.randint(-2**31, 2**31 - 1))
        else:
            records.insert(pos, bytes(rng.randrange(256) for _ in range(rng.randint(1, ie.SIZE * 2))))  # misaligned
    return b"".join(records)


@pytest.mark.parametrize("layout", ["us", "de"])
def test_input_event_fuzz(rng, layout):
    sim = KeyboardWedgeSim(layout)
    max_len = 64
    produced = 0
    for i in range(STREAMS // 2):
        stream, decoder = ie.EventStream(), KeyDecoder(layout, max_len=max_len, end="enter" if i % 5 else "tab")
        if i % 4 == 0:
            wire = bytes(rng.randrange(256) for _ in range(rng.randint(0, 50 * ie.SIZE)))
        else:
            wire = mutate_events(rng, valid_event_stream(rng, sim))
        t = 0.0
        for piece in chunks(rng, wire):
            t += rng.choice([0.0, 0.3])
            for scan in decoder.feed(stream.feed(piece), t):
                produced += 1
                assert 0 < len(scan) <= max_len
            assert stream.pending < ie.SIZE
        decoder.reset()
        assert decoder.pending == 0
    assert produced > 500  # many survive the mutations: the fuzz reached the key decoding


def test_the_serial_driver_survives_a_hostile_line(make_scanner, rng):
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1&dedupe_ms=0&max_len=256")
    sim = scanner.sim
    for i in range(150):
        if i % 2:
            sim.send(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))))
        else:
            sim.send(mutate(rng, valid_serial_stream(rng, b"\r\n")))
    sim.send(b"\r\n")  # whatever was half-sent ends here
    sim.scan("AFTER-THE-STORM")
    wait_until(lambda: b"AFTER-THE-STORM" in rec.data, what="a good code after the fuzz")
    assert scanner.health()["ok"] and scanner.stats["errors"] == 0
    assert all(len(d) <= 256 for d in rec.data)


def test_the_hid_driver_survives_a_hostile_stream(make_scanner, rng):
    scanner, rec = make_scanner("sim+hid://?dedupe_ms=0&max_len=64")
    sim = scanner.sim
    for _ in range(150):
        wire = mutate_events(rng, valid_event_stream(rng, sim))
        sim._send(wire + b"\x00" * (-len(wire) % ie.SIZE), "fuzz")  # realigned, as a kernel would keep it
    sim.scan("X")  # an Enter: ends whatever the fuzz left open (or a drop left pending)
    sim.scan("AFTER-THE-STORM")
    wait_until(lambda: b"AFTER-THE-STORM" in rec.data, what="a good code after the fuzz")
    assert scanner.health()["ok"] and scanner.stats["errors"] == 0


@pytest.mark.slow
def test_camera_pipeline_on_random_images(rng):
    """Noise, stripes, blocks and chequerboards (the textures that look most like codes):
    the pipeline neither crashes nor reads a code out of them."""
    np = pytest.importorskip("numpy")
    from drivers.scanners.pipeline import ScanPipeline

    pipeline = ScanPipeline(formats=("qr", "datamatrix", "aztec", "pdf417"), thorough_every=1)
    gen = np.random.default_rng(rng.randrange(2**32))
    for i in range(100):
        h, w = rng.choice([(1, 1), (3, 700), (120, 160), (240, 320), (480, 640), (720, 1280)])
        kind = i % 4
        if kind == 0:
            image = gen.integers(0, 256, (h, w), dtype=np.uint8)
        elif kind == 1:
            image = np.kron(gen.integers(0, 2, (max(1, h // 8), max(1, w // 8)), dtype=np.uint8) * 255,
                            np.ones((8, 8), np.uint8))[:h, :w]
        elif kind == 2:
            image = ((np.indices((h, w)).sum(axis=0) // rng.randint(1, 12)) % 2 * 255).astype(np.uint8)
        else:
            image = gen.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert pipeline.decode(image, thorough=i % 2 == 0) == [], f"a code read out of random image {i}"
