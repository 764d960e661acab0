"""An emulated camera above the counter: frames with real codes in them, at a camera's pace.

``capture()`` returns what ``cv2.VideoCapture`` is to the driver (``read() -> (ok, frame)``,
``isOpened()``, ``set()``, ``get()``, ``release()``), so the real camera driver runs its own
capture and decoding threads on these frames. ``read()`` blocks until the next frame is
due at ``fps``, like a camera; ``fps=0`` serves frames as fast as they are asked for.

What is in view is set through the control API, and stays until changed, as a code held
up to a camera does:

    show(payload, symbology="qr", condition="clean")  a QR / Data Matrix on a label, under
                       a named condition of ``hwsim.scanners.frames`` (noise, blur,
                       rotation, perspective, glare, lowcon, motion, combined, damaged, ...)
    show_parcel_label(trade_number, tag)  the label kiosk.labels prints (QR + Code 128)
    show_label(image)  any rendered label image, or a phone's screen
    show_image(image)  a photograph, letterboxed into the frame as it is
    idle()             nothing: the counter, with or without a label lacking a code
    unplug()/replug()  the USB cable: reads fail while out, the driver reopens

Each scene is rendered once; frames differ by fresh sensor noise (``variants`` of them,
cycled), as a real camera's do. ``stamp=True`` writes the frame number into the first
four pixels so a test can tell which frame the driver decoded. Every change and every
capture opened or released goes to ``history``.

``camera_sim`` builds the ``sim+camera://`` device: this emulator plus the real driver::

    sim+camera://?scene=idle&payload=HELLO&symbology=qr&width=1280&height=720&fps=30
                  (and every camera:// parameter except the capture ones)
"""

from __future__ import annotations

import random
import threading
import time

import cv2
import numpy as np

from drivers.scanners.base import base_options
from drivers.scanners.camera import ScannerCamera
from hwsim.history import History
from hwsim.scanners import frames
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

SOURCE = "camera"


class SimCapture:
    """One open of the emulated camera: the VideoCapture interface."""

    def __init__(self, sim: "CameraSim"):
        self._sim = sim
        self._released = threading.Event()
        self._next = time.monotonic()
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:
        return not self._released.is_set() and self._sim.plugged

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self._sim.fps > 0:
            wait = self._next - time.monotonic()
            if wait > 0 and self._released.wait(wait):
                return False, None
            self._next = max(self._next, time.monotonic() - 1.0) + 1.0 / self._sim.fps
        if not self.isOpened():
            return False, None
        return True, self._sim._next_frame()

    def grab(self) -> bool:
        return self.read()[0]

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: self._sim.width, cv2.CAP_PROP_FRAME_HEIGHT: self._sim.height,
                cv2.CAP_PROP_FPS: self._sim.fps}.get(prop, self.props.get(prop, 0.0))

    def release(self) -> None:
        if not self._released.is_set():
            self._released.set()
            self._sim.history.record(SOURCE, "released")


class CameraSim:
    """The camera and what is in front of it."""

    def __init__(self, width: int = 1280, height: int = 720, fps: float = 30.0, *, variants: int = 4,
                 seed: int = 0, stamp: bool = False, history: History | None = None):
        self.width, self.height, self.fps = width, height, fps
        self.variants, self.stamp = max(1, variants), stamp
        self.history = history or History()
        self.rng = random.Random(seed)
        self._noise_rng = np.random.default_rng(seed)
        self.plugged = True
        self.frames_served = 0
        self.scene = "idle"
        self._frames: list[np.ndarray] = []
        self._lock = threading.Lock()
        self.idle()

    def __repr__(self) -> str:
        return f"<CameraSim {self.width}x{self.height}@{self.fps:g} {self.scene!r} {'plugged' if self.plugged else 'unplugged'}>"

    def capture(self) -> SimCapture:
        """A new VideoCapture-like handle (what the driver opens)."""
        self.history.record(SOURCE, "opened", plugged=self.plugged)
        return SimCapture(self)

    # --- what is in view ----------------------------------------------------------------------

    def show(self, payload: bytes | str, symbology: str = "qr", condition: str = "clean",
             seed: int | None = None, **overrides) -> frames.Conditions:
        """Hold a code up to the camera. Returns the sampled conditions. Raises KeyError
        (condition), ValueError (symbology, payload too long)."""
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        rng = random.Random(self.rng.random() if seed is None else seed)
        cond = frames.conditions(condition, rng, **overrides)
        scene = frames.render_scene(self.width, self.height, frames.code_modules(data, symbology), cond, rng)
        self._set(scene, cond.noise, f"{condition} {symbology}", size=len(data), condition=condition)
        return cond

    def show_label(self, image: np.ndarray, condition: str = "clean", seed: int | None = None,
                   **overrides) -> frames.Conditions:
        """Hold a rendered label (grey or BGR image; its width counts as the code's for the
        condition's size) up to the camera. Raises KeyError for an unknown condition."""
        rng = random.Random(self.rng.random() if seed is None else seed)
        cond = frames.conditions(condition, rng, **{"size": 0.45, **overrides})
        scene = frames.render_scene(self.width, self.height, None, cond, rng, label=image)
        self._set(scene, cond.noise, f"label {condition}", condition=condition)
        return cond

    def show_parcel_label(self, trade_number: str, tag: str | None = None, condition: str = "clean",
                          seed: int | None = None, **overrides) -> frames.Conditions:
        """Hold up a parcel label as ``kiosk.labels`` prints it: the tag's QR and the trade
        number's Code 128. Raises ValueError, TagMalformed (what kiosk.labels raises),
        KeyError (condition)."""
        from kiosk import labels  # the printer's own renderer: the camera sees what is printed
        image = np.asarray(labels.to_image(labels.layout(trade_number, tag, dpi=200)))
        return self.show_label(image, condition, seed, **{"size": 0.55, **overrides})

    def show_image(self, image: np.ndarray, noise: float = 0.0) -> None:
        """Put a photograph in view, scaled to fit and centred on grey."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        scale = min(self.width / gray.shape[1], self.height / gray.shape[0], 1.0)
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        scene = np.full((self.height, self.width), 128, np.float32)
        y, x = (self.height - gray.shape[0]) // 2, (self.width - gray.shape[1]) // 2
        scene[y:y + gray.shape[0], x:x + gray.shape[1]] = gray
        self._set(scene, noise, "photo", shape=list(image.shape[:2]))

    def idle(self, clutter: bool = True) -> None:
        """Nothing to read: the counter (with a label that carries print but no code)."""
        rng = random.Random(self.rng.random())
        cond = frames.conditions("clean", rng)
        label = None
        if clutter:
            label = np.full((300, 220), frames.PAPER, np.uint8)
            for y in range(20, 280, 24):
                cv2.rectangle(label, (16, y), (16 + rng.randint(60, 190), y + 12), frames.INK, -1)
        scene = frames.render_scene(self.width, self.height, None, cond, rng, label=label)
        self._set(scene, cond.noise, "idle")

    # --- faults ---------------------------------------------------------------------------------

    def unplug(self) -> None:
        self.plugged = False
        self.history.record(SOURCE, "unplugged")

    def replug(self) -> None:
        self.plugged = True
        self.history.record(SOURCE, "plugged")

    # --- frames ---------------------------------------------------------------------------------

    def _set(self, scene: np.ndarray, noise: float, name: str, **detail) -> None:
        rendered = [frames.add_noise(scene, noise, self._noise_rng) for _ in range(self.variants)]
        with self._lock:
            self._frames, self.scene = rendered, name  # one assignment: readers see old or new
        self.history.record(SOURCE, "scene", scene=name, **detail)

    def _next_frame(self) -> np.ndarray:
        with self._lock:
            self.frames_served += 1
            number = self.frames_served
            frame = self._frames[number % len(self._frames)]
        if self.stamp:
            frame = frame.copy()
            frame[0, :4, 0] = np.frombuffer(number.to_bytes(4, "big"), np.uint8)
        return frame


def frame_number(frame: np.ndarray) -> int:
    """The number ``stamp=True`` wrote into ``frame``."""
    return int.from_bytes(bytes(frame[0, :4, 0]), "big")


def camera_sim(url: DeviceURL, **context) -> ScannerCamera:
    """The ``sim+camera://`` device: an emulated camera with the real driver on it. The
    emulator is on ``scanner.sim``. Raises DeviceURLError, DeviceUnavailable."""
    sim, options = _sim_settings(url)
    scanner = ScannerCamera("sim", url=url.raw, capture_factory=sim.capture, **options, **base_options(context))
    scanner.sim = sim
    return scanner


def _sim_settings(url: DeviceURL) -> tuple[CameraSim, dict]:
    options = ScannerCamera.options_from_url(url)
    scene = url.choice("scene", ("idle", *frames.CONDITIONS), "idle")
    payload = url.str("payload", "HWSIM-TEST-CODE-0001")
    symbology = url.choice("symbology", frames.SYMBOLOGIES, "qr")
    seed = url.int("seed", 0)
    url.reject_unknown()
    for capture_only in ("fourcc", "backend"):
        options.pop(capture_only)
    sim = CameraSim(options.pop("width"), options.pop("height"), options.pop("fps"), seed=seed)
    if scene != "idle":
        try:
            sim.show(payload, symbology, scene)
        except ValueError as err:
            raise DeviceURLError(f"{url.raw!r}: {err}") from err
    return sim, options


def _check_camera_sim(url: DeviceURL) -> None:
    ScannerCamera.options_from_url(url)
    url.choice("scene", ("idle", *frames.CONDITIONS), "idle")
    url.str("payload")
    url.choice("symbology", frames.SYMBOLOGIES, "qr")
    url.int("seed", 0)


camera_sim.check_url = _check_camera_sim
