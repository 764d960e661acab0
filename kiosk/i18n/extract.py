"""The maintainers' side of the catalogues: the templates (.pot) made from the English
tables, every language's .po brought up to date with them, and a new language begun.

One domain per text table (``DOMAINS``: domain -> "module:attribute" of its English,
a dataclass instance of texts or a mapping field -> text). An entry's msgctxt is the
field, its msgid the English text. When an English text changes, the .po keeps the old
translation marked fuzzy (with the old English as ``#| msgid``), so the build refuses it
until a translator has looked; an entry whose field is gone is kept aside as obsolete.

The English modules are imported with the catalogues read as English only
(``catalogue.read_english_only``): extraction must work while they are stale.
"""

from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path
from typing import Any

from kiosk.i18n import catalogue
from kiosk.i18n.build import LANGUAGE_CODE, LOCALE_DIR, language_dirs, placeholders, read_catalogue, templates

DOMAINS = {
    "recipient": "kiosk.ui.texts:EN",
    "counter": "kiosk.ui.counter.texts:EN",
    "counter_names": "kiosk.ui.counter.site_names:ENTRIES",
    "technician": "kiosk.ui.technician.texts:EN",
}
PROJECT = "pickup-kiosk"
HEADER = """\
# The {domain} texts of the pickup kiosk.
# msgctxt: the field (the key the screens use); msgid: the English text;
# msgstr: the translation. Keep every {{placeholder}}; polite register;
# short sentences, the action first. See docs/translating.md.
#"""


def english(domain: str) -> dict[str, str]:
    """Field -> English text of ``domain``'s table."""
    module, _, name = DOMAINS[domain].partition(":")
    if module not in sys.modules:
        catalogue.read_english_only()   # this process is the extractor's from now on
    table: Any = getattr(importlib.import_module(module), name)
    return dict(table) if isinstance(table, dict) else catalogue.fields_of(table)


def template(domain: str) -> Any:
    """``domain``'s template as a Babel ``Catalog``."""
    from babel.messages.catalog import Catalog
    pot = Catalog(domain=domain, project=PROJECT, header_comment=HEADER.format(domain=domain), fuzzy=False)
    for field, text in english(domain).items():
        names = ", ".join(f"{{{n}}}" for n in sorted(placeholders(text)))
        pot.add(text, context=field, auto_comments=[f"placeholders: {names}"] if names else [])
    return pot


def updated(po: Any, pot: Any) -> Any:
    """``po`` brought up to date with ``pot``: entries matched by field; a field whose
    English changed keeps its translation, marked fuzzy."""
    po.update(pot, no_fuzzy_matching=True, update_header_comment=False)
    gone = {message.context: key for key, message in po.obsolete.items()}
    for message in po:
        if message.id and not message.string and message.context in gone:
            old = po.obsolete.pop(gone.pop(message.context))
            message.string, message.previous_id = old.string, [old.id]
            message.flags.add("fuzzy")
    return po


def _text(catalog: Any) -> bytes:
    from babel.messages.pofile import write_po
    out = io.BytesIO()
    write_po(out, catalog, no_location=True, include_previous=True)
    return out.getvalue()


def _entries(catalog: Any) -> list[tuple[Any, ...]]:
    """What a catalogue says, without its dates."""
    return [(m.context, m.id, m.string or "", sorted(m.flags), m.auto_comments, m.previous_id) for m in catalog if m.id] + \
        sorted((m.context, m.id, m.string) for m in catalog.obsolete.values())


def extract(locale_dir: Path = LOCALE_DIR, write: bool = True) -> list[Path]:
    """Make every domain's template and update every language's .po with it. Returns the
    files that changed (with ``write=False``: that would change, writing nothing)."""
    changed = []
    for domain in DOMAINS:
        pot = template(domain)
        path = locale_dir / f"{domain}.pot"
        if not path.is_file() or _entries(read_catalogue(path)) != _entries(pot):
            changed.append(path)
            if write:
                path.write_bytes(_text(pot))
        for folder in language_dirs(locale_dir):
            po_path = folder / f"{domain}.po"
            if po_path.is_file():
                before = read_catalogue(po_path)
                after = updated(read_catalogue(po_path), pot)
                if _entries(before) != _entries(after):
                    changed.append(po_path)
                    if write:
                        po_path.write_bytes(_text(after))
    return changed


def init(code: str, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Begin language ``code``: a copy of every template in ``<code>/LC_MESSAGES``, to be
    translated (a file already there is left alone). Returns the files made.

    Raises ValueError when ``code`` is not a language code."""
    if not LANGUAGE_CODE.fullmatch(code) or code == catalogue.SOURCE:
        raise ValueError(f"{code!r}: a language code is two or three small letters, and maybe _Script (ko, zh_Hans)")
    made = []
    for domain, pot_path in templates(locale_dir).items():
        path = locale_dir / code / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            continue
        po = read_catalogue(pot_path)
        po.locale = code
        po.header_comment = HEADER.format(domain=domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_text(po))
        made.append(path)
    return made
