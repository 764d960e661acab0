"""The technician panel: the site's devices, tasks, storage, store link and lockers
(``TechnicianApp``, kiosk.ui.technician.app; words in kiosk.ui.technician.texts)."""

from kiosk.ui.technician.app import TechnicianApp

__all__ = ["TechnicianApp"]
