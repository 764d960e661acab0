"""Paying at the locker: the amount due, counted up live as coins and notes go in.

The screen shows what the controller's ``payment`` events say (kiosk.service.payment):
the amount to pay, what was inserted, what is still to pay, a note being checked, the
change being paid. The door opens when the controller says so (``pickup_started`` for this
parcel), never on the screen's own count. Cancel asks the controller to pay everything
back; the end says what was returned, or what the machine could not return and who can.
There is no inactivity timeout while money is in play: the controller's own payment
timeout refunds a payment nobody finishes.
"""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message

from kiosk.errors import KioskError
from kiosk.service.api import PaymentSession
from kiosk.ui.events import ServiceEvent
from kiosk.ui.explain import money
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.texts import Say, with_staff
from kiosk.ui.widgets import TopBar, Words


class PaymentScreen(KioskScreen):
    """``session`` is the open payment; ``since`` where its events start in the app's feed."""

    BINDINGS = [Binding("escape", "cancel", show=False)]

    class DoorOpening(Message):
        """Paid: the controller unlocked ``locker`` for the parcel."""

        def __init__(self, trade_number: str, locker: int, since: int) -> None:
            super().__init__()
            self.trade_number, self.locker, self.since = trade_number, locker, since

    class Ended(Message):
        """The payment ended without a door (cancelled or timed out): what to say."""

        def __init__(self, headline: Say, text: Say) -> None:
            super().__init__()
            self.headline, self.text = headline, text

    def __init__(self, session: PaymentSession, since: int) -> None:
        super().__init__()
        self.session = session
        self.since = since
        self.state = session.state
        self.credited = session.credited
        self._seen: set[int] = set()
        self._done = False

    def idle_after(self) -> float | None:
        return None   # money in play: the controller's payment timeout decides

    def compose_main(self) -> ComposeResult:
        due = self.session.amount_due
        yield TopBar(lambda t: t.pay_title, cancel=lambda t: t.cancel, cancel_action="screen.cancel")
        with Vertical(classes="pay-body"):
            yield Words(lambda t: t.to_pay.format(amount=money(due)), classes="pay-due")
            self.inserted = Words(classes="pay-inserted")
            self.remaining = Words(classes="pay-remaining")
            self.doing = Words(lambda t: t.insert_money, classes="pay-doing")
            yield self.inserted
            yield self.remaining
            yield self.doing
            if self.session.accepts:
                values = " ".join(money(v) for v in self.session.accepts)
                yield Words(lambda t: t.accepted_money.format(values=values), classes="pay-accepted")

    def on_mount(self) -> None:
        self._show()
        for message in self.kiosk.events.since(self.since):
            self._handle(message)

    def on_service_event(self, message: ServiceEvent) -> None:
        self._handle(message)

    def _handle(self, message: ServiceEvent) -> None:
        if message.seq <= self.since or message.seq in self._seen or self._done:
            return
        self._seen.add(message.seq)
        event, data = message.event, message.event.data
        if event.kind == "payment" and data.get("payment_id") == self.session.payment_id:
            self.state, self.credited = data["state"], data["credited"]
            self._show(escrow=data.get("escrow"), paid_back=data.get("paid_back", 0), owed=data.get("owed", 0))
        elif event.kind == "pickup_started" and data.get("trade_number") == self.session.trade_number:
            self._done = True
            self.post_message(self.DoorOpening(self.session.trade_number, data["locker"], message.seq))

    def _show(self, *, escrow: int | None = None, paid_back: int = 0, owed: int = 0) -> None:
        credited, due = self.credited, self.session.amount_due
        left = max(0, due - credited)
        self.inserted.say(lambda t: t.inserted.format(amount=money(credited)))
        self.remaining.say((lambda t: t.still_to_pay.format(amount=money(left))) if left else None)
        if self.state == "collecting":
            self.doing.say((lambda t: t.checking_note) if escrow else (lambda t: t.insert_money))
        elif self.state == "changing":
            change = credited - due
            self.doing.say(lambda t: t.paying_change.format(amount=money(change)))
        elif self.state == "paid":
            self.doing.say(lambda t: t.paid)
        elif self.state == "refunding":
            self.doing.say(lambda t: t.returning_money)
        elif self.state in ("refunded", "refund_owed"):
            self._done = True
            back = paid_back
            text: Say = lambda t: t.money_returned.format(amount=money(back))  # noqa: E731
            if owed:
                owed_text: Say = with_staff(lambda t: t.money_owed.format(amount=money(owed)))
                text = owed_text if not back else (lambda t: f"{t.money_returned.format(amount=money(back))} "
                                                             f"{owed_text(t)}")
            self.post_message(self.Ended(lambda t: t.payment_cancelled, text))

    def action_cancel(self) -> None:
        if self.state == "collecting":
            self._cancel()

    @work(group="payment-cancel")
    async def _cancel(self) -> None:
        try:
            await self.service.cancel_payment(self.session.payment_id)
        except KioskError:
            pass   # already paid: the door event follows
