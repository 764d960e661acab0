"""`hwsim demo`: the controller with every device simulated, the store backend emulated on
loopback, the recipient screen in this terminal and the simulator's door panel beside it
(below 128 columns the panel folds away: F3 shows it).

The demo's site is hwsim/configs/demo.toml (package data), copied into a private folder
(0700: a fresh temporary one, or --state-dir) with the emulated lock bank's URL and the
store emulator's address added; the database and the log file sit beside it. The store
emulator (hwsim.store) makes a few parcels (random trade numbers and secrets; only hashes
reach the kiosk) and the controller pulls them through the real, signed manifest; the
demo courier loads most of them through the real drop-off flow; receipt notices go back
to the store through the real outbox pump. It prints what each recipient was told, and on
exit what the store received.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import stat
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from kiosk import config as config_mod
from kiosk.clock import SystemClock
from kiosk.errors import ConfigError
from kiosk.logs import away_from_screen
from kiosk.service.controller import Controller
from hwsim.parcels import DemoParcel
from hwsim.site import COURIER_CODE, SimSite, lock_url, register_site, store_config, toml_value
from hwsim.store.emulator import StoreEmulator

DEMO_CONFIG = "configs/demo.toml"
"""The demo's site, package data of ``hwsim``."""
DOORS = 8
PARCELS = 6
LOADED = 4
LOG_FILE = "demo.log"


def write_demo_config(folder: Path, locks: str = "kerong", store: StoreEmulator | None = None,
                      devices: dict[str, str] | None = None) -> Path:
    """Write the demo's config into ``folder`` (which must be private, see ``private_folder``):
    hwsim/configs/demo.toml with ``[devices] locks`` for ``locks`` ("kerong" or "gpio") and
    the other ``devices`` (role -> URL) and, with ``store`` (a started StoreEmulator),
    ``[store]`` linking the site to it."""
    text = resources.files("hwsim").joinpath(DEMO_CONFIG).read_text(encoding="utf-8")
    text += f"\n[devices]\nlocks = {toml_value(lock_url(locks, doors=DOORS))}\n"
    text += "".join(f"{role} = {toml_value(url)}\n" for role, url in (devices or {}).items())
    if store is not None:
        text += store_config(store, backoff_initial_s=1.0, backoff_max_s=10.0)
    path = folder / "kiosk.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)   # an older copy may have had another mode
        out.write(text)
    return path


def demo_config(locks: str, folder: Path, store: StoreEmulator | None = None,
                devices: dict[str, str] | None = None) -> config_mod.Config:
    """The demo's config, written into ``folder`` and loaded from there."""
    return config_mod.load(write_demo_config(folder, locks, store, devices))


@contextlib.contextmanager
def private_folder(state_dir: Path | None, prefix: str) -> Iterator[Path]:
    """``state_dir`` (made 0700 if it does not exist; one that others may read is refused,
    as the controller would refuse its database there), or a fresh temporary folder
    (0700) removed afterwards."""
    if state_dir is None:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)
        return
    try:
        state_dir.mkdir(mode=0o700, parents=True)
        state_dir.chmod(0o700)   # mkdir's mode is cut by the umask
    except FileExistsError:
        mode = stat.S_IMODE(state_dir.stat().st_mode)
        if not state_dir.is_dir() or mode & 0o077:
            raise ConfigError(f"{state_dir} must be a folder only you can read (mode {mode:o}): "
                              f"chmod 700 {state_dir}, or name a new one") from None
    yield state_dir


async def prepare(locks: str, folder: Path, seed: int | None, store: StoreEmulator,
                  devices: dict[str, str] | None = None) -> SimSite:
    config = demo_config(locks, folder, store, devices)
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
    """What the store told each recipient, one short line a parcel (fits the door panel at 80x24)."""
    lines = ["Demo parcels: trade number, secret"]
    for parcel in site.parcels:
        state = site.controller.site.db.parcel(parcel.trade_number)
        where = f"locker {state.locker}" if state.locker else state.state.value
        lines.append(f"{parcel.trade_number}  {parcel.secret}  {where}")
    lines += [f"Courier code: {COURIER_CODE}", ""]
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


def run_in_folder(state_dir: Path | None, prefix: str, demo: Callable[[Path], Coroutine[Any, Any, None]]) -> int:
    """Run ``demo(folder)`` in a private folder (``private_folder``) with the log in a file
    there (never over the screen), saying where both are first."""
    with private_folder(state_dir, prefix) as folder:
        print(f"Demo folder: {folder} (config kiosk.toml, database, {LOG_FILE})"
              + ("" if state_dir else "; removed on exit, keep it with --state-dir"))
        with away_from_screen(folder / LOG_FILE) as where:
            print(f"Log: {where}\n")
            asyncio.run(demo(folder))
    return 0


def run_demo(locks: str = "kerong", state_dir: Path | None = None, seed: int | None = None) -> int:
    return run_in_folder(state_dir, "hwsim-demo-", lambda folder: main(locks, folder, seed))
