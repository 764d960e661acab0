"""Keystrokes of a keyboard-wedge scanner back into the code it read.

A scanner in USB HID keyboard mode "types" each character of the code on the keyboard
layout it was configured for (US by default), then Enter. The driver sees key codes, not
characters, so the layout here must be the scanner's, not the host's: a scanner set to
German types Z with the key a US layout calls Y. Characters outside the layout reach the
host as Alt + keypad digits (the scanner's "Alt mode"), and control characters (the GS
separator of GS1 codes) as Ctrl + key; both are decoded.

Bytes out: a typed character is UTF-8 encoded; an Alt + keypad code gives the byte of its
value (0..255) as is; Ctrl + key gives the control byte. Pure and never raises on input;
what it throws away it counts (``counts``):

    empty      Enter with nothing before it
    partial    keys stopped for ``gap_s`` without Enter, or events lost (SYN_DROPPED: then
               everything up to the next Enter is dropped too)
    overlong   more than ``max_len`` bytes before Enter
    unmapped   a scan containing a key this layout has no character for (a dead key, the
               wrong layout, a real keyboard on this port): dropped whole, never guessed
"""

from __future__ import annotations

import collections

from drivers.scanners.input_events import EV_KEY, EV_SYN, KEY_DOWN, KEY_UP, SYN_DROPPED, InputEvent

# linux/input-event-codes.h
KEY_TAB, KEY_ENTER, KEY_KPENTER, KEY_CAPSLOCK = 15, 28, 96, 58
SHIFTS = {42, 54}                 # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
CTRLS = {29, 97}                  # KEY_LEFTCTRL, KEY_RIGHTCTRL
KEY_LEFTALT, KEY_RIGHTALT = 56, 100
KEYPAD_DIGITS = {82: 0, 79: 1, 80: 2, 81: 3, 75: 4, 76: 5, 77: 6, 71: 7, 72: 8, 73: 9}
_KEYPAD = {55: "*", 74: "-", 78: "+", 83: ".", 98: "/", **{k: str(v) for k, v in KEYPAD_DIGITS.items()}}
_LETTERS = dict(zip((16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 30, 31, 32, 33, 34, 35, 36, 37, 38,
                     44, 45, 46, 47, 48, 49, 50), "qwertyuiopasdfghjklzxcvbnm", strict=True))
# Ctrl + these keys (US positions) give C0 control bytes: GS1's GS is Ctrl+]
_CTRL_PUNCT = {26: 0x1B, 43: 0x1C, 27: 0x1D}


def _us() -> dict[int, tuple]:
    table = {code: (ch, ch.upper()) for code, ch in _LETTERS.items()}
    for code, pair in zip(range(2, 14), zip("1234567890-=", "!@#$%^&*()_+", strict=True), strict=True):
        table[code] = pair
    table.update({26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"),
                  43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 57: (" ", " ")})
    return table


def _de() -> dict[int, tuple]:
    table = {code: (ch, ch.upper()) for code, ch in _LETTERS.items()}
    table[21], table[44] = ("z", "Z"), ("y", "Y")  # QWERTZ
    for code, pair in zip(range(2, 13), zip("1234567890ß", '!"§$%&/()=?', strict=True), strict=True):
        table[code] = pair
    table.update({26: ("ü", "Ü"), 27: ("+", "*"), 39: ("ö", "Ö"), 40: ("ä", "Ä"), 43: ("#", "'"),
                  51: (",", ";"), 52: (".", ":"), 53: ("-", "_"), 57: (" ", " "), 86: ("<", ">")})
    # AltGr (right Alt) level; 13 (´) and 41 (^) are dead keys: absent, so a scan using
    # them is counted unmapped rather than decoded wrong
    for code, ch in {16: "@", 8: "{", 9: "[", 10: "]", 11: "}", 12: "\\", 27: "~", 86: "|", 18: "€"}.items():
        table[code] = (*table.get(code, (None, None))[:2], ch)
    return table


LAYOUTS: dict[str, dict[int, tuple]] = {"us": _us(), "de": _de()}
ENDS = {"enter": (KEY_ENTER, KEY_KPENTER), "tab": (KEY_TAB,)}


class KeyDecoder:
    """Input events in, scans (bytes) out. Not thread-safe: one reading thread owns it."""

    def __init__(self, layout: str = "us", *, end: str = "enter", max_len: int = 2048, gap_s: float = 0.25):
        """Raises ValueError for an unknown layout or end key."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
        if end not in ENDS:
            raise ValueError(f"end {end!r} is not one of {', '.join(ENDS)}")
        self.layout, self._table, self._ends = layout, LAYOUTS[layout], ENDS[end]
        self.max_len, self.gap_s = max_len, gap_s
        self.counts = collections.Counter(dict.fromkeys(
            ("keys", "frames", "empty", "partial", "overlong", "unmapped", "dropped_events"), 0))
        self._down: set[int] = set()   # modifiers held
        self._buf = bytearray()
        self._alt_digits = ""
        self._bad = False              # this scan contains a key we cannot map
        self._dropping = False         # after SYN_DROPPED, until the next end key
        self._last = 0.0

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, events: list[InputEvent], now: float) -> list[bytes]:
        """Scans completed by ``events``, which arrived at ``now`` (seconds, monotonic)."""
        self.expire(now)
        scans = []
        for event in events:
            if event.type == EV_SYN:
                if event.code == SYN_DROPPED:
                    # The kernel's buffer overflowed and it threw away every event we had
                    # not read, perhaps an Enter among them: nothing up to the next end key
                    # can be trusted, so it is all dropped. A wrong code is worse than a rescan.
                    self.counts["dropped_events"] += 1
                    self._abandon()
                    self._down.clear()
                    self._dropping = True
                continue
            if event.type != EV_KEY:
                continue  # EV_MSC scan codes, LEDs: nothing for us
            self._last = now
            if self._dropping:
                if event.code in self._ends and event.value == KEY_DOWN:
                    self._dropping = False
                    self._down.clear()  # releases of keys pressed before the drop may be lost
                continue
            scan = self._key(event.code, event.value)
            if scan is not None:
                scans.append(scan)
        return scans

    def expire(self, now: float) -> None:
        """Drop a scan whose keys stopped ``gap_s`` ago without Enter."""
        if (self._buf or self._bad or self._alt_digits) and now - self._last > self.gap_s:
            self._abandon()

    def reset(self) -> None:
        """Forget everything half-typed (after a reconnect). Counted as partial."""
        self._abandon()
        self._down.clear()
        self._dropping = False

    # --- one key ----------------------------------------------------------------------------

    def _key(self, code: int, value: int) -> bytes | None:
        if code in SHIFTS or code in CTRLS or code in (KEY_LEFTALT, KEY_RIGHTALT):
            if value == KEY_DOWN:
                self._down.add(code)
            elif value == KEY_UP:
                self._down.discard(code)
                if code == KEY_LEFTALT and self._alt_digits:
                    self._alt_code()
            return None
        if value != KEY_DOWN:  # releases, and autorepeat (a scanner never holds a key)
            return None
        self.counts["keys"] += 1
        if code in self._ends:
            return self._finish()
        if code == KEY_CAPSLOCK:
            return None  # scanners send explicit Shift; the lock state is not ours to track
        if KEY_LEFTALT in self._down and code in KEYPAD_DIGITS:
            self._alt_digits += str(KEYPAD_DIGITS[code])
            return None
        if self._down & CTRLS:
            if code in _LETTERS or code in _CTRL_PUNCT:
                letter = _LETTERS.get(code)
                self._append(bytes([ord(letter) & 0x1F]) if letter else bytes([_CTRL_PUNCT[code]]))
            else:
                self._bad = True
            return None
        if code in _KEYPAD:
            self._append(_KEYPAD[code].encode())
            return None
        levels = self._table.get(code)
        level = 2 if KEY_RIGHTALT in self._down else 1 if self._down & SHIFTS else 0
        char = levels[level] if levels is not None and level < len(levels) else None
        if char is None:
            self._bad = True
        else:
            self._append(char.encode())
        return None

    def _alt_code(self) -> None:
        value = int(self._alt_digits)
        self._alt_digits = ""
        if value > 255:
            self._bad = True
        else:
            self._append(bytes([value]))

    def _append(self, data: bytes) -> None:
        if len(self._buf) <= self.max_len:  # past it, the scan is over-long: stop growing
            self._buf += data

    def _finish(self) -> bytes | None:
        data, bad = bytes(self._buf), self._bad
        self._buf.clear()
        self._bad, self._alt_digits = False, ""
        if bad:
            self.counts["unmapped"] += 1
        elif not data:
            self.counts["empty"] += 1
        elif len(data) > self.max_len:
            self.counts["overlong"] += 1
        else:
            self.counts["frames"] += 1
            return data
        return None

    def _abandon(self) -> None:
        if self._buf or self._bad or self._alt_digits:
            self.counts["partial"] += 1
        self._buf.clear()
        self._bad, self._alt_digits = False, ""
