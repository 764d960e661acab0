"""Text and buttons that speak the app's current language.

A ``Words`` or ``SayButton`` holds a phrase (``table -> str``), not a string, and
re-renders whenever the app's ``language`` changes: the toggle can be pressed at any
moment, even with an error message on the screen, and everything follows.

Both expect to live in an app with a reactive ``language`` (a code: "en", "ja", ...), which
``RecipientApp`` is. An app with its own phrase table (the counter terminal's) says so
with a ``texts_for(language)`` method; the recipient's table is the default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from textual.dom import DOMNode
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

from kiosk.ui.app_base import SpeakingApp
from kiosk.ui.texts import texts_for

Phrase = Callable[[Any], str]
"""A phrase for any app's table: the recipient's ``Say`` and the counter's ``Say`` both fit."""


def _app(node: DOMNode) -> SpeakingApp:
    return cast(SpeakingApp, node.app)


def _table(node: DOMNode) -> Callable[[str], Any]:
    return getattr(node.app, "texts_for", texts_for)


def _texts(node: DOMNode) -> Any:
    return _table(node)(_app(node).language)


class Words(Static):
    """A line (or paragraph) of text in the current language; empty when given no phrase."""

    DEFAULT_CSS = """
    Words { width: 100%; }
    Words.-empty { visibility: hidden; }
    """

    def __init__(self, phrase: Phrase | None = None, *, classes: str | None = None) -> None:
        super().__init__("", classes=classes, markup=False)
        self._phrase = phrase

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._show, init=True)

    @property
    def phrase(self) -> Phrase | None:
        return self._phrase

    def say(self, phrase: Phrase | None) -> None:
        """Show ``phrase`` (or nothing, keeping the space, when None)."""
        self._phrase = phrase
        if self.is_attached:
            self._show()

    @property
    def text(self) -> str:
        """What is on the screen now (for tests)."""
        return self._phrase(_texts(self)) if self._phrase and self.is_attached else ""

    def _show(self, _language: str | None = None) -> None:
        text = self.text
        self.set_class(not text, "-empty")
        self.update(text)


class SayButton(Button):
    """A button whose label is a phrase in the current language."""

    def __init__(self, phrase: Phrase, *, variant: ButtonVariant = "default", action: str | None = None,
                 classes: str | None = None, focusable: bool = True) -> None:
        super().__init__("", variant=variant, action=action, classes=classes)
        self._phrase = phrase
        self.can_focus = focusable

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._show, init=True)

    def say(self, phrase: Phrase) -> None:
        self._phrase = phrase
        if self.is_attached:
            self._show()

    def _show(self, _language: str | None = None) -> None:
        self.label = self._phrase(_texts(self))


class LanguageToggle(Button):
    """Switches the language. Its label is the language a touch switches *to*, written in
    that language ("日本語" on the English screen), so a reader of only that language
    recognises it."""

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__("", action="app.toggle_language", classes=classes)

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._show, init=True)

    def _show(self, _language: str | None = None) -> None:
        self.label = _table(self)(_app(self).next_language).language_name
