"""One error hierarchy for the whole controller.

Errors are arranged two ways, like python-can's and gpiozero's:
- by *phase* of a device's life: unavailable (cannot load), init (cannot open),
  operation (failed while working), timeout (no answer in time);
- by *domain*: a code that is not valid, a parcel locked out, a door fault, ...

Each also inherits the matching builtin where one fits (``DeviceTimeout`` is a
``TimeoutError``), so callers that know nothing of this module still do the right
thing. Vendor errors are wrapped with ``raise ... from err``.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error this project raises on purpose."""


# --- configuration -----------------------------------------------------------------------

class ConfigError(KioskError, ValueError):
    """The configuration is wrong. ``problems`` lists (key, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]] | str, path: str | None = None):
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems = problems
        self.path = path
        lines = [f"{k}: {r}" if k else r for k, r in problems]
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(lines))


# --- devices, by phase -------------------------------------------------------------------

class DeviceError(KioskError):
    """Something went wrong with a device."""


class DeviceUnavailable(DeviceError):
    """The implementation cannot be loaded: unknown URL scheme, missing package, no such device."""


class DeviceURLError(DeviceError, ValueError):
    """A device URL does not follow its driver's grammar."""


class DeviceInitError(DeviceError):
    """The device exists but could not be opened or brought to a known state."""


class DeviceOperationError(DeviceError):
    """The device failed while working (garbage on the line, bad checksum, refused command)."""


class DeviceTimeout(DeviceOperationError, TimeoutError):
    """The device did not answer in time.

    ``sent`` says whether the command left for the device: False when it certainly did
    not (nothing can have happened), None when it may have (it did not confirm)."""

    def __init__(self, message: str = "", *, sent: bool | None = None):
        super().__init__(message)
        self.sent = sent


class DeviceClosed(DeviceOperationError):
    """An operation was attempted on a device that is not open."""


# --- keys ------------------------------------------------------------------------------

class KeyFileError(KioskError):
    """A key file is missing, unreadable, malformed or readable by others."""


# --- storage -----------------------------------------------------------------------------

class StorageError(KioskError):
    """The database refused an operation or is not in the expected shape."""


# --- domain ------------------------------------------------------------------------------

class DomainError(KioskError):
    """A rule of the pickup point forbids what was asked."""


class InvalidTransition(DomainError):
    """A parcel or locker cannot move from its current state to the one asked for."""


class UnknownParcel(DomainError, LookupError):
    """No parcel with that trade number is held here."""


class CodeInvalid(DomainError):
    """The trade number and secret (or courier code) do not match.

    ``attempts_left`` says how many tries remain before the parcel is locked out
    (``None`` when no single parcel is concerned)."""

    def __init__(self, message: str = "code not valid", attempts_left: int | None = None):
        super().__init__(message)
        self.attempts_left = attempts_left


class LockedOut(DomainError):
    """Too many wrong attempts on this parcel: a clerk or the store must reset it."""


class SlowDown(DomainError):
    """Too many failures at this site recently: the next attempt is allowed after ``retry_after`` s."""

    def __init__(self, retry_after: float):
        super().__init__(f"too many failed attempts here; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


class NotCollectable(DomainError):
    """The parcel exists but cannot be collected now (not arrived yet, already collected, expired, held)."""


class NoLockerFree(DomainError):
    """No working locker is free for a deposit."""


class DoorFault(DomainError):
    """A locker door did not behave: it did not open when commanded (jammed), or its state is unknown."""


class SeeStaff(DomainError):
    """The request cannot be completed by the machine; a person must help."""
