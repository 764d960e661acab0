"""The text catalogues (kiosk/locale, kiosk.i18n): every language complete in every domain
with the English placeholders, the templates up to date with the English tables, broken
catalogues refused at build and at import with the language, domain and field named, and a
language added as a directory alone showing up everywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import languages
from kiosk.i18n import catalogue, extract
from kiosk.i18n.__main__ import main
from kiosk.i18n.build import LOCALE_DIR, CatalogueError, compile_catalogues, placeholders, read_catalogue
from kiosk.ui import texts
from kiosk.ui.counter import site_names
from kiosk.ui.counter import texts as counter_texts
from kiosk.ui.technician import texts as technician_texts

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"recipient": texts.LANGUAGES, "counter": counter_texts.LANGUAGES,
          "technician": technician_texts.LANGUAGES}


def as_fields(table) -> dict[str, str]:
    return dict(table) if isinstance(table, dict) else catalogue.fields_of(table)


def shipped() -> dict[str, dict[str, dict[str, str]]]:
    """Domain -> language -> field -> text, as the screens have them."""
    out = {domain: {code: as_fields(t) for code, t in tables.items()} for domain, tables in TABLES.items()}
    out["counter_names"] = {code: {f"{group}.{value}": text for group, names in (
        ("list", site_names.LIST_NAMES), ("parcel_state", site_names.PARCEL_STATES),
        ("locker_state", site_names.LOCKER_STATES), ("door_state", site_names.DOOR_STATES),
        ("alarm", site_names.ALARMS), ("method", site_names.METHODS)) for value, text in names[code].items()}
        for code in languages.CODES}
    return out


def test_english_japanese_and_a_third_language_are_listed_with_their_own_names():
    assert languages.CODES[:2] == ("en", "ja") and len(languages.CODES) >= 3
    assert languages.LANGUAGES["en"] == "English" and languages.LANGUAGES["ja"] == "日本語"
    assert languages.LANGUAGES["ko"] == "한국어"


@pytest.mark.parametrize("domain", sorted(extract.DOMAINS))
def test_every_language_is_complete_in_every_domain_with_the_english_placeholders(domain):
    words = shipped()[domain]
    english = extract.english(domain)
    assert list(words) == list(languages.CODES) and words["en"] == english
    for code, table in words.items():
        assert list(table) == list(english), code
        for field, text in table.items():
            assert text.strip(), (code, domain, field)
            assert placeholders(text) == placeholders(english[field]), (code, domain, field, text)
            if code != "en" and "language_name" == field:
                assert text == languages.LANGUAGES[code]


def test_the_templates_and_catalogues_are_up_to_date_with_the_english_tables():
    """What `python -m kiosk.i18n extract --check` says: nothing to change."""
    assert extract.extract(write=False) == []


@pytest.mark.parametrize("code", [c for c in languages.CODES if c != "en"])
def test_round_trip_po_to_mo_to_table(code, tmp_path):
    """Each shipped .po, compiled again, is exactly what the screens' tables hold."""
    compile_catalogues(LOCALE_DIR, tmp_path)
    for domain in extract.DOMAINS:
        po = read_catalogue(LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po")
        from_po = {m.context: m.string for m in po if m.id}
        assert shipped()[domain][code] == from_po
        assert catalogue.entries(extract.english(domain), domain, languages.LANGUAGES, tmp_path)[code] == from_po


def test_japanese_is_what_the_tables_said_before_the_catalogues():
    assert texts.JA.welcome == "いらっしゃいませ" and texts.JA.step == "手順 {n}／{total}"
    assert counter_texts.JA.title == "カウンター・荷物の引き渡し"
    assert technician_texts.JA.pulled == "荷物一覧を取得しました：新規 {added} 件、取消 {cancelled} 件。"


# --- broken catalogues --------------------------------------------------------------------

@pytest.fixture
def locale(tmp_path) -> Path:
    """A copy of the catalogues' sources, to break."""
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def edit(locale: Path, code: str, domain: str, old: str, new: str) -> None:
    path = locale / code / "LC_MESSAGES" / f"{domain}.po"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("old, new, says", [
    ('msgstr "{n}번 문이 열렸습니다"', 'msgstr ""', "ko/recipient: door_is_open: has no translation"),
    ('msgstr "{n}번 문이 열렸습니다"', 'msgstr "{m}번 문이 열렸습니다"',
     "ko/recipient: door_is_open: '{m}번 문이 열렸습니다' has the placeholders {m}, English has {n}"),
    ('msgstr "{n}번 문이 열렸습니다"', 'msgstr "문이 열렸습니다"', "door_is_open: '문이 열렸습니다' has the placeholders none"),
    ('msgstr "{n}번 문이 열렸습니다"', 'msgstr "{n번 문이 열렸습니다"', "ko/recipient: door_is_open: '{n번 문이 열렸습니다' is not a valid"),
    ('msgctxt "door_is_open"\nmsgid "Door {n} is open"\nmsgstr "{n}번 문이 열렸습니다"\n', "",
     "ko/recipient: door_is_open: is missing"),
    ('msgctxt "door_is_open"', '#, fuzzy\nmsgctxt "door_is_open"', "ko/recipient: door_is_open: is marked fuzzy"),
    ('msgid "Door {n} is open"', 'msgid "Door {n} is now open"',
     "ko/recipient: door_is_open: translates an older English text"),
])
def test_a_broken_po_is_refused_at_build_naming_language_domain_and_field(locale, tmp_path, old, new, says):
    edit(locale, "ko", "recipient", old, new)
    with pytest.raises(CatalogueError) as refused:
        compile_catalogues(locale, tmp_path / "out")
    assert says in str(refused.value)
    assert not (tmp_path / "out").exists()                                   # nothing written


def test_a_missing_catalogue_or_an_unknown_entry_is_refused_at_build(locale, capsys):
    (locale / "ko" / "LC_MESSAGES" / "technician.po").unlink()
    edit(locale, "ja", "counter", 'msgctxt "title"', 'msgctxt "headline"')
    assert main(["--locale-dir", str(locale), "compile"]) == 1
    err = capsys.readouterr().err
    assert "ko/technician: missing" in err
    assert "ja/counter: 'headline': not in the template" in err and "ja/counter: title: is missing" in err


def write_mo(locale: Path, code: str, domain: str, change) -> None:
    """A .mo made from the .po after ``change(catalog)``, skipping the build's checks (as
    another gettext tool would)."""
    from babel.messages.mofile import write_mo as babel_write_mo
    po = read_catalogue(locale / code / "LC_MESSAGES" / f"{domain}.po")
    change(po)
    with (locale / code / "LC_MESSAGES" / f"{domain}.mo").open("wb") as f:
        babel_write_mo(f, po)


def test_a_broken_mo_is_refused_at_import_naming_language_domain_and_field(locale):
    compile_catalogues(locale)
    english = catalogue.fields_of(texts.EN)

    def wrong_placeholder(po):
        po.get("Door {n} is open", context="door_is_open").string = "{x}번 문"
        po.delete("Welcome", context="welcome")
    write_mo(locale, "ko", "recipient", wrong_placeholder)
    with pytest.raises(CatalogueError) as refused:
        catalogue.tables(texts.EN, "recipient", languages.LANGUAGES, locale)
    assert "ko/recipient: welcome: has no translation of 'Welcome'" in refused.value.problems
    assert "ko/recipient: door_is_open: '{x}번 문' has the placeholders {x}, English has {n}" in refused.value.problems
    assert catalogue.entries(english, "recipient", {"en": "English", "ja": "日本語"}, locale)["ja"]["welcome"]


def test_a_catalogue_not_compiled_again_or_naming_its_language_otherwise_is_refused_at_import(locale):
    english = catalogue.fields_of(technician_texts.EN)
    with pytest.raises(CatalogueError, match=r"ja/technician: not compiled .* `python -m kiosk.i18n compile`"):
        catalogue.entries(english, "technician", languages.LANGUAGES, locale)
    compile_catalogues(locale)
    po = locale / "ja" / "LC_MESSAGES" / "technician.po"
    later = (locale / "ja" / "LC_MESSAGES" / "technician.mo").stat().st_mtime + 10
    os.utime(po, (later, later))
    with pytest.raises(CatalogueError, match="ja/technician: .* is older than its .po"):
        catalogue.entries(english, "technician", languages.LANGUAGES, locale)
    compile_catalogues(locale)
    write_mo(locale, "ko", "technician", lambda po: setattr(po.get("English", context="language_name"), "string", "조선말"))
    with pytest.raises(CatalogueError, match="ko/technician: language_name: '조선말', but the language is listed as '한국어'"):
        catalogue.entries(english, "technician", languages.LANGUAGES, locale)


# --- a new language: a directory and nothing else ----------------------------------------

def add_french(locale: Path) -> None:
    """What a translator does (docs/translating.md): `init fr`, every msgstr filled in."""
    assert main(["--locale-dir", str(locale), "init", "fr"]) == 0
    for path in (locale / "fr" / "LC_MESSAGES").glob("*.po"):
        po = read_catalogue(path)
        for message in po:
            if message.id:
                message.string = "Français" if message.context == "language_name" else f"«{message.id}»"
        path.write_bytes(extract._text(po))
    assert main(["--locale-dir", str(locale), "compile"]) == 0


def test_a_new_language_directory_is_listed_and_read(locale):
    add_french(locale)
    assert catalogue.discover(locale) == {**languages.LANGUAGES, "fr": "Français"}
    tables = catalogue.tables(texts.EN, "recipient", catalogue.discover(locale), locale)
    assert tables["fr"].door_is_open == "«Door {n} is open»" and tables["ko"] == texts.LANGUAGES["ko"]


@pytest.mark.slow
def test_a_new_language_reaches_the_screens_and_the_config_without_a_code_change(tmp_path):
    """A copy of the package with one more catalogue directory, imported in a new process."""
    shutil.copytree(ROOT / "kiosk", tmp_path / "kiosk", ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    add_french(tmp_path / "kiosk" / "locale")
    probe = """
from kiosk.languages import CODES, LANGUAGES
from kiosk.ui.texts import texts_for
from kiosk.ui.counter.texts import counter_texts_for
from kiosk.ui.counter.site_names import METHODS
from kiosk.config import schema
assert CODES == ("en", "fr", "ja", "ko") and LANGUAGES["fr"] == "Français", LANGUAGES
assert texts_for("fr").welcome == "«Welcome»" and counter_texts_for("fr").ok == "«OK»"
assert METHODS["fr"]["secret"] == "«secret»"
assert schema._languages(("fr", "en")) is None and "fr" in schema.StaffContact.__dataclass_fields__
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_language_code_is_checked(locale):
    with pytest.raises(ValueError, match="language code"):
        extract.init("French", locale)
    (locale / "French" / "LC_MESSAGES").mkdir(parents=True)
    with pytest.raises(CatalogueError, match="'French' is not a language code"):
        catalogue.discover(locale)
