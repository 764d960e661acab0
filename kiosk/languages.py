"""The languages the screens speak: the one list the config check and every text table use.

Each entry is a language code (as written in ``[ui] languages``) and the language's name in
its own words (what the language toggle shows). A new language is added here first; every
text table (``kiosk/ui/texts.py``, ``kiosk/ui/counter/texts.py``) then fails at import until
it has a translation, and the config accepts the code. No imports: this sits at the bottom
of the layers, below the config and the UI alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

LANGUAGES: dict[str, str] = {
    "en": "English",
    "ja": "日本語",
}
CODES: tuple[str, ...] = tuple(LANGUAGES)

T = TypeVar("T")


def every_language(tables: Mapping[str, T], what: str) -> dict[str, T]:
    """``tables`` (code -> that language's table) in the order of ``CODES``, after checking
    it has one table for every listed language and none for any other.

    Raises LookupError naming the missing or unknown codes (at import, where tables are built)."""
    missing = [code for code in CODES if code not in tables]
    unknown = [code for code in tables if code not in LANGUAGES]
    if missing or unknown:
        raise LookupError(f"{what}: no translation for {', '.join(missing) or '-'}; "
                          f"not a listed language: {', '.join(unknown) or '-'} (see kiosk/languages.py)")
    return {code: tables[code] for code in CODES}
