"""Issue 12 §1: the service API over a local Unix socket. A screen in another process makes
the same calls and gets the same answers, errors and events as in process; staff calls
need a sign-in, are audited under the signed-in person and end after inactivity; a request
in flight when the connection drops is answered after the reconnect and never made twice."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from kiosk.clock import ManualClock
from kiosk.errors import CodeInvalid
from kiosk.security.secrets import hash_secret
from kiosk.service import api
from kiosk.service.dto import DoorOpening, UiSettings
from kiosk.service.socket_client import ServiceClient
from kiosk.service.socket_codec import NotAllowed
from hwsim.site import FAST_HASH, start_site

from tests.support import wait_until_async
from tests.test_service_api import mismatches

CLERK_CODE = "97531"


def staff_config(socket) -> str:
    return f"""
[service]
socket = "{socket}"
staff_idle_s = 60

[[staff]]
id = "clerk-ana"
role = "clerk"
code_hash = "{hash_secret(CLERK_CODE, FAST_HASH)}"
"""


@pytest.fixture
async def linked(tmp_path, rng):
    sock = tmp_path / "run" / "service.sock"
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4, extra=staff_config(sock))
    client = await ServiceClient.connect(sock)
    try:
        yield site, client, sock
    finally:
        await client.close()
        await site.controller.stop()


def test_the_client_satisfies_every_protocol():
    assert mismatches(ServiceClient, api.KioskService) == []


async def test_the_socket_is_for_the_kiosk_user_and_group_only(linked):
    _, _, sock = linked
    assert stat.S_IMODE(sock.stat().st_mode) == 0o660
    assert stat.S_IMODE(sock.parent.stat().st_mode) & 0o007 == 0


async def test_a_pickup_over_the_socket(linked, rng):
    site, client, _ = linked
    [p] = await site.add_parcels(1, rng)
    locker = await site.deposit(p)
    assert isinstance(client.ui_settings(), UiSettings)
    with pytest.raises(CodeInvalid) as err:
        await client.submit_code(p.trade_number, "000000" if p.secret != "000000" else "111111")
    assert err.value.attempts_left == site.controller.config.attempts.per_parcel_max - 1
    with client.subscribe() as events:
        opening = await client.submit_code(p.trade_number, p.secret)
        assert isinstance(opening, DoorOpening) and opening.locker == locker
        opened = await events.next("door_open", timeout=10)
    assert opened["locker"] == locker


async def test_staff_calls_need_a_sign_in_and_are_audited_under_who_signed_in(linked, rng):
    site, client, _ = linked
    with pytest.raises(NotAllowed):
        await client.clerk_reset_attempts("anyone", "1234-5678")
    with pytest.raises(CodeInvalid):
        await client.sign_in("00000")
    assert await client.sign_in(CLERK_CODE) == "clerk"
    [p] = await site.add_parcels(1, rng)
    await client.clerk_reset_attempts("someone-else", p.trade_number)   # the id sent is not believed
    calls = site.controller.site.db.audit_entries("service_call")
    assert [(c["actor"], c["detail"]["call"], c["detail"]["clerk_id"]) for c in calls] == \
        [("clerk:clerk-ana", "clerk_reset_attempts", "clerk-ana")]
    with pytest.raises(NotAllowed):
        await client.site_status()       # a technician's call
    site.clock.advance(61)               # idle past [service] staff_idle_s
    with pytest.raises(NotAllowed):
        await client.clerk_reset_attempts("clerk-ana", p.trade_number)


async def test_a_screen_refreshing_by_itself_is_neither_activity_nor_audited(linked, rng):
    """The counter's overview refreshes on its own: that keeps nobody signed in, and the
    audit log records what the clerk did, not every refresh."""
    site, client, _ = linked
    assert await client.sign_in(CLERK_CODE) == "clerk"
    for _ in range(2):
        site.clock.advance(25)
        await client.clerk_overview()                    # reads, 50 s in all
    assert site.controller.site.db.audit_entries("service_call") == []
    site.clock.advance(15)                               # 65 s after the sign-in: past staff_idle_s
    with pytest.raises(NotAllowed):
        await client.clerk_overview()
    assert [e["detail"]["reason"] for e in site.controller.site.db.audit_entries("staff_signed_out")] == ["inactivity"]


async def test_a_request_in_flight_when_the_connection_drops_is_made_once(linked, rng, monkeypatch):
    site, client, _ = linked
    c = site.controller
    [p] = await site.add_parcels(1, rng)
    await site.deposit(p)
    release = asyncio.Event()
    real_submit = c.submit_code

    async def held(trade_number, secret):   # the check is still running when the screen's socket dies
        await release.wait()
        return await real_submit(trade_number, secret)
    monkeypatch.setattr(c, "submit_code", held)
    pending = asyncio.create_task(client.submit_code(p.trade_number, p.secret))
    await wait_until_async(lambda: c.socket._outcomes)
    client._writer.transport.abort()
    await wait_until_async(lambda: c.socket.repeats == 1)       # re-sent after the reconnect, not made again
    release.set()
    opening = await asyncio.wait_for(pending, 20)
    assert client.reconnects == 1
    pulses = [e for e in c.site.db.audit_entries("unlock_commanded") if e["detail"]["op"] == "pickup"]
    assert len(pulses) == 1 and pulses[0]["detail"]["locker"] == opening.locker


async def test_garbage_on_the_socket_gets_an_error_and_the_connection_lives(linked):
    _, _, sock = linked
    reader, writer = await asyncio.open_unix_connection(str(sock))
    try:
        hello = json.loads(await reader.readline())
        assert hello["hello"]["protocol"] == 1
        writer.write(b"{not json\n")
        writer.write(b'{"id": 1, "rid": "short", "call": "site_status", "args": {}}\n')
        writer.write(b'{"id": 2, "rid": "0123456789", "call": "nonsense", "args": {}}\n')
        await writer.drain()
        replies = {}
        while len(replies) < 3:
            message = json.loads(await asyncio.wait_for(reader.readline(), 10))
            if "event" not in message:
                replies[message["id"] if message["id"] is not None else "none"] = message["error"]["type"]
        assert replies == {"none": "ProtocolError", 1: "ProtocolError", 2: "NotAllowed"}
    finally:
        writer.close()
