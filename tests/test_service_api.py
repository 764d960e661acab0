"""The service API is one contract: the controller and every scripted fake satisfy its
Protocols call for call, every event kind is typed, documented and survives the wire form."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path

import pytest

from kiosk.service import api
from kiosk.service.controller import Controller
from kiosk.service.events import EVENT_TYPES, DeskState, EventBus, EventKind, from_wire, to_wire
from tests.ui.fakes import FakeCounterService, FakeService

DOC = Path(__file__).resolve().parents[1] / "docs" / "service-api.md"


def protocol_members(protocol: type) -> dict[str, object]:
    """Every call a Protocol declares, its bases' included."""
    members = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, typing.Protocol, typing.Generic) or not getattr(klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("_"):
                members[name] = value
    return members


def mismatches(impl: type, protocol: type) -> list[str]:
    problems = []
    for name, declared in protocol_members(protocol).items():
        actual = getattr(impl, name, None)
        if actual is None:
            problems.append(f"{name}: missing")
            continue
        if inspect.iscoroutinefunction(declared) != inspect.iscoroutinefunction(actual):
            problems.append(f"{name}: {'a coroutine' if inspect.iscoroutinefunction(declared) else 'plain'} "
                            "in the Protocol, not in the implementation")
        want = [(p.name, p.kind) for p in inspect.signature(declared).parameters.values()]
        have = [(p.name, p.kind) for p in inspect.signature(actual).parameters.values()]
        if want != have:
            problems.append(f"{name}: parameters {have} differ from the Protocol's {want}")
    return problems


@pytest.mark.parametrize("impl, protocol", [
    (Controller, api.KioskService),
    (FakeService, api.LockerScreenService),
    (FakeCounterService, api.CounterService),
], ids=["controller", "fake-locker-screen", "fake-counter"])
def test_implementations_satisfy_the_protocols(impl, protocol):
    assert mismatches(impl, protocol) == []


def test_the_checker_catches_a_wrong_implementation():
    class Wrong:
        def subscribe(self): ...
        def ui_settings(self): ...
        async def check_trade_number(self, number): ...           # misnamed parameter
        def submit_code(self, trade_number, secret): ...          # not a coroutine
        async def reopen(self, trade_number): ...
        async def submit_card(self, trade_number, pin): ...
        async def submit_finger(self, trade_number): ...
        async def extend_hold(self, trade_number, secret): ...
        async def pay_at_locker(self, trade_number, secret): ...
        async def cancel_payment(self, payment_id): ...
        async def speak(self, text, language): ...
        async def drop_off(self, trade_number, code): ...

    assert mismatches(Wrong, api.RecipientService) == [
        "check_trade_number: parameters [('self', <_ParameterKind.POSITIONAL_OR_KEYWORD: 1>), "
        "('number', <_ParameterKind.POSITIONAL_OR_KEYWORD: 1>)] differ from the Protocol's "
        "[('self', <_ParameterKind.POSITIONAL_OR_KEYWORD: 1>), ('trade_number', <_ParameterKind.POSITIONAL_OR_KEYWORD: 1>)]",
        "submit_code: a coroutine in the Protocol, not in the implementation"]


def test_every_role_is_part_of_the_whole_service():
    whole = protocol_members(api.KioskService)
    for role, protocol in api.ROLE_PROTOCOLS.items():
        assert set(protocol_members(protocol)) <= set(whole), role
    assert set().union(*(protocol_members(p) for p in api.ROLE_PROTOCOLS.values())) == set(whole)


# --- events ----------------------------------------------------------------------------------

SAMPLES = {int: 3, float: 1.5, str: "x", bool: True}


def sample(cls: type) -> dict:
    values = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "at":
            continue
        hint = hints[f.name]
        if hint is DeskState:
            values[f.name] = DeskState("desk-2", tag_method="f2_tag", label="1234-5678", missing=("secret",))
            continue
        base = next((t for t in (typing.get_args(hint) or (hint,)) if t in SAMPLES), str)
        values[f.name] = SAMPLES[base]
    return values


def test_every_kind_has_one_documented_event_type():
    assert set(EVENT_TYPES) == set(EventKind)
    for kind, cls in EVENT_TYPES.items():
        assert cls.kind is kind and (cls.__doc__ or "").strip(), kind


@pytest.mark.parametrize("kind", list(EventKind))
def test_events_survive_the_wire_form(kind):
    event = EventBus().publish(kind, 12.5, **sample(EVENT_TYPES[kind]))
    assert from_wire(to_wire(event)) == event
    assert to_wire(event)["kind"] == kind.value


def test_the_bus_refuses_unknown_kinds_and_fields():
    bus = EventBus()
    with pytest.raises(ValueError):
        bus.publish("door_ajar", 0.0, locker=1)
    with pytest.raises(TypeError):
        bus.publish(EventKind.DOOR_OPEN, 0.0, locker=1, colour="red")
    with pytest.raises(ValueError):
        from_wire({"kind": "door_open", "at": 0.0, "locker": 1, "colour": "red"})


def test_every_kind_is_in_the_document():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert documented == {k.value for k in EventKind}
    for name in protocol_members(api.KioskService):
        assert f"`{name}" in text, f"{name} is not described in {DOC.name}"
