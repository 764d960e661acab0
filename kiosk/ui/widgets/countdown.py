"""Words that count down: "wait 12 seconds", then 11, 10 … on the screen, then what comes after.

Used for the site's slow-down (the refusal says how long is left, not how long it was) and
for the warning before an untouched screen goes back to the start (``IdleWarning``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from textual.timer import Timer

from kiosk.ui.widgets.words import Phrase, Words

TICK_S = 0.25


def count_down(words: Words, seconds: float, phrase: Callable[[int], Phrase], *,
               then: Phrase | None = None) -> Timer:
    """Show ``phrase(seconds_left)`` on ``words`` (whole seconds, rounded up) until ``seconds``
    have passed, then ``then`` (None: nothing). Returns the timer; stop it to stop counting."""
    deadline = time.monotonic() + seconds
    shown: list[int] = []

    def tick() -> None:
        left = math.ceil(deadline - time.monotonic())
        if left <= 0:
            timer.stop()
            words.say(then)
        elif not shown or shown[-1] != left:
            shown.append(left)
            words.say(phrase(left))

    timer = words.set_interval(TICK_S, tick)
    tick()
    return timer


class IdleWarning(Words):
    """Across the bottom of a screen: "back to the start in N s — press any key"."""

    DEFAULT_CSS = """
    IdleWarning {
        dock: bottom;
        display: none;
        height: auto;
        padding: 1 2;
        background: $warning;
        color: $background;
        text-style: bold;
        text-align: center;
    }
    IdleWarning.-showing { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(classes="idle-warning")
        self._timer: Timer | None = None

    def start(self, seconds: float) -> None:
        """Count down ``seconds`` to the screen clearing."""
        self.stop()
        self.add_class("-showing")
        self._timer = count_down(self, seconds, lambda s: lambda t: t.idle_warning.format(s=s))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.remove_class("-showing")
        self.say(None)

    @property
    def showing(self) -> bool:
        return self.has_class("-showing")
