"""Fleet fan-in: messages per second into one Mosquitto from N sites, and their latency.

The engine: N light sites (hwsim.fleet.sites — a SQLite database and the real fleet link
each: the event bus, the publisher writing each event to the fleet outbox, the pump
handing it to paho, the row deleted on the broker's PUBACK), in worker processes
(hwsim.fleet.worker), each site queuing ``--events`` door events at once; an operator
subscriber (hwsim.fleet.operator, QoS 1, persistent session) counts them in. Then a
paced run at ``--rate`` events per second across the sites gives the end-to-end latency
(the event's own time → the operator's receipt; one machine, one clock) at a load the
broker is not saturated by. The bare side, in the same run against the same broker: N
plain paho clients in one process with the sites' credentials publishing the same number
of ready-made messages at QoS 1 — the broker (and the one subscriber) alone.

    python bench/fleet_fanin.py [--json] [--sites N] [--events N] [--rate R] [--plain]

Prints ``engine_msgs_per_s``, ``bare_msgs_per_s``, ``ratio_to_bare``, ``p50_ms``/``p99_ms``
(paced) and ``sites_per_broker_at_1_per_min``: how many sites sending one status message a
minute one broker carries, from the bare rate (the sites' own cost is paid on each site).
TLS (a test CA) unless ``--plain``. Not a goal-checked benchmark: it measures. Both rates
are counted in by one Python subscriber, which is likely what limits the bare figure on a
small machine; the per-minute figure is a throughput bound only — connections, memory and
the broker's file-descriptor limit are not in it (``connections_tested`` were held here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.broker import OPERATOR, Broker
from hwsim.fleet.operator import Operator
from hwsim.fleet.worker import PER_WORKER, SiteWorker
from kiosk.fleet import topics


def received(operator: Operator, ids: list[str]) -> int:
    return sum(len(operator.view(site).events) for site in ids)


def latencies(operator: Operator, ids: list[str], since: float) -> list[float]:
    return sorted((e["_received_at"] - e["at"]) * 1000 for site in ids for e in operator.view(site).events.values()
                  if e["at"] >= since)


def percentile(values: list[float], p: float) -> float:
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2) if values else 0.0


async def until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def engine(broker: Broker, operator: Operator, passwords: dict[str, str], folder: Path, key, events: int,
                 rate: float, seconds: float) -> dict:
    ids = list(passwords)
    ca = broker.ca.path if broker.ca else None
    entries = [{"site": s, "folder": str(folder / s), "url": broker.url, "password": passwords[s]} for s in ids]
    workers = [SiteWorker(folder / f"worker-{i // PER_WORKER}", entries[i:i + PER_WORKER], operator_key=key,
                          ca_file=ca, settings={"keepalive_s": 30, "publish_interval_s": 3600}, seed=i)
               for i in range(0, len(entries), PER_WORKER)]
    try:
        await asyncio.gather(*(w.start() for w in workers))
        await until(lambda: all(operator.view(s).online for s in ids), 60)
        t0 = time.perf_counter()
        await asyncio.gather(*(w.call("burst", count=events) for w in workers))
        total = events * len(ids)
        complete = await until(lambda: received(operator, ids) >= total, 300)
        burst_s = time.perf_counter() - t0
        burst_latency = latencies(operator, ids, 0)
        paced_from = time.time()
        per_tick = max(1, round(rate * 0.1 / 2))          # a traffic call is two events per site
        end = time.monotonic() + seconds
        rng_i = 0
        while time.monotonic() < end:
            picks = [ids[(rng_i + j) % len(ids)] for j in range(per_tick)]
            rng_i += per_tick
            await asyncio.gather(*(w.call("traffic", sites=[s for s in picks if s in w.sites])
                                   for w in workers if any(s in w.sites for s in picks)))
            await asyncio.sleep(0.1)
        await asyncio.gather(*(w.call("settle", timeout=60) for w in workers))
        await asyncio.sleep(0.3)
        paced = latencies(operator, ids, paced_from)
    finally:
        await asyncio.gather(*(w.stop() for w in workers))
    return {"messages": total, "complete": complete, "seconds": round(burst_s, 3),
            "msgs_per_s": round(total / burst_s, 1), "burst_p99_ms": percentile(burst_latency, 99),
            "paced_rate": rate, "paced_events": len(paced), "p50_ms": percentile(paced, 50),
            "p99_ms": percentile(paced, 99)}


def bare_child(spec_path: str) -> None:
    """N bare paho clients, each publishing its share of ready-made messages at QoS 1."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    from kiosk.fleet.client import tls_context
    from kiosk.fleet.settings import parse_broker
    spec = json.loads(Path(spec_path).read_text())
    host, port, tls = parse_broker(spec["url"])
    done = threading.Semaphore(0)
    clients = []
    for site, password in spec["passwords"].items():
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{site}", protocol=MQTTProtocolVersion.MQTTv5)
        if tls:
            client.tls_set_context(tls_context(spec["ca_file"]))
        client.username_pw_set(site, password)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        left = {"n": spec["count"]}

        def acked(c, u, mid, reason, p, left=left):
            left["n"] -= 1
            if left["n"] == 0:
                done.release()
        client.on_publish = acked
        client.connect(host, port)
        client.loop_start()
        clients.append((site, client))
    payloads = {site: [topics.envelope(uuid.uuid4().hex, site, "door_open", 0.0, {"locker": 1, "op": None}, seq=i + 1)
                       for i in range(spec["count"])] for site, _ in clients}
    print("ready", flush=True)
    sys.stdin.readline()
    for site, client in clients:
        for payload in payloads[site]:
            client.publish(topics.event(site, "door_open"), payload, qos=1)
    for _ in clients:
        done.acquire()
    for _, client in clients:
        client.disconnect()
        client.loop_stop()


def bare(broker: Broker, operator: Operator, passwords: dict[str, str], folder: Path, events: int) -> dict:
    ids = list(passwords)
    spec = folder / "bare.json"
    spec.write_text(json.dumps({"url": broker.url, "ca_file": str(broker.ca.path) if broker.ca else None,
                                "passwords": passwords, "count": events}))
    before = received(operator, ids)
    child = subprocess.Popen([sys.executable, __file__, "--bare-child", str(spec)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    child.stdin.write("go\n")
    child.stdin.flush()
    total = events * len(ids)
    deadline = time.monotonic() + 300
    while received(operator, ids) - before < total and time.monotonic() < deadline:
        time.sleep(0.002)
    seconds = time.perf_counter() - t0
    child.wait(60)
    return {"messages": total, "complete": received(operator, ids) - before >= total, "seconds": round(seconds, 3),
            "msgs_per_s": round(total / seconds, 1)}


async def main(sites: int, events: int, rate: float, seconds: float, tls: bool) -> dict:
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="fleet-fanin-") as tmp:
        folder = Path(tmp)
        ids = [f"site-{i:04d}" for i in range(sites)]
        engine_pw = {s: secrets.token_hex(8) for s in ids}
        bare_pw = {f"bare-{s}": secrets.token_hex(8) for s in ids}
        with Broker(folder / "broker", users={OPERATOR: "operator-pw", **engine_pw, **bare_pw}, tls=tls) as broker:
            operator = Operator(broker.url, "operator-pw", key, ca_file=broker.ca.path if broker.ca else None)
            operator.start()
            try:
                engine_side = await engine(broker, operator, engine_pw, folder, key.public_key(), events, rate,
                                           seconds)
                bare_side = await asyncio.to_thread(bare, broker, operator, bare_pw, folder, events)
            finally:
                operator.stop()
    return {"sites": sites, "connections_tested": 2 * sites + 1, "events_per_site": events, "tls": tls,
            "engine_msgs_per_s": engine_side["msgs_per_s"], "bare_msgs_per_s": bare_side["msgs_per_s"],
            "ratio_to_bare": round(bare_side["msgs_per_s"] / engine_side["msgs_per_s"], 3),
            "p50_ms": engine_side["p50_ms"], "p99_ms": engine_side["p99_ms"],
            "sites_per_broker_at_1_per_min": int(bare_side["msgs_per_s"] * 60),
            "sites_per_broker_at_1_per_min_engine_rate": int(engine_side["msgs_per_s"] * 60),
            "engine": engine_side, "bare": bare_side}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare-child"]:
        bare_child(sys.argv[2])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--events", type=int, default=100, help="events each site queues at once")
    parser.add_argument("--rate", type=float, default=200.0, help="paced run: events per second across the sites")
    parser.add_argument("--seconds", type=float, default=5.0, help="paced run: how long")
    parser.add_argument("--plain", action="store_true", help="plain TCP instead of TLS")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    out = asyncio.run(main(args.sites, args.events, args.rate, args.seconds, not args.plain))
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>40}: {value}")
