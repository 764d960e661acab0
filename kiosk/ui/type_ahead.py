"""Keys typed while the screen is changing: held, then handed on whole and in order.

A keyboard-wedge scanner types a whole code in a few milliseconds, and a quick typist
keeps typing while the screen moves on. Textual hands each key to whatever has the focus
*at that instant*; during a screen change that is the old screen (which may act on every
key again: a second "start") or the new screen before its field has the focus (where the
key is dropped). So the app sequences keys itself (``RecipientApp.on_event``): a key that
will change the screen (the first key on the idle screen, Enter in a form) is passed on,
and every key after it is held here until the screen that takes them says it is ready
(``KioskScreen`` on resume, a form when its check has answered). Then they are routed one
by one, in the order typed, exactly as if they had just arrived.

A form that refuses what was entered drops the keys typed meanwhile: they were typed for
a step that did not come (a secret must not land in the trade number field).
"""

from __future__ import annotations

import time
from collections import deque

from textual import events

HOLD_MAX_S = 5.0
"""A hold that nobody released after this long, with the screen at rest, is let go (a safety
net: a kiosk deaf to its keyboard would block everyone after)."""


class TypeAhead:
    """The keys held for the screen that will take them."""

    def __init__(self) -> None:
        self._held: deque[events.Key] = deque()
        self._until: object | None = None
        self._since = 0.0
        self.holding = False

    def hold(self, until: object | None = None) -> None:
        """Hold keys until ``until`` (a screen) is ready; None: until the next screen shown
        names itself (a screen change replaces what was held for with the new screen)."""
        if not self.holding:
            self._since = time.monotonic()
        self.holding = True
        self._until = until

    def keep(self, key: events.Key) -> None:
        self._held.append(key)

    def overdue(self) -> bool:
        return self.holding and time.monotonic() - self._since > HOLD_MAX_S

    def release(self, screen: object | None) -> list[events.Key] | None:
        """The keys held for ``screen``, in order, and stop holding; None when the keys are
        held for another screen (or none are held). ``screen`` None releases whatever is held."""
        if not self.holding or (screen is not None and screen is not self._until):
            return None
        self.holding = False
        self._until = None
        keys = list(self._held)
        self._held.clear()
        return keys

    def put_back(self, keys: list[events.Key]) -> None:
        """Keys not yet routed when one of them changed the screen again: first in line."""
        self._held.extendleft(reversed(keys))

    def __len__(self) -> int:
        return len(self._held)
