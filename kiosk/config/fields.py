"""The small checker behind the config: a section is a frozen dataclass, a key is a field.

A field's annotation says what the TOML value must be (``str``, ``int``, ``float``,
``tuple[float, ...]``, ``tuple[str, ...]``, another section, or ``tuple[Section, ...]``
for an array of tables); ``setting()`` adds a range and a check. ``read()`` turns the
parsed TOML into section instances and collects every problem on the way, each under its
dotted key, in words a technician knows (text, integer, number, list, table — never a
Python type name). A key that fails is read as its default, so later checks always see
values of the right type; ``Problems.ok(key)`` tells them whether a key was sound.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Any, TypeVar

Check = Callable[[Any], "str | None"]   # a value (already of the right type) -> why it is wrong, or None


@dataclass(frozen=True)
class Rule:
    lo: float | None = None        # inclusive bounds ...
    hi: float | None = None
    above: float | None = None     # ... or strictly greater than this
    check: Check | None = None


def setting(default: Any = MISSING, *, lo: float | None = None, hi: float | None = None,
            above: float | None = None, check: Check | None = None) -> Any:
    """A config key: its default (none: the key is required), range and extra check."""
    return dataclasses.field(default=default, metadata={"rule": Rule(lo, hi, above, check)})


class Problems:
    """Every (dotted key, reason) found, and which keys they spoil."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self._bad: set[str] = set()

    def add(self, key: str, reason: str) -> None:
        self.items.append((key, reason))
        self._bad.add(key)

    def ok(self, *keys: str) -> bool:
        """True when no problem was found at any of ``keys``, in a table holding one, or
        inside one (``ok("holding")`` is False after a problem at ``holding.hold_days``)."""
        return not any(_related(key, bad) for key in keys for bad in self._bad)

    def __bool__(self) -> bool:
        return bool(self.items)


def _related(a: str, b: str) -> bool:
    """True when dotted keys ``a`` and ``b`` are the same key or one holds the other."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


class _Wrong(Exception):
    """A value that is not what its key needs; the message is the reason."""


S = TypeVar("S")


def read(section: type[S], given: Any, where: str, problems: Problems) -> S:
    """``given`` (one TOML table) read as ``section``. ``where`` is the table's dotted name
    ("" for the whole file). Never raises: problems go to ``problems``."""
    quiet = not isinstance(given, dict)    # then one problem for the table, not one per key in it
    if quiet:
        problems.add(where, f"must be a table, not {describe(given)}")
        given = {}
    keys = _keys(typing.cast(type, section))   # (mypy doubts a type[S] is hashable)
    for name in given:
        if name not in keys:
            what = "key" if where else "section"
            problems.add(_join(where, name), f"unknown {what} (known: {', '.join(keys)})")
    values: dict[str, Any] = {}
    for name, spec in keys.items():
        dotted = _join(where, name)
        if name in given:
            value = given[name]
        elif spec.is_section and not quiet:
            value = {}                     # a missing section: still say which of its keys are required
        else:
            if spec.required and not quiet:
                problems.add(dotted, "is required")
            values[name] = spec.default()
            continue
        try:
            value = _convert(spec.type, value, dotted, spec.rule, problems)
            reason = spec.rule.check(value) if spec.rule.check else None
            if reason:
                raise _Wrong(reason)
        except _Wrong as wrong:
            problems.add(dotted, str(wrong))
            value = spec.default()
        values[name] = value
    return section(**values)


@dataclass(frozen=True)
class _Key:
    type: Any                      # the annotation, without "| None"
    rule: Rule
    required: bool
    is_section: bool
    default: Callable[[], Any]     # the value when the key is missing or wrong


@functools.cache
def _keys(section: Any) -> dict[str, _Key]:
    """How to read each key of ``section`` (worked out once per section class)."""
    hints = typing.get_type_hints(section)
    keys = {}
    for f in dataclasses.fields(section):
        hint = _unoptional(hints[f.name])
        required = f.default is MISSING and f.default_factory is MISSING
        if f.default is not MISSING:
            default: Callable[[], Any] = functools.partial(_same, f.default)
        elif f.default_factory is not MISSING:
            default = f.default_factory
        else:
            default = functools.partial(_placeholder, hint)
        keys[f.name] = _Key(hint, f.metadata.get("rule", Rule()), required, _is_section(hint), default)
    return keys


def _same(value: Any) -> Any:
    return value   # defaults are immutable (frozen sections, tuples), so one object serves all


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _placeholder(hint: Any) -> Any:
    """A stand-in of the right type for a required key that is missing or wrong (the file
    has problems then, so the stand-in never reaches a Config)."""
    if _is_section(hint):
        return read(hint, {}, "", Problems())
    return () if typing.get_origin(hint) is tuple else hint()


def _unoptional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _convert(hint: Any, value: Any, key: str, rule: Rule, problems: Problems) -> Any:
    if _is_section(hint):
        if not isinstance(value, dict):
            raise _Wrong(f"must be a table ([{key}]), not {describe(value)}")
        return read(hint, value, key, problems)
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if _is_section(item):
            if not isinstance(value, list):
                raise _Wrong(f"must be an array of tables ([[{key}]]), not {describe(value)}")
            # Every entry keeps its place (a bad one as a stand-in), so "couriers[2]" in a
            # later check is the third entry in the file.
            return tuple(read(item, entry, f"{key}[{i}]", problems) for i, entry in enumerate(value))
        if not isinstance(value, list):
            raise _Wrong(f"must be {_wanted(hint)}, not {describe(value)}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(_scalar(item, v, rule))
            except _Wrong as wrong:
                raise _Wrong(f"item {i + 1} of the list {wrong}") from None
        return tuple(out)
    return _scalar(hint, value, rule)


def _scalar(hint: Any, value: Any, rule: Rule) -> Any:
    if hint is str:
        if not isinstance(value, str):
            raise _Wrong(f"must be text in quotes, not {describe(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Wrong(f"must be an integer, not {describe(value)}")
        _in_range(value, rule)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Wrong(f"must be a number, not {describe(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise _Wrong(f"must be {_bounds(rule)} (not {_short(value)})") from None
        if not math.isfinite(number):
            raise _Wrong(f"must be a finite number, not {value}")
        _in_range(number, rule)
        return number
    raise TypeError(f"the config schema uses {hint!r}, which the checker does not know")  # a bug here, not in a file


def _in_range(number: float, rule: Rule) -> None:
    if (rule.lo is not None and number < rule.lo) or (rule.hi is not None and number > rule.hi) \
            or (rule.above is not None and number <= rule.above):
        raise _Wrong(f"must be {_bounds(rule)} (not {_short(number)})")


def _bounds(rule: Rule) -> str:
    if rule.lo is not None and rule.hi is not None:
        return f"between {_short(rule.lo)} and {_short(rule.hi)}"
    if rule.above is not None and rule.hi is not None:
        return f"greater than {_short(rule.above)} and at most {_short(rule.hi)}"
    if rule.above is not None:
        return f"greater than {_short(rule.above)}"
    if rule.lo is not None:
        return f"at least {_short(rule.lo)}"
    if rule.hi is not None:
        return f"at most {_short(rule.hi)}"
    return "a smaller number"


def _short(number: float) -> str:
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = str(number)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"


def _wanted(hint: Any) -> str:
    item = typing.get_args(hint)[0]
    return {str: "a list of texts in quotes", int: "a list of integers", float: "a list of numbers"}[item]


def describe(value: Any) -> str:
    """What a TOML value is, in a technician's words, with a short sample."""
    if isinstance(value, bool):
        return f"true/false ({'true' if value else 'false'})"
    if isinstance(value, str):
        sample = json.dumps(value if len(value) <= 40 else value[:40] + "…", ensure_ascii=False)
        return f"text ({sample})"
    if isinstance(value, int):
        return f"an integer ({_short(value)})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time of day"
    return "something else"
