"""The one registry: (role, URL scheme) -> "module:attribute", imported lazily.

Real and simulated implementations sit side by side. The attribute is a class (or a
factory function) with ``from_url(url: DeviceURL, **context)`` — or is itself callable
that way. The role layer never imports a driver module until a config asks for it, and
a module that cannot be imported is reported with the reason (missing package, and the
package to install), never swallowed.
"""

from __future__ import annotations

import importlib
from typing import Any

from kiosk.devices.roles import ROLES
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceUnavailable, DeviceURLError

REGISTRY: dict[str, dict[str, str]] = {
    "locks": {
        "kerong+serial": "drivers.locks.kerong:LockBankKerong",
        "gpio": "drivers.locks.gpio:LockBankGpio",
        "sim+kerong": "hwsim.kerong_board:kerong_sim",
        "sim+gpio": "hwsim.gpio_doors:gpio_sim",
    },
    "scanner": {
        "serial": "drivers.scanners.serial_scanner:ScannerSerial",
        "hid": "drivers.scanners.hid:ScannerHid",
        "camera": "drivers.scanners.camera:ScannerCamera",
        "sim+serial-scanner": "hwsim.scanners.serial_scanner:serial_scanner_sim",
        "sim+hid": "hwsim.scanners.keyboard:hid_sim",
        "sim+camera": "hwsim.scanners.camera:camera_sim",
    },
    "card": {
        "pcsc": "drivers.cards.pcsc:CardReaderPcsc",
        "sim+pcsc": "hwsim.cards.sim:pcsc_sim",
    },
    "token": {
        "rdm6300": "drivers.tokens.rdm6300:TokenReaderRdm6300",
        "sim+rdm6300": "hwsim.tokens.rdm6300:rdm6300_sim",
        "pcsc-nfc": "drivers.tokens.nfc:NfcTokenReader",
        "sim+pcsc-nfc": "hwsim.tokens.ntag_sim:nfc_sim",
    },
    "biometric": {
        "r30x": "drivers.biometrics.r30x:FingerprintR30x",
        "sim+r30x": "hwsim.biometrics.r30x_sim:r30x_sim",
    },
    "cash": {
        "cctalk+serial": "drivers.cash.cctalk:CashDevicesCcTalk",
        "sim+cctalk": "hwsim.cash.bus:cctalk_sim",
    },
    "speech": {
        "espeak": "drivers.speech.espeak:SpeakerEspeak",
        "sim+espeak": "hwsim.speech:espeak_sim",
    },
}

# Which pip package provides a module a driver needs, for the error message.
_PACKAGE_OF = {"serial": "pyserial", "gpiozero": "gpiozero", "smartcard": "pyscard", "cv2": "opencv-python-headless",
               "pyzbar": "pyzbar", "zxingcpp": "zxing-cpp", "evdev": "evdev-binary", "segno": "segno", "numpy": "numpy",
               "ndef": "ndeflib", "fugashi": "fugashi", "unidic_lite": "unidic-lite"}


def schemes(role: str) -> list[str]:
    return sorted(REGISTRY.get(role, {}))


def resolve(role: str, url: str | DeviceURL) -> tuple[DeviceURL, Any]:
    """Parse ``url`` and import the implementation registered for its scheme."""
    if role not in ROLES:
        raise DeviceUnavailable(f"no device role {role!r} (roles: {', '.join(ROLES)})")
    parsed = url if isinstance(url, DeviceURL) else DeviceURL.parse(url)
    table = REGISTRY.get(role, {})
    target = table.get(parsed.scheme)
    if target is None:
        known = ", ".join(sorted(table)) or "none yet"
        raise DeviceURLError(f"{role}: URL scheme {parsed.scheme!r} is not known (known: {known})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        missing = getattr(err, "name", None) or str(err)
        package = _PACKAGE_OF.get((missing or "").split(".")[0], missing)
        raise DeviceUnavailable(
            f"{role} driver {parsed.scheme!r} cannot load: module {missing!r} is missing "
            f"(install the Python package {package!r})") from err
    try:
        return parsed, getattr(module, attr)
    except AttributeError as err:
        raise DeviceUnavailable(f"{role} driver {target!r}: {module_name} has no {attr!r}") from err


def check(role: str, url: str | DeviceURL) -> None:
    """Check ``url`` as far as can be done without touching hardware: its scheme, and its
    parameters when the implementation offers ``check_url``. Raises DeviceError."""
    parsed, impl = resolve(role, url)
    checker = getattr(impl, "check_url", None)
    if checker is not None:
        checker(parsed)
        parsed.reject_unknown()


def create(role: str, url: str | DeviceURL, **context: Any) -> Any:
    """Build (but do not open) the device for ``url``. ``context`` carries e.g. the clock."""
    parsed, impl = resolve(role, url)
    factory = getattr(impl, "from_url", impl)
    device = factory(parsed, **context)
    try:
        parsed.reject_unknown()
    except DeviceURLError:
        close = getattr(device, "close", None)
        if close is not None:  # a factory may already hold resources (an emulator, a port)
            close()
        raise
    return device


# The parcel-card application over a CardReader (docs/cards.md), named lazily like the drivers.
PARCEL_CARD = "drivers.cards.parcel_card:ParcelCardSession"


def parcel_card(reader: Any) -> Any:
    """A ParcelCard session on ``reader`` (a CardReader). Raises DeviceUnavailable."""
    module_name, _, attr = PARCEL_CARD.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)(reader)
    except ImportError as err:
        raise DeviceUnavailable(f"parcel cards cannot load: {err}") from err
