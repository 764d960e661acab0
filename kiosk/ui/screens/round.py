"""The courier's collection round (issue 15 §4): with one sign-in, every door holding a
parcel to send or an expired one, emptied one by one — "Open the next door", take the
parcel, shut the door; each door's own evidence makes its parcel returned (kioskd's
``parcel_returned``). A door shut on its parcel leaves it where it was, said so.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from kiosk.errors import CodeInvalid, KioskError
from kiosk.service.dto import RoundItem
from kiosk.ui.events import ServiceEvent
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.texts import Say
from kiosk.ui.widgets import SayButton, TopBar, Words

WHY: dict[str, Say] = {"send": lambda t: t.round_why_send, "expired": lambda t: t.round_why_expired}


def mark(state: bool | None) -> str:
    """Taken, left inside, or still to do."""
    return "✓" if state else "•" if state is None else "✗"


class RoundScreen(KioskScreen):
    AUTO_FOCUS = ".round-next"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.items: list[RoundItem] = []
        self.done: dict[int, bool] = {}        # locker -> taken (True) or left inside (False)
        self.open_door: int | None = None
        self.loaded = False

    def idle_after(self) -> float | None:
        return None if self.open_door is not None else self.kiosk.inactivity_s

    def compose_main(self) -> ComposeResult:
        yield TopBar(lambda t: t.round_title)
        with Vertical(classes="end-body"):
            self.headline = Words(classes="end-headline")
            yield self.headline
            self.listing = Words(classes="end-text round-list")
            yield self.listing
            with Horizontal(classes="end-buttons"):
                self.next_button = SayButton(lambda t: t.round_open_next, variant="primary",
                                             classes="end-button round-next")
                yield self.next_button
                yield SayButton(lambda t: t.finish, classes="end-button", action="app.go_idle")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="round")
    async def _load(self) -> None:
        try:
            self.items = list(await self.kiosk.service.collection_round(self.token))
        except CodeInvalid:
            self.headline.say(lambda t: t.courier_session_over)
            return
        self.loaded = True
        self.show()

    def waiting(self) -> list[RoundItem]:
        return [i for i in self.items if i.locker not in self.done]

    def show(self) -> None:
        rest, taken = self.waiting(), sum(self.done.values())
        if self.open_door is not None:
            n = self.open_door
            self.headline.say(lambda t: t.round_door_open.format(n=n))
        elif not rest:
            self.headline.say(lambda t: t.round_done.format(k=taken) if self.items else t.round_empty)
        else:
            count = len(rest)
            self.headline.say(lambda t: t.round_to_do.format(k=count))
        rows = [(item.locker, WHY.get(item.why, WHY["expired"]), self.done.get(item.locker)) for item in self.items]
        self.listing.say(lambda t: "\n".join(f"{mark(state)} {t.door} {n}: {why(t)}" for n, why, state in rows))
        self.next_button.display = bool(rest) and self.open_door is None

    @on(Button.Pressed, ".round-next")
    def _next(self, event: Button.Pressed) -> None:
        event.stop()
        rest = self.waiting()
        if rest and self.open_door is None:
            self._open(rest[0].locker)

    @work(group="round-open")
    async def _open(self, locker: int) -> None:
        try:
            await self.kiosk.service.open_for_round(self.token, locker)
        except KioskError as err:
            self.done[locker] = False
            why = str(err)
            self.headline.say(lambda t: t.round_not_opened.format(n=locker, why=why))
            return
        self.open_door = locker
        self.show()

    def on_service_event(self, message: ServiceEvent) -> None:
        event = message.event
        n = self.open_door
        if n is None or event.data.get("locker") != n:
            return
        if event.kind == "parcel_returned":
            self.done[n], self.open_door = True, None
        elif event.kind in ("pickup_not_taken", "locker_fault"):
            self.done[n], self.open_door = False, None
        else:
            return
        self.show()
