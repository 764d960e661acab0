"""The counter terminal (kiosk.ui.counter) through the real controller on a simulated site
with tagged parcels: hand-overs, every refusal the clerk must see, typed scans, and SVG
snapshots of the main states in both languages."""

from __future__ import annotations

import random

import pytest
from textual.widgets import Input

from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.security import tags
from kiosk.service import manifest
from kiosk.service.api import DeskState
from kiosk.service.dto import CounterTicket
from kiosk.ui.counter import CounterApp, CounterScreen
from kiosk.ui.counter.desk import DeskView
from kiosk.ui.counter.explain import FORGED, MISMATCH
from kiosk.ui.counter.texts import EN, JA
from kiosk.ui.widgets import Words
from hwsim import tags as hwtags
from hwsim.parcels import make_parcels
from hwsim.site import start_site
from hwsim.tags import TagIssuer
from kiosk.errors import CodeInvalid
from tests.ui.conftest import SIZE, type_text, wait_for
from tests.ui.fakes import FakeCounterService

CLERK = "clerk-7"


class Desk:
    """A started site whose F1, F2 and plain-secret parcels have arrived at the counter."""

    def __init__(self, sim, issuer, by_method):
        self.sim, self.issuer, self.by_method = sim, issuer, by_method
        self.c = sim.controller

    def state(self, parcel):
        return self.c.site.db.parcel(parcel.trade_number)


@pytest.fixture
async def desk(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    try:
        issuer = TagIssuer(sim.controller.config.site_id, tags.CHEAP)
        sim.controller.site.tag_keys = issuer.keys()
        rng = random.Random(11)
        taken: set[str] = set()
        now = sim.clock.now()
        by_method = {m: issuer.parcels(2, rng, method=m, now=now, taken=taken) for m in ("f1_tag", "f2_tag")}
        by_method["secret"] = [p for p in make_parcels(4, rng, sim.controller.config.hash_params, now=now,
                                                       method="secret") if p.trade_number not in taken][:2]
        entries = [p.entry for ps in by_method.values() for p in ps]
        sim.controller.import_manifest(manifest.parse({"version": 1, "parcels": entries}), "test")
        for ps in by_method.values():
            for p in ps:
                await sim.controller.counter_receive("clerk-1", p.trade_number)
        yield Desk(sim, issuer, by_method)
    finally:
        await sim.controller.stop()


def app_for(d: Desk, **kw) -> CounterApp:
    return CounterApp(d.c, CLERK, **kw)


def words(screen) -> str:
    return " | ".join(w.text for w in screen.query(Words) if w.text)


async def scan(pilot, desk: Desk, payload: str, what: str) -> None:
    """The desk's scanner reads ``payload`` (as the controller's scanner task would)."""
    try:
        await desk.c.counter_present(payload.encode())
    except Exception:
        pass   # the controller reports refusals as events, which the screen shows
    await wait_for(pilot, lambda: what in words(pilot.app.screen), repr(what))


async def verdict(pilot, what: str) -> CounterScreen:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: not screen.busy and what in words(screen), repr(what))
    return screen


# --- flows through the real controller ----------------------------------------------------------

async def test_f2_hand_over_from_scans_to_confirm(desk):
    p = desk.by_method["f2_tag"][0]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert EN.step_scan in words(screen)
        await scan(pilot, desk, p.tag, "✓ F2 tag")
        assert EN.step_label in words(screen)
        await scan(pilot, desk, p.trade_number, f"✓ {p.trade_number}")
        assert EN.step_secret in words(screen)
        await type_text(pilot, p.secret)
        assert app.focused is screen.secret_box and screen.secret_box.password
        await pilot.press("enter")
        assert screen.secret_box.value == ""          # emptied at once
        await verdict(pilot, f"Hand over parcel {p.trade_number}")
        assert screen.confirm.display
        await pilot.click(".counter-confirm")
        await verdict(pilot, f"Parcel {p.trade_number} handed over")
        assert not screen.confirm.display and EN.step_scan in words(screen)
    assert desk.state(p).state == ParcelState.COLLECTED
    handed = desk.c.site.db.audit_entries("parcel_collected")
    assert [e["actor"] for e in handed if e["subject"] == p.trade_number] == [f"clerk:{CLERK}"]


async def test_forged_tag_is_refused_in_red(desk):
    p = desk.by_method["f2_tag"][0]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, hwtags.forged(desk.issuer, p, "111111"), "FORGED TAG")
        screen = app.screen
        assert screen.verdict.has_class("-grave") and EN.do_not_hand_over in words(screen)
        assert screen.view.tag_method is None
    assert desk.state(p).state == ParcelState.ARRIVED


async def test_swapped_tag_is_refused_at_the_check(desk):
    f2a, f2b = desk.by_method["f2_tag"]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, f2b.tag, "✓ F2 tag")                 # the other parcel's genuine tag
        await scan(pilot, desk, f2a.trade_number, f"✓ {f2a.trade_number}")
        await type_text(pilot, f2a.secret)
        await pilot.press("enter")
        screen = await verdict(pilot, "SWAPPED TAG")
        assert screen.verdict.has_class("-grave") and not screen.confirm.display
    assert desk.state(f2a).state == ParcelState.ARRIVED and desk.state(f2b).state == ParcelState.ARRIVED


async def test_f1_tag_and_label_of_different_parcels_show_the_mismatch_at_once(desk):
    f1a, f1b = desk.by_method["f1_tag"]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, f1b.tag, f"✓ F1 tag · {f1b.trade_number}")
        await scan(pilot, desk, f1a.trade_number, EN.mismatch)
        assert app.screen.verdict.has_class("-grave")


async def test_wrong_secret_says_how_many_tries_are_left_then_the_right_one_hands_over(desk):
    p = desk.by_method["f1_tag"][0]
    app = app_for(desk)
    left = desk.c.config.attempts.per_parcel_max - 1
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, p.tag, f"✓ F1 tag · {p.trade_number}")
        await scan(pilot, desk, p.trade_number, EN.step_secret)
        await type_text(pilot, "000000")
        await pilot.press("enter")
        screen = await verdict(pilot, f"Wrong secret. The recipient can try {left} more times.")
        assert screen.verdict.has_class("-refused") and not screen.confirm.display
        await type_text(pilot, p.secret)
        await pilot.press("enter")
        await verdict(pilot, f"Hand over parcel {p.trade_number}")


@pytest.mark.slow
async def test_typed_scans_phone_code_and_keypad(desk):
    """A keyboard-wedge scanner types the tag and Enter into the focused field; the label is
    typed by hand; the recipient's phone code is typed by the wedge too (S/ + secret)."""
    p = desk.by_method["f2_tag"][1]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await type_text(pilot, p.tag)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✓ F2 tag" in words(screen), "the typed tag")
        screen.label_box.focus()
        await type_text(pilot, p.trade_number)
        await pilot.press("enter")
        await wait_for(pilot, lambda: f"✓ {p.trade_number}" in words(screen), "the typed label")
        screen.secret_box.focus()
        await type_text(pilot, "S/" + p.secret)
        await pilot.press("enter")
        await wait_for(pilot, lambda: EN.phone_code_read in words(screen), "the phone code")
        await pilot.click(".counter-check")
        await verdict(pilot, f"Hand over parcel {p.trade_number}")
        await pilot.press("escape")                    # next customer: nothing handed over
        await wait_for(pilot, lambda: EN.step_scan in words(screen), "a clear desk")
    assert desk.state(p).state == ParcelState.ARRIVED


async def test_keyboard_alone_secret_enter_then_enter_confirms(desk):
    """The verdict takes the focus to Confirm: the secret, Enter, then Enter hands over."""
    p = desk.by_method["secret"][1]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, p.trade_number, EN.step_secret)
        await type_text(pilot, p.secret)
        await pilot.press("enter")
        await verdict(pilot, f"Hand over parcel {p.trade_number}")
        assert app.focused is app.screen.confirm
        await pilot.press("enter")
        await verdict(pilot, "handed over")
    assert desk.state(p).state == ParcelState.COLLECTED


async def test_plain_secret_on_the_keypad(desk):
    p = desk.by_method["secret"][0]
    app = app_for(desk)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, desk, p.trade_number, EN.step_secret)
        for digit in p.secret:
            app.screen.keypad.post_message(app.screen.keypad.Pressed(app.screen.keypad, digit))
        await pilot.pause()
        app.screen.keypad.post_message(app.screen.keypad.Submitted(app.screen.keypad))
        await verdict(pilot, f"Hand over parcel {p.trade_number}")
        await pilot.click(".counter-confirm")
        await verdict(pilot, "handed over")
    assert desk.state(p).state == ParcelState.COLLECTED


async def test_cash_due_is_taken_at_the_counter_with_the_change_shown(tmp_path):
    """A parcel with ¥1,980 due: verified, the clerk types 1000 (short: refused, still
    verified), then 2000 (change ¥20) and confirms: collected, paid, in one transaction."""
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    c = sim.controller
    try:
        [p] = make_parcels(1, random.Random(2), c.config.hash_params, now=sim.clock.now(), method="secret",
                           amount_due=1980)
        c.import_manifest(manifest.parse({"version": 1, "parcels": [p.entry]}), "test")
        await c.counter_receive("clerk-1", p.trade_number)
        app = CounterApp(c, CLERK)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await c.counter_present(p.trade_number.encode())
            await wait_for(pilot, lambda: EN.step_secret in words(screen), "the label read")
            await type_text(pilot, p.secret)
            await pilot.press("enter")
            await verdict(pilot, "¥1,980 to pay")
            screen.cash_box.focus()
            await type_text(pilot, "1000")
            await wait_for(pilot, lambda: "¥980 short" in words(screen), "the shortfall")
            await pilot.click(".counter-confirm")
            await wait_for(pilot, lambda: not screen.busy and screen.view.verified is not None, "the refusal")
            assert c.site.db.parcel(p.trade_number).state == ParcelState.ARRIVED
            assert app.focused is screen.cash_box          # back in the cash field for the rest
            screen.cash_box.clear()
            await type_text(pilot, "2000")
            await wait_for(pilot, lambda: "Change to give: ¥20" in words(screen), "the change")
            await pilot.press("enter")
            await verdict(pilot, "handed over")
        row = c.site.db.parcel(p.trade_number)
        assert row.state == ParcelState.COLLECTED and row.amount_paid == 1980
        [paid] = [e["payload"] for e in c.site.db.outbox() if e["kind"] == "cash_collected"]
        assert (paid["received"], paid["change_paid"], paid["method"]) == (2000, 20, "counter")
    finally:
        await c.stop()


async def test_another_desk_is_not_shown(desk):
    p = desk.by_method["f2_tag"][0]
    app = app_for(desk, desk="desk-2")
    async with app.run_test(size=SIZE) as pilot:
        seen = app.events.seq
        await desk.c.counter_present(p.tag.encode())         # the default desk's scanner
        await wait_for(pilot, lambda: app.events.seq > seen, "the event")
        await pilot.pause()
        assert app.screen.view.tag_method is None and EN.step_scan in words(app.screen)


# --- the view's rules and the words -----------------------------------------------------------

def test_desk_view_rules():
    view = DeskView()
    view.apply_read(DeskState("counter", tag_method="f1_tag", tag_trade_number="1234-5678"))
    view.apply_verified("t", "1234-5678")
    view.apply_read(DeskState("counter", tag_method="f1_tag", tag_trade_number="1234-5678", label="9999-0000",
                              mismatch=True, missing=("secret",)))
    assert view.verified is None and view.refusal is MISMATCH and view.label == "9999-0000"
    view.apply_rejection(FORGED, DeskState("counter", label="9999-0000"))
    assert view.tag_method is None and not view.mismatch and view.refusal is FORGED
    view.apply_rejection(None, DeskState("counter"))          # a typed line's refusal: words from the command
    assert view.refusal is FORGED and not view.has_reads
    view.apply_done("1234-5678")
    assert view.done == "1234-5678" and not view.has_reads and view.refusal is None


@pytest.mark.parametrize("field", list(EN.__dataclass_fields__))
def test_counter_phrases_in_both_languages(field):
    import string

    def names(s):
        return {n for _, n, _, _ in string.Formatter().parse(s) if n}
    assert getattr(EN, field).strip() and getattr(JA, field).strip()
    assert names(getattr(EN, field)) == names(getattr(JA, field))


# --- snapshots (a scripted service, so every pixel is the test's choice) ---------------------------

def snap_app(service: FakeCounterService) -> CounterApp:
    return CounterApp(service, CLERK)


def in_language(language: str, steps):
    async def run_before(pilot) -> None:
        pilot.app.language = language
        await steps(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False   # a blinking cursor would make the picture depend on timing
        await pilot.pause()
    return run_before


async def reads_then_secret(pilot) -> None:
    service = pilot.app.service
    service.read("tag", DeskState("counter", tag_method="f2_tag"))
    service.read("label", DeskState("counter", tag_method="f2_tag", label="1234-5678", missing=("secret",)))
    await wait_for(pilot, lambda: "1234-5678" in words(pilot.app.screen), "the reads")
    await type_text(pilot, "424242")
    await pilot.press("enter")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_start(snap_compare, language):
    async def steps(pilot):
        await pilot.pause()
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_hand_over(snap_compare, language):
    async def steps(pilot):
        await reads_then_secret(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.confirm.display and not pilot.app.screen.busy, "ready")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_forged_tag(snap_compare, language):
    async def steps(pilot):
        service = pilot.app.service
        service.read("label", DeskState("counter", label="1234-5678", missing=("secret",)))
        service.publish("counter_rejected", reason="forged", source="scan", tag_dropped=True,
                        state=DeskState("counter", label="1234-5678", missing=("secret",)))
        await wait_for(pilot, lambda: pilot.app.screen.verdict.has_class("-grave"), "the refusal")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_wrong_secret(snap_compare, language):
    service = FakeCounterService()
    service.answers["counter_verify"] = CodeInvalid("the secret does not match", 3)

    async def steps(pilot):
        await reads_then_secret(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.verdict.has_class("-refused")
                       and not pilot.app.screen.busy, "the refusal")
    assert snap_compare(snap_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_cash_due(snap_compare, language):
    service = FakeCounterService()
    service.answers["counter_verify"] = CounterTicket("ticket-1", "1234-5678", "secret", "local", 0.0, amount_due=1980)

    async def steps(pilot):
        await reads_then_secret(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.cash_row.display and not pilot.app.screen.busy, "ready")
        pilot.app.screen.cash_box.focus()
        await type_text(pilot, "2000")
        await wait_for(pilot, lambda: pilot.app.screen.change.text, "the change")
    assert snap_compare(snap_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_card_parcel(snap_compare, language):
    async def steps(pilot):
        pilot.app.service.read("label", DeskState("counter", label="1234-5678", missing=("secret",), card=True))
        await wait_for(pilot, lambda: pilot.app.screen.view.state.card, "the card parcel")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_token_parcel(snap_compare, language):
    async def steps(pilot):
        pilot.app.service.read("label", DeskState("counter", label="1234-5678", missing=("secret", "token")))
        await wait_for(pilot, lambda: "token" in pilot.app.screen.view.state.missing, "the token parcel")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_snapshot_finger_parcel(snap_compare, language):
    async def steps(pilot):
        pilot.app.service.read("label", DeskState("counter", label="1234-5678", missing=("secret",), finger=True))
        await wait_for(pilot, lambda: pilot.app.screen.view.state.finger, "the fingerprint parcel")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language(language, steps))


def test_snapshot_handed_over(snap_compare):
    async def steps(pilot):
        await reads_then_secret(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.confirm.display and not pilot.app.screen.busy, "ready")
        await pilot.click(".counter-confirm")
        await wait_for(pilot, lambda: pilot.app.screen.verdict.has_class("-done"), "done")
    assert snap_compare(snap_app(FakeCounterService()), terminal_size=SIZE, run_before=in_language("en", steps))
