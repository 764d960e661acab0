"""Mutated copies of the shipped configs, for the check-config fuzz test.

A technician's config goes wrong in the ways a person and an editor make it go wrong: a
value of the wrong kind, a stray control character or a NUL pasted into a path, a number
with too many digits, a key deleted or written twice, a half-typed device URL, bytes that
are not UTF-8. ``cases(rng, n)`` yields ``n`` such TOML documents (as bytes) built from
config/kiosk.toml and config/examples/*.toml; each run with the same seed is the same.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
import tomllib
from collections.abc import Iterator
from typing import Any
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "config" / "kiosk.toml", *sorted((ROOT / "config" / "examples").glob("*.toml"))]

# Characters that break paths and URLs: NUL and other controls, URL delimiters, an
# unbalanced IPv6 bracket, percent escapes, wide and combining characters.
NASTY = ["\x00", "\x01", "\x1b", "\x7f", "\n", "\t", "[", "]", "[::1", "[zz]", "%", "%00", "%ff", "?", "&", "=",
         ":", "//", "/", "\\", "..", "+", "#", "@", " ", "\u3000", "é", "𝔸", "\u0301", "\ufeff", "'", '"']
URLS = ["kerong+serial://[::1/dev/ttyUSB0", "kerong+serial://[fe80::1%eth0]:99999/x", "gpio://[", "sim+kerong://]:1",
        "kerong+serial://host:port/x", "gpio://?solenoids=" + "9" * 40 + "&doors=1", "gpio://?solenoids=17&doors=22&pulse_ms=1e999",
        "sim+gpio://?doors=-1", "sim+kerong://?boards=0x", "serial://?baud=nan", "camera:///dev/video0?fps=inf",
        "kerong+serial:///dev/" + "x" * 5000, "kerong+serial:///dev/tty\x00USB0", "://", "a://", "+://x",
        "sim+kerong://?boards=1&boards=2", "gpio://?solenoids=17&doors=17&factory=\x00"]
SECTIONS = ["site", "devices", "lockers", "security", "manifest", "store", "verification", "holding", "tags", "ui",
            "couriers", "nope"]
KEYS = ["id", "database", "locks", "scanner", "count", "file", "url", "public_key", "ca_file", "site_key", "key_file",
        "hold_days", "reminder_hours", "languages", "locker", "fallback", "code_hash", "argon2_lanes", "x"]


def cases(rng: random.Random, n: int) -> Iterator[bytes]:
    seeds = [tomllib.loads(p.read_text(encoding="utf-8")) for p in SOURCES]
    texts = [p.read_bytes() for p in SOURCES]
    for _ in range(n):
        if rng.random() < 0.15:
            yield _mutate_text(rng, rng.choice(texts))
            continue
        doc = copy.deepcopy(rng.choice(seeds))
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
            _mutate(rng, doc)
        yield dumps(doc).encode("utf-8")


def _mutate(rng: random.Random, doc: dict) -> None:
    where, key = _pick(rng, doc)
    action = rng.random()
    if where is None:
        return
    if action < 0.12 and key is not None:
        del where[key]
    elif action < 0.2:
        if isinstance(where, list):
            where.append(copy.deepcopy(rng.choice(where)) if where and rng.random() < 0.5 else _value(rng, 0))
        else:
            where[rng.choice(KEYS)] = _value(rng, 0)
    elif action < 0.25:
        doc[rng.choice(SECTIONS)] = _value(rng, 0) if rng.random() < 0.5 else {rng.choice(KEYS): _value(rng, 0)}
    elif key is None:
        return
    elif action < 0.6 and isinstance(where[key], str):
        where[key] = _mutate_str(rng, where[key])
    elif action < 0.7 and isinstance(where[key], (int, float)) and not isinstance(where[key], bool):
        where[key] = rng.choice([0, -1, -0.0, 1e-300, 10**rng.randint(3, 40), -10**30, math.inf, -math.inf, math.nan,
                                 2**63 - 1, -2**63, where[key] * 1000, 0.5])
    else:
        where[key] = _value(rng, 0)


def _pick(rng: random.Random, doc: dict) -> tuple[dict | list | None, Any]:
    """A random container in ``doc`` and one of its keys (or None)."""
    container: dict | list = doc
    while True:
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        if not keys:
            return (container, None) if isinstance(container, dict) else (None, None)
        key = rng.choice(keys)
        child = container[key]
        if isinstance(child, (dict, list)) and child and rng.random() < 0.7:
            container = child
            continue
        return container, key


def _mutate_str(rng: random.Random, text: str) -> str:
    choice = rng.random()
    if choice < 0.15:
        return rng.choice(URLS)
    if choice < 0.25:
        return text + rng.choice(["a" * rng.choice((255, 256, 300, 5000)), "/" + "b" * 300, "/x" * 3000])
    if choice < 0.3:
        return ""
    pos = rng.randint(0, len(text))
    return text[:pos] + "".join(rng.choice(NASTY) for _ in range(rng.randint(1, 3))) + text[pos + rng.randint(0, 2):]


def _value(rng: random.Random, depth: int) -> object:
    kind = rng.randint(0, 9 if depth < 2 else 6)
    if kind == 0:
        return rng.choice([0, 1, -1, 10**rng.randint(1, 30), 2**63 - 1])
    if kind == 1:
        return rng.choice([0.0, 1.5, -2.5, 1e300, math.inf, math.nan])
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return rng.choice(["", "en", "local", "online", "see_staff", "x" * 300, "\x00", "../", "/"]) + rng.choice(NASTY)
    if kind == 4:
        return rng.choice(URLS)
    if kind == 5:
        return dt.datetime(2024, 1, 2, 3, 4, 5) if rng.random() < 0.5 else dt.date(2024, 1, 2)
    if kind == 6:
        return dt.time(1, 2, 3)
    if kind in (7, 8):
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 2))}


def _mutate_text(rng: random.Random, text: bytes) -> bytes:
    lines = text.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        action = rng.random()
        if action < 0.3:
            lines.insert(i, lines[rng.randrange(len(lines))])       # a duplicated key or table
        elif action < 0.5:
            del lines[i]
        elif action < 0.8:
            line = lines[i]
            pos = rng.randint(0, len(line))
            lines[i] = line[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + line[pos:]
        else:
            lines[i] = lines[i] * rng.randint(2, 50)
    return b"\n".join(lines)


# --- a small TOML writer (the standard library reads TOML but does not write it) ---------

def dumps(doc: dict) -> str:
    out = [f"{_key(k)} = {_inline(v)}" for k, v in doc.items() if not _is_table(v) and not _is_table_array(v)]
    for name, value in doc.items():
        if _is_table(value):
            out.append(f"\n[{_key(name)}]")
            out.extend(f"{_key(k)} = {_inline(v)}" for k, v in value.items())
        elif _is_table_array(value):
            for entry in value:
                out.append(f"\n[[{_key(name)}]]")
                out.extend(f"{_key(k)} = {_inline(v)}" for k, v in entry.items())
    return "\n".join(out) + "\n"


def _is_table(value: object) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML wants DEL escaped too.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _inline(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
