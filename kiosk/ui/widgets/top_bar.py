"""The bar across the top of every step: where you are, the language, the way out."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal

from typing import cast

from kiosk.ui.app_base import SpeakingApp
from kiosk.ui.widgets.words import LanguageToggle, Phrase, SayButton, Words


class TopBar(Horizontal):
    """Title on the left; language toggle and a "cancel" button (back to the start) on the right."""

    DEFAULT_CSS = """
    TopBar {
        height: 3;
        width: 100%;
        background: $panel;
    }
    TopBar > .top-title {
        width: 1fr;
        height: 3;
        padding: 1 2;
        text-style: bold;
    }
    TopBar > Button { margin-left: 1; min-width: 12; }
    """

    def __init__(self, title: Phrase | None, *, language: bool = False, cancel: Phrase | None = None,
                 cancel_action: str = "app.go_idle") -> None:
        """``cancel_action``: what the cancel button does (by default, back to the start)."""
        super().__init__()
        self._title = title
        self._language = language
        self._cancel = cancel
        self._cancel_action = cancel_action

    def compose(self) -> ComposeResult:
        yield Words(self._title, classes="top-title")
        if self._language and len(cast(SpeakingApp, self.app).languages) > 1:
            yield LanguageToggle(classes="language-toggle")
        if self._cancel is not None:
            yield SayButton(self._cancel, action=self._cancel_action, variant="error", classes="cancel")
