"""The names the clerk's "Parcels and lockers" screen gives to lists, states and methods,
per language (the phrases themselves are in ``kiosk.ui.counter.texts``). English is
written here; every other language is the ``counter_names`` catalogue, whose fields are
``<group>.<value>`` ("parcel_state.arrived"). A test keeps the groups complete against
the domain's values; the catalogues are checked like every text table's (kiosk.i18n)."""

from __future__ import annotations

from kiosk.i18n.catalogue import entries
from kiosk.languages import LANGUAGES

ENGLISH = {
    "list": {"locked_out": "Locked out", "expired": "Expired", "forgotten": "Forgotten",
             "nearing_expiry": "Nearing expiry", "waiting": "Waiting"},
    "parcel_state": {"expected": "expected", "arrived": "arrived", "expired": "expired", "collected": "collected",
                     "returned": "returned"},
    "locker_state": {"free": "free", "loading": "loading", "occupied": "occupied", "unloading": "opening",
                     "fault": "FAULT", "out_of_service": "out of service"},
    "door_state": {"open": "open", "closed": "closed", "unknown": "unknown"},
    "alarm": {"tamper": "Tamper", "door_left_open": "Door left open", "door_fault": "Door fault",
              "site_attempts_alarm": "Many wrong codes", "event_rejected": "Store refused an event",
              "device_health": "Device problem"},
    "method": {"secret": "secret", "locker": "locker code", "f1_tag": "F1 tag", "f2_tag": "F2 tag",
               "ic_card": "IC card", "token": "token", "biometric": "fingerprint"},
}
ENTRIES = {f"{group}.{value}": text for group, names in ENGLISH.items() for value, text in names.items()}
"""The catalogue's fields and their English texts."""

_WORDS = entries(ENTRIES, "counter_names", LANGUAGES)


def _group(group: str) -> dict[str, dict[str, str]]:
    """Language -> (value -> its name) for one group."""
    return {code: {value: words[f"{group}.{value}"] for value in ENGLISH[group]} for code, words in _WORDS.items()}


LIST_NAMES = _group("list")
PARCEL_STATES = _group("parcel_state")
LOCKER_STATES = _group("locker_state")
DOOR_STATES = _group("door_state")
ALARMS = _group("alarm")
METHODS = _group("method")


def name(table: dict[str, dict[str, str]], language: str, value: str) -> str:
    return table.get(language, table["en"]).get(value, value)
