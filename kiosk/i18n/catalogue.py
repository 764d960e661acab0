"""The screens' texts in every language, read at import from the compiled catalogues.

English is the source: each text table's English instance is written in Python (the
dataclass is the schema, its field names the keys screens use). Every other language is
a directory ``kiosk/locale/<lang>/LC_MESSAGES`` with one compiled catalogue (.mo) per
domain, read with the standard library's ``gettext``: ``pgettext(field, English text)``.
A language is on the list when its directory is there; its name in its own words is its
translation of the recipient table's ``language_name``.

Nothing is left to chance on a screen: a field a catalogue does not translate, a
translation whose ``{placeholders}`` differ from the English text's, a catalogue that is
missing or older than its .po (not compiled again: ``python -m kiosk.i18n compile``), or
a table whose ``language_name`` is not the language's listed name is a CatalogueError at
import, naming the language, the domain and the field.
"""

from __future__ import annotations

import dataclasses
import gettext
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from kiosk.i18n.build import LANGUAGE_CODE, LOCALE_DIR, CatalogueError, language_dirs, placeholder_problem

SOURCE = "en"
SOURCE_NAME = "English"
NAME_DOMAIN, NAME_FIELD = "recipient", "language_name"
"""Where a language's own name is read: the recipient table's ``language_name``."""

T = TypeVar("T")

_english_only = False


def read_english_only() -> None:
    """From now on, in this process, every language's tables are read as the English
    (and named by their codes), without opening a catalogue: for the extractor, which
    imports the English tables while the catalogues may be stale. Never for a screen."""
    global _english_only
    _english_only = True


class _Untranslated(gettext.NullTranslations):
    """The fallback of a catalogue: records each field it was asked for and does not have."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: list[str] = []

    def pgettext(self, context: str, message: str) -> str:
        self.missing.append(context)
        return message


def _open(code: str, domain: str, locale_dir: Path) -> tuple[gettext.GNUTranslations, _Untranslated]:
    folder = locale_dir / code / "LC_MESSAGES"
    mo, po = folder / f"{domain}.mo", folder / f"{domain}.po"
    compile_it = "run `python -m kiosk.i18n compile`"
    if not mo.is_file():
        raise CatalogueError([f"{code}/{domain}: not compiled ({mo} is missing): {compile_it}" if po.is_file()
                              else f"{code}/{domain}: missing (no {mo.name} in {folder})"])
    if po.is_file() and po.stat().st_mtime > mo.stat().st_mtime:   # a source tree: the .po changed since
        raise CatalogueError([f"{code}/{domain}: {mo} is older than its .po: {compile_it}"])
    with mo.open("rb") as f:
        translations = gettext.GNUTranslations(f)
    untranslated = _Untranslated()
    translations.add_fallback(untranslated)
    return translations, untranslated


def translated(code: str, domain: str, english: Mapping[str, str], locale_dir: Path = LOCALE_DIR) -> dict[str, str]:
    """Field -> text in language ``code``, for every field of ``english`` (field -> English text).

    Raises CatalogueError listing every field missing or unusable."""
    translations, untranslated = _open(code, domain, locale_dir)
    texts = {field: translations.pgettext(field, text) for field, text in english.items()}
    problems = [f"{code}/{domain}: {field}: has no translation of {english[field]!r}"
                for field in untranslated.missing]
    for field, text in texts.items():
        reason = None if field in untranslated.missing else placeholder_problem(english[field], text)
        if reason:
            problems.append(f"{code}/{domain}: {field}: {text!r} {reason}")
    if problems:
        raise CatalogueError(problems)
    return texts


def discover(locale_dir: Path = LOCALE_DIR) -> dict[str, str]:
    """Language code -> the language's name in its own words: English first, then every
    language with a catalogue directory in ``locale_dir``, by code.

    Raises CatalogueError for a directory that is not a language code or has no usable
    recipient catalogue."""
    found = {SOURCE: SOURCE_NAME}
    for folder in language_dirs(locale_dir):
        code = folder.parent.name
        if not LANGUAGE_CODE.fullmatch(code) or code == SOURCE:
            raise CatalogueError([f"{folder}: {code!r} is not a language code that can be added "
                                  "(two or three small letters, and maybe _Script; English is the source)"])
        found[code] = code if _english_only else \
            translated(code, NAME_DOMAIN, {NAME_FIELD: SOURCE_NAME}, locale_dir)[NAME_FIELD]
    return found


def entries(english: Mapping[str, str], domain: str, languages: Mapping[str, str],
            locale_dir: Path = LOCALE_DIR) -> dict[str, dict[str, str]]:
    """Language -> (field -> text) for every language in ``languages`` (code -> own name),
    English as given. A ``language_name`` field must be each language's listed name.

    Raises CatalogueError listing the problems of every language."""
    out: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for code, own_name in languages.items():
        try:
            texts = dict(english) if code == SOURCE or _english_only else translated(code, domain, english, locale_dir)
        except CatalogueError as e:
            problems += e.problems
            continue
        if NAME_FIELD in texts and texts[NAME_FIELD] != own_name and not _english_only:
            problems.append(f"{code}/{domain}: {NAME_FIELD}: {texts[NAME_FIELD]!r}, but the language is listed as "
                            f"{own_name!r} (its {NAME_DOMAIN} catalogue's {NAME_FIELD})")
        out[code] = texts
    if problems:
        raise CatalogueError(problems)
    return out


def fields_of(table: Any) -> dict[str, str]:
    """A text table (a dataclass instance of texts) as field -> text."""
    return {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}


def tables(english: T, domain: str, languages: Mapping[str, str], locale_dir: Path = LOCALE_DIR) -> dict[str, T]:
    """Language -> that language's instance of ``english``'s dataclass, in the order of
    ``languages``: the English instance itself, the others filled from catalogue ``domain``.

    Raises CatalogueError (see ``entries``)."""
    return {code: english if code == SOURCE else dataclasses.replace(english, **texts)   # type: ignore[type-var]
            for code, texts in entries(fields_of(english), domain, languages, locale_dir).items()}
