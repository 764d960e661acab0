"""The service socket's wire form: JSON lines carrying calls, replies, errors and events.

Every message is one JSON object on one line (UTF-8, at most ``MAX_LINE`` bytes)::

    server → screen   {"hello": {"protocol": 1, "calls": [...], "ui_settings": {...}, "role": "recipient"}}
    screen → server   {"id": 7, "rid": "3f2a…", "call": "submit_code", "args": {"trade_number": …}}
    server → screen   {"id": 7, "ok": <value>}            or   {"id": 7, "error": {"type": "CodeInvalid", …}}
    server → screen   {"event": {"kind": "door_open", "at": …, …}}

Values: the DTOs of kiosk.service.dto and kiosk.service.events (dataclasses) travel as
``{"$t": "DoorOpening", "f": {…}}``, tuples as ``{"$tuple": […]}``, dicts as
``{"$dict": {…}}``; everything else is plain JSON. Errors are the domain errors of
kiosk.errors by class name with their arguments and attributes; an unknown one arrives as
KioskError. Nothing here runs code named by the peer: types are looked up in fixed tables.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from kiosk import errors
from kiosk.service import dto, events

PROTOCOL = 1
MAX_LINE = 1 << 20      # one message; a longer line is a protocol error

_TYPES: dict[str, type] = {
    name: obj for module in (dto, events) for name, obj in vars(module).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
}
_ERRORS: dict[str, type[errors.KioskError]] = {
    name: obj for name, obj in vars(errors).items()
    if isinstance(obj, type) and issubclass(obj, errors.KioskError)
}


class ProtocolError(errors.KioskError):
    """The peer broke the wire protocol (bad JSON, an unknown type, a line too long)."""


NotAllowed = errors.NotAllowed   # where it was first defined; screens catch it from kiosk.errors


_ERRORS.update(ProtocolError=ProtocolError, NotAllowed=NotAllowed)


def encode_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _TYPES.get(name) is not type(value):
            raise TypeError(f"{name} is not a service DTO")
        return {"$t": name, "f": {f.name: encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": {str(k): encode_value(v) for k, v in value.items()}}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a {type(value).__name__} cannot cross the service socket")


def decode_value(data: Any) -> Any:
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$tuple" in data:
        return tuple(decode_value(v) for v in _list(data["$tuple"]))
    if "$dict" in data:
        inner = data["$dict"]
        if not isinstance(inner, dict):
            raise ProtocolError("$dict must hold an object")
        return {k: decode_value(v) for k, v in inner.items()}
    if "$t" in data:
        cls = _TYPES.get(data["$t"]) if isinstance(data["$t"], str) else None
        fields = data.get("f")
        if cls is None or not isinstance(fields, dict):
            raise ProtocolError(f"unknown value type {data.get('$t')!r}")
        try:
            return cls(**{k: decode_value(v) for k, v in fields.items()})
        except TypeError as err:
            raise ProtocolError(f"{data['$t']}: {err}") from None
    raise ProtocolError("a plain object must be wrapped as $dict")


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ProtocolError("$tuple must hold a list")
    return value


def encode_error(err: errors.KioskError) -> dict:
    attrs = {k: encode_value(v) for k, v in vars(err).items() if _plain(v)}
    return {"type": type(err).__name__, "args": [encode_value(a) for a in err.args if _plain(a)], "attrs": attrs}


def _plain(value: Any) -> bool:
    try:
        json.dumps(encode_value(value))
    except (TypeError, ValueError):
        return False
    return True


def decode_error(data: Any) -> errors.KioskError:
    """The error a reply carries, rebuilt as its own class without calling its __init__
    (the peer's arguments are data, not code)."""
    if not isinstance(data, dict):
        return ProtocolError("an error reply without its error")
    kind, raw_args = data.get("type"), data.get("args")
    cls = _ERRORS.get(kind) if isinstance(kind, str) else None
    args: list = raw_args if isinstance(raw_args, list) else []
    if cls is None:
        return errors.KioskError(*(str(a) for a in args[:1]))
    err = cls.__new__(cls)
    Exception.__init__(err, *(decode_value(a) for a in args))
    attrs = data.get("attrs")
    if isinstance(attrs, dict):
        for key, value in attrs.items():
            if isinstance(key, str) and not key.startswith("_"):
                setattr(err, key, decode_value(value))
    return err


def dumps(message: dict) -> bytes:
    line = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    if len(line) > MAX_LINE:
        raise ProtocolError(f"message of {len(line)} bytes is longer than {MAX_LINE}")
    return line


def loads(line: bytes) -> dict:
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"not a JSON line: {err}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message
