"""`kiosk demo`: the controller with every device simulated, the store backend emulated on
loopback, the recipient screen in this terminal and the simulator's door panel beside it.

It uses the simulated default config (config/kiosk.toml) with a fresh database in a
temporary folder (or --state-dir). The store emulator (hwsim.store) makes a few parcels
(random trade numbers and secrets; only hashes reach the kiosk) and the controller pulls
them through the real, signed manifest; the demo courier loads most of them through the
real drop-off flow; receipt notices go back to the store through the real outbox pump.
It prints what each recipient was told, and on exit what the store received.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
import tempfile
from pathlib import Path

from kiosk import config as config_mod
from kiosk.clock import SystemClock
from kiosk.errors import ConfigError
from kiosk.service.controller import Controller
from hwsim.parcels import DemoParcel
from hwsim.site import COURIER_CODE, LOCK_URLS, SimSite, register_site
from hwsim.store.emulator import StoreEmulator

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "kiosk.toml"
PARCELS = 6
LOADED = 4


def demo_config(locks: str, folder: Path, store: StoreEmulator | None = None,
                path: Path = DEFAULT_CONFIG) -> config_mod.Config:
    if not path.is_file():
        raise ConfigError(f"the demo needs the simulated default config, {path}: run it from a checkout")
    cfg = config_mod.load(path)
    url = LOCK_URLS[locks].format(doors=8).replace("&poll_ms=20", "")
    cfg = dataclasses.replace(cfg, database=folder / "kiosk.db", devices={**cfg.devices, "locks": url})
    if store is not None:
        cfg = dataclasses.replace(cfg, store=dataclasses.replace(
            cfg.store, url=store.url, public_key=store.public_key_text, backoff_initial_s=1.0, backoff_max_s=10.0))
    return cfg


async def prepare(locks: str, folder: Path, seed: int | None, store: StoreEmulator) -> SimSite:
    config = demo_config(locks, folder, store)
    register_site(config, store)
    rng = random.Random(seed)
    made = [store.create_parcel(config.site_id, "locker", secret=f"{rng.randrange(10**6):06d}")
            for _ in range(PARCELS)]
    controller = Controller(config, clock=SystemClock())
    await controller.start()
    site = SimSite(controller, controller.clock, store=store)
    await controller.pull_manifest()   # the real, signed manifest from the store emulator
    site.parcels = [DemoParcel(p.trade_number, p.secret, {}) for p in made]
    for parcel in site.parcels[:LOADED]:
        await site.deposit(parcel)
    return site


def describe(site: SimSite) -> str:
    """What the store told each recipient, one short line a parcel (fits the door panel)."""
    lines = ["Demo parcels: trade number, secret", ""]
    for parcel in site.parcels:
        state = site.controller.site.db.parcel(parcel.trade_number)
        where = f"locker {state.locker}" if state.locker else state.state.value
        lines.append(f"{parcel.trade_number}  {parcel.secret}  {where}")
    lines += ["", f"Courier code: {COURIER_CODE}", ""]
    return "\n".join(lines)


async def main(locks: str, folder: Path, seed: int | None) -> None:
    store = StoreEmulator(folder / "store", seed=seed)
    store.start()
    try:
        await run_with_store(locks, folder, seed, store)
    finally:
        store.close()


async def run_with_store(locks: str, folder: Path, seed: int | None, store: StoreEmulator) -> None:
    from hwsim.panel import DoorPanel
    from kiosk.ui.app import RecipientApp

    site = await prepare(locks, folder, seed, store)
    try:
        notes = describe(site)
        print(notes)
        app = RecipientApp(site.controller, side_panel=lambda: DoorPanel(site, notes=notes))
        await app.run_async()
        try:
            await site.controller.sync.settle(timeout=5.0)  # let the last receipt notice reach the store
        except TimeoutError:
            pass  # the summary says what is still waiting
        local = site.controller.site.db
        received = store.events(site.controller.config.site_id)
        summary = describe(site) + (
            f"The store emulator at {store.url} received {len(received)} event(s): "
            f"{', '.join(sorted({e['kind'] for e in received})) or 'none'}; "
            f"{len(local.outbox(pending_only=True))} still waiting in the outbox.\n"
            f"Audit chain: {'ok' if local.verify_audit().ok else 'BROKEN'}.")
    finally:
        await site.controller.stop()
    print(summary)


def run_demo(locks: str = "kerong", state_dir: Path | None = None, seed: int | None = None) -> int:
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(main(locks, state_dir, seed))
        return 0
    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        asyncio.run(main(locks, Path(tmp), seed))
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
