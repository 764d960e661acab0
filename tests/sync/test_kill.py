"""kill -9 of the controller while it sends: nothing lost, nothing applied twice.

The controller runs alone in a child process (hwsim.scenarios.kiosk_child) and pumps a
full outbox to the store emulator, which lives here; the child is SIGKILLed at a moment
chosen by watching the store, and a new controller on the same database finishes the job.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from hwsim.site import FAST_HASH, register_site, store_config, write_config
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.service.controller import Controller
from kiosk.storage.database import Database
from tests.sync.conftest import LINK, deliver_all, delivered_once_in_order, pending, queue_events

pytestmark = pytest.mark.slow
SITE = "sim-site"
START = 1_800_000_000.0


class Site:
    """Just enough of hwsim.site.SimSite for deliver_all."""

    def __init__(self, controller, clock):
        self.controller, self.clock = controller, clock


@pytest.fixture
def store(tmp_path):
    with StoreEmulator(tmp_path / "store", clock=ManualClock(START), hash_params=FAST_HASH, seed=9) as emulator:
        yield emulator


def prepare(tmp_path, store, events: int, batch_size: int):
    path = write_config(tmp_path / "site", locks="gpio", doors=4,
                        extra=store_config(store, **{**LINK, "batch_size": batch_size}))
    config = load(path)
    register_site(config, store)
    db = Database(config.database)
    ids = queue_events(db, START, events)
    db.close()
    return path, ids


def run_child_until(path, condition, timeout: float = 30.0) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-m", "hwsim.scenarios.kiosk_child", str(path), str(START)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + timeout
        while not condition():
            if child.poll() is not None:
                raise AssertionError("the child ended early: " + child.stderr.read().decode())
            if time.monotonic() > deadline:
                raise AssertionError("the moment to kill never came")
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)   # no clean-up of any kind
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        child.stderr.close()


async def finish(path, store, ids):
    clock = ManualClock(START + 60)
    c = Controller(load(path), clock=clock, rng=random.Random(2))
    await c.start()
    try:
        await deliver_all(Site(c, clock))
        delivered_once_in_order(store, SITE, ids)
        assert pending(c) == 0 and len({e["event_id"] for e in c.site.db.outbox()}) == len(ids)
        assert c.site.db.verify_audit().ok
    finally:
        await c.stop()


async def test_killed_while_the_store_holds_a_processed_batch(tmp_path, store):
    path, ids = prepare(tmp_path, store, events=120, batch_size=50)
    store.set_fault("timeout_after_processing", mode="hold", seconds=30, path="/events", times=1)
    run_child_until(path, lambda: any(r.fault == "timeout_after_processing" for r in store.requests))
    assert len(store.events(SITE)) == 50   # the store has the first batch; the kiosk never heard so
    await finish(path, store, ids)
    assert store.duplicates_received == 50   # resent once, answered as duplicates, stored once


async def test_killed_before_the_store_processed_anything(tmp_path, store):
    path, ids = prepare(tmp_path, store, events=30, batch_size=50)
    store.set_fault("slow", seconds=30, path="/events", times=1)
    # The fault is used up (times=1) the moment the batch arrives, before it is handled.
    run_child_until(path, lambda: "slow" not in store.faults)
    assert store.events(SITE) == []
    await finish(path, store, ids)


@pytest.mark.parametrize("after", [1, 250, 470])
async def test_killed_at_any_moment_of_a_long_drain(tmp_path, store, after):
    path, ids = prepare(tmp_path, store, events=500, batch_size=20)
    run_child_until(path, lambda: len(store.events(SITE)) >= after)
    await finish(path, store, ids)
