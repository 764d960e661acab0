"""An emulated R30x / R503 fingerprint module behind a pty, speaking its packets.

Synthetic fingers (hwsim.biometrics.fingers): ``enrol(finger)`` gives the reference template the store would hold
for a finger (512 bytes); ``place(finger)`` puts that finger on the sensor, ``lift()``
takes it away. Each capture of a finger is a new template (the same finger, new noise);
``Match`` of two captures of one finger scores with a realistic spread (about 140 ± 35,
never below 55), of two different fingers 0–30 (confirmation 08). Faults, each for the
next command: ``poor_image()`` (Img2Tz answers 07), ``timeout()`` (no answer),
``corrupt_reply()`` (a bad checksum); ``reset()`` reboots the module (buffers cleared, the
R503's 0x55 ready byte sent). ``buffers`` shows what the module holds (to check wiping).

``r30x_sim`` builds the ``sim+r30x://`` device: this emulator plus the real driver.
"""

from __future__ import annotations

import os
import random
import select
import threading

from drivers.biometrics import r30x_codec as C
from drivers.biometrics.r30x import FingerprintR30x
from hwsim.biometrics.fingers import TEMPLATE_SIZE, capture, finger_of
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from hwsim.plugged_pty import PluggedPty
from kiosk.devices.url import DeviceURL

class R30xSim(PluggedPty):
    source = "r30x"
    link_name = "usb-HWSIM_Fingerprint_R503-if00-port0"

    def __init__(self, *, password: int = 0, packet_size_code: int = 2, history: History | None = None,
                 seed: int = 0) -> None:
        super().__init__(history=history)
        self.password, self.packet_size_code = password, packet_size_code
        self.rng = random.Random(seed)
        self.finger: int | None = None
        self.image: int | None = None                   # the finger in the image buffer
        self.buffers: dict[int, bytes] = {1: bytes(TEMPLATE_SIZE), 2: bytes(TEMPLATE_SIZE)}
        self._faults: list[str] = []
        self._incoming: tuple[int, bytearray] | None = None   # DownChar: (buffer, data so far)
        self._parser = C.PacketParser()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.commands: list[int] = []

    # --- lifecycle: a reader thread answers the host ------------------------------------------

    def start(self):
        super().start()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._serve, name="hwsim-r30x", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        super().stop()

    # --- what a person and a technician do ------------------------------------------------------

    def place(self, finger: int) -> None:
        self.finger = finger

    def lift(self) -> None:
        self.finger = None

    def poor_image(self) -> None:
        self._faults.append("poor_image")

    def timeout(self) -> None:
        self._faults.append("timeout")

    def corrupt_reply(self) -> None:
        self._faults.append("corrupt")

    def reset(self) -> None:
        self.image, self._incoming = None, None
        self.buffers = {1: bytes(TEMPLATE_SIZE), 2: bytes(TEMPLATE_SIZE)}
        self.history.record(self.source, "reset")
        self._write(b"\x55", "ready")

    # --- the module ---------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            fds = self._fds
            if fds is None:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select([fds[0]], [], [], 0.05)
                chunk = os.read(fds[0], 4096) if ready else b""
            except OSError:
                continue
            for packet in self._parser.feed(chunk):
                self._handle(packet)

    def _reply(self, pid: int, payload: bytes) -> None:
        frame = C.encode(pid, payload)
        if self._faults and self._faults[0] == "corrupt":
            self._faults.pop(0)
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        self._write(frame, "reply", pid=pid)

    def _ack(self, code: int, extra: bytes = b"") -> None:
        self._reply(C.ACK, bytes([code]) + extra)

    def _handle(self, packet: C.Packet) -> None:
        if packet.pid in (C.DATA, C.END_DATA):
            self._data(packet)
            return
        if packet.pid != C.COMMAND or not packet.payload:
            self._ack(C.PACKET_ERROR)
            return
        instruction, args = packet.payload[0], packet.payload[1:]
        self.commands.append(instruction)
        if self._faults and self._faults[0] == "timeout":
            self._faults.pop(0)
            return
        handler = {C.VFY_PWD: self._vfy_pwd, C.READ_SYS_PARA: self._read_sys_para, C.GEN_IMG: self._gen_img,
                   C.IMG2TZ: self._img2tz, C.MATCH: self._match, C.UP_CHAR: self._up_char,
                   C.DOWN_CHAR: self._down_char, C.TEMPLATE_NUM: lambda a: self._ack(C.OK, b"\x00\x00"),
                   C.HANDSHAKE: lambda a: self._ack(C.OK), C.SOFT_RESET: lambda a: (self._ack(C.OK), self.reset()),
                   C.SEARCH: lambda a: self._ack(C.NOT_FOUND)}.get(instruction)
        if handler is None:
            self._ack(C.PACKET_ERROR)
        else:
            handler(args)

    def _vfy_pwd(self, args: bytes) -> None:
        self._ack(C.OK if args == self.password.to_bytes(4, "big") else C.BAD_PASSWORD)

    def _read_sys_para(self, args: bytes) -> None:
        params = (b"\x00\x00" + b"\x00\x00" + (200).to_bytes(2, "big") + (3).to_bytes(2, "big")
                  + C.DEFAULT_ADDRESS.to_bytes(4, "big") + self.packet_size_code.to_bytes(2, "big")
                  + (6).to_bytes(2, "big"))
        self._ack(C.OK, params)

    def _gen_img(self, args: bytes) -> None:
        if self.finger is None:
            self._ack(C.NO_FINGER)
            return
        self.image = self.finger
        self._ack(C.OK)

    def _img2tz(self, args: bytes) -> None:
        buffer = args[0] if args else 0
        if buffer not in (1, 2) or self.image is None:
            self._ack(C.INVALID_IMAGE if self.image is None else C.PACKET_ERROR)
            return
        if self._faults and self._faults[0] == "poor_image":
            self._faults.pop(0)
            self._ack(C.TOO_FEW_FEATURES)
            return
        self.buffers[buffer] = capture(self.image, self.rng)
        self._ack(C.OK)

    def _match(self, args: bytes) -> None:
        one, two = finger_of(self.buffers[1]), finger_of(self.buffers[2])
        if one is not None and one == two:
            score = max(55, min(400, int(self.rng.gauss(140, 35))))
            self._ack(C.OK, score.to_bytes(2, "big"))
        else:
            self._ack(C.NO_MATCH, self.rng.randrange(31).to_bytes(2, "big"))

    def _up_char(self, args: bytes) -> None:
        buffer = args[0] if args else 0
        if buffer not in (1, 2):
            self._ack(C.PACKET_ERROR)
            return
        self._ack(C.OK)
        size = C.PACKET_SIZES[self.packet_size_code]
        data = self.buffers[buffer]
        for i in range(0, len(data), size):
            self._reply(C.END_DATA if i + size >= len(data) else C.DATA, data[i:i + size])

    def _down_char(self, args: bytes) -> None:
        buffer = args[0] if args else 0
        if buffer not in (1, 2):
            self._ack(C.PACKET_ERROR)
            return
        self._incoming = (buffer, bytearray())
        self._ack(C.OK)

    def _data(self, packet: C.Packet) -> None:
        if self._incoming is None:
            return
        buffer, data = self._incoming
        data += packet.payload
        if packet.pid == C.END_DATA:
            self._incoming = None
            self.buffers[buffer] = bytes(data[:TEMPLATE_SIZE]).ljust(TEMPLATE_SIZE, b"\x00")


def r30x_sim(url: DeviceURL, **context) -> FingerprintR30x:
    """The ``sim+r30x://`` device: a started emulator with the real driver on its path
    (the emulator on ``.sim``, stopped with the driver). Raises DeviceURLError."""
    options = FingerprintR30x.options_from_url(url)
    url.reject_unknown()
    sim = R30xSim(password=options["password"]).start()
    try:
        assert sim.path is not None
        return EmulatedR30x(sim, url=url.raw, **options)
    except BaseException:
        sim.stop()
        raise


r30x_sim.check_url = FingerprintR30x.options_from_url   # type: ignore[attr-defined]


class EmulatedR30x(OwnsEmulator, FingerprintR30x):
    """The real R30x driver, owning the emulator it talks to."""

    def __init__(self, sim: R30xSim, **options) -> None:
        assert sim.path is not None
        super().__init__(sim.path, **options)
        self.sim = sim
