"""The recipient screen: the app that a person at the locker bank touches.

This module is the composition root and the map of the flow::

    idle ──collect──► pickup entry ──code accepted──► door open ──closed──► done ──► idle
     │ └──phone code held to the camera, accepted──────────►┘  └──fault──► message ──► idle
     │   (refused: pickup entry, saying why)    (errors shown in place)
     └──courier──► courier entry ──deposit──► door open ──closed──► courier done ──next──┐
                        ▲                          └──fault──┐                          │
                        └────────────────────────────────────┴──────────────────────────┘

Screens post what happened (``PickupEntryScreen.DoorOpened`` ...); the handlers below
choose the next screen. The app also owns the things that outlive a screen: the
service's event stream (read in one worker and handed to the screen showing), the
inactivity timer (reset by any key or touch; each screen says how long it may sit, and
the last ``IDLE_WARNING_S`` are counted down on it), the keys typed while a screen
changes (held and handed on in order: kiosk.ui.type_ahead), the phrases with this
site's staff contact, and the courier's session. It talks to the controller through
``LockerScreenService`` only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.theme import Theme
from textual.timer import Timer
from textual.widget import Widget

from kiosk.service.api import LockerScreenService, ScanRejected, Subscription
from kiosk.errors import KioskError
from kiosk.ui import read_aloud
from kiosk.ui.app_base import CONTRAST_KEY, READ_ALOUD_KEY, SIDE_PANEL_KEY, KioskAppMixin
from kiosk.ui.events import EventFeed, ServiceEvent
from kiosk.ui.explain import scan_problem
from kiosk.ui.screens.payment import PaymentScreen
from kiosk.ui.screens.round import RoundScreen
from kiosk.ui.screens.send import SendEntryScreen
from kiosk.ui.screens import (
    DEPOSIT,
    PICKUP,
    CourierDoneScreen,
    CourierEntryScreen,
    DoneScreen,
    DoorOpenScreen,
    IdleScreen,
    KioskScreen,
    MessageScreen,
    Opening,
    PickupEntryScreen,
)
from kiosk.ui.texts import LANGUAGES, Texts, for_site, with_staff
from kiosk.ui.type_ahead import TypeAhead

log = logging.getLogger(__name__)

DONE_S = 8.0
"""How long "Thank you" stays before the screen returns to the start."""

IDLE_WARNING_S = 10.0
"""How long an untouched screen counts down, saying so, before it goes back to the start
(half the timeout when that is shorter); any key or touch keeps the session."""

# Light text on a dark blue ground, yellow for the main action: high contrast for poor
# sight, and no colour carries meaning alone (every state also has words).
KIOSK_THEME = Theme(
    name="kiosk",
    primary="#FFD23F",
    secondary="#6CB4FF",
    accent="#6CB4FF",
    warning="#FFB020",
    error="#FF5A5A",
    success="#3DDC84",
    foreground="#FFFFFF",
    background="#0E1A26",
    surface="#16283A",
    panel="#213A57",
    dark=True,
)
# High contrast (F7 on every screen): pure black and white with saturated signals, for
# people who see poorly and for screens in sunlight. Text size is the terminal's or the
# browser's (zoom); this is the part a program decides.
HIGH_CONTRAST_THEME = Theme(
    name="kiosk-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#00FFFF",
    warning="#FFFF00",
    error="#FF3030",
    success="#00FF66",
    foreground="#FFFFFF",
    background="#000000",
    surface="#2E2E2E",
    panel="#3A3A3A",
    dark=True,
)


class RecipientApp(KioskAppMixin, App):
    """The recipient kiosk for one ``LockerScreenService`` (in-process: the ``Controller``)."""

    CSS_PATH = "kiosk.tcss"
    TITLE = "Parcel pickup"
    ENABLE_COMMAND_PALETTE = False  # a public kiosk: no command palette
    BINDINGS = [Binding("f2", "toggle_language", "Language", show=False, priority=True),
                Binding(CONTRAST_KEY, "toggle_contrast", "High contrast", show=False, priority=True),
                Binding(SIDE_PANEL_KEY, "toggle_side_panel", "Side panel", show=False, priority=True),
                Binding(READ_ALOUD_KEY, "read_aloud", "Read aloud", show=False, priority=True)]

    language: reactive[str] = reactive("en")
    """The language showing (a code of kiosk.languages: "en", "ja", ...); every ``Words`` follows it."""

    def __init__(self, service: LockerScreenService, *, side_panel: Callable[[], Widget] | None = None,
                 inactivity_s: float | None = None, done_s: float = DONE_S, allow_quit: bool = True,
                 couriers_only: bool = False) -> None:
        """``side_panel`` makes a widget shown beside every screen (the demo's door panel);
        it is called once per screen, as a widget can be mounted in only one place.
        ``inactivity_s`` overrides the site's inactivity timeout. ``allow_quit=False`` turns
        off Ctrl+Q, for a screen in public where a keyboard may be reachable.
        ``couriers_only``: a courier's terminal (at the back of a bank, in a depot): it starts,
        and comes back after each round or inactivity, at the courier code."""
        if side_panel is not None and not callable(side_panel):
            raise TypeError("side_panel must make a new widget when called (e.g. lambda: DoorPanel(site)): "
                            "every screen shows its own, as a widget can be mounted in only one place")
        super().__init__()
        self.service = service
        settings = service.ui_settings()
        self.languages: tuple[str, ...] = tuple(lang for lang in settings.languages if lang in LANGUAGES) or ("en",)
        self.inactivity_s = settings.inactivity_s if inactivity_s is None else inactivity_s
        self.done_s = done_s
        self.allow_quit = allow_quit
        # Offer "hold the code to the camera" only where a code reader is configured.
        self.reads_codes = settings.reads_codes
        self.pays_cash = settings.pays_cash   # money due is paid here (kiosk.ui.screens.payment)
        self.speaks = settings.speaks         # the screens can be read aloud (READ_ALOUD_KEY)
        self.speaking = False                 # asked for: each new screen is read out, until idle
        self._texts = for_site(settings.staff_contact)   # "see staff" names where, in each language
        self._background: set[asyncio.Task] = set()
        self.events = EventFeed()
        self.courier_token: str | None = None
        self.couriers_only = couriers_only
        self._side_panel = side_panel
        self._subscription: Subscription | None = None
        self._idle_timer: Timer | None = None
        self._warning_timer: Timer | None = None
        self.type_ahead = TypeAhead()
        self.set_reactive(RecipientApp.language, self.languages[0])
        self.register_theme(KIOSK_THEME)
        self.register_theme(HIGH_CONTRAST_THEME)
        self.theme = KIOSK_THEME.name

    def texts_for(self, language: str) -> Texts:
        """The phrases every ``Words`` on this app shows (kiosk.ui.widgets.words)."""
        return self._texts[language]

    # --- life cycle ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self._subscription = self.service.subscribe()
        self._pump_events(self._subscription)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        first = self._home()
        self.type_ahead.hold(first)
        self.push_screen(first)

    def on_unmount(self) -> None:
        self._end_courier_session()
        if self._subscription is not None:
            self._subscription.close()

    @work(exclusive=True, group="service-events")
    async def _pump_events(self, subscription: Subscription) -> None:
        async for event in subscription:
            message = self.events.add(event)
            self.screen.post_message(message)
            if event.kind == "service_state":
                self.show_service_state(event.data["in_service"], event.data.get("reason") or "")
            if event.kind in ("pickup_started", "scan_rejected"):
                self._on_scan_outcome(message)

    # --- a recipient's code held to the camera ----------------------------------------------

    def _waiting_screen(self) -> bool:
        """True when no door, command or courier session is showing: the idle and pickup
        screens (unless a typed code is being checked), and the end screens."""
        screen = self.screen
        if isinstance(screen, PickupEntryScreen):
            return not screen.busy
        return isinstance(screen, (IdleScreen, DoneScreen, MessageScreen))

    def _on_scan_outcome(self, message: ServiceEvent) -> None:
        """The controller acted on a phone code (kiosk.service.pickup, ``P/``): show the
        door it opened, or why not. A typed code's door is shown by its own screen."""
        event = message.event
        if not self._waiting_screen():
            log.info("%s from a scan while %s shows: not switching", event.kind, type(self.screen).__name__)
            return
        if event.kind == "pickup_started" and event.data.get("source") == "scan":
            self._end_courier_session()
            self.show(DoorOpenScreen(Opening(PICKUP, event["locker"], event["trade_number"], message.seq)))
        elif event.kind == "scan_rejected" and event.data.get("code") == "recipient":
            assert isinstance(event, ScanRejected)
            phrase = scan_problem(event)
            wait_s = float(event.retry_after or 1) if event.reason == "slow_down" else None
            if isinstance(self.screen, PickupEntryScreen):
                self.screen.scan_refused(phrase, wait_s=wait_s)
            else:
                self.show(PickupEntryScreen(problem=phrase, wait_s=wait_s))

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit" and not self.allow_quit:
            return False
        return super().check_action(action, parameters)

    def action_toggle_language(self) -> None:
        self.language = self.next_language
        if self.speaking:
            self.action_read_aloud()

    def action_read_aloud(self) -> None:
        """The speech key: read this screen aloud in its language, and every screen after it
        until the kiosk goes back to the start."""
        if self.speaks:
            self.speaking = True
            self._speak(read_aloud.screen_words(self.screen), self.language)

    def announce(self, *phrases) -> None:
        """A screen's news (the door is open, a code was refused): said at once when the
        recipient asked for speech, instead of the whole screen again."""
        if self.speaks and self.speaking:
            texts = self.texts_for(self.language)
            self._speak("\n".join(p(texts) for p in phrases if p is not None), self.language)

    @work(exclusive=True, group="speech")
    async def _speak(self, text: str, language: str) -> None:
        try:
            await self.service.speak(text, language)
        except KioskError as err:
            log.warning("read aloud failed: %s", err)

    def action_go_idle(self) -> None:
        """Back to the start with everything cleared: fields, courier session, language.
        Not while the screen waits for the service: its answer (a door opening) must be shown."""
        screen = self.screen
        if isinstance(screen, KioskScreen) and not screen.can_go_idle():
            return
        self._end_courier_session()
        self.speaking = False
        self.language = self.languages[0]
        home = self._home()
        if not isinstance(self.screen, type(home)) or self.couriers_only:
            self.show(home)

    def _home(self) -> KioskScreen:
        """Where every visit starts: the welcome, or a courier terminal's courier code."""
        return CourierEntryScreen(None) if self.couriers_only else IdleScreen()

    def start_pickup(self, typed: str = "") -> None:
        """A new person starts a pickup from an end screen: clear everything, then the form
        with the first character they typed (a courier terminal: its courier code)."""
        if self.couriers_only:
            self.action_go_idle()
            return
        self._end_courier_session()
        self.language = self.languages[0]
        self.show(PickupEntryScreen(typed=typed))

    def show(self, screen: KioskScreen) -> None:
        """Switch to ``screen``; keys typed from now on wait for it (kiosk.ui.type_ahead)."""
        self.type_ahead.hold(screen)
        self.switch_screen(screen)

    # --- the flow ---------------------------------------------------------------------------

    def on_idle_screen_collect_chosen(self, message: IdleScreen.CollectChosen) -> None:
        self.show(PickupEntryScreen(typed=message.typed))

    def on_idle_screen_courier_chosen(self, message: IdleScreen.CourierChosen) -> None:
        self.show(CourierEntryScreen(self.courier_token))

    def on_idle_screen_send_chosen(self, message: IdleScreen.SendChosen) -> None:
        self.show(SendEntryScreen())

    def on_send_entry_screen_door_opened(self, message: SendEntryScreen.DoorOpened) -> None:
        started = message.started
        self.show(DoorOpenScreen(Opening(DEPOSIT, started.locker, started.trade_number, message.since, sender=True)))

    def on_courier_entry_screen_round_chosen(self, message: CourierEntryScreen.RoundChosen) -> None:
        self.show(RoundScreen(message.token))

    def on_pickup_entry_screen_door_opened(self, message: PickupEntryScreen.DoorOpened) -> None:
        started = message.started
        self.show(DoorOpenScreen(Opening(PICKUP, started.locker, started.trade_number, message.since,
                                         card=message.card, others=tuple(o.locker for o in started.others))))

    def on_pickup_entry_screen_hold_extended(self, message: PickupEntryScreen.HoldExtended) -> None:
        until = time.strftime("%Y-%m-%d %H:%M", time.localtime(message.deadline))
        self.show(MessageScreen(lambda t: t.kept_longer, lambda t: t.kept_until.format(date=until),
                                title=lambda t: t.pickup_title, problem=False))

    def on_pickup_entry_screen_payment_started(self, message: PickupEntryScreen.PaymentStarted) -> None:
        self.show(PaymentScreen(message.session, message.since))

    def on_payment_screen_door_opening(self, message: PaymentScreen.DoorOpening) -> None:
        self.show(DoorOpenScreen(Opening(PICKUP, message.locker, message.trade_number, message.since)))

    def on_payment_screen_ended(self, message: PaymentScreen.Ended) -> None:
        self.show(MessageScreen(message.headline, message.text, title=lambda t: t.pay_title))

    def on_courier_entry_screen_logged_in(self, message: CourierEntryScreen.LoggedIn) -> None:
        self.courier_token = message.token

    def on_courier_entry_screen_session_ended(self, message: CourierEntryScreen.SessionEnded) -> None:
        if self.courier_token == message.token:
            self.courier_token = None

    def on_courier_entry_screen_door_opened(self, message: CourierEntryScreen.DoorOpened) -> None:
        started = message.started
        self.show(DoorOpenScreen(Opening(DEPOSIT, started.locker, started.trade_number, message.since)))

    def on_door_open_screen_closed(self, message: DoorOpenScreen.Closed) -> None:
        opening = message.opening
        if opening.kind == PICKUP:
            self.show(DoneScreen(opening.locker))
        elif opening.sender:
            n = opening.locker
            self.show(MessageScreen(lambda t: t.thank_you, lambda t: t.sent_on_its_way.format(n=n),
                                    title=lambda t: t.send_title, problem=False))
        else:
            self.show(CourierDoneScreen(opening.trade_number, opening.locker))

    def on_door_open_screen_failed(self, message: DoorOpenScreen.Failed) -> None:
        n = message.opening.locker
        if message.opening.kind == PICKUP or message.opening.sender:
            self.show(MessageScreen(lambda t: t.door_did_not_open, with_staff(lambda t: t.parcel_is_safe),
                                   title=lambda t: t.pickup_title))
        else:
            self.show(CourierEntryScreen(self.courier_token, problem=lambda t: t.deposit_door_fault.format(n=n)))

    def on_courier_done_screen_next_parcel(self, message: CourierDoneScreen.NextParcel) -> None:
        self.show(CourierEntryScreen(self.courier_token))

    def _end_courier_session(self) -> None:
        if self.courier_token is not None:
            self._in_background(self.service.courier_logout(self.courier_token))
            self.courier_token = None

    def _in_background(self, call: Coroutine[Any, Any, Any]) -> None:
        """Send a command whose answer nobody waits for (a logout), keeping it alive to the end."""
        task = asyncio.get_running_loop().create_task(call)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background command failed: %s", task.exception())

    # --- inactivity -------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # Every key and touch passes here on its way in (and again if it bubbles back up).
        if isinstance(event, (events.Key, events.MouseDown)):
            self.restart_idle_timer()
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._hold_overdue():
                await self._replay(self.type_ahead.release(None) or [])
            if self.type_ahead.holding:
                self.type_ahead.keep(event)
                return
            await self._route_key(event)
            return
        await super().on_event(event)

    # --- keys, in the order typed (kiosk.ui.type_ahead) ------------------------------------------

    async def _route_key(self, key: events.Key) -> None:
        """Hand ``key`` on as Textual would (to the focus, else the screen); when the screen
        says this key will change it, hold the keys after it."""
        screen = self.screen
        # The app's own keys (language, contrast, side panel) change no screen: nothing to hold for.
        own = key.key in {b.key for b in self.BINDINGS if isinstance(b, Binding) and b.priority}
        holds = not own and isinstance(screen, KioskScreen) and screen.is_mounted and screen.holds_keys_after(key)
        await super().on_event(key)
        if holds:
            self.type_ahead.hold(screen)  # until it answers, or until the screen it switches to is ready

    async def keys_ready(self, screen: KioskScreen, keep: bool = True) -> None:
        """``screen`` can take keys now (its field has the focus): route the keys held for it,
        in order. ``keep`` False drops them (typed for a step that was refused). Screens call
        it through ``call_later``, so it runs after the focus they have just asked for."""
        keys = self.type_ahead.release(screen)
        if not keys:
            return
        if not keep:
            log.info("%d keys typed while %s was answering dropped: the step was refused",
                     len(keys), type(screen).__name__)
            return
        await self._replay(keys)

    async def _replay(self, keys: list[events.Key]) -> None:
        for i, key in enumerate(keys):
            if self.type_ahead.holding:  # a key changed the screen again: the rest wait for it
                self.type_ahead.put_back(keys[i:])
                return
            await self._route_key(key)

    def _hold_overdue(self) -> bool:
        """The safety net: a hold nobody released, while the screen is at rest, is let go."""
        screen = self.screen
        if not self.type_ahead.overdue() or (isinstance(screen, KioskScreen) and not screen.can_go_idle()):
            return False
        log.warning("%d keys held too long for a screen that never took them: handing them on",
                    len(self.type_ahead))
        return True

    def _screen_changed(self, screen) -> None:
        self.restart_idle_timer()

    def restart_idle_timer(self) -> None:
        """From now: warn ``IDLE_WARNING_S`` before the screen's inactivity timeout, then clear.
        Any key or touch calls this again, so it also takes the warning away."""
        for timer in (self._idle_timer, self._warning_timer):
            if timer is not None:
                timer.stop()
        self._idle_timer = self._warning_timer = None
        screen = self.screen
        if not isinstance(screen, KioskScreen):
            return
        screen.warn_idle(None)
        after = screen.idle_after()
        if after is None:
            return
        warn = min(IDLE_WARNING_S, after / 2) if screen.WARNS_BEFORE_IDLE else 0.0
        if warn > 0:
            self._warning_timer = self.set_timer(after - warn, lambda: screen.warn_idle(warn), name="idle-warning")
        self._idle_timer = self.set_timer(after, self._idle_timeout, name="inactivity")

    def _idle_timeout(self) -> None:
        screen = self.screen
        if isinstance(screen, KioskScreen) and not screen.can_go_idle():
            self.restart_idle_timer()  # a command is under way: look again later
            return
        log.info("no input for a while on %s: back to the start", type(screen).__name__)
        self.action_go_idle()
