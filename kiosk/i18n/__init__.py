"""The screens' texts in gettext catalogues (``kiosk/locale``), so that a translator adds a
language without touching code (docs/translating.md).

- ``catalogue``: the tables in every language, read at import from the compiled .mo files
  with the standard library's ``gettext`` (what the screens use);
- ``build``: .po checked against its .pot and compiled to .mo with Babel (setup.py's build
  step and ``python -m kiosk.i18n compile``);
- ``extract``: the .pot templates made from the English tables, the .po files updated
  (``python -m kiosk.i18n extract``, ``init LANG``).
"""
