"""`hwsim demo --screen counter`: the counter terminal on a simulated pickup point, with a
simulated scanner beside it (below 128 columns it folds away: F3 shows it).

Like hwsim.demo: the demo's config (hwsim/configs/demo.toml) in a private folder,
the store emulator on loopback, and parcels that reach the kiosk through the real, signed
manifest. Here they are counter parcels: F1 tags, F2 tags and plain secrets, made in the
store emulator with the secret the recipient is told, and received at the counter by a
clerk. A ``TagIssuer`` plays the store's tag office (its signing key and the site tag
key, which the site is given as ``[tags]`` would); it makes the tags the parcels carry.
The scanner panel (hwsim.counter_panel) reads tags, labels, phone codes and forged tags
into the controller as the desk's scanner would. On exit it prints what happened.
"""

from __future__ import annotations

import random
from pathlib import Path

from kiosk.clock import SystemClock
from kiosk.security import tags
from kiosk.service.controller import Controller
from hwsim.counter_panel import CounterPanel, PanelParcel
from hwsim.demo import demo_config, run_in_folder
from hwsim.site import register_site
from hwsim.store.emulator import StoreEmulator
from hwsim.tags import TagIssuer

CLERK = "demo-clerk"
PARCELS = (("f2_tag", 2), ("f1_tag", 2), ("secret", 2))


async def prepare(folder: Path, seed: int | None, store: StoreEmulator) -> tuple[Controller, TagIssuer, list[PanelParcel]]:
    """A started controller whose counter parcels have arrived; the store's tag office; the parcels."""
    config = demo_config("gpio", folder, store)
    register_site(config, store)
    rng = random.Random(seed)
    issuer = TagIssuer(config.site_id, tags.CHEAP)
    parcels = []
    for method, count in PARCELS:
        for _ in range(count):
            made = store.create_parcel(config.site_id, method, secret=f"{rng.randrange(10**6):06d}")
            tag = issuer.tag(method, made.trade_number, made.secret) if method != "secret" else None
            parcels.append(PanelParcel(made.trade_number, made.secret, method, tag))
    controller = Controller(config, clock=SystemClock())
    await controller.start()
    controller.site.tag_keys = issuer.keys()      # what [tags] key_file + store_public_key give a real site
    await controller.pull_manifest()
    for parcel in parcels:
        await controller.counter_receive(CLERK, parcel.trade_number)
    return controller, issuer, parcels


def describe(controller: Controller, parcels: list[PanelParcel]) -> str:
    lines = ["Counter demo parcels: trade number, method, secret, state", ""]
    for p in parcels:
        state = controller.site.db.parcel(p.trade_number)
        lines.append(f"{p.trade_number}  {p.method:<7} {p.secret}  {state.state.value if state else '?'}")
    return "\n".join(lines) + "\n"


async def main(folder: Path, seed: int | None) -> None:
    from kiosk.ui.counter import CounterApp

    store = StoreEmulator(folder / "store", seed=seed)
    store.start()
    try:
        controller, issuer, parcels = await prepare(folder, seed, store)
        try:
            print(describe(controller, parcels))
            app = CounterApp(controller, CLERK, side_panel=lambda: CounterPanel(controller, issuer, parcels))
            await app.run_async()
            try:
                await controller.sync.settle(timeout=5.0)   # let the receipt notices reach the store
            except TimeoutError:
                pass
            received = store.events(controller.config.site_id)
            summary = describe(controller, parcels) + (
                f"The store emulator received {len(received)} event(s); "
                f"{len(controller.site.db.outbox(pending_only=True))} still waiting in the outbox.\n"
                f"Audit chain: {'ok' if controller.site.db.verify_audit().ok else 'BROKEN'}.")
        finally:
            await controller.stop()
    finally:
        store.close()
    print(summary)


def run_counter_demo(state_dir: Path | None = None, seed: int | None = None) -> int:
    return run_in_folder(state_dir, "hwsim-counter-demo-", lambda folder: main(folder, seed))
