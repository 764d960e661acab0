"""Spoken guidance on the recipient's screens (issue 15 §6): F9 (or the keypad's speech
key, mapped to F9) reads the screen aloud in the language it shows.

What is read is what the screen shows, in order: its title, what it says and what its
buttons do — never what a field holds (a secret field is masked, and a typed trade number
is the recipient's own) and never the digits of the keypad or a side panel (the demo's).
The controller plays it (``speak``: it owns the loudspeaker, as every device).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button

from kiosk.ui.widgets import Keypad, Words
from kiosk.ui.widgets.big_number import BigNumber

SKIP_INSIDE = (Keypad,)
SKIP_CLASSES = ("kiosk-side-panel",)


def shown(widget: Widget) -> bool:
    node: Widget | None = widget
    while isinstance(node, Widget):
        if not node.display or isinstance(node, SKIP_INSIDE) or any(node.has_class(c) for c in SKIP_CLASSES):
            return False
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return True


def screen_words(screen: Screen) -> str:
    """The screen's words to be read, one sentence per line, each once."""
    lines: list[str] = []
    for widget in screen.query("*"):
        if isinstance(widget, Words):
            text = widget.text
        elif isinstance(widget, Button):
            text = str(widget.label)
        elif isinstance(widget, BigNumber):
            text = str(widget.number)
        else:
            continue
        text = " ".join(text.split())
        if text and text not in lines and shown(widget):
            lines.append(text)
    return "\n".join(lines)
