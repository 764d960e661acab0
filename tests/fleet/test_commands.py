"""Signed commands: opened only when signed by the operator, for this site, in time, known.

The desk (kiosk.service.fleet_commands) against a real database and no broker: refusals
audited and answered, a command done once whatever the repeats, nonces kept across a restart."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.sites import RecordingTarget
from kiosk.clock import ManualClock
from kiosk.errors import CommandRefused
from kiosk.fleet.commands import make_command, open_command, sign_command
from kiosk.service.fleet_commands import CommandDesk
from kiosk.storage import fleet as fleet_store
from kiosk.storage.database import Database

KEY = Ed25519PrivateKey.generate()
NOW = 1_800_000_000.0


def signed(op="open_door", site="s1", *, key=KEY, now=NOW, **kw):
    args = kw.pop("args", {"locker": 3, "clerk": "c-17", "reason": "parcel stuck"} if op == "open_door" else {})
    document = make_command(op, site, now=now, **kw, **args)
    return document, sign_command(key, document)


def refusal(payload: bytes, *, now=NOW, site="s1") -> str:
    with pytest.raises(CommandRefused) as info:
        open_command(payload, KEY.public_key(), site, now, max_validity_s=3600)
    return info.value.reason


def test_a_signed_command_for_this_site_opens():
    document, payload = signed()
    command = open_command(payload, KEY.public_key(), "s1", NOW + 10, max_validity_s=3600)
    assert (command.op, command.args["locker"], command.nonce) == ("open_door", 3, document["nonce"])


@pytest.mark.parametrize(("case", "reason"), [
    ("forged", "bad_signature"), ("tampered", "bad_signature"), ("unsigned", "unsigned"),
    ("wrong_site", "wrong_site"), ("expired", "expired"), ("future", "not_yet_valid"), ("too_long", "too_long"),
    ("unknown_op", "unknown_op"), ("no_reason", "bad_args"), ("extra_arg", "bad_args"), ("not_json", "malformed"),
    ("short_nonce", "malformed"), ("huge", "malformed")])
def test_every_bad_command_is_refused_with_its_reason(case, reason):
    payload = {
        "forged": lambda: signed(key=Ed25519PrivateKey.generate())[1],
        "tampered": lambda: _tamper(signed()[1]),
        "unsigned": lambda: json.dumps({"command": signed()[0]}).encode(),
        "wrong_site": lambda: signed(site="s2")[1],
        "expired": lambda: signed(now=NOW - 400, valid_s=300)[1],
        "future": lambda: signed(now=NOW + 3600)[1],
        "too_long": lambda: signed(valid_s=7200)[1],
        "unknown_op": lambda: signed(op="format_disk")[1],
        "no_reason": lambda: signed(op="locker_out_of_service", args={"locker": 2})[1],
        "extra_arg": lambda: signed(args={"locker": 3, "clerk": "c", "reason": "r", "force": True})[1],
        "not_json": lambda: b"open the door, please",
        "short_nonce": lambda: signed(nonce="abc")[1],
        "huge": lambda: signed(args={"locker": 3, "clerk": "c", "reason": "r" * 9000})[1],
    }[case]()
    assert refusal(payload) == reason


def _tamper(payload: bytes) -> bytes:
    message = json.loads(payload)
    message["command"]["args"]["locker"] = 4
    return json.dumps(message).encode()


# --- the desk ---------------------------------------------------------------------------------

@pytest.fixture
def desk(tmp_path):
    clock = ManualClock(NOW)
    db = Database(tmp_path / "site" / "kiosk.db")
    target = RecordingTarget()
    desk = CommandDesk(db, clock, "s1", KEY.public_key(), target, max_validity_s=3600, queued=lambda: None)
    yield desk
    db.close()


def _results(db) -> list[dict]:
    return [json.loads(r["payload"])["data"] for r in fleet_store.pending(db, 1000)
            if r["topic"] == "kiosk/v1/s1/cmd/result"]


async def test_refused_commands_are_audited_and_answered(desk):
    payloads = {"forged": signed(key=Ed25519PrivateKey.generate())[1], "expired": signed(now=NOW - 400)[1],
                "unsigned": json.dumps({"command": signed()[0]}).encode(), "wrong_site": signed(site="s2")[1]}
    for payload in payloads.values():
        assert await desk.handle(payload) == "refused"
    assert desk.target.runs == []
    audited = desk.db.audit_entries("fleet_command_refused")
    assert [e["detail"]["reason"] for e in audited] == ["bad_signature", "expired", "unsigned", "wrong_site"]
    assert all(e["detail"]["nonce"] for e in audited), "each refusal names the command it refused"
    assert [r["outcome"] for r in _results(desk.db)] == ["refused"] * 4
    assert fleet_store.counter(desk.db, "commands_refused") == 4


async def test_a_command_delivered_twice_is_done_once(desk):
    document, payload = signed()
    assert await desk.handle(payload) == "done"
    assert await desk.handle(payload) == "refused"       # QoS 1 redelivery, or a replay
    assert len(desk.target.runs) == 1
    assert [e["detail"]["nonce"] for e in desk.db.audit_entries("fleet_command_accepted")] == [document["nonce"]]
    assert [e["detail"]["reason"] for e in desk.db.audit_entries("fleet_command_refused")] == ["replayed"]
    assert [(r["outcome"], r["reason"]) for r in _results(desk.db)] == [("done", None), ("refused", "replayed")]


async def test_a_replay_after_a_restart_is_refused_and_nonces_go_once_expired(desk, tmp_path):
    _, payload = signed(valid_s=600)
    assert await desk.handle(payload) == "done"
    desk.db.close()
    db = Database(tmp_path / "site" / "kiosk.db")    # kioskd restarted: a new desk, the same books
    again = CommandDesk(db, desk.clock, "s1", KEY.public_key(), RecordingTarget(), max_validity_s=3600,
                        queued=lambda: None)
    desk.clock.advance(300)
    assert await again.handle(payload) == "refused"
    assert again.target.runs == []
    desk.clock.advance(400)                        # expired now: refused as such, and its nonce may go
    assert await again.handle(payload) == "refused"
    assert [e["detail"]["reason"] for e in db.audit_entries("fleet_command_refused")] == ["replayed", "expired"]
    assert await again.handle(signed(now=desk.clock.now())[1]) == "done"
    assert not fleet_store.nonce_seen(db, json.loads(payload)["command"]["nonce"])
    desk.db = db   # closed by the fixture


async def test_a_command_that_fails_is_audited_as_failed(desk):
    class Broken(RecordingTarget):
        async def run(self, command):
            from kiosk.errors import InvalidTransition
            raise InvalidTransition("no locker 3")
    desk.target = Broken()
    assert await desk.handle(signed()[1]) == "failed"
    assert [e["detail"]["reason"] for e in desk.db.audit_entries("fleet_command_failed")] == ["InvalidTransition"]
    assert _results(desk.db)[0]["outcome"] == "failed"
