"""The serial framing and the AIM identifiers, without a port: bytes and times in, frames out."""

from __future__ import annotations

import pytest

from drivers.scanners import aim
from drivers.scanners.framing import SerialFramer

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test


def frames(framer: SerialFramer, *chunks: bytes, t: float = 0.0) -> list:
    out = []
    for chunk in chunks:
        out += framer.feed(chunk, t)
    return out


@pytest.mark.parametrize("identifier, name", [
    ("]Q1", "qr"), ("]Q3", "qr"), ("]d1", "datamatrix"), ("]d2", "datamatrix"), ("]C0", "code128"),
    ("]C1", "code128"), ("]E0", "ean13"), ("]E4", "ean8"), ("]A0", "code39"), ("]I0", "itf"),
    ("]L0", "pdf417"), ("]z0", "aztec"), ("]e0", "databar"),
])
def test_aim_identifiers_name_the_symbology(identifier, name):
    assert aim.symbology_of(identifier) == name
    assert aim.split(identifier.encode() + b"payload") == (identifier, name, b"payload")


@pytest.mark.parametrize("frame", [b"Q1abc", b"]q1abc", b"]Q\x00abc", b"]", b"]Q", b"", b"]Y1abc", b"]E9x"])
def test_not_an_aim_identifier(frame):
    assert aim.split(frame) is None


def test_crlf_frames_and_aim_stripped():
    framer = SerialFramer(b"\r\n", aim_ids=True)
    out = frames(framer, b"]Q1HELLO\r\n]d2GS1\x1d0123\r\n]C01234-5678\r\n")
    assert [(f.data, f.symbology, f.identifier) for f in out] == [
        (b"HELLO", "qr", "]Q1"), (b"GS1\x1d0123", "datamatrix", "]d2"), (b"1234-5678", "code128", "]C0")]
    assert framer.counts["frames"] == 3 and framer.counts["garbage"] == 0


def test_a_frame_split_anywhere_reads_the_same():
    wire = b"]Q1ABCDEF-0123\r\n"
    for cut in range(1, len(wire)):
        framer = SerialFramer(b"\r\n", aim_ids=True)
        assert [f.data for f in frames(framer, wire[:cut], wire[cut:])] == [b"ABCDEF-0123"], cut


def test_crlf_framing_keeps_a_lone_cr_or_lf_inside_data():
    framer = SerialFramer(b"\r\n", binary=True)
    assert [f.data for f in frames(framer, b"a\rb\nc\r\n")] == [b"a\rb\nc"]


def test_cr_suffix_tolerates_a_scanner_sending_crlf():
    framer = SerialFramer(b"\r")
    assert [f.data for f in frames(framer, b"ONE\r\nTWO\r\n")] == [b"ONE", b"TWO"]
    framer = SerialFramer(b"\n")
    assert [f.data for f in frames(framer, b"ONE\r\nTWO\r\n")] == [b"ONE", b"TWO"]


def test_line_noise_is_counted_not_delivered():
    framer = SerialFramer(b"\r\n", aim_ids=True)
    out = frames(framer, b"\x00\xff\x13\x80\r\n", b"]Q1ok\r\n", b"\r\n", b"]Q1bad\x00byte\r\n", b"]Q1\r\n")
    assert [f.data for f in out] == [b"ok"]
    assert framer.counts["garbage"] == 2 and framer.counts["empty"] == 2


def test_missing_aim_is_garbage_when_required():
    framer = SerialFramer(b"\r\n", aim_ids=True)
    assert frames(framer, b"no identifier\r\n") == []
    assert framer.counts["garbage"] == 1


def test_without_aim_the_symbology_is_unknown():
    framer = SerialFramer(b"\r\n")
    assert [(f.data, f.symbology) for f in frames(framer, b"]Q1kept as data\r\n")] == [(b"]Q1kept as data", "unknown")]


def test_overlong_frames_are_dropped_to_the_next_suffix():
    framer = SerialFramer(b"\r\n", max_len=16)
    out = frames(framer, b"x" * 10, b"y" * 40, b"z" * 5, b"\r\n", b"fine\r\n")
    assert [f.data for f in out] == [b"fine"]
    assert framer.counts["overlong"] == 1
    out = frames(framer, b"w" * 30 + b"\r\nfine again\r\n")  # in one chunk this time
    assert [f.data for f in out] == [b"fine again"] and framer.counts["overlong"] == 2


def test_a_frame_that_stops_arriving_is_partial():
    framer = SerialFramer(b"\r\n", gap_s=0.25)
    assert framer.feed(b"]Q1HALF-A-CO", 10.0) == []
    assert framer.pending
    out = framer.feed(b"WHOLE\r\n", 10.5)  # the rest of a code never came; a new one did
    assert [f.data for f in out] == [b"WHOLE"]
    assert framer.counts["partial"] == 1
    framer.feed(b"tail", 11.0)
    framer.expire(11.3)
    assert framer.pending == 0 and framer.counts["partial"] == 2


def test_prefix_marks_the_start_and_bytes_before_it_are_garbage():
    framer = SerialFramer(b"\r\n", prefix=b"\x02")
    out = frames(framer, b"\x02ABC\r\n", b"junk\x02DEF\r\n", b"noprefix\r\n")
    assert [f.data for f in out] == [b"ABC", b"DEF"]
    assert framer.counts["garbage"] == 2


def test_reset_drops_a_half_frame():
    framer = SerialFramer(b"\r\n")
    framer.feed(b"half", 0.0)
    framer.reset()
    assert framer.pending == 0 and framer.counts["partial"] == 1
    assert [f.data for f in framer.feed(b"new\r\n", 0.0)] == [b"new"]
