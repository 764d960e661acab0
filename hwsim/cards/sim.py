"""The ``sim+pcsc://`` device: the real PC/SC driver on a vpcd reader of a private pcscd,
with a virtual OpenPGP card to put in and take out.

URL grammar (every parameter optional)::

    sim+pcsc://?algorithm=ed25519&card_protocol=t1&inserted=1&protocol=any&share=exclusive

    algorithm      the card's signature key: ed25519 (default) or p256
    card_protocol  t1 (default) or t0: what the card's ATR offers and how it answers
    inserted       1 (default): a card is in the reader when it opens
    protocol, share   as for pcsc:// (the driver's own parameters)

The emulator is on ``reader.sim`` (a CardSlotSim: ``insert(card)``, ``remove()``,
``card``, ``slot.pull_on(...)``). The private pcscd is shared by the process; each
device takes one of its two vpcd slots and gives it back on close.
"""

from __future__ import annotations

import threading
import time

from drivers.cards.pcsc import CardReaderPcsc
from hwsim.cards.openpgp_card import OpenPGPCardSim
from hwsim.cards.pcscd import PrivatePcscd, shared_pcscd
from hwsim.cards.vpcd import VirtualCardSlot
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError, DeviceUnavailable

_taken: set[int] = set()
_taken_lock = threading.Lock()


class CardSlotSim:
    """A vpcd slot of the private pcscd, held until ``stop()``."""

    def __init__(self, pcscd: PrivatePcscd, index: int, history: History | None = None):
        self.pcscd, self.index = pcscd, index
        self.reader_name = pcscd.reader_names[index]
        self.slot = VirtualCardSlot(pcscd.ports[index], history=history)

    @classmethod
    def take(cls, history: History | None = None) -> "CardSlotSim":
        """Claim a free slot. Raises DeviceUnavailable (no pcscd/vpcd here, or both slots taken)."""
        try:
            pcscd = shared_pcscd()
        except RuntimeError as err:
            raise DeviceUnavailable(f"sim+pcsc: {err}") from err
        with _taken_lock:
            free = [i for i in range(len(pcscd.ports)) if i not in _taken]
            if not free:
                raise DeviceUnavailable("sim+pcsc: both virtual reader slots are in use")
            _taken.add(free[0])
        return cls(pcscd, free[0], history)

    @property
    def card(self) -> OpenPGPCardSim | None:
        return self.slot.card if self.slot.inserted else None

    def insert(self, card: OpenPGPCardSim, *, timeout: float = 10.0) -> None:
        """Put ``card`` in and return once pcscd reports it present, so a client that
        connects next finds it (vpcd greets the card before pcscd's poll has seen it).
        Raises ConnectionError when pcscd does not see it within ``timeout``."""
        self.slot.insert(card, timeout=timeout)
        if not self._pcscd_reports(lambda present, atr: present and atr == card.atr, timeout):
            raise ConnectionError(f"{self.reader_name}: pcscd did not see the card within {timeout} s")

    def wait_empty(self, timeout: float = 10.0) -> bool:
        """Wait until pcscd reports the slot empty. Cards with equal ATRs (NFC tags) need it
        between a removal and the next insertion: otherwise the stale "present" of the last
        one passes for the next, and pcscd talks to a card that has gone."""
        return self._pcscd_reports(lambda present, atr: not present, timeout)

    def _pcscd_reports(self, wanted, timeout: float) -> bool:
        from smartcard import scard   # pyscard: present wherever a private pcscd can run
        result, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if result != scard.SCARD_S_SUCCESS:
            return False
        try:
            state = scard.SCARD_STATE_UNAWARE
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                result, states = scard.SCardGetStatusChange(ctx, int(left * 1000), [(self.reader_name, state)])
                if result != scard.SCARD_S_SUCCESS:
                    return False
                _, event, seen = states[0]
                if wanted(bool(event & scard.SCARD_STATE_PRESENT), bytes(seen)):
                    return True
                state = event & ~scard.SCARD_STATE_CHANGED
            return False
        finally:
            scard.SCardReleaseContext(ctx)

    def remove(self) -> OpenPGPCardSim | None:
        return self.slot.remove()

    def stop(self) -> None:
        """Take the card out and give the slot back. Idempotent."""
        self.slot.remove()
        with _taken_lock:
            _taken.discard(self.index)


class EmulatedCardReaderPcsc(OwnsEmulator, CardReaderPcsc):
    """The real PC/SC driver, owning the virtual slot it reads."""

    def __init__(self, sim: CardSlotSim, **options):
        super().__init__(sim.reader_name, **options)
        self.sim = sim


def _options(url: DeviceURL) -> tuple[dict, dict]:
    card = dict(algorithm=url.choice("algorithm", ("ed25519", "p256"), "ed25519"),
                protocol={"t0": "T=0", "t1": "T=1"}[url.choice("card_protocol", ("t0", "t1"), "t1")])
    inserted = url.bool("inserted", True)
    driver = dict(protocol=url.choice("protocol", ("any", "t0", "t1"), "any"),
                  share=url.choice("share", ("exclusive", "shared"), "exclusive"))
    if url.host or url.path not in ("", "/"):
        raise DeviceURLError(f"{url.raw!r}: sim+pcsc takes parameters only")
    return dict(card=card, inserted=inserted), driver


def pcsc_sim(url: DeviceURL, **context) -> EmulatedCardReaderPcsc:
    """Build the ``sim+pcsc://`` reader (not opened). Raises DeviceURLError, DeviceUnavailable."""
    sim_options, driver_options = _options(url)
    url.reject_unknown()
    sim = CardSlotSim.take(context.get("history"))
    try:
        if sim_options["inserted"]:
            sim.insert(OpenPGPCardSim(**sim_options["card"]))
        extra = {k: context[k] for k in ("monotonic",) if k in context}
        return EmulatedCardReaderPcsc(sim, url=url.raw, **driver_options, **extra)
    except BaseException:
        sim.stop()
        raise


def _check_pcsc_sim(url: DeviceURL) -> None:
    _options(url)


pcsc_sim.check_url = _check_pcsc_sim  # type: ignore[attr-defined]
