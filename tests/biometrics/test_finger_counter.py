"""F5 at the counter through the real controller and the counter screen: the label, the
recipient's finger on the desk's sensor (the real R30x driver over a pty), the clerk's
confirmation; another finger is a failed attempt, no finger none."""

from __future__ import annotations

import pytest

from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, FingerProblem, SeeStaff
from kiosk.ui.counter.app import CounterApp
from kiosk.ui.counter.texts import EN
from kiosk.ui.widgets import Words
from tests.biometrics.test_finger_pickup import clock, store  # noqa: F401 — fixtures
from tests.sync.conftest import LINK
from tests.ui.conftest import SIZE, wait_for
from hwsim.biometrics.fingers import finger_of
from hwsim.site import start_site

pytestmark = pytest.mark.slow
SITE = "sim-site"


@pytest.fixture
async def desk(tmp_path, clock, store):  # noqa: F811 — the fixtures
    site = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio", doors=2,
                            biometric="sim+r30x://?finger_wait_ms=300")
    c = site.controller
    try:
        made = store.create_parcel(SITE, "biometric")
        await c.pull_manifest()
        await c.counter_receive("clerk-1", made.trade_number)
        yield c, made.trade_number, finger_of(made.template)
    finally:
        await c.stop()


async def test_the_finger_at_the_counter(desk):
    c, trade, finger = desk
    sensor = c.fingerprint.sim
    state = await c.counter_present(trade.encode())
    assert state.finger and not state.card
    sensor.lift()
    with pytest.raises(FingerProblem):
        await c.counter_verify_finger()
    sensor.place(finger + 1)
    with pytest.raises(CodeInvalid):
        await c.counter_verify_finger()
    assert c.site.db.parcel(trade).failed_attempts == 1
    with pytest.raises(SeeStaff):                        # a typed secret is no way round the finger
        await c.counter_verify("123456")
    sensor.place(finger)
    ticket = await c.counter_verify_finger()
    assert ticket.method == "biometric" and ticket.checked == "local"
    assert await c.counter_confirm("clerk-1", ticket.ticket) == trade
    assert c.site.db.parcel(trade).state == ParcelState.COLLECTED
    assert sensor.buffers == {1: bytes(512), 2: bytes(512)}
    [verified] = c.site.db.audit_entries("recipient_verified")[-1:]
    assert verified["detail"]["method"] == "biometric" and verified["detail"]["score"] >= 50


async def test_the_counter_screen_checks_the_finger(desk):
    c, trade, finger = desk
    sensor = c.fingerprint.sim
    app = CounterApp(c, "clerk-1")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await c.counter_present(trade.encode())                     # the desk's scanner reads the label
        await verdict(pilot, EN.step_finger)
        assert screen.secret_label.text == EN.finger
        sensor.place(finger + 1)
        await pilot.click(".counter-check")
        await verdict(pilot, EN.finger_wrong.format(n=4))           # another finger costs a try
        sensor.place(finger)
        screen.secret_box.focus()
        await pilot.press("enter")                                  # Enter checks the finger too
        await verdict(pilot, f"Hand over parcel {trade}")
        await pilot.click(".counter-confirm")
        await verdict(pilot, "handed over")
    assert c.site.db.parcel(trade).state == ParcelState.COLLECTED


def words(screen) -> str:
    return " ".join(str(w.text) for w in screen.query(Words) if w.display)


async def verdict(pilot, what: str) -> None:
    screen = pilot.app.screen
    try:
        await wait_for(pilot, lambda: not screen.busy and what in words(screen), repr(what))
    except AssertionError:
        raise AssertionError(f"{what!r} not in {words(screen)!r}") from None
