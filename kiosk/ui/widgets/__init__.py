"""Widgets of the recipient screen: keypad, big locker number, translated text, top bar."""

from kiosk.ui.widgets.big_number import BigNumber
from kiosk.ui.widgets.countdown import IdleWarning, count_down
from kiosk.ui.widgets.keypad import Keypad
from kiosk.ui.widgets.top_bar import TopBar
from kiosk.ui.widgets.words import LanguageToggle, SayButton, Words

__all__ = ["BigNumber", "IdleWarning", "Keypad", "LanguageToggle", "SayButton", "TopBar", "Words", "count_down"]
