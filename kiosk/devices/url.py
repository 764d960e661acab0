"""Device URLs: parsed once, here, for every driver.

Grammar::

    scheme[+transport]://[host[:port]][/path][?key=value&key=value...]

``kerong+serial:///dev/ttyUSB0?boards=2&baud=19200`` has scheme ``kerong+serial``, path
``/dev/ttyUSB0`` and two parameters. Drivers read parameters through the typed getters
below and finish with :meth:`DeviceURL.reject_unknown`, so a misspelt parameter is an
error that names it instead of being ignored.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import overload
from urllib.parse import parse_qsl, urlsplit, unquote

from kiosk.errors import DeviceURLError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class DeviceURL:
    raw: str
    scheme: str
    host: str
    path: str
    params: dict[str, str]
    _used: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def parse(cls, url: str) -> "DeviceURL":
        """Split ``url`` into scheme, host, path and parameters (percent-escapes decoded).

        Raises DeviceURLError for anything that is not a device URL: no ``://``, no
        scheme, a host urllib refuses (an unclosed or invalid ``[IPv6]``), a parameter
        given twice, or a control character (a NUL in a port name), escaped or not."""
        if not isinstance(url, str) or "://" not in url:
            raise DeviceURLError(f"{url!r} is not a device URL (expected scheme://...)")
        try:
            parts = urlsplit(url)
        except ValueError as err:   # e.g. "Invalid IPv6 URL"
            raise DeviceURLError(f"{url!r} is not a device URL: {err}") from None
        if not parts.scheme:
            raise DeviceURLError(f"{url!r} has no scheme")
        params: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
            if key in params:
                raise DeviceURLError(f"{url!r}: parameter {key!r} given twice")
            params[key] = value
        path = unquote(parts.path)
        for text in (url, path, *params, *params.values()):
            bad = _CONTROL.search(text)
            if bad:
                raise DeviceURLError(f"{url!r} contains a control character (U+{ord(bad.group()):04X})")
        return cls(url, parts.scheme.lower(), parts.netloc, path, params)

    def require_port(self, example: str, scheme: str | None = None) -> str:
        """The serial port a ``scheme:///dev/...`` URL names (its path). Raises DeviceURLError
        when the URL has a host or no path, or (with ``scheme``) is another scheme's."""
        if scheme is not None and self.scheme != scheme:
            raise DeviceURLError(f"{self.raw!r}: expected a {scheme}:// URL")
        if self.host or not self.path:
            raise DeviceURLError(f"{self.raw!r}: give the port as a path, e.g. {example}")
        return self.path

    # --- typed getters ------------------------------------------------------------------
    # Named after the types they return, so below them the signatures say builtins.int.

    def _get(self, key: str) -> str | None:
        self._used.add(key)
        return self.params.get(key)

    # Each getter returns its default's type when one is given: ``url.int("baud", 19200)`` is
    # an int, ``url.int("baud")`` an int or None.
    @overload
    def str(self, key: builtins.str, default: builtins.str) -> builtins.str: ...
    @overload
    def str(self, key: builtins.str, default: None = None) -> builtins.str | None: ...

    def str(self, key: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self._get(key)
        return default if value is None else value

    @overload
    def int(self, key: builtins.str, default: builtins.int, *,
            lo: builtins.int | None = None, hi: builtins.int | None = None) -> builtins.int: ...
    @overload
    def int(self, key: builtins.str, default: None = None, *,
            lo: builtins.int | None = None, hi: builtins.int | None = None) -> builtins.int | None: ...

    def int(self, key: builtins.str, default: builtins.int | None = None, *,
            lo: builtins.int | None = None, hi: builtins.int | None = None) -> builtins.int | None:
        value = self._get(key)
        if value is None:
            return default
        try:
            number = int(value, 0)
        except ValueError:
            raise DeviceURLError(f"{self.raw!r}: {key}={value!r} is not an integer") from None
        self._check_range(key, number, lo, hi)
        return number

    @overload
    def float(self, key: builtins.str, default: builtins.float, *,
              lo: builtins.float | None = None, hi: builtins.float | None = None) -> builtins.float: ...
    @overload
    def float(self, key: builtins.str, default: None = None, *,
              lo: builtins.float | None = None, hi: builtins.float | None = None) -> builtins.float | None: ...

    def float(self, key: builtins.str, default: builtins.float | None = None, *,
              lo: builtins.float | None = None, hi: builtins.float | None = None) -> builtins.float | None:
        value = self._get(key)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise DeviceURLError(f"{self.raw!r}: {key}={value!r} is not a number") from None
        self._check_range(key, number, lo, hi)
        return number

    def bool(self, key: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self._get(key)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise DeviceURLError(f"{self.raw!r}: {key}={value!r} is not a boolean")

    @overload
    def ints(self, key: builtins.str, default: list[builtins.int]) -> list[builtins.int]: ...
    @overload
    def ints(self, key: builtins.str, default: None = None) -> list[builtins.int] | None: ...

    def ints(self, key: builtins.str, default: list[builtins.int] | None = None) -> list[builtins.int] | None:
        value = self._get(key)
        if value is None:
            return default
        try:
            return [int(v, 0) for v in value.split(",") if v.strip()]
        except ValueError:
            raise DeviceURLError(f"{self.raw!r}: {key}={value!r} is not a comma-separated list of integers") from None

    def choice(self, key: builtins.str, choices: tuple[builtins.str, ...], default: builtins.str) -> builtins.str:
        value = self._get(key)
        if value is None:
            return default
        if value not in choices:
            raise DeviceURLError(f"{self.raw!r}: {key}={value!r} is not one of {', '.join(choices)}")
        return value

    def reject_unknown(self) -> None:
        """Raise DeviceURLError naming every parameter no getter asked for."""
        unknown = sorted(set(self.params) - self._used)
        if unknown:
            raise DeviceURLError(f"{self.raw!r}: unknown parameter(s) {', '.join(unknown)}")

    def _check_range(self, key, number, lo, hi) -> None:
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise DeviceURLError(f"{self.raw!r}: {key}={number} is out of range [{lo}, {hi}]")
