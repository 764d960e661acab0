"""Camera frames with real 2-D codes in them, for the camera emulator and the bench.

A frame is what a webcam above a kiosk counter would see: a cardboard-grey scene with
boxes and tape, and (unless the frame is idle) a paper label carrying a QR code or a Data
Matrix with lines of print around it, held at some angle, lit unevenly, out of focus,
noisy. Codes are real symbols (segno for QR in byte mode, no ECI; zxing-cpp's writer for
Data Matrix), so whatever decodes them decodes what a printer would print.

A scene is rendered at twice the output size and area-downsampled, which gives the
anti-aliased module edges a camera sensor gives (the method of the decoder measurements in
shared/reference/barcode-decoders-measured.md, so figures can be compared). Sensor noise
is left out of ``render_scene`` and added per frame by ``add_noise``, because a real
camera's noise changes from frame to frame while the scene does not.

Named conditions (``CONDITIONS``) are ranges sampled with a seeded ``random.Random``, so
a failing frame can be rendered again from its seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

import cv2
import numpy as np

PAPER, INK = 225, 30  # grey levels of label paper and print
SYMBOLOGIES = ("qr", "datamatrix")


@dataclass(frozen=True)
class Conditions:
    """How one code is shown to the camera. Sizes are fractions of the frame width."""

    size: float = 0.3            # width of the symbol (without quiet zone) / frame width
    center: tuple[float, float] = (0.5, 0.5)  # of the symbol, as fractions of width, height
    rotation: float = 0.0        # in-plane, degrees
    tilt: float = 0.0            # the label plane turned away from the camera, degrees
    tilt_axis: float = 0.0       # in-plane direction of the tilt axis, degrees
    blur: float = 0.4            # Gaussian sigma, output pixels (focus)
    motion: float = 0.0          # length of a linear motion smear, output pixels
    noise: float = 2.0           # sensor noise sigma, grey levels (added per frame)
    contrast: float = 1.0        # ink-to-paper difference scale
    gradient: tuple[float, float] = (1.0, 1.0)  # illumination from one side to the other
    glare: float = 0.0           # peak of a specular highlight, 0..1 of full white
    glare_at: tuple[float, float] = (0.0, 0.0)  # its centre, relative to the symbol (-0.5..0.5)
    occlusion: float = 0.0       # fraction of the symbol's width covered by a strip (damage)


# name -> ranges; a tuple (lo, hi) is sampled uniformly, anything else taken as is.
CONDITIONS: dict[str, dict] = {
    "clean": {},
    "noise": {"noise": (9.0, 11.0)},
    "blur": {"blur": (0.9, 1.4)},
    "rotation": {"rotation": (10.0, 30.0)},
    "perspective": {"tilt": (20.0, 35.0), "rotation": (0.0, 5.0)},
    "glare": {"glare": (0.6, 0.9), "blur": (0.5, 0.7)},
    "lowcon": {"contrast": (0.22, 0.30)},
    "motion": {"motion": (3.0, 6.0)},
    "small": {"size": (0.16, 0.2)},
    "combined": {"rotation": (10.0, 30.0), "tilt": (10.0, 25.0), "blur": (0.6, 1.0), "contrast": (0.45, 0.6),
                 "noise": (5.0, 5.0), "gradient": ((0.7, 0.8), (1.0, 1.1))},
    "damaged": {"occlusion": (0.35, 0.5)},  # a torn or smudged label: must NOT read
}
HARD = ("noise", "blur", "rotation", "perspective", "glare", "lowcon", "motion", "combined")


def conditions(name: str, rng: random.Random, **overrides) -> Conditions:
    """Sample the named condition. Raises KeyError for an unknown name."""
    spec = CONDITIONS[name]
    values: dict = {"size": rng.uniform(0.22, 0.34),
                    "center": (rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.55)),
                    "tilt_axis": rng.uniform(0.0, 180.0)}
    for key, value in spec.items():
        if key == "gradient":
            values[key] = (rng.uniform(*value[0]), rng.uniform(*value[1]))
        elif isinstance(value, tuple):
            values[key] = rng.uniform(*value)
        else:
            values[key] = value
    if "rotation" in values:
        values["rotation"] *= rng.choice((-1, 1))
    if "glare" in values:  # over a part of the code: the worst place, and where it happens
        values["glare_at"] = (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3))
    return replace(Conditions(**values), **overrides)


# --- symbols ----------------------------------------------------------------------------

def code_modules(payload: bytes, symbology: str = "qr") -> np.ndarray:
    """The symbol as a module matrix (uint8, 1 = dark), without quiet zone.

    QR: byte mode, ECC M, no ECI (segno; never a Micro QR). Data Matrix: zxing-cpp's
    writer. Raises ValueError for an unknown symbology or a payload too long for it."""
    if symbology == "qr":
        import segno
        try:
            qr = segno.make_qr(bytes(payload), error="m", mode="byte")
        except segno.DataOverflowError as err:
            raise ValueError(f"{len(payload)} bytes do not fit in a QR code") from err
        return np.array(qr.matrix, dtype=np.uint8)
    if symbology == "datamatrix":
        import zxingcpp
        try:
            symbol = zxingcpp.create_barcode(bytes(payload), zxingcpp.BarcodeFormat.DataMatrix)
        except Exception as err:  # the writer raises a bare ValueError/RuntimeError
            raise ValueError(f"cannot encode {len(payload)} bytes as Data Matrix: {err}") from err
        image = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False))
        return (image < 128).astype(np.uint8)
    raise ValueError(f"symbology {symbology!r} is not one of {', '.join(SYMBOLOGIES)}")


def _label(modules: np.ndarray, rng: random.Random, px: int, occlusion: float) -> tuple[np.ndarray, tuple]:
    """A paper label (grey image) with the symbol and lines of print; also the symbol's box."""
    rows, cols = modules.shape
    quiet = 4 * px
    code_w, code_h = cols * px, rows * px
    text_h = max(px * 2, code_w // 12)
    width = code_w + 2 * quiet
    height = code_h + 2 * quiet + 4 * text_h
    label = np.full((height, width), PAPER, np.uint8)
    top = quiet + 2 * text_h
    symbol = np.where(np.kron(modules, np.ones((px, px), np.uint8)) > 0, INK, PAPER).astype(np.uint8)
    label[top:top + code_h, quiet:quiet + code_w] = symbol
    for line in range(2):  # print above and below: the clutter a parcel label has
        for y0 in (quiet // 2 + line * text_h, top + code_h + quiet // 2 + line * text_h):
            x = quiet
            while x < width - quiet:
                w = rng.randint(text_h, 4 * text_h)
                cv2.rectangle(label, (x, y0 + text_h // 5), (min(x + w, width - quiet), y0 + text_h * 4 // 5), INK, -1)
                x += w + text_h // 2
    if occlusion > 0:  # a strip torn off across the symbol
        strip = int(code_w * occlusion)
        x0 = quiet + (code_w - strip) // 2
        label[:, x0:x0 + strip] = PAPER
    return label, (quiet, top, code_w, code_h)


def _background(w: int, h: int, rng: random.Random) -> np.ndarray:
    shade = np.array([[rng.uniform(105, 150) for _ in range(8)] for _ in range(6)], np.float32)
    bg = cv2.resize(shade, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.randint(1, 3)):  # box edges and straps
        p0 = (rng.randrange(w), rng.randrange(h))
        p1 = (rng.randrange(w), rng.randrange(h))
        cv2.line(bg, p0, p1, float(rng.uniform(60, 190)), rng.randint(w // 80, w // 25))
    return bg


def _homography(src_w: int, src_h: int, sym_box: tuple, cond: Conditions, out_w: int, out_h: int) -> np.ndarray:
    """Label pixels -> frame pixels: scale, tilt (pinhole camera, ~53 deg field of view), rotate, place."""
    qx, qy, cw, ch = sym_box
    k = cond.size * out_w / cw
    cx, cy = qx + cw / 2, qy + ch / 2  # the symbol's centre is the pivot
    corners = np.array([[0, 0], [src_w, 0], [src_w, src_h], [0, src_h]], np.float64) - (cx, cy)
    pts = np.c_[corners * k, np.zeros(4)]
    axis = math.radians(cond.tilt_axis)
    u = np.array([math.cos(axis), math.sin(axis), 0.0])
    t = math.radians(cond.tilt)
    ux = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    rot = np.eye(3) * math.cos(t) + math.sin(t) * ux + (1 - math.cos(t)) * np.outer(u, u)
    pts = pts @ rot.T
    focal = out_w / (2 * math.tan(math.radians(53) / 2))
    pts = pts[:, :2] * (focal / (focal + pts[:, 2:3]))
    r = math.radians(cond.rotation)
    pts = pts @ np.array([[math.cos(r), math.sin(r)], [-math.sin(r), math.cos(r)]])
    pts += (cond.center[0] * out_w, cond.center[1] * out_h)
    return cv2.getPerspectiveTransform(corners.astype(np.float32) + np.float32((cx, cy)), pts.astype(np.float32))


def render_scene(width: int, height: int, modules: np.ndarray | None, cond: Conditions,
                 rng: random.Random, label: np.ndarray | None = None) -> np.ndarray:
    """A noise-free grey frame (float32, 0..255): background, and the symbol (``modules``)
    on a label, or a ready-made ``label`` image (e.g. a rendered parcel label) whose whole
    width then counts as the symbol for ``cond.size``. Neither: an idle frame."""
    ss = 2  # supersampling
    W, H = width * ss, height * ss
    frame = _background(W, H, rng)
    glare_at = None
    if modules is not None or label is not None:
        if label is None:
            px = max(2, int(math.ceil(cond.size * W / modules.shape[1] / 1.5)))
            label, box = _label(modules, rng, px, cond.occlusion)
        else:
            label = label if label.ndim == 2 else cv2.cvtColor(label, cv2.COLOR_BGR2GRAY)
            box = (0, 0, label.shape[1], label.shape[0])
        M = _homography(label.shape[1], label.shape[0], box, cond, W, H)
        cv2.warpPerspective(label.astype(np.float32), M, (W, H), dst=frame, flags=cv2.INTER_AREA,
                            borderMode=cv2.BORDER_TRANSPARENT)
        qx, qy, cw, ch = box
        at = np.array([[[qx + cw * (0.5 + cond.glare_at[0]), qy + ch * (0.5 + cond.glare_at[1])]]], np.float32)
        glare_at = cv2.perspectiveTransform(at, M)[0, 0] / ss
    frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    frame = 128 + (frame - 128) * cond.contrast
    if cond.gradient != (1.0, 1.0):
        ramp = np.linspace(cond.gradient[0], cond.gradient[1], width, dtype=np.float32)
        frame *= ramp[None, :]
    if cond.glare > 0 and glare_at is not None:  # a specular highlight saturates the sensor
        yy, xx = np.ogrid[:height, :width]
        radius = cond.size * width * 0.18
        gx, gy = glare_at
        frame += 255 * cond.glare * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius ** 2)).astype(np.float32)
    if cond.motion > 0:
        n = max(2, int(round(cond.motion)))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        frame = cv2.filter2D(frame, -1, kernel)
    if cond.blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), cond.blur)
    return np.clip(frame, 0, 255)


def add_noise(scene: np.ndarray, sigma: float, rng: np.random.Generator, bgr: bool = True) -> np.ndarray:
    """One camera frame of ``scene``: fresh sensor noise, 8 bits, BGR as a webcam gives it."""
    noisy = scene if sigma <= 0 else scene + rng.normal(0.0, sigma, scene.shape).astype(np.float32)
    frame = np.clip(noisy, 0, 255).astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if bgr else frame


def render_frame(width: int, height: int, payload: bytes | None, symbology: str = "qr",
                 condition: str = "clean", seed: int = 0, bgr: bool = True) -> np.ndarray:
    """One complete frame from a seed: the bench's and the tests' shortcut. ``payload``
    None gives an idle frame. Raises KeyError (condition), ValueError (symbology, size)."""
    rng = random.Random(seed)
    cond = conditions(condition, rng)
    modules = None if payload is None else code_modules(payload, symbology)
    scene = render_scene(width, height, modules, cond, rng)
    return add_noise(scene, cond.noise, np.random.default_rng(seed), bgr)
