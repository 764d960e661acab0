"""An emulated ccTalk bus behind a pty: the host's port sees real ccTalk devices.

The real driver (``drivers.cash.cctalk``) opens ``sim.port`` (e.g. ``/dev/pts/7``) as it
would open ``/dev/ttyUSB1``. Like the single data wire of a real bus, every byte the host
sends comes back to it (the echo, switchable); then the addressed device answers. Faults
switchable at any time: ``inject_garbage`` (noise between exchanges), ``lose_replies(n)``
(the next n replies never come), ``corrupt_replies(n)`` (a flipped bit), ``drop_bytes(n)``
(a byte missing from each of the next n replies), ``silent(address)``.

Every frame in and out and every fault goes to ``history``.

``cctalk_sim`` builds the ``sim+cctalk://`` device: this bus, a coin acceptor at 2, a bill
validator at 40 and a hopper at 3, with the real driver on the pty::

    sim+cctalk://?echo=1&hopper_coins=50&hopper_coin=JP100A
    (and every cctalk+serial parameter except the port)
"""

from __future__ import annotations

import os
import select
import threading
import tty

from drivers.cash import cctalk_codec as codec
from drivers.cash.cctalk import CashDevicesCcTalk
from hwsim.cash.devices import BillValidatorSim, CcTalkDeviceSim, CoinAcceptorSim, HopperSim
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

SOURCE = "cctalk"


class CcTalkBusSim:
    """One ccTalk bus with any number of emulated devices on it."""

    def __init__(self, devices: list[CcTalkDeviceSim], *, echo: bool = True, history: History | None = None):
        addresses = [d.address for d in devices]
        if len(set(addresses)) != len(addresses) or codec.HOST in addresses:
            raise ValueError(f"device addresses must be distinct and not {codec.HOST} (the host): {addresses}")
        self.devices = {d.address: d for d in devices}
        self.echo = echo
        self.history = history or History()
        self.port: str | None = None
        self._parser = codec.FrameParser(crc=None)
        self._lose = self._corrupt = self._drop = 0
        self._lose_to: dict[int, int] = {}  # header -> replies to it still to lose
        self._silent: frozenset[int] = frozenset()
        self._fds: tuple[int, int, int, int] | None = None
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()
        self._lifecycle = threading.Lock()

    def device(self, kind: type) -> CcTalkDeviceSim:
        """The first device of class ``kind``. Raises LookupError."""
        for device in self.devices.values():
            if isinstance(device, kind):
                return device
        raise LookupError(f"no {kind.__name__} on this bus")

    @property
    def acceptor(self) -> CoinAcceptorSim:
        return self.device(CoinAcceptorSim)  # type: ignore[return-value]

    @property
    def validator(self) -> BillValidatorSim:
        return self.device(BillValidatorSim)  # type: ignore[return-value]

    @property
    def hopper(self) -> HopperSim:
        return self.device(HopperSim)  # type: ignore[return-value]

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "CcTalkBusSim":
        """Create the pty and start answering. Idempotent."""
        with self._lifecycle:
            if self._thread is not None:
                return self
            master, slave = os.openpty()
            tty.setraw(slave)
            wake_r, wake_w = os.pipe()
            self._fds = (master, slave, wake_r, wake_w)
            self.port = os.ttyname(slave)
            self._thread = threading.Thread(target=self._serve, name=f"cctalk-sim {self.port}", daemon=True)
            self._thread.start()
            self.history.record(SOURCE, "started", port=self.port, devices=sorted(self.devices))
            return self

    def stop(self) -> None:
        """Stop answering and remove the pty. Idempotent."""
        with self._lifecycle:
            if self._thread is None or self._fds is None:
                return
            os.write(self._fds[3], b"x")
            self._thread.join()
            self._thread = None
            for fd in self._fds:
                os.close(fd)
            self._fds = None
            self.history.record(SOURCE, "stopped", port=self.port)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> "CcTalkBusSim":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"on {self.port}" if self.running else "stopped"
        kinds = ", ".join(f"{d.category}@{a}" for a, d in sorted(self.devices.items()))
        return f"<CcTalkBusSim [{kinds}] echo={self.echo} {state}>"

    # --- faults ---------------------------------------------------------------------------

    def lose_replies(self, n: int = 1) -> None:
        """The next ``n`` replies are never sent (the devices still act on the commands)."""
        self._lose = n
        self.history.record(SOURCE, "fault", fault="lose_replies", n=n)

    def lose_reply_to(self, header: int, n: int = 1) -> None:
        """The next ``n`` replies to ``header`` are never sent (the command is still obeyed):
        the worst case for a command that moves money."""
        self._lose_to = {**self._lose_to, header: n}
        self.history.record(SOURCE, "fault", fault="lose_reply_to", header=header, n=n)

    def corrupt_replies(self, n: int = 1) -> None:
        """The next ``n`` replies arrive with one bit flipped."""
        self._corrupt = n
        self.history.record(SOURCE, "fault", fault="corrupt_replies", n=n)

    def drop_bytes(self, n: int = 1) -> None:
        """The next ``n`` replies each lose one byte on the line."""
        self._drop = n
        self.history.record(SOURCE, "fault", fault="drop_bytes", n=n)

    def silent(self, address: int, on: bool = True) -> None:
        """Device ``address`` stops answering (or answers again). Raises ValueError."""
        if address not in self.devices:
            raise ValueError(f"no device at address {address}")
        self._silent = frozenset(self._silent | {address} if on else self._silent - {address})
        self.history.record(SOURCE, "fault", fault="silent", address=address, on=on)

    def inject_garbage(self, data: bytes) -> None:
        """Write ``data`` on the line now. Raises RuntimeError if not started."""
        if self._fds is None:
            raise RuntimeError(f"{self!r} is not started")
        self.history.record(SOURCE, "garbage", frame=codec.hexdump(data))
        with self._write_lock:
            os.write(self._fds[0], data)

    # --- the bus thread -------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._fds is not None
        master, _, wake_r, _ = self._fds
        while True:
            ready, _, _ = select.select([master, wake_r], [], [])
            if wake_r in ready:
                return
            try:
                chunk = os.read(master, 4096)
            except OSError:  # no host on the line (we hold the slave open, so rarely): wait, do not spin
                select.select([wake_r], [], [], 0.05)
                continue
            if self.echo:
                with self._write_lock:
                    os.write(master, chunk)  # one wire: the host hears itself
            for frame in self._parser.feed(chunk):
                self.history.record(SOURCE, "rx", frame=str(frame), header=frame.header, dest=frame.dest)
                self._handle(frame)

    def _handle(self, frame: codec.Frame) -> None:
        device = self.devices.get(frame.dest)
        if device is None or frame.is_reply:
            return  # for nobody here, or a device's own reply heard back
        if frame.crc16 != device.crc:
            self.history.record(SOURCE, "wrong_checksum_variant", address=device.address)
            return
        reply = device.handle(frame.header, frame.data)
        if reply is None or device.address in self._silent:
            self.history.record(SOURCE, "silent", address=device.address)
            return
        raw = codec.build_frame(codec.HOST, device.address, reply[0], reply[1], crc=device.crc)
        if self._lose_to.get(frame.header):
            self._lose_to = {**self._lose_to, frame.header: self._lose_to[frame.header] - 1}
            self.history.record(SOURCE, "lost", frame=codec.hexdump(raw))
            return
        if self._lose:
            self._lose -= 1
            self.history.record(SOURCE, "lost", frame=codec.hexdump(raw))
            return
        if self._corrupt:
            self._corrupt -= 1
            raw = raw[:-1] + bytes([raw[-1] ^ 0x10])
        if self._drop:
            self._drop -= 1
            raw = raw[:2] + raw[3:]
        self.history.record(SOURCE, "tx", frame=codec.hexdump(raw), header=reply[0], src=device.address,
                            answer_to=frame.header)
        assert self._fds is not None
        with self._write_lock:
            os.write(self._fds[0], raw)


def standard_bus(*, echo: bool = True, hopper_coins: int = 50, hopper_coin: str = "JP100A",
                 validator_crc: bool = False, history: History | None = None) -> CcTalkBusSim:
    """A bus with the usual three devices at their default addresses (not started)."""
    return CcTalkBusSim([CoinAcceptorSim(), BillValidatorSim(crc=validator_crc),
                         HopperSim(coin=hopper_coin, coins=hopper_coins)], echo=echo, history=history)


def cctalk_sim(url: DeviceURL, **context) -> "EmulatedCashDevicesCcTalk":
    """The ``sim+cctalk://`` device: a started bus emulator with the real driver on its pty.

    Extra parameters: ``hopper_coin`` (coin ids, one per hopper, default JP100A) and
    ``hopper_coins`` (coins in each hopper, default 50). The emulator is on ``.sim`` and stops
    when the driver is closed. Raises DeviceURLError."""
    options, coins, fill = _sim_options(url)
    url.reject_unknown()  # before anything runs: a misspelt parameter must not leak an emulator
    devices: list[CcTalkDeviceSim] = []
    crc = set(options["crc"])
    if options["acceptor"] is not None:
        devices.append(CoinAcceptorSim(options["acceptor"], crc=options["acceptor"] in crc))
    if options["validator"] is not None:
        devices.append(BillValidatorSim(options["validator"], crc=options["validator"] in crc,
                                        country=options["country"]))
    for i, address in enumerate(options["hoppers"]):
        devices.append(HopperSim(address, coin=coins[min(i, len(coins) - 1)], coins=fill, crc=address in crc,
                                 serial=0x00C0FE + i))
    sim = CcTalkBusSim(devices, echo=options["echo"]).start()
    try:
        return EmulatedCashDevicesCcTalk(sim, url=url.raw, **options)
    except BaseException:
        sim.stop()
        raise


def _sim_options(url: DeviceURL) -> tuple[dict, list[str], int]:
    options = CashDevicesCcTalk.options_from_url(url)
    coins = (url.str("hopper_coin", "JP100A") or "").split(",")
    if any(codec.coin_value(c) is None for c in coins):
        raise DeviceURLError(f"{url.raw!r}: hopper_coin takes coin ids such as JP100A")
    fill = url.int("hopper_coins", 50, lo=0, hi=100_000)
    return options, coins, fill or 0


def _check_cctalk_sim(url: DeviceURL) -> None:
    _sim_options(url)


cctalk_sim.check_url = _check_cctalk_sim  # type: ignore[attr-defined]


class EmulatedCashDevicesCcTalk(OwnsEmulator, CashDevicesCcTalk):
    """The real ccTalk driver, owning the bus emulator it talks to."""

    def __init__(self, sim: CcTalkBusSim, **options):
        assert sim.port is not None
        super().__init__(sim.port, **options)
        self.sim = sim
