"""The counter terminal: the clerk's screen for handing over tagged and plain-secret parcels.

    scan tag / label / phone code ──► reads shown ──► recipient types the secret ──► check
          (scanner events, or typed)                                                    │
      ┌──────────────── "Do not hand over": forged, swapped, wrong secret (n left) … ◄──┤
      └─ next customer ◄── confirm ◄── "Hand over parcel 1234-5678" ◄──────────────────┘

One screen (``CounterScreen``) for one desk. The app owns what outlives it: the service's
event stream (read in one worker and handed to the screen), the language, and who the
clerk is. It talks to the controller only through the counter's part of the service API
(kiosk.service.api.CounterService, which the in-process ``Controller`` implements).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from kiosk.service.api import DEFAULT_DESK, ClerkService, CounterService, Subscription
from kiosk.ui.app import HIGH_CONTRAST_THEME, KIOSK_THEME
from kiosk.ui.app_base import CONTRAST_KEY, SIDE_PANEL_KEY, KioskAppMixin
from kiosk.ui.counter.screen import CounterScreen
from kiosk.ui.counter.take_in import TakeInScreen
from kiosk.ui.sign_in import SignIn, SignInScreen, SignsIn
from kiosk.ui.counter.site_screen import SiteScreen
from kiosk.ui.counter.texts import LANGUAGES, CounterTexts, counter_texts_for
from kiosk.ui.events import EventFeed


class CounterApp(SignsIn, KioskAppMixin, App):
    """The counter terminal of one desk, for clerk ``clerk_id`` (recorded with each hand-over)."""

    CSS_PATH = ["../kiosk.tcss", "counter.tcss"]
    TITLE = "Counter"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("f2", "toggle_language", "Language", show=False, priority=True),
                Binding(CONTRAST_KEY, "toggle_contrast", "High contrast", show=False, priority=True),
                Binding(SIDE_PANEL_KEY, "toggle_side_panel", "Side panel", show=False, priority=True),
                Binding("escape", "next_customer", "Next customer", show=False),
                Binding("f4", "parcels_and_lockers", "Parcels and lockers", show=False, priority=True),
                Binding("f5", "take_in", "Take in parcels", show=False, priority=True)]

    language: reactive[str] = reactive("en")

    def __init__(self, service: CounterService, clerk_id: str = "", *, desk: str = DEFAULT_DESK,
                 side_panel: Callable[[], Widget] | None = None, sign_in: SignIn | None = None) -> None:
        """``side_panel`` makes a widget shown beside the screen (the demo's scanner panel).
        ``sign_in`` (staff code -> clerk id): the clerk signs in on the screen first, and
        again whenever kioskd has signed them out (a screen on kioskd's socket)."""
        if side_panel is not None and not callable(side_panel):
            raise TypeError("side_panel must make a new widget when called (e.g. lambda: CounterPanel(...))")
        if not clerk_id and sign_in is None:
            raise ValueError("a clerk id is required: every hand-over records who made it")
        self.sign_in = sign_in
        super().__init__()
        self.service = service
        self.clerk_id = clerk_id
        self.desk = desk
        self.events = EventFeed()
        self._side_panel = side_panel
        self._subscription: Subscription | None = None
        settings = service.ui_settings()
        self.reads_cards = settings.reads_cards   # offer "take back a used card" only with a reader
        wanted = settings.languages
        self.languages: tuple[str, ...] = tuple(lang for lang in wanted if lang in LANGUAGES) or ("en",)
        self.set_reactive(CounterApp.language, self.languages[0])
        self.register_theme(KIOSK_THEME)
        self.register_theme(HIGH_CONTRAST_THEME)
        self.theme = KIOSK_THEME.name

    def texts_for(self, language: str) -> CounterTexts:
        """The phrase table the shared widgets (Words, SayButton, Keypad) read."""
        return counter_texts_for(language)

    def on_mount(self) -> None:
        self._subscription = self.service.subscribe()
        self._pump_events(self._subscription)
        self.push_screen(SignInScreen() if self.sign_in is not None else CounterScreen(self.desk))

    def signed_in(self, clerk_id: str) -> None:
        """The code was a clerk's: the desk, under their id."""
        self.clerk_id = clerk_id
        self.switch_screen(CounterScreen(self.desk))

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    @work(exclusive=True, group="service-events")
    async def _pump_events(self, subscription: Subscription) -> None:
        async for event in subscription:
            self.screen.post_message(self.events.add(event))
            if event.kind == "service_state":
                self.show_service_state(event.data["in_service"], event.data.get("reason") or "")

    def action_toggle_language(self) -> None:
        self.language = self.next_language

    def action_go_idle(self) -> None:
        """The top bar's way out: here, the next customer."""
        self.action_next_customer()

    @property
    def clerk_service(self) -> ClerkService | None:
        """The clerk's calls, when this service offers them (the controller, or a clerk's socket)."""
        return self.service if isinstance(self.service, ClerkService) else None

    def action_parcels_and_lockers(self) -> None:
        """F4 (or the button): the clerk's lists, the lockers and today's figures."""
        service = self.clerk_service
        if service is not None and isinstance(self.screen, CounterScreen):
            self.push_screen(SiteScreen(service))

    def action_take_in(self) -> None:
        """F5 (or the button): scan the courier's pile of counter parcels in, one by one."""
        if isinstance(self.screen, CounterScreen):
            self.push_screen(TakeInScreen())

    def action_next_customer(self) -> None:
        screen = self.screen
        if isinstance(screen, CounterScreen):
            screen.next_customer()
