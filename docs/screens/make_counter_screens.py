"""Regenerate the pictures of the counter terminal in this folder (counter-*.svg).

    .venv/bin/python docs/screens/make_counter_screens.py

It runs the real controller on a simulated pickup point (GPIO lock emulator, manual
clock) with tag keys from a simulated store (hwsim.tags.TagIssuer), receives F1 and F2
parcels at the counter with fixed trade numbers, and walks the counter screen through
its main states in English and Japanese: the start, a hand-over ready to confirm, a
forged tag, a swapped tag, a wrong secret, the hand-over done, and cash taken for a parcel
with money due (the change shown). The last picture is
the demo's layout, with the simulated scanner panel beside the screen.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from hwsim import tags as hwtags  # noqa: E402
from hwsim.counter_panel import CounterPanel, PanelParcel  # noqa: E402
from hwsim.site import start_site  # noqa: E402
from kiosk.clock import ManualClock  # noqa: E402
from kiosk.security import tags  # noqa: E402
from kiosk.service import manifest  # noqa: E402
from kiosk.ui.counter import CounterApp  # noqa: E402
from textual.widgets import Input  # noqa: E402

SIZE = (100, 34)
DEMO_SIZE = (150, 36)
SMALL = (80, 24)
SECRET = "424242"


async def until(pilot, condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            s = pilot.app.screen
            raise TimeoutError(f"the counter screen did not get there: {pilot.app.language} {[w.text for w in s.query('Words') if w.text][-4:]}")
        await pilot.pause(0.02)
    await pilot.pause()


async def shoot(pilot, name: str) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()
    pilot.app.save_screenshot(f"{name}.svg", path=str(HERE))
    print("wrote", HERE / f"{name}.svg")


async def scan(controller, payload: str) -> None:
    try:
        await controller.counter_present(payload.encode())
    except Exception:
        pass   # refused: the screen hears it as an event


async def next_customer(app) -> None:
    """Next customer, and wait for the desk to be cleared (the cancel runs in a worker: a scan
    made before it ends would be forgotten with the last customer's reads)."""
    app.action_next_customer()
    await app.workers.wait_for_complete([w for w in app.workers if w.group == "counter-cancel"])


def idle(app):
    return lambda: not app.screen.busy


async def tour(site, issuer, parcels: dict, language: str) -> None:
    c = site.controller
    f2, f1 = parcels[f"f2-{language}"], parcels[f"f1-{language}"]
    moved, victim = parcels[f"x-{language}"], parcels[f"y-{language}"]
    app = CounterApp(c, "clerk-1")
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        screen = app.screen
        await shoot(pilot, f"counter-start-{language}")
        await scan(c, f2.tag)
        await scan(c, f2.trade_number)
        await until(pilot, lambda: screen.view.label)
        await pilot.press(*SECRET, "enter")
        await until(pilot, lambda: screen.confirm.display and not screen.busy)
        await shoot(pilot, f"counter-hand-over-{language}")
        await pilot.click(".counter-confirm")
        await until(pilot, lambda: screen.view.done)
        await shoot(pilot, f"counter-done-{language}")

        await scan(c, f1.trade_number)
        await scan(c, hwtags.forged(issuer, f1, "111111"))
        await until(pilot, lambda: screen.verdict.has_class("-grave"))
        await shoot(pilot, f"counter-forged-{language}")

        await next_customer(app)
        await scan(c, moved.tag)            # a genuine F2 tag moved onto another parcel
        await scan(c, victim.trade_number)
        await until(pilot, lambda: screen.view.label and screen.view.tag_method)
        await pilot.press(*SECRET, "enter")
        await until(pilot, lambda: screen.verdict.has_class("-grave") and not screen.busy)
        await shoot(pilot, f"counter-swapped-{language}")

        await next_customer(app)
        await scan(c, f1.tag)
        await scan(c, f1.trade_number)
        await until(pilot, lambda: screen.view.label)
        await pilot.press(*"000000", "enter")
        await until(pilot, lambda: screen.verdict.has_class("-refused") and not screen.busy)
        await shoot(pilot, f"counter-wrong-secret-{language}")

        paid = parcels[f"c-{language}"]    # ¥1,980 due: the clerk takes the cash
        await next_customer(app)
        await scan(c, paid.tag)
        await scan(c, paid.trade_number)
        await until(pilot, lambda: screen.view.label and screen.view.tag_method)
        await pilot.press(*SECRET, "enter")
        await until(pilot, lambda: screen.cash_row.display and not screen.busy)
        screen.cash_box.focus()
        await pilot.press(*"2000")
        await until(pilot, lambda: screen.change.text)
        await shoot(pilot, f"counter-cash-due-{language}")


async def demo_layout(site, issuer, parcels: dict) -> None:
    shown = [PanelParcel(p.trade_number, p.secret, p.entry["method"], p.tag) for p in parcels.values()][:5]
    app = CounterApp(site.controller, "clerk-1", side_panel=lambda: CounterPanel(site.controller, issuer, shown))
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await pilot.click("#scan-tag-0")
        await pilot.click("#scan-label-0")
        await until(pilot, lambda: app.screen.view.label and app.screen.view.tag_method)
        await shoot(pilot, "counter-demo-with-scanner-panel")
    app = CounterApp(site.controller, "clerk-1", side_panel=lambda: CounterPanel(site.controller, issuer, shown))
    async with app.run_test(size=SMALL) as pilot:   # the panel folds away; F3 shows it instead
        await shoot(pilot, "counter-demo-80x24")
        await pilot.press("f3")
        await pilot.click("#scan-tag-1")
        await pilot.pause()
        await shoot(pilot, "counter-demo-80x24-scanner-panel")
        await pilot.press("f3")
        await pilot.click("#scan-label-1")
        await until(pilot, lambda: app.screen.view.label and app.screen.view.tag_method)


async def received(c, issuer, now: float) -> dict:
    deadline = datetime.fromtimestamp(now + 3 * 86400, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    made = {}
    for key, method, trade in (("f2-en", "f2_tag", "1234-5678"), ("f1-en", "f1_tag", "2345-6789"),
                               ("x-en", "f2_tag", "3456-7890"), ("y-en", "f2_tag", "3456-1111"),
                               ("f2-ja", "f2_tag", "4567-8901"), ("f1-ja", "f1_tag", "5678-9012"),
                               ("x-ja", "f2_tag", "6789-0123"), ("y-ja", "f2_tag", "6789-2222"),
                               ("c-en", "f2_tag", "7890-1234"), ("c-ja", "f2_tag", "8901-2345")):
        entry = {"trade_number": trade, "method": method, "amount_due": 1980 if key.startswith("c-") else 0,
                 "hold_deadline": deadline}
        made[key] = hwtags.TagParcel(trade, SECRET, entry, issuer.tag(method, trade, SECRET))
    c.import_manifest(manifest.parse({"version": 1, "parcels": [p.entry for p in made.values()]}), "docs")
    for p in made.values():
        await c.counter_receive("clerk-1", p.trade_number)
    return made


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = await start_site(Path(tmp), clock=ManualClock(), locks="gpio", doors=2)
        try:
            c = site.controller
            issuer = hwtags.TagIssuer(c.config.site_id, tags.CHEAP)
            c.site.tag_keys = issuer.keys()
            parcels = await received(c, issuer, site.clock.now())
            for language in ("en", "ja"):
                await tour(site, issuer, parcels, language)
            await c.counter_cancel()
            await demo_layout(site, issuer, {k: v for k, v in parcels.items() if k.startswith(("f1", "y"))})
        finally:
            await site.controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
