"""The simulator's scanner panel for the counter demo: a hand holding the desk's scanner.

A Textual widget shown beside the counter terminal in ``hwsim demo --screen counter``. It
lists the demo's parcels (trade number, method, the secret the recipient was told) and,
for each, buttons that do what the scanner at the desk would: read the parcel's tag, read
its label's trade number, read the recipient's phone code (``S/`` + secret), or read a
forged tag for it (signed by a key that is not the store's). Each calls
``controller.counter_present(..., source="scan")``, exactly as the controller's own
scanner task does; a refusal is reported by the controller as a ``counter_rejected``
event, which the counter screen shows, so the panel only notes that the read was sent.

It belongs to the simulator, not to the kiosk UI: it makes tags with the store's keys,
which no kiosk screen may ever hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from hwsim import tags as hwtags
from kiosk.errors import KioskError
from kiosk.service.counter import DEFAULT_DESK, SECRET_PREFIX

log = logging.getLogger(__name__)

METHOD_NAMES = {"f1_tag": "F1 tag", "f2_tag": "F2 tag", "secret": "plain secret"}


@dataclass(frozen=True)
class PanelParcel:
    trade_number: str
    secret: str = field(repr=False)
    method: str                       # "f1_tag", "f2_tag" or "secret"
    tag: str | None = None            # the tag's text, for a tagged parcel


class ParcelRow(Vertical):
    """One parcel: what the recipient was told, and the scanner's buttons for it."""

    DEFAULT_CSS = """
    ParcelRow { height: auto; margin-bottom: 1; }
    ParcelRow > .parcel-line { height: 1; text-style: bold; }
    ParcelRow > Horizontal { height: 1; }
    ParcelRow Button { min-width: 7; margin-right: 1; }
    """

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False          # the clerk's cursor stays in the counter screen's field

    def __init__(self, index: int, parcel: PanelParcel) -> None:
        super().__init__()
        self.index = index
        self.parcel = parcel

    def compose(self) -> ComposeResult:
        p, i = self.parcel, self.index
        yield Static(f"{p.trade_number}  {METHOD_NAMES.get(p.method, p.method)}  secret {p.secret}",
                     classes="parcel-line", markup=False)
        with Horizontal():
            if p.tag:
                yield Button("Tag", id=f"scan-tag-{i}", compact=True, classes="scan-tag")
            yield Button("Label", id=f"scan-label-{i}", compact=True, classes="scan-label")
            yield Button("Phone", id=f"scan-phone-{i}", compact=True, classes="scan-phone")
            if p.tag:
                yield Button("Forged", id=f"scan-forged-{i}", compact=True, variant="error", classes="scan-forged")


class CounterPanel(Vertical):
    """The demo parcels and a simulated scanner at ``desk``."""

    DEFAULT_CSS = """
    CounterPanel { width: 48; height: 1fr; background: $surface; padding: 0 1; }
    CounterPanel > .panel-title { text-style: bold; color: $secondary; height: 1; margin-bottom: 1; }
    CounterPanel > .panel-help { color: $text-muted; height: auto; margin-bottom: 1; }
    CounterPanel > .panel-last { color: $text-muted; height: auto; border-top: solid $panel; }
    CounterPanel > VerticalScroll { height: 1fr; }
    """

    def __init__(self, controller, issuer: hwtags.TagIssuer, parcels: list[PanelParcel], *,
                 desk: str = DEFAULT_DESK, notes: str = "") -> None:
        """``controller`` is the site's Controller; ``issuer`` the simulated store that made the tags."""
        super().__init__()
        self.controller = controller
        self.issuer = issuer
        self.parcels = parcels
        self.desk = desk
        self.notes = notes
        self.last = Static("", classes="panel-last", markup=False)

    def compose(self) -> ComposeResult:
        yield Static("Simulated scanner at the counter", classes="panel-title")
        yield Static("Tag, Label: scan the parcel's codes.\nPhone: the recipient's code on a phone.\n"
                     "Forged: a tag the store never made." + (f"\n{self.notes}" if self.notes else ""),
                     classes="panel-help", markup=False)
        with VerticalScroll():
            for i, parcel in enumerate(self.parcels):
                yield ParcelRow(i, parcel)
        yield self.last

    def payload(self, kind: str, parcel: PanelParcel) -> str:
        """What the scanner reads for button ``kind`` ("tag", "label", "phone", "forged")."""
        if kind == "tag":
            return parcel.tag or ""
        if kind == "label":
            return parcel.trade_number
        if kind == "phone":
            return SECRET_PREFIX + parcel.secret
        tagged = hwtags.TagParcel(parcel.trade_number, parcel.secret,
                                  {"trade_number": parcel.trade_number, "method": parcel.method}, parcel.tag or "")
        return hwtags.forged(self.issuer, tagged, "111111")

    @on(Button.Pressed)
    def _scan(self, event: Button.Pressed) -> None:
        event.stop()
        row = next((node for node in event.button.ancestors if isinstance(node, ParcelRow)), None)
        if row is None or not event.button.id:
            return
        kind = event.button.id.split("-")[1]
        self._send(kind, row.parcel)

    @work(group="scanner")
    async def _send(self, kind: str, parcel: PanelParcel) -> None:
        try:
            await self.controller.counter_present(self.payload(kind, parcel).encode(), desk=self.desk, source="scan")
            outcome = "read"
        except KioskError as err:
            outcome = f"refused ({type(err).__name__})"   # the screen shows why, from the event
        self.last.update(f"Last read: {kind} of {parcel.trade_number}: {outcome}")
