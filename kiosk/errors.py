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


# --- IC cards (F3) -----------------------------------------------------------------------

class CardRemoved(DeviceOperationError):
    """No card in the reader, or it was pulled out while a command ran. Whether a command
    that was under way reached the card is unknown: read the card again before trusting it."""


class CardStatusError(DeviceOperationError):
    """The card refused a command: ``sw`` is the status word (e.g. 0x6982)."""

    def __init__(self, message: str, sw: int):
        super().__init__(message)
        self.sw = sw


class CardPinWrong(CardStatusError):
    """The card rejected the PIN. ``tries_left`` is what the card says remains (63Cx)."""

    def __init__(self, message: str, sw: int, tries_left: int):
        super().__init__(message, sw)
        self.tries_left = tries_left


class CardPinBlocked(CardStatusError):
    """The card's PIN is blocked (6983, or no tries left): it must never be tried again here;
    only the store can reset it with the admin PIN."""


class CardNotSupported(DeviceOperationError):
    """The card is not one the parcel-card profile can use (docs/cards.md): no OpenPGP
    application, no private-use DOs, or a signing algorithm we cannot verify."""


class CashDeviceError(DeviceOperationError):
    """A cash device refused or failed a command (escrow cannot be routed, hopper will not
    dispense). ``device`` names it: "acceptor", "validator" or "hopper"."""

    def __init__(self, message: str, *, device: str = ""):
        super().__init__(message)
        self.device = device


class EscrowEmpty(CashDeviceError):
    """accept_escrow() or return_escrow() with no note in escrow."""


# --- keys ------------------------------------------------------------------------------

class KeyFileError(KioskError):
    """A key file is missing, unreadable, malformed or readable by others."""


# --- the store backend (kiosk.sync) ------------------------------------------------------

class SyncError(KioskError):
    """An exchange with the store backend failed. Nothing it carried was applied here."""


class StoreUnreachable(SyncError, ConnectionError):
    """No answer from the store: refused, reset, timed out or TLS failed.

    The request may or may not have been processed there (an event batch is therefore
    sent again later; the store drops what it already has by event id)."""


class StoreRejected(SyncError):
    """The store answered with an error status. ``status`` is the HTTP status and
    ``code`` the store's error code (``"http_<status>"`` when it gave none)."""

    def __init__(self, message: str, *, status: int, code: str = "", sequence: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or f"http_{status}"
        self.sequence = sequence   # a signed 410 cursor_unknown: the store's manifest sequence now


class StoreBusy(StoreRejected):
    """The store asked us to slow down (429); ask again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, code: str = "rate_limited"):
        super().__init__(message, status=429, code=code)
        self.retry_after = retry_after


class BadStoreReply(SyncError, ValueError):
    """The store's reply is not what the protocol allows: not JSON, wrong shape, wrong
    ids, too large. Treated as a failed exchange, reported, never applied."""


class BadStoreSignature(BadStoreReply):
    """A document said to come from the store does not carry a valid signature by the
    store's pinned key. Rejected and reported; it never changes local state."""


# --- the fleet link (kiosk.fleet) ---------------------------------------------------------

class FleetError(KioskError):
    """The MQTT link to the fleet's broker failed, or was set up wrongly."""


class CommandRefused(FleetError):
    """A remote command was not accepted. ``reason`` is one of kiosk.fleet.commands.REASONS
    (malformed, unsigned, bad_signature, wrong_site, expired, not_yet_valid, too_long,
    unknown_op, bad_args, replayed); it is audited and answered on the site's cmd/result."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


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
    """The parcel exists but cannot be collected now. ``reason`` says which case, for screens:
    not_arrived, collected, expired, at_counter, in_locker, door_busy, payment_due,
    card_required (an IC-card parcel: opens with its card), wrong_method (None: another)."""

    def __init__(self, message: str = "cannot be collected now", reason: str | None = None):
        super().__init__(message)
        self.reason = reason


class PaymentDue(NotCollectable):
    """The parcel has money due (``amount_due``, minor units) and no payment has been taken:
    no hand-over path may release it (a clerk may, confirming the payment was taken)."""

    def __init__(self, message: str = "payment is due before hand-over", amount_due: int = 0):
        super().__init__(message, "payment_due")
        self.amount_due = amount_due


class NoLockerFree(DomainError):
    """No working locker is free for a deposit. ``reason``: none_free, no_fitting_door (none
    free is big enough), no_low_door (its recipient needs a door they can reach)."""

    def __init__(self, message: str, reason: str = "none_free"):
        super().__init__(message)
        self.reason = reason


class DoorFault(DomainError):
    """A locker door did not behave: it did not open when commanded (jammed), or its state is unknown."""


class SeeStaff(DomainError):
    """The request cannot be completed by the machine; a person must help."""


class CardProblem(SeeStaff):
    """A parcel card cannot be used for this hand-over (what a screen is told; the
    Card* device errors are the driver's). ``reason``: removed (put it back and try again),
    blocked, unsupported, failed (a card error: staff)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason

class NotAllowed(KioskError):
    """This connection may not make that call: sign in with a staff code first (or again,
    after inactivity). Raised by kioskd's service socket (kiosk.service.socket_server)."""


class UnknownAlarm(DomainError):
    """No such alarm is waiting to be acknowledged."""


class UnknownDevice(KioskError, LookupError):
    """No device is configured in that role at this site."""


class FingerProblem(SeeStaff):
    """A finger could not be checked for this hand-over (F5), and no attempt was counted.
    ``reason``: no_finger, poor_image (place it again), unavailable (the sensor or the
    store cannot check now: staff)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class OutOfService(SeeStaff):
    """The pickup point cannot record what it would do (its storage is failing): it
    refuses new hand-overs and drop-offs until it can."""


# --- parcel tags (F1, F2) ----------------------------------------------------------------

class TagError(DomainError):
    """A parcel tag (the 2-D code the store prints, docs/tags.md) cannot be used."""


class TagMalformed(TagError, ValueError):
    """Not a readable tag: not ours, truncated, damaged in reading, wrong length, or carrying
    parameters outside the allowed bounds. Harmless by itself: scan again."""


class TagUnsupportedVersion(TagMalformed):
    """A tag of a format version or kind this controller does not know."""


class TagForged(TagError):
    """The tag is well formed but the store's signature does not verify: someone else made it."""


class TagNotForThisSite(TagError):
    """A genuine tag, made by the store for another pickup point."""


class TagSwapped(TagError):
    """A genuine tag for this site, but of another parcel than the label it is on."""


class TokenMismatch(TagSwapped):
    """The token read at the counter is not the one the store bound to this parcel (F4):
    swapped, or a copy of another parcel's."""


class CounterIncomplete(DomainError):
    """The counter has not read everything a hand-over needs yet. ``missing`` names what:
    "label" (the parcel's trade number), "tag", "secret", or "verification" (confirm
    without a fresh successful check)."""

    def __init__(self, message: str, missing: str):
        super().__init__(message)
        self.missing = missing
