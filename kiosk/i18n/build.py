"""Turning the translators' catalogues (.po) into the compiled ones (.mo) the screens load,
after checking each against its template (.pot): the build step.

    kiosk/locale/<domain>.pot                       the English texts, one entry per field
    kiosk/locale/<lang>/LC_MESSAGES/<domain>.po     a language: msgctxt field, msgid English, msgstr it
    <out>/<lang>/LC_MESSAGES/<domain>.mo            compiled by ``compile_catalogues``

A catalogue is refused, before anything is written, when an entry of its template is
missing, untranslated or marked fuzzy, when its ``{placeholders}`` differ from the
English text's, or when it has an entry its template does not (run ``python -m kiosk.i18n
extract`` after the English changed). Every problem names the language, the domain and
the field.

setup.py loads this file by its path, in a build environment that has Babel and the
standard library only: nothing here may import the rest of ``kiosk`` (Babel is imported
inside the functions, so the screens can use ``placeholders`` without it).
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,8})?")
"""A catalogue directory's name: also a key of ``[ui.staff]`` and an item of ``[ui] languages``."""


class CatalogueError(LookupError):
    """A catalogue is missing, incomplete or wrong; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(["the text catalogues have problems:", *(f"  {p}" for p in problems)]))
        self.problems = problems


def placeholders(text: str) -> set[str]:
    """The ``{names}`` ``str.format`` fills in ``text``. Raises ValueError for a stray brace."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def placeholder_problem(english: str, translated: str) -> str | None:
    """Why ``translated`` cannot stand for ``english`` on a screen (None when it can)."""
    if not translated.strip():
        return "is empty"
    try:
        theirs = placeholders(translated)
    except ValueError as e:
        return f"is not a valid format string ({e}); write a brace as {{{{ or }}}}"
    ours = placeholders(english)
    if theirs != ours:
        return f"has the placeholders {_names(theirs)}, English has {_names(ours)}"
    return None


def _names(names: set[str]) -> str:
    return ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"


def templates(locale_dir: Path = LOCALE_DIR) -> dict[str, Path]:
    """Domain -> its template, for every .pot in ``locale_dir``."""
    return {pot.stem: pot for pot in sorted(locale_dir.glob("*.pot"))}


def language_dirs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every language's directory (``<lang>/LC_MESSAGES``) in ``locale_dir``, sorted by code."""
    return sorted(p for p in locale_dir.glob("*/LC_MESSAGES") if p.is_dir())


def read_catalogue(path: Path) -> Any:
    """A .po or .pot file as a Babel ``Catalog``."""
    from babel.messages.pofile import read_po
    with path.open("rb") as f:
        return read_po(f, domain=path.stem)


def check_catalogue(code: str, domain: str, po: Any, pot: Any) -> list[str]:
    """Every problem of catalogue ``po`` (language ``code``) against its template ``pot``."""
    where = f"{code}/{domain}"
    problems = []
    wanted = {m.context: m.id for m in pot if m.id}
    for message in po:
        if message.id and message.context not in wanted:
            problems.append(f"{where}: {message.context or message.id!r}: not in the template "
                            "(run `python -m kiosk.i18n extract`, which moves it aside)")
    for field, english in wanted.items():
        message = po.get(english, context=field)
        if message is None:
            other = next((m for m in po if m.context == field), None)
            problems.append(f"{where}: {field}: " + ("is missing" if other is None else
                            f"translates an older English text ({other.id!r}); run `python -m kiosk.i18n extract`"))
        elif not message.string:
            problems.append(f"{where}: {field}: has no translation (empty msgstr)")
        elif message.fuzzy:
            problems.append(f"{where}: {field}: is marked fuzzy: check it, then remove the fuzzy flag")
        else:
            reason = placeholder_problem(english, message.string)
            if reason:
                problems.append(f"{where}: {field}: {message.string!r} {reason}")
    return problems


def compile_catalogues(locale_dir: Path = LOCALE_DIR, out_dir: Path | None = None) -> list[Path]:
    """Check every language's catalogues in ``locale_dir`` against the templates there and
    write their .mo files under ``out_dir`` (default: beside the .po files). Returns the
    files written.

    Raises CatalogueError, having written nothing, when any catalogue has a problem."""
    from babel.messages.mofile import write_mo
    out_dir = locale_dir if out_dir is None else out_dir
    pots = {domain: read_catalogue(path) for domain, path in templates(locale_dir).items()}
    if not pots:
        raise CatalogueError([f"no templates (*.pot) in {locale_dir}"])
    problems: list[str] = []
    ready: list[tuple[Path, Any]] = []
    for folder in language_dirs(locale_dir):
        code = folder.parent.name
        if not LANGUAGE_CODE.fullmatch(code):
            problems.append(f"{code}: not a language code (two or three small letters, and maybe _Script)")
            continue
        for stray in sorted(set(p.stem for p in folder.glob("*.po")) - set(pots)):
            problems.append(f"{code}/{stray}: no template {stray}.pot for this catalogue")
        for domain, pot in pots.items():
            path = folder / f"{domain}.po"
            if not path.is_file():
                problems.append(f"{code}/{domain}: missing ({path.relative_to(locale_dir)}; copy {domain}.pot)")
                continue
            po = read_catalogue(path)
            problems += check_catalogue(code, domain, po, pot)
            ready.append((out_dir / code / "LC_MESSAGES" / f"{domain}.mo", po))
    if problems:
        raise CatalogueError(problems)
    for target, po in ready:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            write_mo(f, po)
    return [target for target, _ in ready]
