"""What every kiosk screen app shares (the recipient's and the counter's): the language
toggle's order and the side panel made afresh for each screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.widget import Widget


class SpeakingApp(Protocol):
    """What the shared widgets and screens ask of the app they live in."""

    language: str
    languages: tuple[str, ...]

    @property
    def next_language(self) -> str: ...

    def action_go_idle(self) -> None: ...


class KioskAppMixin:
    """Mixed into a Textual App that sets ``languages``, ``language`` and ``_side_panel``."""

    language: str
    languages: tuple[str, ...]
    _side_panel: Callable[[], Widget] | None

    @property
    def next_language(self) -> str:
        """The language the toggle switches to."""
        i = self.languages.index(self.language) if self.language in self.languages else -1
        return self.languages[(i + 1) % len(self.languages)]

    def make_side_panel(self) -> Widget | None:
        """A new side panel for one screen (a widget can be mounted in only one place)."""
        return self._side_panel() if self._side_panel else None
