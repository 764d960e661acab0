"""A day of a fleet on one MQTT broker: N sites, the broker restarted, sites losing the
network, and commands valid, forged, replayed, expired, unsigned and sent to the wrong site.

    hwsim scenario fleet-day --json --sites 200

A handful of sites are whole simulated controllers (hwsim.site: the real kioskd on an
emulated lock bank) in this process, so an ``open_door`` really opens a door, proved by
its sensor; the rest are light sites (hwsim.fleet.sites: a database and the real fleet
link each, with its own paho client), up to 60 to a worker process (hwsim.fleet.worker). The broker is Mosquitto with TLS
(a test CA), passwords and the per-site ACL (hwsim.fleet.broker); a few light sites reach
it through a path that is cut without a word (hwsim.fleet.netcut), so only the broker's
keep-alive can tell, and the operator should see them "offline" by their last will.

    morning   every site online; doors, alarms; commands of every kind, valid ones twice
    restart   the broker is restarted (SIGTERM: it saves its state) while sites are busy
    cut       some sites lose the network; they keep working; it comes back
    kioskd    one controller is restarted, and its already-done command replayed to it
    evening   everything drains

The figures come from the sites' databases and the operator's subscriber
(hwsim.fleet.judge): ``lost``, ``forged_commands_executed`` and
``replayed_commands_executed`` (and the other ``*_executed``) must be 0.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.clock import SystemClock
from kiosk.config import load
from kiosk.fleet.commands import make_command, sign_command
from kiosk.service.controller import Controller
from kiosk.storage.database import Database
from hwsim.fleet.broker import OPERATOR, Broker
from hwsim.fleet.judge import Sent, judge
from hwsim.fleet.netcut import NetPath
from hwsim.fleet.operator import Operator
from hwsim.fleet.sites import fleet_toml
from hwsim.fleet.worker import PER_WORKER, SiteWorker
from hwsim.site import SimSite, start_site

LINK = {"keepalive_s": 2, "reconnect_max_s": 2, "publish_interval_s": 600}
MUST_BE_ZERO = ("lost", "still_pending", "forged_commands_executed", "replayed_commands_executed",
                "expired_commands_executed", "unsigned_commands_executed", "wrong_site_commands_executed",
                "refusals_unaudited", "acl_violations_delivered")


class FleetDay:
    def __init__(self, folder: Path, sites: int, seed: int, locks: str = "gpio"):
        self.folder, self.rng, self.clock, self.locks = folder, random.Random(seed), SystemClock(), locks
        self.key, self.forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        self.ids = [f"site-{i:03d}" for i in range(sites)]
        self.full_ids = self.ids[:min(5, max(1, sites // 2))]
        light = self.ids[len(self.full_ids):]
        self.cut_ids = light[:min(10, max(1, len(light) // 20))] if light else []
        self.passwords = {site: secrets.token_hex(8) for site in self.ids}
        self.broker = Broker(folder / "broker", users={OPERATOR: "operator-pw", **self.passwords}, tls=True)
        self.operator: Operator | None = None
        self.full: dict[str, SimSite] = {}
        self.light = light
        self.workers: list[SiteWorker] = []
        self.worker_of: dict[str, SiteWorker] = {}
        self.paths: dict[str, NetPath] = {}
        self.sent = Sent()
        self.first_valid: dict[str, bytes] = {}
        self.offline_s: list[float] = []
        self.doors_on_evidence = 0
        self.unexpected: list[str] = []

    @property
    def op(self) -> Operator:
        assert self.operator is not None
        return self.operator

    async def boot(self) -> None:
        self.broker.start()
        ca = self.broker.ca.path if self.broker.ca else None
        self.operator = Operator(self.broker.url, "operator-pw", self.key, ca_file=ca).start()
        for site in self.full_ids:
            extra = fleet_toml(self.folder / "secrets" / site, self.broker.url, site, password=self.passwords[site],
                               operator_key=self.key.public_key(), ca_file=ca, **LINK)
            self.full[site] = await start_site(self.folder / site, clock=self.clock, locks=self.locks, doors=4,
                                               extra=extra)
        entries = []
        for site in self.light:
            url = self.broker.url
            if site in self.cut_ids:
                self.paths[site] = await NetPath(self.broker.port).start()
                url = f"mqtts://127.0.0.1:{self.paths[site].port}"
            entries.append({"site": site, "folder": str(self.folder / site), "url": url,
                            "password": self.passwords[site]})
        for i in range(0, len(entries), PER_WORKER):
            worker = SiteWorker(self.folder / f"worker-{i // PER_WORKER}", entries[i:i + PER_WORKER],
                                operator_key=self.key.public_key(), ca_file=ca, settings=LINK, seed=i)
            self.workers.append(worker)
            self.worker_of.update({entry["site"]: worker for entry in entries[i:i + PER_WORKER]})
        await asyncio.gather(*(worker.start() for worker in self.workers))
        await self.until(lambda: all(self.op.view(s).online for s in self.ids), "every site online", 120)

    async def until(self, predicate, what: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.unexpected.append(f"timed out waiting for {what}")
                return False
            await asyncio.sleep(0.05)
        return True

    async def traffic(self, sites=None) -> None:
        """Doors open and shut, now and then an alarm, at every site (or ``sites``)."""
        sites = sites or self.ids
        for site in sites:
            if site in self.full:
                n = self.rng.randint(2, 4)    # a door forced open and shut: tamper alarm, door events
                self.full[site].doors.force_open(n)
                self.full[site].doors.close(n)
        await asyncio.gather(*(w.call("traffic", sites=[s for s in sites if self.worker_of.get(s) is w], alarm_p=0.3)
                               for w in self.workers if any(self.worker_of.get(s) is w for s in sites)))

    def send(self, kind: str, site: str, op: str, *, to: str | None = None, **args) -> bytes:
        issued = self.clock.now() - (1000 if kind == "expired" else 0)
        document = make_command(op, site, now=issued, valid_s=300, **args)
        if kind == "unsigned":
            payload = json.dumps({"command": document}).encode()
        else:
            payload = sign_command(self.forger if kind == "forged" else self.key, document)
        self.op.send(to or site, payload)
        self.sent.add(kind, to or site, document["nonce"])
        return payload

    def replay(self, site: str, payload: bytes) -> None:
        self.op.send(site, payload)
        self.sent.replays.append((site, json.loads(payload)["command"]["nonce"]))

    async def commands(self) -> None:
        targets = self.full_ids + [s for s in self.light if s not in self.cut_ids][:20]
        await self.traffic()
        for i, site in enumerate(targets):
            if site in self.full:
                payload = self.send("valid", site, "open_door", locker=1, clerk="c-17", reason="parcel stuck")
            else:
                payload = self.send("valid", site, "locker_out_of_service", locker=2, reason="hinge")
            self.first_valid[site] = payload
            self.replay(site, payload)                     # delivered twice
            self.send("forged", site, "open_door", locker=1, clerk="mallory", reason="forged")
            self.send("expired", site, "open_door", locker=1, clerk="c-17", reason="late")
            self.send("unsigned", site, "open_door", locker=1, clerk="c-17", reason="no signature")
            other = targets[(i + 1) % len(targets)]
            if other != site:
                self.send("wrong_site", site, "open_door", to=other, locker=1, clerk="c-17", reason="misrouted")
        await self.until(lambda: all(self.op.results(s, json.loads(p)["command"]["nonce"])
                                     for s, p in self.first_valid.items()), "the valid commands' answers", 60)
        for site, sim in self.full.items():   # the door opened by the command: its sensor, then shut again
            nonce = json.loads(self.first_valid[site])["command"]["nonce"]
            answers = [r["data"] for r in self.op.results(site, nonce) if r["data"]["outcome"] == "done"]
            op_id = answers[0]["detail"]["op_id"] if answers else None
            db = sim.controller.site.db
            if await self.until(lambda db=db, op_id=op_id: any(e["detail"].get("op_id") == op_id
                                                               for e in db.audit_entries("door_open")),
                                f"{site}: door 1 open on evidence", 20):
                self.doors_on_evidence += 1
            sim.doors.close(1)

    async def broker_restart(self) -> None:
        await self.traffic()
        self.broker.restart()
        await self.traffic()                            # queued while the sites reconnect
        await self.until(lambda: self.op.connected.is_set(), "the operator back", 30)
        await self.until(lambda: all(self.op.view(s).online for s in self.ids), "every site back online", 120)
        for site in self.first_valid:                   # replayed once more, after the restart
            self.replay(site, self.first_valid[site])

    async def cut(self) -> None:
        # Everything queued for the operator while the broker restarted (last wills included)
        # is delivered first, so a late "offline" from then is not taken for this cut's.
        if not await asyncio.to_thread(self.op.barrier):
            self.unexpected.append("the operator's marker never came back")
        for site in self.cut_ids:
            self.paths[site].cut()
        cut_at = time.monotonic()
        await self.traffic(self.cut_ids)                # the sites keep working, offline
        def offline_at(site: str) -> float | None:
            return next((t for t, state in self.op.view(site).live_status if state == "offline" and t >= cut_at),
                        None)
        await self.until(lambda: all(offline_at(s) for s in self.cut_ids), "the cut sites' last wills", 60)
        for site in self.cut_ids:
            seen = offline_at(site)
            if seen is not None:
                self.offline_s.append(seen - cut_at)
            self.paths[site].restore()
        await self.until(lambda: all(self.op.view(s).online for s in self.cut_ids), "cut sites back online", 60)

    async def restart_kioskd(self) -> None:
        site = self.full_ids[0]
        await self.full[site].controller.stop()
        controller = Controller(load(self.folder / site / "kiosk.toml"), clock=self.clock)
        await controller.start()
        self.full[site] = SimSite(controller, self.clock)
        await self.until(lambda: self.full[site].controller.fleet.link.connected, f"{site} back", 30)
        self.replay(site, self.first_valid[site])      # a replay after a restart: refused by the kept nonce
        await self.traffic([site])

    async def evening(self) -> None:
        await self.traffic()
        links = [s.controller.fleet for s in self.full.values()]
        await asyncio.gather(*(link.settle(120) for link in links if link is not None),
                             *(w.call("settle", timeout=120) for w in self.workers), return_exceptions=True)
        await asyncio.sleep(0.5)   # the operator's last deliveries
        expected = len(self.sent.replays) + sum(len(v) for v in self.sent.by_kind.values())
        await self.until(lambda: sum(len(r) for v in self.op.sites.values() for r in v.results.values()) >= expected,
                         "every command answered", 30)

    def acl_probe(self) -> int:
        """A site's credentials writing into another site's topic: must never reach the operator."""
        from hwsim.fleet.operator import probe_acl
        site, other = self.ids[0], self.ids[-1]
        return probe_acl(self.broker, site, self.passwords[site], other, self.op,
                         ca_file=self.broker.ca.path if self.broker.ca else None)

    async def close(self) -> None:
        for sim in self.full.values():
            await sim.controller.stop()
        await asyncio.gather(*(worker.stop() for worker in self.workers))
        for path in self.paths.values():
            await path.close()
        if self.operator is not None:
            self.operator.stop()
        self.broker.stop()


async def run(locks: str = "gpio", seed: int = 0, sites: int = 20, folder: Path | None = None) -> dict:
    t0 = time.monotonic()
    # Every refused command is audited and answered; a warning line each for hundreds of sites is noise here.
    logging.getLogger("kiosk.service.fleet_commands").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="fleet-day-") as tmp:
        day = FleetDay(Path(folder or tmp), sites, seed, locks)
        result: dict = {}
        try:
            await day.boot()
            await day.commands()
            await day.broker_restart()
            await day.cut()
            await day.restart_kioskd()
            await day.evening()
            violations = await asyncio.to_thread(day.acl_probe)
            await asyncio.gather(*(worker.stop() for worker in day.workers))   # their databases, for the judge
            light = {s: Database(day.folder / s / "kiosk.db") for s in day.light}
            dbs = {s: sim.controller.site.db for s, sim in day.full.items()} | light
            result = judge(dbs, day.op, day.sent) | {"acl_violations_delivered": violations}
            for db in light.values():
                db.close()
        except Exception as err:  # noqa: BLE001 — a crash is a finding, reported in the result
            day.unexpected.append(f"crash: {type(err).__name__}: {err}")
        finally:
            await day.close()
    offline = day.offline_s
    return {"scenario": "fleet-day", "seed": seed, "sites": sites, "full_sites": len(day.full_ids),
            "light_sites": sites - len(day.full_ids), **result,
            "doors_opened_on_evidence": day.doors_on_evidence, "broker_restarts": day.broker.restarts,
            "network_cuts": len(day.cut_ids),
            "offline_detected_s": round(max(offline), 2) if offline else None,
            "offline_detected_mean_s": round(sum(offline) / len(offline), 2) if offline else None,
            "keepalive_s": LINK["keepalive_s"], "elapsed_s": round(time.monotonic() - t0, 1),
            "unexpected": day.unexpected}


def failed(result: dict) -> bool:
    return bool(any(result.get(key) for key in MUST_BE_ZERO) or result.get("unexpected")
                or not result.get("audit_chains_ok") or result.get("lost") is None
                or result.get("valid_commands_done") != result.get("valid_commands_sent")
                or result.get("doors_opened_on_evidence") != result.get("full_sites"))
