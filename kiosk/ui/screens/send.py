"""Sending a parcel from the kiosk (issue 15 §4): the trade number and the drop-off code the
store gave the sender; a free door of the right size opens (``drop_off``); the parcel put
in and the door shut is its arrival, and a courier takes it from there."""

from __future__ import annotations

from textual.message import Message

from kiosk.errors import CodeInvalid, KioskError, SlowDown
from kiosk.service.api import DoorOpening
from kiosk.ui.explain import send_problem
from kiosk.ui.screens.entry import MIN_TRADE_NUMBER
from kiosk.ui.screens.form import SECRET_CHARS, CodeFormScreen, Field

TO_SEND = Field(label=lambda t: t.trade_number, prompt=lambda t: t.send_prompt, hint=lambda t: t.send_hint)
DROPOFF_CODE = Field(label=lambda t: t.dropoff_code, prompt=lambda t: t.dropoff_code_prompt,
                     hint=lambda t: t.secret_hint, secret=True, restrict=SECRET_CHARS, max_length=64)


class SendEntryScreen(CodeFormScreen):
    FORM_TITLE = "send_title"
    FIELDS = (TO_SEND, DROPOFF_CODE)

    class DoorOpened(Message):
        """A door opened for the parcel to send; its events follow ``since``."""

        def __init__(self, started: DoorOpening, since: int) -> None:
            super().__init__()
            self.started = started
            self.since = since

    async def field_done(self, index: int, value: str) -> None:
        if index == 0:
            if len(value) < MIN_TRADE_NUMBER:
                self.fail(lambda t: t.trade_number_too_short, 0)
                return
            self.go_to(1)
            return
        since = self.kiosk.events.seq
        try:
            started = await self.service.drop_off(self.value(0), value)
        except SlowDown as err:
            self.wait_out(err.retry_after, 1)
            return
        except CodeInvalid as err:
            self.fail(send_problem(err, self.value(0).upper()), 1, clear=(1,))
            return
        except KioskError as err:
            self.fail(send_problem(err, self.value(0).upper()), 0, clear=(1,))
            return
        self.post_message(self.DoorOpened(started, since))
