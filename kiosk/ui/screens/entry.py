"""Collecting a parcel: the trade number, then the secret code (or the parcel card's PIN,
or a finger on the sensor: the trade number tells the screen which).

The trade number is checked with the service as soon as it is entered
(``check_trade_number``), so a parcel that is locked out, must be paid for at the counter
or cannot be collected here says so before anyone types a secret. Each refusal from the service gets its own words (``kiosk.ui.explain``) and puts the
person back where they can fix it: a wrong secret or a "slow down" on the secret field
(trade number kept), an unknown number on the trade number field (kept, to correct),
anything that needs staff on an empty form.
"""

from __future__ import annotations

from textual.message import Message

from kiosk.errors import CardProblem, CodeInvalid, FingerProblem, KioskError, PaymentDue, SlowDown, UnknownParcel
from kiosk.service.api import DoorOpening, PaymentSession
from kiosk.ui.explain import card_problem, finger_problem, money, pickup_problem
from kiosk.ui.screens.form import SECRET_CHARS, CodeFormScreen, Field
from kiosk.ui.texts import Say
from kiosk.ui.widgets import SayButton

TRADE_NUMBER = Field(label=lambda t: t.trade_number, prompt=lambda t: t.trade_number_prompt,
                     hint=lambda t: t.trade_number_hint)
SECRET = Field(label=lambda t: t.secret, prompt=lambda t: t.secret_prompt, hint=lambda t: t.secret_hint,
               secret=True, restrict=SECRET_CHARS, max_length=64)
MIN_TRADE_NUMBER = 4
CARD_METHOD = "ic_card"
FINGER_METHOD = "biometric"
NOTHING = r"^$"   # what a field accepts when there is nothing to type


class PickupEntryScreen(CodeFormScreen):
    """Trade number and secret; on success the locker door is unlocked."""

    FORM_TITLE = "pickup_title"

    FIELDS = (TRADE_NUMBER, SECRET)

    class DoorOpened(Message):
        """The service accepted the code and unlocked ``started.locker``. Events about it
        are those numbered after ``since`` in the app's event feed."""

        def __init__(self, started: DoorOpening, since: int, *, card: bool = False) -> None:
            super().__init__()
            self.started = started
            self.since = since
            self.card = card      # opened with a parcel card: the door screen reminds to take it

    class HoldExtended(Message):
        """The secret was right and the parcel is kept until ``deadline`` (Unix seconds)."""

        def __init__(self, trade_number: str, deadline: float) -> None:
            super().__init__()
            self.trade_number = trade_number
            self.deadline = deadline

    class PaymentStarted(Message):
        """The secret was right and money is due: a payment is open at the payment slot."""

        def __init__(self, session: PaymentSession, since: int) -> None:
            super().__init__()
            self.session = session
            self.since = since

    def __init__(self, *, typed: str = "", problem: Say | None = None, wait_s: float | None = None) -> None:
        """``typed``: a first character already typed; ``problem``: what went wrong before
        this screen (a phone code refused at the idle screen); ``wait_s``: that was the
        site's slow-down, for that many seconds (counted down)."""
        super().__init__(typed=typed, problem=problem)
        self._wait_s = wait_s
        self.card = False       # the parcel opens with its IC card and PIN (F3), not a secret
        self.finger = False     # the parcel opens with a fingerprint (F5): nothing to type
        self.due = 0            # money due, paid here at the payment slot after the secret
        self.extending = False  # the secret was sent to keep the parcel longer, not to open

    def on_mount(self) -> None:
        if self._wait_s is not None:
            self.wait_out(self._wait_s, self.active)

    def scan_refused(self, phrase: Say, *, wait_s: float | None = None) -> None:
        """A phone code held to the camera was refused: say why, keep what is typed.
        ``wait_s``: the site is slowed down for that long (counted down)."""
        if wait_s is not None:
            self.wait_out(wait_s, self.active)
        else:
            self.problem.say(phrase)
            self.kiosk.announce(phrase)

    async def field_done(self, index: int, value: str) -> None:
        trade_number = self.value(0)
        if len(trade_number) < MIN_TRADE_NUMBER:
            self.fail(lambda t: t.trade_number_too_short, 0)
            return
        if index == 0:
            self.due = 0
            try:
                method = await self.service.check_trade_number(trade_number)
            except PaymentDue as err:
                if not self.kiosk.pays_cash:     # no payment slot here: the counter takes it
                    self._refused_with(err, trade_number, at=0)
                    return
                self.due, method = err.amount_due, ""      # paid here, after the secret
            except KioskError as err:
                self._refused_with(err, trade_number, at=0)
                return
            self.card, self.finger = method == CARD_METHOD, method == FINGER_METHOD
            self.go_to(1)
            return
        if self.finger:
            await self._finger(trade_number)
            return
        if not value:
            self.fail(lambda t: t.secret_empty, 1)
            return
        if self.extending:
            self.extending = False
            try:
                deadline = await self.service.extend_hold(trade_number, value)
            except KioskError as err:
                self._refused_with(err, trade_number, at=1)
                return
            self.post_message(self.HoldExtended(trade_number.upper(), deadline))
            return
        since = self.kiosk.events.seq
        if self.due:
            try:
                session = await self.service.pay_at_locker(trade_number, value)
            except KioskError as err:
                self._refused_with(err, trade_number, at=1)
                return
            self.post_message(self.PaymentStarted(session, since))
            return
        try:
            if self.card:
                started = await self.service.submit_card(trade_number, value)
            else:
                started = await self.service.submit_code(trade_number, value)
        except KioskError as err:
            self._refused_with(err, trade_number, at=1)
            return
        self.post_message(self.DoorOpened(started, since, card=self.card))

    def compose_extra(self):
        self.keep_longer = SayButton(lambda t: t.keep_longer, action="screen.keep_longer", classes="entry-keep-longer")
        self.keep_longer.display = False
        yield self.keep_longer

    def action_keep_longer(self) -> None:
        """The second way to finish step 2: the secret keeps the parcel longer instead."""
        if self.active == 1 and not self.busy:
            self.extending = True
            self.submit()

    async def _finger(self, trade_number: str) -> None:
        since = self.kiosk.events.seq
        try:
            started = await self.service.submit_finger(trade_number)
        except KioskError as err:
            self._refused_with(err, trade_number, at=1)
            return
        self.post_message(self.DoorOpened(started, since))

    def go_to(self, index: int) -> None:
        super().go_to(index)
        if index == 1 and self.due:
            amount = money(self.due)
            self.prompt.say(lambda t: t.pay_prompt.format(amount=amount))
        if index == 1:   # an IC-card parcel: the card's PIN; a biometric one: the finger (their words only)
            self._labels[1].say((lambda t: t.card_pin) if self.card else (lambda t: t.finger) if self.finger
                                else SECRET.label)
            if self.card:
                self.prompt.say(lambda t: t.card_prompt)
                self.hint.say(lambda t: t.card_hint)
            elif self.finger:
                self.prompt.say(lambda t: t.finger_prompt)
                self.hint.say(lambda t: t.finger_hint)
            self.inputs[1].restrict = NOTHING if self.finger else SECRET.restrict   # a finger: nothing to type
        # Keeping a parcel longer takes its secret: offered for plain-secret parcels at step 2.
        self.keep_longer.display = (index == 1 and not (self.card or self.finger or self.due)
                                    and not self.has_class("-short"))   # 80x24: no room; the counter can

    def _refused_with(self, err: KioskError, trade_number: str, *, at: int) -> None:
        """Say why, and go back to where it can be fixed: a wrong secret or a "slow down" to
        the field being filled (``at``), an unknown number to the number (kept, to correct),
        anything that needs staff to an empty form."""
        if isinstance(err, SlowDown):
            self.wait_out(err.retry_after, at)
            return
        explain = card_problem if self.card else finger_problem if self.finger else pickup_problem
        phrase = explain(err, trade_number.upper())
        again = (isinstance(err, CardProblem) and err.reason == "removed"
                 or isinstance(err, FingerProblem) and err.reason in ("no_finger", "poor_image"))
        if isinstance(err, CodeInvalid) or again:
            self.fail(phrase, at)
        elif isinstance(err, UnknownParcel):
            self.fail(phrase, 0)
        else:
            self.fail(phrase, 0, clear=(0,))
