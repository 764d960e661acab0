"""ISO 7816-4 command and response APDUs: encoding, parsing, status words.

Shared by the PC/SC driver (which must know a command's case to apply the T=0 rules,
``61xx`` and ``6Cxx``) and by the virtual card in hwsim (which parses what pcscd hands
it). Short and extended length both::

    short     CLA INS P1 P2 [Lc data] [Le]            Lc 1..255, Le 1..256 (00 = 256)
    extended  CLA INS P1 P2 00 [Lc_hi Lc_lo data] [Le_hi Le_lo]   (Le 0000 = 65536)
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import DeviceOperationError

SW_OK = 0x9000
CLA_CHAINING = 0x10          # "more commands of this chain follow" (ISO 7816-4 5.1.1)
INS_GET_RESPONSE = 0xC0

# The status words this project acts on (ISO 7816-4 5.1.3, OpenPGP card 3.4 7.2).
SW_NAMES = {
    0x9000: "ok",
    0x6285: "selected file in termination state",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6882: "secure messaging not supported",
    0x6883: "last command of the chain expected",
    0x6884: "command chaining not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6985: "conditions of use not satisfied",
    0x6A80: "incorrect parameters in the data field",
    0x6A82: "file or application not found",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def sw_text(sw: int) -> str:
    """A readable name for a status word, e.g. ``6982 security status not satisfied``."""
    if sw & 0xFFF0 == 0x63C0:
        return f"{sw:04X} verification failed, {sw & 0x0F} tries left"
    if sw >> 8 == 0x61:
        return f"{sw:04X} {sw & 0xFF or 256} more bytes available"
    if sw >> 8 == 0x6C:
        return f"{sw:04X} wrong Le, exact length {sw & 0xFF or 256}"
    return f"{sw:04X} {SW_NAMES.get(sw, 'unknown status')}"


INSTRUCTIONS = {0xA4: "SELECT", 0x20: "VERIFY", 0x24: "CHANGE REFERENCE DATA", 0x2C: "RESET RETRY COUNTER",
                0xCA: "GET DATA", 0xDA: "PUT DATA", 0xDB: "PUT DATA (odd)", 0x2A: "PERFORM SECURITY OPERATION",
                0x88: "INTERNAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0xC0: "GET RESPONSE",
                0xB0: "READ BINARY", 0xD6: "UPDATE BINARY", 0x47: "GENERATE ASYMMETRIC KEY PAIR",
                0xE6: "TERMINATE DF", 0x44: "ACTIVATE FILE"}
SECRET_INSTRUCTIONS = frozenset({0x20, 0x24, 0x2C})   # their data is a PIN, a new PIN or a reset code


def describe_command(command: "Command") -> tuple[str, bool]:
    """One line for the technician's wire view, and whether the data must stay hidden (a
    PIN: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER)."""
    name = INSTRUCTIONS.get(command.ins, f"INS {command.ins:02X}")
    return (f"{name} P1={command.p1:02X} P2={command.p2:02X}"
            + (f", {len(command.data)} data bytes" if command.data else "")
            + (f", Le {command.le}" if command.le is not None else "")), command.ins in SECRET_INSTRUCTIONS


class APDUError(DeviceOperationError, ValueError):
    """Bytes that are not a well-formed command APDU, or a command that cannot be encoded."""


@dataclass(frozen=True)
class Command:
    """A command APDU. ``le`` is the number of response bytes asked for (None: none
    expected; 256 or 65536: "as many as there are", encoded 00 / 0000)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    @property
    def case(self) -> int:
        """ISO 7816-3 case: 1 no data no Le, 2 Le only, 3 data only, 4 both."""
        return 1 + (self.le is not None) + 2 * bool(self.data)

    def with_le(self, le: int | None) -> "Command":
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, le, self.extended)

    def encode(self) -> bytes:
        """Raises APDUError for a field out of range (data too long for short length...)."""
        for name, value in (("CLA", self.cla), ("INS", self.ins), ("P1", self.p1), ("P2", self.p2)):
            if not 0 <= value <= 0xFF:
                raise APDUError(f"{name}={value} is not a byte")
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        n = len(self.data)
        if not self.extended:
            if n > 255:
                raise APDUError(f"{n} data bytes need extended length or chaining")
            if self.le is not None and not 1 <= self.le <= 256:
                raise APDUError(f"Le={self.le} is out of range for short length (1..256)")
            lc = bytes((n,)) + self.data if n else b""
            le = bytes((self.le & 0xFF,)) if self.le is not None else b""
            return header + lc + le
        if n > 65535:
            raise APDUError(f"{n} data bytes exceed extended length")
        if self.le is not None and not 1 <= self.le <= 65536:
            raise APDUError(f"Le={self.le} is out of range for extended length (1..65536)")
        if not n and self.le is None:
            return header                           # case 1 has no length fields at all
        body = b"\x00"
        if n:
            body += n.to_bytes(2, "big") + self.data
        if self.le is not None:
            body += (self.le & 0xFFFF).to_bytes(2, "big")
        return header + body

    @classmethod
    def parse(cls, raw: bytes) -> "Command":
        """Decode a command APDU. Raises APDUError when the lengths do not add up."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise APDUError(f"a command APDU has at least 4 bytes, got {len(raw)}")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:                                       # short, with Lc
            n = body[0]
            if len(body) == 1 + n:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + n:
                return cls(cla, ins, p1, p2, body[1:1 + n], body[-1] or 256)
            raise APDUError(f"Lc={n} does not match {len(body) - 1} bytes after it")
        if len(body) == 3:                                     # extended, Le only
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536, extended=True)
        n = int.from_bytes(body[1:3], "big")
        if n == 0:
            # An empty extended Lc (00 00 00) before a 2-byte Le: not ISO, but some clients
            # (OpenPGPpy) send it and cards take it as "no data" (case 2E).
            if len(body) == 5:
                return cls(cla, ins, p1, p2, le=int.from_bytes(body[3:5], "big") or 65536, extended=True)
            raise APDUError("extended Lc of 0")
        if len(body) == 3 + n:
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if len(body) == 5 + n:
            return cls(cla, ins, p1, p2, body[3:3 + n], int.from_bytes(body[-2:], "big") or 65536, extended=True)
        raise APDUError(f"extended Lc={n} does not match {len(body) - 3} bytes after it")


@dataclass(frozen=True)
class Response:
    """A response APDU: the data, then the status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> "Response":
        """Raises APDUError for fewer than 2 bytes (no status word)."""
        raw = bytes(raw)
        if len(raw) < 2:
            raise APDUError(f"a response APDU has at least 2 bytes (SW1 SW2), got {len(raw)}")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))

    def __repr__(self) -> str:
        return f"Response({len(self.data)} bytes, {sw_text(self.sw)})"
