"""The languages the screens speak: the one list the config check and every text table use.

Each entry is a language code (as written in ``[ui] languages`` and ``[ui.staff]``) and the
language's name in its own words (what the language toggle shows). English comes first
(the texts are written in English); the others are the catalogues in ``kiosk/locale``,
one directory per language, by code, each naming itself (``kiosk.i18n.catalogue``). A
translator adds a language by adding its directory (docs/translating.md): every text table
then has it, or fails at import saying what is missing, and the config accepts the code.
This sits at the bottom of the layers, below the config and the UI alike; it reads only
the catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from kiosk.i18n.catalogue import discover

LANGUAGES: dict[str, str] = discover()
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
                          f"not a listed language: {', '.join(unknown) or '-'} (see kiosk/locale)")
    return {code: tables[code] for code in CODES}
