"""kioskd with [fleet]: a remote command opens a real (emulated) door, on evidence."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.sites import fleet_toml
from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.fleet.commands import make_command, sign_command
from tests.fleet.conftest import PASSWORDS
from tests.support import wait_until_async


async def test_remote_commands_act_on_the_site_through_the_clerks_calls(tmp_path, broker, operator, operator_key):
    clock = ManualClock()
    extra = fleet_toml(tmp_path / "secrets", broker.url, "k1", password=PASSWORDS["k1"],
                       operator_key=operator_key.public_key(), keepalive_s=5, publish_interval_s=600)
    site = await start_site(tmp_path / "k1", clock=clock, locks="gpio", doors=4, extra=extra)
    c = site.controller
    try:
        assert c.fleet is not None and c.config.fleet.site == "k1"
        await wait_until_async(lambda: operator.view("k1").online, "k1 online")

        def send(op, *, key=operator_key, **args):
            document = make_command(op, "k1", now=clock.now(), **args)
            operator.send("k1", sign_command(key, document))
            return document["nonce"]

        forged = send("open_door", key=Ed25519PrivateKey.generate(), locker=2, clerk="mallory", reason="x")
        opened = send("open_door", locker=2, clerk="c-17", reason="parcel stuck behind the door")
        await wait_until_async(lambda: operator.results("k1", opened) and operator.results("k1", forged), "answers")
        assert operator.results("k1", forged)[0]["data"]["outcome"] == "refused"
        answer = operator.results("k1", opened)[0]["data"]
        assert answer["outcome"] == "done"
        await wait_until_async(lambda: site.doors[2].is_open, "door 2 open")

        def evidence():
            return [e for e in c.site.db.audit_entries("door_open") if e["detail"]["op_id"] == answer["detail"]["op_id"]]
        await wait_until_async(evidence, "the door's own sensor in the books")
        assert evidence()[0]["detail"]["op"] == "service"
        await wait_until_async(lambda: any(e["kind"] == "door_open" and e["data"]["op"] == "service"
                                           for e in operator.view("k1").events.values()), "door_open at the operator")
        assert not site.doors[1].is_open and not site.doors[3].is_open
        site.doors.close(2)

        out = send("locker_out_of_service", locker=3, reason="hinge broken", clerk="tech-2")
        await wait_until_async(lambda: operator.results("k1", out), "the answer")
        assert c.site.db.require_locker(3).state.value == "out_of_service"
        actors = {e["actor"] for e in c.site.db.audit_entries("locker_out_of_service")}
        assert actors == {"clerk:fleet:tech-2"}, "the clerk's own call, under the operator's clerk"
        clock.advance(2)   # state snapshots are at most one a second (on the controller's clock)
        await wait_until_async(lambda: any(d["state"] == "out_of_service" for d in
                                           operator.view("k1").state.get("doors", {}).get("data", {}).get("doors", [])),
                               "the retained doors state shows it")
        resync = send("resync_manifest")
        await wait_until_async(lambda: operator.results("k1", resync), "the answer")
        assert operator.results("k1", resync)[0]["data"]["outcome"] == "failed", "no store is configured here"
        assert c.site.db.verify_audit().ok
    finally:
        await c.stop()
    await wait_until_async(lambda: operator.view("k1").online is False, "offline after kioskd stopped")
