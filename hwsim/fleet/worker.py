"""Light sites in a process of their own, driven over stdin/stdout (one JSON object a line).

paho's threaded client waits with select(), which cannot watch a file descriptor above
1023: a couple of hundred sites in one process (a database, a socket and a socket pair
each) pass that, and the clients past it never connect. A fleet is many machines anyway,
so the simulator runs its light sites in a few processes, at most ``PER_WORKER`` each.

    python -m hwsim.fleet.worker SPEC.json      # SPEC: sites, broker URLs, CA, operator key
    > {"op": "traffic", "sites": null, "alarm_p": 0.3}   doors open and shut (and alarms) at every site
    > {"op": "burst", "count": 100}                      that many door changes at every site at once
    > {"op": "settle", "timeout": 60}                    every fleet outbox empty, nothing awaiting a PUBACK
    > {"op": "status"}
    > {"op": "stop"}
    < {"ok": true, ...}                                  one answer per request; {"ready": true} first

``SiteWorker`` is the parent's side. The sites' databases stay in their folders for the
judge (hwsim.fleet.judge) once the worker has stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from kiosk.clock import SystemClock
from kiosk.security.keys import load_public_key, public_key_text
from hwsim.fleet.sites import LightSite, light_settings, start_light_site

PER_WORKER = 60


async def serve(spec: dict) -> None:
    clock, rng = SystemClock(), random.Random(spec.get("seed", 0))
    key = load_public_key(spec["operator_key"])
    ca = Path(spec["ca_file"]) if spec.get("ca_file") else None
    sites: dict[str, LightSite] = {}
    for entry in spec["sites"]:
        settings = light_settings(entry["url"], entry["site"], ca_file=ca, **spec.get("settings", {}))
        sites[entry["site"]] = start_light_site(Path(entry["folder"]), entry["site"], settings,
                                                password=entry["password"], operator_key=key, clock=clock)
    reply({"ready": True, "sites": len(sites)})
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        request = json.loads(line) if line.strip() else {"op": "stop"}
        op = request["op"]
        if op == "traffic":
            for name in request.get("sites") or list(sites):
                site, n = sites[name], rng.randint(1, 4)
                site.door(n, True)
                site.door(n, False)
                if rng.random() < request.get("alarm_p", 0.0):
                    site.alarm("left_open", n)
            await asyncio.sleep(0)   # let the publishers queue them
            reply({"ok": True})
        elif op == "burst":   # ``count`` door changes at every site, as fast as the bus takes them
            for site in sites.values():
                for i in range(request.get("count", 1)):
                    site.door(1 + i % 4, i % 2 == 0)
            reply({"ok": True})
        elif op == "settle":
            outcomes = await asyncio.gather(*(s.fleet.settle(request.get("timeout", 60)) for s in sites.values()),
                                            return_exceptions=True)
            reply({"ok": not any(isinstance(o, BaseException) for o in outcomes)})
        elif op == "status":
            reply({"ok": True, "connected": sum(s.fleet.link.connected for s in sites.values()),
                   "queued": sum(s.fleet.publisher.events_queued for s in sites.values())})
        elif op == "stop":
            for site in sites.values():
                await site.stop()
            reply({"ok": True})
            return


def reply(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


class SiteWorker:
    """The parent's handle on one worker process."""

    def __init__(self, folder: Path, sites: list[dict], *, operator_key, ca_file: Path | None,
                 settings: dict[str, Any], seed: int = 0):
        self.folder = folder
        self.sites = [entry["site"] for entry in sites]
        self.spec = {"sites": sites, "operator_key": public_key_text(operator_key),
                     "ca_file": str(ca_file) if ca_file else None, "settings": settings, "seed": seed}
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> SiteWorker:
        self.folder.mkdir(parents=True, exist_ok=True)
        spec = self.folder / "worker.json"
        spec.write_text(json.dumps(self.spec), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))   # this very hwsim and kiosk
        with (self.folder / "worker.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hwsim.fleet.worker", str(spec), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log, env=env)
        answer = await self._read(120)
        if not answer.get("ready"):
            raise RuntimeError(f"fleet worker did not start: {answer}")
        return self

    async def call(self, op: str, *, reply_within: float = 180, **args: Any) -> dict:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
        await self.process.stdin.drain()
        return await self._read(reply_within)

    async def _read(self, timeout: float) -> dict:
        assert self.process is not None and self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"fleet worker exited; see {self.folder / 'worker.log'}")
        return json.loads(line)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            try:
                if process.stdin is not None:
                    process.stdin.write(b'{"op": "stop"}\n')
                    await process.stdin.drain()
                await asyncio.wait_for(process.wait(), 60)
            except (TimeoutError, ConnectionError):
                process.kill()
                await process.wait()


if __name__ == "__main__":
    import logging
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
