"""``load``: read a config file, check all of it, and build the ``Config``.

Three steps, each in its own module: ``fields.read`` (every key against its section's
named, typed fields), ``checks.check`` (files, device URLs, keys that go together), and,
only when neither found a problem, ``model.build``. Nothing here raises anything but
ConfigError, whatever the file holds: a technician gets ``key: reason`` lines, never a
traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from kiosk.config.checks import PathProblem, check
from kiosk.config.fields import Problems, read
from kiosk.config.model import Config, build
from kiosk.config.schema import File
from kiosk.errors import ConfigError


def load(path: str | Path, *, check_writable: bool = False) -> Config:
    """Read and check the config at ``path``.

    ``check_writable``: also check that this user could create and write the database
    (and the site key), and that the controller would not refuse the database's folder
    or files as open to other users: what ``kiosk check-config`` asks. Off by default, so
    that a read-only user can still run ``kiosk status`` on a site's config.

    Raises ConfigError listing every problem as (key, reason) pairs."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("no such file", str(path)) from None
    except (OSError, ValueError) as err:          # ValueError: a NUL in the path itself
        raise ConfigError(f"cannot read it: {getattr(err, 'strerror', None) or err}", str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"cannot read it: not UTF-8 text (byte {err.start} is {data[err.start]:#04x})",
                          str(path)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", str(path)) from None
    except ValueError as err:                     # tomllib lets int()'s own errors through (4300+ digits)
        raise ConfigError(f"not valid TOML: {err}", str(path)) from None
    problems = Problems()
    file = read(File, raw, "", problems)
    check(file, path.parent, problems, writable=check_writable)
    if problems:
        raise ConfigError(problems.items, str(path))
    try:
        return build(file, path, raw)
    except (PathProblem, ValueError) as err:      # the checks should have caught it; say so, no traceback
        raise ConfigError([("", f"cannot use this config: {err}")], str(path)) from None
