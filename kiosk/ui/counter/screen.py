"""The counter screen: what the desk has read, the recipient's secret, and the verdict.

    ┌ Counter · parcel hand-over ─────────────────── [日本語] [Next customer] ┐
    │ Read at this desk   Tag ✓ F2 tag · Label ✓ 1234-5678 · Phone code —    │ keypad │
    │ next step / the secret field (masked) / the label typed by hand        │        │
    │ ██ Hand over parcel 1234-5678 ██  [Confirm hand-over]   or   why not   │        │

Input: the desk's scanner reads arrive as ``counter_read`` / ``counter_rejected`` events,
each with the desk's state after it. A keyboard-wedge scanner (or the clerk) types into
whichever field has the focus; Enter sends the line with the name of its field to
``counter_enter``, and the controller decides what it is (a tag or a phone code whatever
the field, else a label or the secret to check). Commands run one at a time, in the
order they were asked for.

Secrets: the secret field is emptied the moment Enter is pressed, and on leaving; its
value is never logged or put in a message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from kiosk.errors import KioskError, NotAllowed, PaymentDue
from kiosk.service.api import CounterField
from kiosk.ui.counter.desk import DeskView
from kiosk.ui.counter.explain import counter_problem, rejected
from kiosk.service.api import CounterRead, CounterRejected
from kiosk.ui.events import ServiceEvent
from kiosk.ui.explain import money
from kiosk.ui.counter.texts import Say
from kiosk.ui.widgets import Keypad, SayButton, TopBar, Words

if TYPE_CHECKING:
    from kiosk.ui.counter.app import CounterApp

log = logging.getLogger(__name__)

SECRET_CHARS = r"[0-9A-Za-z/]*"          # a secret, or a wedge typing a tag or an S/ code
LABEL_CHARS = r"[0-9A-Za-z -]*"
MAX_LINE = 1024                          # as long as the longest tag a scanner may type


class CounterScreen(Screen):
    AUTO_FOCUS = "#secret"
    BINDINGS = [Binding("f6", "collect_card", "Take back a used card", show=False)]

    def __init__(self, desk: str = "counter") -> None:
        super().__init__()
        self.view = DeskView(desk)
        self.busy = 0                    # commands under way
        self.note: Say | None = None     # the last card taken back, until the next command
        self.customer = 0                # counts "next customer"s: older answers are dropped
        self._lock = asyncio.Lock()      # one command at a time, in order
        self._offered: str | None = None # the verification whose Confirm (or cash) got the focus

    @property
    def counter(self) -> "CounterApp":
        return cast("CounterApp", self.app)

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(classes="kiosk-frame"):
            with Vertical(classes="kiosk-main"):
                yield TopBar(lambda t: t.title, language=True, cancel=lambda t: t.next_customer)
                with Horizontal(classes="counter-body"):
                    with Vertical(classes="counter-left"):
                        yield from self._compose_reads()
                        self.step = Words(classes="counter-step")
                        yield self.step
                        self.secret_label = Words(lambda t: t.secret, classes="field-label -active counter-secret-label")
                        yield self.secret_label
                        with Horizontal(classes="counter-secret-row"):
                            self.secret_box = Input(password=True, restrict=SECRET_CHARS, max_length=MAX_LINE,
                                                    select_on_focus=False, id="secret", classes="code-input")
                            yield self.secret_box
                            yield SayButton(lambda t: t.check, variant="primary", action="screen.check",
                                            classes="counter-check")
                        self.secret_hint = Words(lambda t: t.secret_hint, classes="hint form-hint")
                        yield self.secret_hint
                        with Vertical(classes="counter-verdict") as self.verdict:
                            self.headline = Words(classes="counter-headline")
                            self.detail = Words(classes="counter-detail")
                            self.confirm = SayButton(lambda t: t.confirm, variant="success", action="screen.confirm",
                                                     classes="counter-confirm")
                            yield self.headline
                            yield self.detail
                            with Horizontal(classes="counter-cash-row") as self.cash_row:
                                yield Words(lambda t: t.cash_received, classes="field-label -active")
                                self.cash_box = Input(restrict=r"[0-9]*", max_length=9, select_on_focus=False,
                                                      id="cash", classes="code-input counter-cash")
                                yield self.cash_box
                                self.change = Words(classes="counter-change")
                                yield self.change
                            yield self.confirm
                        self.status = Words(classes="form-status")
                        yield self.status
                    with Vertical(classes="counter-right"):
                        self.keypad = Keypad()
                        yield self.keypad
                        yield Words(lambda t: t.label_field, classes="field-label")
                        self.label_box = Input(restrict=LABEL_CHARS, max_length=MAX_LINE,
                                               select_on_focus=False, id="label", classes="code-input counter-label")
                        yield self.label_box
                        if self.counter.reads_cards:
                            yield SayButton(lambda t: t.collect_card, action="screen.collect_card",
                                            classes="counter-collect-card")
                        if self.counter.clerk_service is not None:
                            yield SayButton(lambda t: t.site_button, action="app.parcels_and_lockers",
                                            classes="counter-collect-card counter-site")
                            yield SayButton(lambda t: t.take_in_button, action="app.take_in",
                                            classes="counter-collect-card counter-take-in")
            panel = self.counter.make_side_panel()
            if panel is not None:
                panel.add_class("kiosk-side-panel")
                yield panel

    def _compose_reads(self) -> ComposeResult:
        yield Words(lambda t: t.read_heading, classes="counter-reads-heading")
        self.read_values: dict[str, Words] = {}
        self.read_rows: dict[str, Horizontal] = {}
        for key, name in (("tag", lambda t: t.tag), ("label", lambda t: t.label),
                          ("phone", lambda t: t.phone_code), ("token", lambda t: t.token)):
            with Horizontal(classes="counter-read") as row:
                yield Words(name, classes="counter-read-name")
                self.read_values[key] = Words(classes="counter-read-value")
                yield self.read_values[key]
            self.read_rows[key] = row

    def on_mount(self) -> None:
        self.show()

    def on_unmount(self) -> None:
        self.secret_box.clear()

    # --- showing the desk ------------------------------------------------------------------

    def show(self) -> None:
        view = self.view
        for key, say, have in (("tag", view.tag_line(), view.tag_method), ("label", view.label_line(), view.label),
                               ("phone", view.phone_line(), view.phone_code),
                               ("token", view.token_line(), view.token)):
            self.read_values[key].say(say)
            self.read_values[key].set_class(bool(have), "-read")
        self.read_rows["token"].display = view.token or "token" in view.state.missing   # only for F4 parcels
        self.step.say(None if view.verified or (view.refusal and view.refusal.grave) else view.next_step())
        self.secret_label.say((lambda t: t.card_pin) if view.state.card else (lambda t: t.finger) if view.state.finger
                              else (lambda t: t.secret))
        self.secret_hint.say((lambda t: t.finger_hint) if view.state.finger else (lambda t: t.secret_hint))
        self.secret_box.restrict = r"^$" if view.state.finger else SECRET_CHARS   # a finger: nothing to type
        self.step.display = bool(self.step.phrase)
        self.verdict.remove_class("-ready", "-refused", "-grave", "-done")
        self.confirm.display = False
        self.cash_row.display = False
        if view.verified is not None:
            trade, due = view.verified.trade_number, view.verified.amount_due
            self.verdict.add_class("-ready")
            self.headline.say(lambda t: t.hand_over.format(trade=trade))
            self.detail.say((lambda t: t.take_cash.format(amount=money(due))) if due else (lambda t: t.hand_over_hint))
            self.cash_row.display = bool(due)
            self.change.say(view.cash_line(self.cash_box.value))
            self.confirm.display = True
        elif view.refusal is not None:
            refusal = view.refusal
            self.verdict.add_class("-grave" if refusal.grave else "-refused")
            self.headline.say((lambda t: t.do_not_hand_over) if refusal.grave else None)
            self.headline.display = refusal.grave
            self.detail.say(refusal.say)
        elif view.done is not None:
            done = view.done
            self.verdict.add_class("-done")
            self.headline.say(lambda t: t.handed_over.format(trade=done))
            self.detail.say(None)
        else:
            self.headline.say(None)
            self.detail.say(None)
        self.headline.display = bool(self.headline.phrase)
        self.detail.display = bool(self.detail.phrase)
        self.verdict.display = bool(self.headline.phrase or self.detail.phrase)
        self.status.say((lambda t: t.checking) if self.busy else self.note)
        if self.is_attached and view.verified is not None and view.verified.ticket != self._offered:
            # Keyboard alone: a new verification puts the focus on what comes next, Enter on
            # Confirm (or the cash received). A scan meanwhile still goes to the secret field.
            self._offered = view.verified.ticket
            (self.cash_box if view.verified.amount_due else self.confirm).focus()
        if self.is_attached and (self.focused is None or not self.focused.display):
            self.secret_box.focus()      # a wedge scanner types wherever the focus is: keep it in a field

    # --- events from the desk's scanner --------------------------------------------------------

    def on_service_event(self, message: ServiceEvent) -> None:
        event = message.event
        if event.data.get("desk") != self.counter.desk:
            return
        if isinstance(event, CounterRead):
            self.view.apply_read(event.state)
        elif isinstance(event, CounterRejected):
            # A typed line's refusal is also raised to the command that sent it (which
            # has the detail: tries left, seconds to wait): here only the desk's state.
            self.view.apply_rejection(rejected(event.reason) if event.source == "scan" else None, event.state)
        else:
            return
        self.show()

    # --- input ---------------------------------------------------------------------------------

    def _active_box(self) -> Input:
        if self.focused is self.cash_box:
            return self.cash_box
        return self.label_box if self.focused is self.label_box else self.secret_box

    @on(Input.Changed, "#cash")
    def _cash_typed(self) -> None:
        self.change.say(self.view.cash_line(self.cash_box.value))

    @on(Keypad.Pressed)
    def _keypad_pressed(self, event: Keypad.Pressed) -> None:
        Keypad.apply(event.key, self._active_box())

    @on(Keypad.Submitted)
    def _keypad_ok(self) -> None:
        if self._active_box() is self.cash_box:
            self.action_confirm()
        else:
            self.submit(self._active_box())

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input is self.cash_box:
            self.action_confirm()
        else:
            self.submit(event.input)

    def on_key(self, event: events.Key) -> None:
        # A wedge scanner types wherever the focus is: with no field focused, its keys go
        # to the secret field (which treats a tag or a phone code as a scan).
        if isinstance(self.focused, Input):
            return
        if event.key == "enter" and self.secret_box.value:
            event.stop()
            self.submit(self.secret_box)
        elif event.is_printable and event.character:
            event.stop()
            self.secret_box.focus()
            self.secret_box.insert_text_at_cursor(event.character)

    def action_check(self) -> None:
        self.submit(self.secret_box)

    def action_confirm(self) -> None:
        if self.view.verified is not None:
            self._run("confirm", self.view.verified.ticket, cash=self.cash_box.value)

    def action_collect_card(self) -> None:
        """A used parcel card in the desk's reader goes back to the store."""
        if self.counter.reads_cards:
            self._run("collect_card", "")

    def next_customer(self) -> None:
        """Forget this customer, at once: the desk and the view. An answer still on its way
        for this customer is dropped when it comes (``customer`` has moved on)."""
        self.secret_box.clear()
        self.label_box.clear()
        self.cash_box.clear()
        self.customer += 1
        self.view.reset()
        self.show()
        self._cancel()

    @work(group="counter-cancel")
    async def _cancel(self) -> None:
        try:
            await self.counter.service.counter_cancel(desk=self.counter.desk)
        except KioskError:
            log.exception("counter: cancel failed")

    def submit(self, box: Input) -> None:
        """Enter (or OK) in ``box``: the controller decides what the line is."""
        text = box.value.strip()
        box.clear()      # at once: a secret must not stay in the field while it is checked
        field: CounterField = "label" if box is self.label_box else "secret"
        if field == "label" and not text:
            return       # an empty label field: nothing to send
        if field == "secret" and self.view.state.card and not self.view.verified and text:
            self._run("verify_card", text)   # an IC-card parcel: the card checks the PIN
            return
        if field == "secret" and self.view.state.finger and not self.view.verified:
            self._run("verify_finger", "")   # a fingerprint parcel: nothing typed, the finger is checked
            return
        self._run("enter", text, field)

    # --- commands ----------------------------------------------------------------------------

    @work(group="counter-commands")   # never exclusive: cancelling a sent command would lose its answer
    async def _run(self, command: str, value: str, field: CounterField = "secret", cash: str = "") -> None:
        self.busy += 1
        self.note = None
        self.show()
        customer = self.customer
        try:
            async with self._lock:
                if customer == self.customer:
                    await self._command(command, value, field, customer, cash)
        except KioskError as err:
            if customer != self.customer:
                return
            if isinstance(err, NotAllowed):
                self.counter.signed_out()
                return
            if command == "confirm" and isinstance(err, PaymentDue) and self.view.verified is not None:
                # Still verified (the ticket stands): the clerk takes the rest and confirms again.
                self.change.say(self.view.cash_line(cash) or counter_problem(err, self.view.label).say)
                self.cash_box.focus()
                return
            self.view.apply_rejection(counter_problem(err, self.view.label))
        except Exception:
            # Never the value: it may be a secret.
            log.exception("counter: %s failed", command)
            self.view.apply_rejection(counter_problem(KioskError()))
        finally:
            self.busy -= 1
            if self.is_attached:
                self.show()

    async def _command(self, command: str, value: str, field: CounterField, customer: int, cash: str = "") -> None:
        service, desk = self.counter.service, self.counter.desk
        if command == "enter":
            answer = await service.counter_enter(value, field=field, desk=desk)
            if customer != self.customer:
                return
            if answer.ticket is not None:
                self.cash_box.clear()
                self.view.apply_verified(answer.ticket.ticket, answer.ticket.trade_number, answer.state,
                                         answer.ticket.amount_due)
            else:
                self.view.apply_read(answer.state)
        elif command == "collect_card":
            card = await service.counter_collect_card(self.counter.clerk_id)
            ident, trade = card.card_id, card.trade_number
            self.note = ((lambda t: t.card_collected.format(card=ident, trade=trade)) if trade
                         else (lambda t: t.card_collected_blank.format(card=ident)))
        elif command in ("verify_card", "verify_finger"):
            ticket = await (service.counter_verify_card(value, desk=desk) if command == "verify_card"
                            else service.counter_verify_finger(desk=desk))
            if customer != self.customer:
                return
            self.cash_box.clear()
            self.view.apply_verified(ticket.ticket, ticket.trade_number, None, ticket.amount_due)
        elif command == "confirm":
            trade = await service.counter_confirm(self.counter.clerk_id, value, desk=desk,
                                                  cash_received=int(cash) if cash.isdigit() else None)
            self.cash_box.clear()
            self.view.apply_done(trade)
