"""The store backend, emulated: a real HTTP server on loopback speaking docs/api/PROTOCOL.md.

    from hwsim.store import StoreEmulator
    with StoreEmulator(folder, clock=clock) as store: ...     # see hwsim.store.emulator

Modules: ``emulator`` (control API), ``contract`` (the /v1 routes, signatures, faults),
``operations`` (what the store does), ``wire`` (request checks), ``db`` (SQLite),
``faults``, ``server`` (loopback HTTP), ``admin`` (/_admin/ for the CLI), ``cli``.
"""

from hwsim.store.contract import RequestRecord, signing_input
from hwsim.store.emulator import CreatedParcel, StoreEmulator
from hwsim.store.faults import NAMES as FAULTS
from hwsim.store.operations import Limits

__all__ = ["StoreEmulator", "CreatedParcel", "RequestRecord", "Limits", "FAULTS", "signing_input"]
