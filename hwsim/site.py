"""A whole simulated pickup point: config, parcels, controller and emulated locks.

Used by ``hwsim demo``, ``hwsim scenario``, the benchmarks and the tests, so all of them
run the real controller and the real lock drivers against the same emulators. With
``store=`` (a hwsim.store.StoreEmulator) the site is linked to an emulated store backend:
its key is registered there and ``[store]`` points at it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from kiosk.clock import Clock, ManualClock
from kiosk.config import load
from kiosk.security.keys import load_or_create_site_key, public_key_text
from kiosk.security.secrets import HashParams, hash_secret
from kiosk.service import manifest
from kiosk.service.controller import Controller
from kiosk.service.dto import DoorOpening
from kiosk.service.events import Event
from hwsim.parcels import DemoParcel, make_parcels, manifest_document

COURIER_CODE = "24680"

# Cheap hashes for scenarios and tests (still Argon2id, parameters stored with each hash);
# production uses the config's (OWASP) parameters.
FAST_HASH = HashParams(memory_kib=1024, iterations=1, lanes=1)

SIM_LOCKS = {"kerong": "sim+kerong", "gpio": "sim+gpio"}
"""``--locks`` choices: the emulated lock bank's URL scheme (kiosk.devices.registry)."""

# Scenarios and tests poll a Kerong bank fast and pulse GPIO solenoids briefly, so that a
# simulated day takes seconds; the demo keeps the drivers' own defaults.
QUICK_LOCKS: dict[str, dict[str, int]] = {"kerong": {"poll_ms": 20}, "gpio": {"pulse_ms": 60}}


def lock_url(locks: str, *, doors: int = 8, **params: int | str | None) -> str:
    """The ``[devices] locks`` URL of an emulated bank of ``doors`` doors: ``locks`` is
    "kerong" (one KR-CU16 board) or "gpio"; ``params`` are the driver's URL parameters
    (``poll_ms``, ``pulse_ms`` ...), left out when None."""
    if locks not in SIM_LOCKS:
        raise ValueError(f"no emulated lock bank {locks!r} (choose from {', '.join(SIM_LOCKS)})")
    query: dict[str, int | str] = {"boards": 1} if locks == "kerong" else {}
    query["doors"] = doors
    query.update({key: value for key, value in params.items() if value is not None})
    return f"{SIM_LOCKS[locks]}://?{urlencode(query)}"


def write_config(folder: Path, *, locks: str = "kerong", doors: int = 8, hash_params: HashParams = FAST_HASH,
                 extra: str = "", open_timeout_s: float = 15, left_open_alarm_s: float = 120,
                 scanner: str | None = None, desk_scanners: tuple[str, ...] = (), card: str | None = None,
                 cash: str | None = None, biometric: str | None = None,
                 token: str | None = None, speech: str | None = None, low_doors: tuple[int, ...] = (),
                 sizes: dict[str, tuple[int, ...]] | None = None) -> Path:
    """``scanner``: a scanner device URL for ``[devices] scanner`` (e.g. ``sim+camera://?fps=30``);
    ``desk_scanners``: the counter desk's own scanners (``[counter] scanners``);
    ``card``: an IC card reader URL for ``[devices] card`` (e.g. ``sim+pcsc://``);
    ``cash``: the payment slot's URL for ``[devices] cash`` (e.g. ``sim+cctalk://?poll_ms=10``);
    ``biometric``: the fingerprint sensor's URL for ``[devices] biometric`` (e.g. ``sim+r30x://``);
    ``token``: the counter's token reader for ``[devices] token`` (e.g. ``sim+rdm6300://``);
    ``speech``: spoken guidance for ``[devices] speech`` (e.g. ``sim+espeak://``);
    ``low_doors`` and ``sizes`` (size -> doors): ``[lockers] low`` and ``[lockers.sizes]``."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)   # the database lives here: private whatever the umask (kiosk.storage.db)
    url = lock_url(locks, doors=doors, **QUICK_LOCKS[locks]) if locks in SIM_LOCKS else locks
    scanner_line = f"scanner = {toml_value(scanner)}" if scanner else ""
    scanner_line += f"\ncard = {toml_value(card)}" if card else ""
    scanner_line += f"\ncash = {toml_value(cash)}" if cash else ""
    scanner_line += f"\nbiometric = {toml_value(biometric)}" if biometric else ""
    scanner_line += f"\ntoken = {toml_value(token)}" if token else ""
    scanner_line += f"\nspeech = {toml_value(speech)}" if speech else ""
    sizes_table = ("[lockers.sizes]\n" + "".join(f"{size.lower()} = {list(doors)}\n" for size, doors in sizes.items())
                   if sizes else "")
    path = folder / "kiosk.toml"
    path.write_text(f"""
[site]
id = "sim-site"
database = "kiosk.db"

[devices]
locks = {toml_value(url)}
{scanner_line}

[counter]
scanners = [{", ".join(toml_value(u) for u in desk_scanners)}]

[lockers]
open_timeout_s = {open_timeout_s}
left_open_alarm_s = {left_open_alarm_s}
low = {list(low_doors)}
{sizes_table}

[security]
argon2_memory_kib = {hash_params.memory_kib}
argon2_iterations = {hash_params.iterations}
argon2_lanes = {hash_params.lanes}

[[couriers]]
id = "courier-sim"
code_hash = "{hash_secret(COURIER_CODE, hash_params)}"
{extra}
""", encoding="utf-8")
    return path


def toml_value(value) -> str:
    """``value`` (a string, bool or number) written as a TOML value."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def store_config(store, *, verification: dict | None = None, **settings) -> str:
    """The ``[store]`` (and ``[verification]``) tables of a site linked to ``store``, a
    StoreEmulator that has been started: its URL and its pinned key, then ``settings``
    (batch_size, timeout_s, backoff_max_s, ...) and ``verification`` as given."""
    lines = ["", "[store]", f"url = {toml_value(store.url)}", f"public_key = {toml_value(store.public_key_text)}"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    if verification:
        lines += ["", "[verification]"] + [f"{key} = {toml_value(value)}" for key, value in verification.items()]
    return "\n".join(lines) + "\n"


def register_site(config, store) -> str:
    """Create the site's key (as the controller will find it) and register it with ``store``."""
    key = load_or_create_site_key(config.site_key_path)
    text = public_key_text(key.public_key())
    store.register_site(config.site_id, text)
    return text


@dataclass
class SimSite:
    controller: Controller
    clock: Clock
    parcels: list[DemoParcel] = field(default_factory=list)
    store: object | None = None   # the StoreEmulator the site is linked to, if any

    @property
    def sim(self):
        """The lock-bank emulator (KerongBoardSim or GpioDoorSim): doors, faults, history."""
        return self.controller.site.locks.sim

    @property
    def doors(self):
        return self.sim.doors

    async def add_parcels(self, count: int, rng: random.Random, **kw) -> list[DemoParcel]:
        params = self.controller.config.hash_params
        made = make_parcels(count, rng, params, now=self.clock.now(), **kw)
        self.controller.import_manifest(manifest.parse(manifest_document(made)), "sim")
        self.parcels.extend(made)
        return made

    async def deposit(self, parcel: DemoParcel, timeout: float = 10.0) -> int:
        """A courier loads ``parcel`` through the real flow; returns the locker number."""
        c = self.controller
        token = (await c.courier_login(COURIER_CODE)).token
        locker = await self.put_in(token, parcel.trade_number, timeout)
        await c.courier_logout(token)
        return locker

    async def through_door(self, call: Awaitable[DoorOpening], hand: str, done: str,
                           timeout: float = 10.0) -> tuple[DoorOpening, Event]:
        """A person's ``call`` (not yet awaited: the events are listened to first) opens a
        door; once it is seen open they ``hand`` ("put" or "take") the parcel and shut it,
        and the controller's ``done`` event follows. Raises what ``call`` raises."""
        with self.controller.subscribe() as events:
            opening = await call
            n = opening.locker
            await events.next("door_open", timeout=timeout, where=lambda e: e["locker"] == n)
            getattr(self.doors, hand)(n)
            self.doors.close(n)
            return opening, await events.next(done, timeout=timeout, where=lambda e: e["locker"] == n)

    async def take_out(self, submit: Awaitable[DoorOpening], timeout: float = 10.0) -> DoorOpening:
        """A recipient's ``submit`` (e.g. ``controller.submit_code(...)``) opens their door;
        they take the parcel and shut it: collected."""
        return (await self.through_door(submit, "take", "parcel_collected", timeout))[0]

    async def send(self, trade_number: str, code: str, timeout: float = 10.0) -> int:
        """Someone sends a parcel with its drop-off code: in it goes, arrived. Returns the locker."""
        opening, _ = await self.through_door(self.controller.drop_off(trade_number, code), "put", "parcel_arrived",
                                             timeout)
        return opening.locker

    async def take_on_round(self, token: str, locker: int, timeout: float = 10.0) -> Event:
        """The courier's round empties ``locker``; returns its ``parcel_returned`` event."""
        return (await self.through_door(self.controller.open_for_round(token, locker), "take", "parcel_returned",
                                        timeout))[1]

    async def put_in(self, token: str, trade_number: str, timeout: float = 10.0) -> int:
        """The signed-in courier ``token`` loads one parcel: arrived. Returns the locker."""
        opening, _ = await self.through_door(self.controller.deposit(token, trade_number), "put", "parcel_arrived",
                                             timeout)
        return opening.locker


async def start_site(folder: Path, *, clock: Clock | None = None, store=None, store_settings: dict | None = None,
                     verification: dict | None = None, rng: random.Random | None = None, **config_kw) -> SimSite:
    """Start a simulated site; with ``store`` (a started StoreEmulator) linked to it."""
    if store is not None:
        config_kw["extra"] = config_kw.get("extra", "") + store_config(store, verification=verification,
                                                                         **(store_settings or {}))
    config = load(write_config(folder, **config_kw))
    if store is not None:
        register_site(config, store)
    clock = clock or ManualClock()
    controller = Controller(config, clock=clock, rng=rng)
    await controller.start()
    return SimSite(controller, clock, store=store)
