"""F5, the local matcher: the real R30x driver against the emulated module on a pty, and
the emulator against a fingerprint library nobody here wrote (pyfingerprint)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.biometrics import r30x_codec as C
from drivers.biometrics.r30x import MatchResult
from hwsim.biometrics.fingers import enrol
from kiosk.devices import registry
from kiosk.errors import DeviceInitError, DeviceOperationError, DeviceTimeout


@pytest.fixture
def module():
    device = registry.create("biometric", "sim+r30x://?threshold=50&reply_ms=300")
    device.open()
    try:
        yield device
    finally:
        device.close()


def test_a_packet_by_hand():
    # GenImg, from the datasheet: EF 01 FF FF FF FF 01 00 03 01 00 05
    assert C.encode(C.COMMAND, bytes([C.GEN_IMG])) == bytes.fromhex("EF01FFFFFFFF010003010005")
    [ack] = C.PacketParser().feed(bytes.fromhex("EF01FFFFFFFF07000300000A"))
    assert ack == C.Packet(C.ACK, b"\x00")


def test_the_same_finger_matches_and_nothing_is_left_in_the_module(module):
    module.sim.place(7)
    scores = []
    for _ in range(20):
        result = module.verify(enrol(7), timeout_s=1)
        assert result.matched, result
        scores.append(result.score)
    assert min(scores) >= 50 and max(scores) - min(scores) > 20     # a realistic spread, not one number
    assert module.sim.buffers == {1: bytes(512), 2: bytes(512)}


def test_a_different_finger_does_not_match(module):
    module.sim.place(8)
    results = [module.verify(enrol(7), timeout_s=1) for _ in range(20)]
    assert not any(r.matched for r in results)
    assert module.sim.buffers == {1: bytes(512), 2: bytes(512)}


def test_no_finger_and_a_poor_image_are_outcomes_not_errors(module):
    assert module.verify(enrol(1), timeout_s=0.2) == MatchResult("no_finger")
    module.sim.place(1)
    module.sim.poor_image()
    assert module.verify(enrol(1), timeout_s=1).outcome == "poor_image"
    assert module.verify(enrol(1), timeout_s=1).matched


def test_a_silent_module_or_a_damaged_answer_is_an_error_and_the_next_check_works(module):
    module.sim.place(3)
    module.sim.timeout()
    with pytest.raises(DeviceTimeout):
        module.verify(enrol(3), timeout_s=1)
    module.sim.corrupt_reply()
    with pytest.raises(DeviceOperationError):
        module.verify(enrol(3), timeout_s=1)
    assert module.verify(enrol(3), timeout_s=1).matched


def test_a_module_reset_mid_day(module):
    module.sim.place(4)
    module.sim.reset()          # the R503 sends its 0x55 ready byte: noise to the parser
    assert module.verify(enrol(4), timeout_s=1).matched


def test_capture_gives_the_template_for_the_store(module):
    module.sim.place(9)
    template = module.capture(timeout_s=1)
    assert isinstance(template, bytes) and len(template) == 512 and template[4:8] == (9).to_bytes(4, "big")
    assert module.sim.buffers == {1: bytes(512), 2: bytes(512)}


def test_a_wrong_password_is_named():
    device = registry.create("biometric", "sim+r30x://?password=1234")
    device.sim.password = 99
    with pytest.raises(DeviceInitError, match="password"):
        device.open()
    device.close()


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_the_parser_survives_garbage(noise):
    parser = C.PacketParser()
    good = C.encode(C.ACK, b"\x00")
    assert parser.feed(noise + good)[-1:] == [C.Packet(C.ACK, b"\x00")] or C.START in noise


def test_the_emulator_works_with_pyfingerprint():
    pyfingerprint = pytest.importorskip("pyfingerprint.pyfingerprint")
    from hwsim.biometrics.r30x_sim import R30xSim
    with R30xSim() as sim:
        reader = pyfingerprint.PyFingerprint(sim.path, 57600, 0xFFFFFFFF, 0x00000000)
        assert reader.verifyPassword()
        assert reader.getStorageCapacity() == 200
        assert reader.readImage() is False          # no finger
        sim.place(5)
        assert reader.readImage() is True
        reader.convertImage(0x01)
        assert reader.uploadCharacteristics(0x02, list(enrol(5)))
        assert reader.compareCharacteristics() >= 55
        sim.place(6)
        reader.readImage()
        reader.convertImage(0x01)
        assert reader.compareCharacteristics() == 0
        del reader
