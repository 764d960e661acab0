"""The recipient screen (Textual): the kiosk a person at the locker bank uses.

It knows the service API only (``kiosk.service.api.KioskService``): never a driver, never
the database. Build one with ``RecipientApp(service)``; see ``kiosk.ui.app``.
"""

from kiosk.ui.app import RecipientApp

__all__ = ["RecipientApp"]
