"""The controller's one explicit configuration file (TOML), read and checked in full.

    from kiosk import config
    cfg = config.load("/etc/kiosk/kiosk.toml")     # a Config, or ConfigError

Every problem is collected, not just the first: unknown sections and keys (a typo must
not silently mean "default"; the known ones are listed), wrong types, out-of-range
numbers, device URLs that do not parse or name no known driver (``registry.check``,
parse-only), files that are missing, bad courier hashes. ``load`` raises one ConfigError
listing them all as (key, reason) pairs; ``kiosk check-config`` prints them and exits 2.
Relative paths are taken relative to the config file's folder.

The modules: ``schema`` (each section a frozen dataclass of named, typed fields),
``fields`` (the checker that reads a section by its fields), ``checks`` (files, drivers,
keys that go together), ``model`` (``Config`` and its assembly), ``load``.

Why a small home-made checker and not pydantic v2 or msgspec (evaluated for issue 7):
the section classes are as short either way, but pydantic's errors needed rewriting
to be as good as today's — "Input should be a valid integer" and "Extra inputs are not
permitted" say neither what was found nor which keys are known, and a list item is
located as ``ui.languages.0``; worse, a model validator (two keys together, e.g.
``backoff_max_s < backoff_initial_s``) does not run when any field of its model failed,
and its error carries no key, so "every problem at once, each under its key" would
have been lost. Files and drivers would still be checked by hand. msgspec stops at the
first error. Neither is a runtime dependency today (pydantic only arrives with the test
tools). The checker in ``fields.py`` is about 250 lines with its comments and reads the same
dataclasses.
"""

from kiosk.config.load import load
from kiosk.config.model import Config, Courier
from kiosk.errors import ConfigError

__all__ = ["Config", "ConfigError", "Courier", "load"]
