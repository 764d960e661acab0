"""The counter terminal: a clerk hands over tagged (F1, F2) and plain-secret parcels.

``CounterApp`` is the composition root (kiosk.ui.counter.app); its one screen is
``CounterScreen``; the words live in ``kiosk.ui.counter.texts`` (every language).
"""

from kiosk.ui.counter.app import CounterApp
from kiosk.ui.counter.screen import CounterScreen

__all__ = ["CounterApp", "CounterScreen"]
