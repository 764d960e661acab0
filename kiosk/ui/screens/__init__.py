"""One screen per step of the recipient flow (and the courier's drop-off)."""

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.courier import CourierDoneScreen, CourierEntryScreen
from kiosk.ui.screens.door import DEPOSIT, PICKUP, DoorOpenScreen, Opening
from kiosk.ui.screens.done import DoneScreen, MessageScreen
from kiosk.ui.screens.entry import PickupEntryScreen
from kiosk.ui.screens.idle import IdleScreen

__all__ = ["KioskScreen", "IdleScreen", "PickupEntryScreen", "CourierEntryScreen", "CourierDoneScreen",
           "DoorOpenScreen", "Opening", "PICKUP", "DEPOSIT", "DoneScreen", "MessageScreen"]
