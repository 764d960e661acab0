"""One list of languages (kiosk/languages.py, from the catalogues in kiosk/locale): every
text table covers exactly it."""

from __future__ import annotations

import pytest

from kiosk import languages
from kiosk.ui import texts
from kiosk.ui.counter import site_names
from kiosk.ui.counter import texts as counter_texts
from kiosk.ui.technician import texts as technician_texts

TABLES = {"recipient": texts.LANGUAGES, "counter": counter_texts.LANGUAGES, "technician": technician_texts.LANGUAGES}


@pytest.mark.parametrize("screen", TABLES)
def test_every_text_table_covers_every_listed_language(screen):
    table = TABLES[screen]
    assert list(table) == list(languages.CODES)
    for code, words in table.items():
        assert words.language_name == languages.LANGUAGES[code]   # the toggle shows the listed name


def test_the_clerks_names_cover_every_listed_language():
    for table in (site_names.LIST_NAMES, site_names.PARCEL_STATES, site_names.LOCKER_STATES, site_names.DOOR_STATES,
                  site_names.ALARMS, site_names.METHODS):
        assert list(table) == list(languages.CODES)


def test_a_table_missing_or_adding_a_language_fails_at_import():
    with pytest.raises(LookupError, match="no translation for ja"):
        languages.every_language({"en": 1}, "test table")
    with pytest.raises(LookupError, match="not a listed language: fr"):
        languages.every_language({"en": 1, "ja": 2, "fr": 3}, "test table")
    backwards = {code: i for i, code in enumerate(reversed(languages.CODES))}
    assert list(languages.every_language(backwards, "t")) == list(languages.CODES)

