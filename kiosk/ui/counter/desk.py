"""What the counter screen shows about the desk: its reads, the verdict, what to do next.

The controller keeps the desk and decides everything about it (kiosk.service.counter):
what a typed line is, which reads it holds, whether a refused tag was dropped. Every
answer and every ``counter_*`` event carries the desk's state (``DeskState``); this view
only keeps the latest one, plus this screen's own verdict — the refusal to show, the
verification waiting for the clerk's confirmation (its ticket), or the last hand-over.
It never holds a secret. ``DeskView`` is plain data, so it can be tested without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.service.api import DeskState
from kiosk.ui.counter.explain import MISMATCH, Refusal
from kiosk.ui.counter.texts import Say
from kiosk.ui.explain import money

TAG_METHODS = {"f1_tag": lambda t: t.method_f1, "f2_tag": lambda t: t.method_f2}


@dataclass
class Verified:
    """A hand-over waiting for the clerk's confirmation (from ``counter_verify``'s ticket)."""

    ticket: str
    trade_number: str
    amount_due: int = 0    # minor units the clerk takes in cash before confirming


@dataclass
class DeskView:
    desk: str = "counter"
    state: DeskState = field(default_factory=lambda: DeskState("counter"))
    verified: Verified | None = None
    refusal: Refusal | None = None
    done: str | None = None            # the trade number handed over last

    def __post_init__(self) -> None:
        if self.state.desk != self.desk:
            self.state = DeskState(self.desk)

    def reset(self) -> None:
        """Next customer: everything forgotten, as the controller's desk is."""
        self.state, self.verified, self.refusal, self.done = DeskState(self.desk), None, None, None

    def apply_read(self, state: DeskState) -> None:
        """An accepted read: a new customer's first read clears the last hand-over, and any
        read voids a verification not yet confirmed (the controller does the same)."""
        self.state, self.verified, self.refusal, self.done = state, None, None, None
        if state.mismatch:
            self.refusal = MISMATCH

    def apply_rejection(self, refusal: Refusal | None, state: DeskState | None = None) -> None:
        """A read or a check was refused: ``refusal`` the words (None: keep what is shown),
        ``state`` the desk after it (a refused tag is no longer held)."""
        self.verified, self.done = None, None
        if refusal is not None:
            self.refusal = refusal
        if state is not None:
            self.state = state

    def apply_verified(self, ticket: str, trade_number: str, state: DeskState | None = None,
                       amount_due: int = 0) -> None:
        self.verified, self.refusal = Verified(ticket, trade_number, amount_due), None
        if state is not None:
            self.state = state

    def apply_done(self, trade_number: str) -> None:
        self.reset()
        self.done = trade_number

    # --- for the screen ---------------------------------------------------------------

    @property
    def tag_method(self) -> str | None:
        return self.state.tag_method

    @property
    def label(self) -> str | None:
        return self.state.label

    @property
    def phone_code(self) -> bool:
        return self.state.phone_code

    @property
    def mismatch(self) -> bool:
        return self.state.mismatch

    @property
    def token(self) -> bool:
        return self.state.token

    @property
    def has_reads(self) -> bool:
        return bool(self.state.tag_method or self.state.label or self.state.phone_code or self.state.token)

    def cash_line(self, typed: str) -> Say | None:
        """The change to give for the cash typed, or how much is missing (None: nothing typed)."""
        due = self.verified.amount_due if self.verified else 0
        if not due or not typed.isdigit():
            return None
        received = int(typed)
        if received < due:
            return lambda t: t.cash_short.format(amount=money(due - received))
        return lambda t: t.change_due.format(amount=money(received - due))

    def next_step(self) -> Say:
        if self.state.tag_method is None and self.state.label is None:
            return lambda t: t.step_scan
        if self.state.label is None:
            return lambda t: t.step_label
        if self.state.phone_code:
            return lambda t: t.step_check_phone
        if self.state.card:
            return lambda t: t.step_card
        if self.state.finger:
            return lambda t: t.step_finger
        if "token" in self.state.missing:
            return lambda t: t.step_token
        return lambda t: t.step_secret

    def tag_line(self) -> Say:
        method = self.state.tag_method
        if method is None:
            return lambda t: t.not_read
        name = TAG_METHODS.get(method, lambda t: method)
        number = self.state.tag_trade_number
        if number:
            return lambda t: t.tag_read_number.format(method=name(t), trade=number)
        return lambda t: t.tag_read.format(method=name(t))

    def label_line(self) -> Say:
        label = self.state.label
        if label is None:
            return lambda t: t.not_read
        return lambda t: t.label_read.format(trade=label)

    def phone_line(self) -> Say:
        return (lambda t: t.phone_code_read) if self.state.phone_code else (lambda t: t.not_read)

    def token_line(self) -> Say:
        return (lambda t: t.token_read) if self.state.token else (lambda t: t.not_read)
