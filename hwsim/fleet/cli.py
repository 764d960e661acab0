"""``hwsim fleet --sites N``: a private Mosquitto (TLS, passwords, per-site ACL), N light
sites' fleet links against it with a little door traffic, and the operator's view.

It prints the broker's URL, the operator's password and the folder of the CA and site
databases first, so any MQTT client (``mosquitto_sub -h 127.0.0.1 -p PORT --cafile
.../pki/ca.pem -u operator -P ... -t 'kiosk/v1/#' -v``) can watch; then, every few seconds,
how many sites are online and what the operator has received. Ctrl-C (or ``--seconds``) ends it.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.broker import OPERATOR, Broker
from hwsim.fleet.operator import Operator
from hwsim.fleet.worker import PER_WORKER, SiteWorker

REPORT_S = 5.0


async def run_fleet(sites: int, seconds: float | None, folder: Path, out=sys.stdout, *, view: bool = False) -> dict:
    ids = [f"site-{i:03d}" for i in range(sites)]
    passwords = {site: secrets.token_hex(8) for site in ids}
    operator_password = secrets.token_hex(8)
    key = Ed25519PrivateKey.generate()
    rng = random.Random()
    with Broker(folder / "broker", users={OPERATOR: operator_password, **passwords}, tls=True) as broker:
        ca = broker.ca.path if broker.ca else None
        print(f"broker {broker.url} (CA {ca}); operator password {operator_password}; sites in {folder}",
              file=out, flush=True)
        operator = Operator(broker.url, operator_password, key, ca_file=ca).start()
        entries = [{"site": site, "folder": str(folder / site), "url": broker.url, "password": passwords[site]}
                   for site in ids]
        workers = [SiteWorker(folder / f"worker-{i // PER_WORKER}", entries[i:i + PER_WORKER],
                              operator_key=key.public_key(), ca_file=ca, settings={"keepalive_s": 10,
                                                                                  "publish_interval_s": 30})
                   for i in range(0, len(entries), PER_WORKER)]
        t0 = time.monotonic()

        async def traffic() -> None:
            next_report = t0
            while seconds is None or time.monotonic() - t0 < seconds:
                worker = rng.choice(workers)     # a door somewhere opens and shuts, about once a second a site
                await worker.call("traffic", sites=rng.sample(worker.sites, max(1, len(worker.sites) // 10)))
                if not view and time.monotonic() >= next_report:
                    print(json.dumps(summary(operator, ids)), file=out, flush=True)
                    next_report += REPORT_S
                await asyncio.sleep(0.1)

        try:
            await asyncio.gather(*(worker.start() for worker in workers))
            if view:                             # the operator's screen until q, the traffic beside it
                from hwsim.fleet.view import FleetView
                doors = asyncio.create_task(traffic())
                await FleetView(operator, ids).run_async()
                doors.cancel()
            else:
                await traffic()
        except (KeyboardInterrupt, asyncio.CancelledError):
            pass
        finally:
            await asyncio.gather(*(worker.stop() for worker in workers))
            result = summary(operator, ids)
            operator.stop()
    return result


def summary(operator: Operator, ids: list[str]) -> dict:
    views = [operator.view(site) for site in ids]
    return {"sites": len(ids), "online": sum(bool(v.online) for v in views),
            "events_received": sum(len(v.events) for v in views),
            "duplicates": sum(v.duplicates for v in views),
            "with_health": sum("health" in v.state for v in views)}


def fleet_main(args) -> int:
    with tempfile.TemporaryDirectory(prefix="hwsim-fleet-") as tmp:
        try:
            result = asyncio.run(run_fleet(args.sites, args.seconds, Path(tmp), view=args.view))
        except KeyboardInterrupt:
            return 130
    if args.json:
        print(json.dumps(result))
    return 0
