"""Packets of the R30x / R503 / ZFM family of UART fingerprint modules.

    EF 01 | address (4) | PID (1) | LEN (2, payload + 2) | payload | SUM (2)

SUM is the low 16 bits of PID + both LEN bytes + every payload byte. PIDs: 01 command,
02 data, 07 acknowledgement, 08 last data packet. An acknowledgement's first payload byte
is the confirmation code (00 ok, 02 no finger, 08 no match, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

START = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
COMMAND, DATA, ACK, END_DATA = 0x01, 0x02, 0x07, 0x08
PIDS = (COMMAND, DATA, ACK, END_DATA)
MAX_PAYLOAD = 256 + 16        # the largest data packet (256) and some room; longer is garbage

# Instructions (the datasheet's names).
GEN_IMG, IMG2TZ, MATCH, SEARCH, REG_MODEL, STORE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
LOAD_CHAR, UP_CHAR, DOWN_CHAR, EMPTY, READ_SYS_PARA, VFY_PWD = 0x07, 0x08, 0x09, 0x0D, 0x0F, 0x13
TEMPLATE_NUM, SOFT_RESET, HANDSHAKE = 0x1D, 0x3D, 0x17

# Confirmation codes.
OK, PACKET_ERROR, NO_FINGER, IMAGING_FAILED = 0x00, 0x01, 0x02, 0x03
IMAGE_MESSY, TOO_FEW_FEATURES, NO_MATCH, NOT_FOUND = 0x06, 0x07, 0x08, 0x09
UPLOAD_FAILED, BAD_PASSWORD, INVALID_IMAGE = 0x0D, 0x13, 0x15
CONFIRMATIONS = {OK: "ok", PACKET_ERROR: "packet receive error", NO_FINGER: "no finger on the sensor",
                 IMAGING_FAILED: "imaging failed", IMAGE_MESSY: "image too messy",
                 TOO_FEW_FEATURES: "too few features", NO_MATCH: "fingers do not match", NOT_FOUND: "not found",
                 UPLOAD_FAILED: "template transfer failed", BAD_PASSWORD: "wrong module password",
                 INVALID_IMAGE: "no valid image", 0x0E: "packet response failed", 0x0C: "template load failed"}

INSTRUCTIONS = {GEN_IMG: "capture image", IMG2TZ: "image to features", MATCH: "match buffers",
                SEARCH: "search library", REG_MODEL: "build template", STORE: "store template",
                LOAD_CHAR: "load template", UP_CHAR: "upload template", DOWN_CHAR: "download template",
                EMPTY: "empty library", READ_SYS_PARA: "read parameters", VFY_PWD: "verify password",
                TEMPLATE_NUM: "count templates", SOFT_RESET: "soft reset", HANDSHAKE: "handshake"}

PACKET_SIZES = (32, 64, 128, 256)   # ReadSysPara's packet size code -> bytes


@dataclass(frozen=True)
class Packet:
    pid: int
    payload: bytes
    address: int = DEFAULT_ADDRESS


def describe(packet: Packet) -> tuple[str, bool]:
    """One line for the technician's wire view, and whether the payload must stay hidden:
    template data (a person's fingerprint) and the module's password are never shown."""
    if packet.pid == COMMAND and packet.payload:
        ins = packet.payload[0]
        return f"command: {INSTRUCTIONS.get(ins, f'instruction 0x{ins:02x}')}", ins == VFY_PWD
    if packet.pid == ACK and packet.payload:
        code = packet.payload[0]
        return f"answer: {CONFIRMATIONS.get(code, f'code 0x{code:02x}')}", False
    if packet.pid in (DATA, END_DATA):
        return f"template data{' (last)' if packet.pid == END_DATA else ''}", True
    return f"packet 0x{packet.pid:02x}", False


def decode(frame: bytes) -> Packet:
    """The packet of one whole frame the host built (no checks: ``PacketParser`` checks input)."""
    return Packet(frame[6], bytes(frame[9:-2]), int.from_bytes(frame[2:6], "big"))


def checksum(pid: int, payload: bytes) -> int:
    length = len(payload) + 2
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode(pid: int, payload: bytes, address: int = DEFAULT_ADDRESS) -> bytes:
    length = len(payload) + 2
    return (START + address.to_bytes(4, "big") + bytes([pid]) + length.to_bytes(2, "big") + payload
            + checksum(pid, payload).to_bytes(2, "big"))


class PacketParser:
    """Bytes in, packets out. Resynchronises on ``EF 01``; counts what it drops
    (``bad_checksum``, ``bad_header``, ``bad_address``, ``stray_bytes``). The address is not
    covered by the checksum: a packet from any address but ``address`` is dropped."""

    def __init__(self, address: int = DEFAULT_ADDRESS) -> None:
        self.address = address
        self._buffer = bytearray()
        self.counts = dict.fromkeys(("packets", "bad_checksum", "bad_header", "bad_address", "stray_bytes"), 0)

    def reset(self) -> None:
        self._buffer.clear()

    def feed(self, chunk: bytes) -> list[Packet]:
        self._buffer += chunk
        out: list[Packet] = []
        while True:
            start = self._buffer.find(START)
            if start < 0:
                keep = 1 if self._buffer.endswith(START[:1]) else 0
                self.counts["stray_bytes"] += len(self._buffer) - keep
                del self._buffer[:len(self._buffer) - keep]
                return out
            if start:
                self.counts["stray_bytes"] += start
                del self._buffer[:start]
            if len(self._buffer) < 9:
                return out
            pid, length = self._buffer[6], int.from_bytes(self._buffer[7:9], "big")
            if pid not in PIDS or not 2 <= length <= MAX_PAYLOAD + 2:
                self.counts["bad_header"] += 1
                del self._buffer[:2]          # not a packet start after all: look further
                continue
            total = 9 + length
            if len(self._buffer) < total:
                return out
            raw = bytes(self._buffer[:total])
            del self._buffer[:total]
            payload = raw[9:total - 2]
            if int.from_bytes(raw[total - 2:], "big") != checksum(pid, payload):
                self.counts["bad_checksum"] += 1
                continue
            if int.from_bytes(raw[2:6], "big") != self.address:
                self.counts["bad_address"] += 1
                continue
            self.counts["packets"] += 1
            out.append(Packet(pid, payload, int.from_bytes(raw[2:6], "big")))
