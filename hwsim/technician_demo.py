"""`hwsim demo --screen technician`: the technician panel on a pickup point where every
kind of device is simulated — the Kerong lock bus, the lockers' scanner, the counter's
token reader, the fingerprint sensor, the IC card reader (a private pcscd) and the ccTalk
payment slot — with the simulator's controls beside it (hwsim.controls_panel; below 128
columns it folds away: F3 shows it). Enter on a device shows its line; the controls play
the people and the faults (``locks jam 3``, ``cash note 1000``, ``card insert``…) and the
panel shows what the real drivers and the controller make of them.

Like hwsim.demo: the demo's config in a private folder, the store emulator on loopback,
parcels through the real signed manifest, most loaded by the demo courier.
"""

from __future__ import annotations

from pathlib import Path

from hwsim.controls import SiteControls
from hwsim.demo import describe, prepare, run_in_folder
from hwsim.store.emulator import StoreEmulator

TECHNICIAN = "demo-technician"
DEVICES = {"scanner": "sim+serial-scanner://?aim=1", "token": "sim+rdm6300://", "biometric": "sim+r30x://",
           "card": "sim+pcsc://", "cash": "sim+cctalk://"}


async def main(folder: Path, seed: int | None) -> None:
    from hwsim.controls_panel import ControlsPanel
    from kiosk.ui.technician import TechnicianApp

    store = StoreEmulator(folder / "store", seed=seed)
    store.start()
    try:
        site = await prepare("kerong", folder, seed, store, devices=DEVICES)
        try:
            print(describe(site))
            controls = SiteControls(site.controller)
            app = TechnicianApp(site.controller, TECHNICIAN, side_panel=lambda: ControlsPanel(controls))
            await app.run_async()
        finally:
            await site.controller.stop()
    finally:
        store.close()


def run_technician_demo(state_dir: Path | None = None, seed: int | None = None) -> int:
    return run_in_folder(state_dir, "hwsim-technician-demo-", lambda folder: main(folder, seed))
