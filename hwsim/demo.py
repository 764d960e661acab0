"""`kiosk demo`: the controller with every device simulated, the recipient screen in this
terminal and the simulator's door panel beside it.

It uses the simulated default config (config/kiosk.toml) with a fresh database in a
temporary folder (or --state-dir), makes a few parcels the way the store would (random
trade numbers and secrets; only hashes reach the kiosk), has the demo courier load most
of them through the real drop-off flow, prints what a recipient would have been told,
and hands the terminal to the recipient screen.
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
from hwsim.site import COURIER_CODE, LOCK_URLS, SimSite

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "kiosk.toml"
PARCELS = 6
LOADED = 4


def demo_config(locks: str, folder: Path, path: Path = DEFAULT_CONFIG) -> config_mod.Config:
    if not path.is_file():
        raise ConfigError(f"the demo needs the simulated default config, {path}: run it from a checkout")
    cfg = config_mod.load(path)
    url = LOCK_URLS[locks].format(doors=8).replace("&poll_ms=20", "")
    return dataclasses.replace(cfg, database=folder / "kiosk.db", devices={**cfg.devices, "locks": url})


async def prepare(locks: str, folder: Path, seed: int | None) -> SimSite:
    controller = Controller(demo_config(locks, folder), clock=SystemClock())
    await controller.start()
    site = SimSite(controller, controller.clock)
    rng = random.Random(seed)
    parcels = await site.add_parcels(PARCELS, rng)
    for parcel in parcels[:LOADED]:
        await site.deposit(parcel)
    return site


def describe(site: SimSite) -> str:
    """What the store told each recipient, one short line a parcel (fits the door panel)."""
    lines = ["Demo parcels: trade number, secret", ""]
    for parcel in site.parcels:
        state = site.controller.store.parcel(parcel.trade_number)
        where = f"locker {state.locker}" if state.locker else state.state.value
        lines.append(f"{parcel.trade_number}  {parcel.secret}  {where}")
    lines += ["", f"Courier code: {COURIER_CODE}", ""]
    return "\n".join(lines)


async def main(locks: str, folder: Path, seed: int | None) -> None:
    from hwsim.panel import DoorPanel
    from kiosk.ui.app import RecipientApp

    site = await prepare(locks, folder, seed)
    try:
        notes = describe(site)
        print(notes)
        app = RecipientApp(site.controller, side_panel=lambda: DoorPanel(site, notes=notes))
        await app.run_async()
        store = site.controller.store
        summary = describe(site) + (
            f"Waiting in the outbox for the store: {len(store.outbox(pending_only=True))} event(s) "
            f"({', '.join(sorted({e['kind'] for e in store.outbox()})) or 'none'}).\n"
            f"Audit chain: {'ok' if store.verify_audit().ok else 'BROKEN'}.")
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
