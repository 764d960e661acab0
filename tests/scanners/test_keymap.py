"""Key events back into codes, without a device: the input_event wire format and the key maps."""

from __future__ import annotations

import pytest

from drivers.scanners import input_events as ie
from drivers.scanners.keymap import LAYOUTS, KeyDecoder
from hwsim.scanners.keyboard import KeyboardWedgeSim

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test


def typed(sim: KeyboardWedgeSim, data, symbology=None) -> bytes:
    """The records the emulator writes for one scan (captured from a node, not grabbed by us)."""
    node = sim.open_device(sim.path)
    try:
        node.grab()
        sim.scan(data, symbology)
        import os
        chunks = []
        os.set_blocking(node.fd, False)
        while True:
            try:
                chunk = os.read(node.fd, 65536)
            except BlockingIOError:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        node.close()


def decode(wire: bytes, layout="us", **kw) -> tuple[list[bytes], KeyDecoder]:
    decoder = KeyDecoder(layout, **kw)
    return decoder.feed(ie.EventStream().feed(wire), 0.0), decoder


def test_record_layout_is_the_kernels():
    assert ie.SIZE in (16, 24)
    record = ie.pack(ie.EV_KEY, 30, 1, 12.5)
    assert ie.EventStream().feed(record) == [ie.InputEvent(12, 500000, ie.EV_KEY, 30, 1)]


def test_keycodes_match_pythons_evdev():
    ecodes = pytest.importorskip("evdev.ecodes")
    us = LAYOUTS["us"]
    for name, char in [("KEY_A", "a"), ("KEY_Z", "z"), ("KEY_1", "1"), ("KEY_0", "0"), ("KEY_MINUS", "-"),
                       ("KEY_SLASH", "/"), ("KEY_SEMICOLON", ";"), ("KEY_RIGHTBRACE", "]"), ("KEY_SPACE", " ")]:
        assert us[getattr(ecodes, name)][0] == char, name
    assert (ecodes.EV_KEY, ecodes.EV_SYN, ecodes.SYN_DROPPED) == (ie.EV_KEY, ie.EV_SYN, ie.SYN_DROPPED)


@pytest.mark.parametrize("text", [
    "1234-5678", "F2:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "Hello, World! ~`@#$%^&*()_+{}|:\"<>?",
    "lower upper MiXeD 0123456789 -=[]\\;',./",
])
def test_us_layout_round_trip(text):
    scans, decoder = decode(typed(KeyboardWedgeSim("us"), text))
    assert scans == [text.encode()]
    assert decoder.counts["frames"] == 1


def test_german_layout_swaps_y_and_z_and_types_umlauts_and_altgr():
    text = "Zytglogge ÄÖÜ äöüß @{[]}\\~|€ <>"
    scans, _ = decode(typed(KeyboardWedgeSim("de"), text), "de")
    assert scans == [text.encode("utf-8")]
    # the same keys read with the wrong layout give another code (why layout= matters)
    wrong, _ = decode(typed(KeyboardWedgeSim("de"), "Zy"), "us")
    assert wrong == [b"Yz"]


def test_alt_codes_carry_bytes_the_layout_cannot_type():
    data = bytes([0x00, 0x7F, 0x80, 0xE4, 0xFF]) + b"ok"
    scans, _ = decode(typed(KeyboardWedgeSim("us"), data))
    assert scans == [data]


def test_ctrl_right_bracket_is_the_gs1_separator():
    scans, _ = decode(typed(KeyboardWedgeSim("us"), "0101234567890128\x1d10ABC"))
    assert scans == [b"0101234567890128\x1d10ABC"]


def test_aim_identifier_typed_first():
    scans, _ = decode(typed(KeyboardWedgeSim("us"), "CODE", symbology="qr"))
    assert scans == [b"]Q1CODE"]  # the driver strips it when aim=1


def key(code, value):
    return ie.pack(ie.EV_KEY, code, value) + ie.pack(ie.EV_SYN, ie.SYN_REPORT, 0)


def test_enter_alone_is_empty_and_autorepeat_is_ignored():
    wire = key(28, 1) + key(28, 0) + key(30, 1) + key(30, 2) + key(30, 2) + key(30, 0) + key(28, 1)
    scans, decoder = decode(wire)
    assert scans == [b"a"] and decoder.counts["empty"] == 1


def test_a_dead_key_drops_the_whole_scan():
    wire = key(30, 1) + key(30, 0) + key(13, 1) + key(13, 0) + key(28, 1)  # a, ´ (dead on de), Enter
    scans, decoder = decode(wire, "de")
    assert scans == [] and decoder.counts["unmapped"] == 1


def test_syn_dropped_discards_everything_up_to_the_next_enter():
    wire = key(30, 1) + key(30, 0) + ie.pack(ie.EV_SYN, ie.SYN_DROPPED, 0) + key(31, 1) + key(31, 0)
    wire += key(28, 1) + key(48, 1) + key(48, 0) + key(28, 1)
    scans, decoder = decode(wire)
    # "a" went with the drop; "s" may be the tail of anything: only "b", typed whole after
    # the next Enter, is a code
    assert scans == [b"b"] and decoder.counts["dropped_events"] == 1 and decoder.counts["partial"] == 1


def test_keys_that_stop_without_enter_are_partial():
    decoder = KeyDecoder("us", gap_s=0.25)
    assert decoder.feed(ie.EventStream().feed(key(30, 1) + key(30, 0)), 1.0) == []
    decoder.expire(1.5)
    assert decoder.pending == 0 and decoder.counts["partial"] == 1


def test_overlong_scan_dropped():
    wire = (key(30, 1) + key(30, 0)) * 50 + key(28, 1)
    scans, decoder = decode(wire, max_len=20)
    assert scans == [] and decoder.counts["overlong"] == 1


def test_tab_as_end_key():
    wire = key(30, 1) + key(15, 1) + key(31, 1) + key(15, 1)
    scans, _ = decode(wire, end="tab")
    assert scans == [b"a", b"s"]


def test_records_split_across_reads():
    wire = typed(KeyboardWedgeSim("us"), "SPLIT-READS-42")
    for cut in (1, 7, 23, 24, 25, len(wire) // 2):
        stream, decoder = ie.EventStream(), KeyDecoder("us")
        scans = decoder.feed(stream.feed(wire[:cut]), 0.0) + decoder.feed(stream.feed(wire[cut:]), 0.0)
        assert scans == [b"SPLIT-READS-42"], cut


def test_bad_settings():
    with pytest.raises(ValueError):
        KeyDecoder("fr")
    with pytest.raises(ValueError):
        KeyDecoder("us", end="space")
