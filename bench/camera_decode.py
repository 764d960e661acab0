"""Camera decoding: frames per second and read rates of pyzbar, zxing-cpp and our pipeline.

Measured in one run, on one core (the process is pinned to one CPU and OpenCV to one
thread), on frames from the camera emulator (hwsim.scanners.frames: real QR and Data
Matrix symbols with 40/150/300-byte random binary payloads on a label, rendered at 2x and
area-downsampled):

- fps at 640x480 and 1280x720, with a code in view (clean, rotated, tilted, noisy, low
  contrast, combined) and without (cluttered idle frames), for
    pyzbar      zbar via pyzbar with the BINARY option (else its bytes are not exact);
                QR only: zbar has no Data Matrix reader
    zxing       zxing-cpp, QR + Data Matrix, every other option at its default
    zxing_fast  zxing-cpp as the pipeline calls it in its cheap passes (no inverted or
                downscaled search), on the full frame
    pipeline    drivers.scanners.pipeline.ScanPipeline as the camera driver runs it
    driver      the whole camera driver (capture thread, mailbox, decode thread) on an
                emulated 60 frames/s camera: CPU ms per decoded frame, and the frames
                per second one core could decode at that cost
  every decoder is handed the camera's BGR frame; its colour conversion is timed too;
- read rates (exact payload bytes) on the emulator's hard frames (noise, blur, rotation,
  perspective, glare, low contrast, motion, combined), per frame: pipeline = camera mode,
  pipeline_all = every pass (what a still photo gets);
- read rates on the 40 real photographs in tests/data/photos.

Goal (issue 4): the pipeline >= 30 frames/s on one core at 1280x720 with a code in view,
and within 1.2x of the fastest raw decoder it uses.

    python bench/camera_decode.py [--json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2

from drivers.scanners.camera import ScannerCamera
from drivers.scanners.decoders import PyzbarDecoder, ZxingDecoder
from drivers.scanners.pipeline import ScanPipeline
from hwsim.scanners import frames
from hwsim.scanners.camera import CameraSim

SIZES = ((640, 480), (1280, 720))
CODE_CONDITIONS = ("clean", "rotation", "perspective", "noise", "lowcon", "combined")
PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
GOAL_FPS, GOAL_RATIO = 30.0, 1.2


def decoders() -> dict:
    zxing, pyzbar = ZxingDecoder(("qr", "datamatrix")), PyzbarDecoder(("qr",))
    pipeline = ScanPipeline()
    gray = lambda f: cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)  # noqa: E731
    return {
        "pyzbar": lambda f: pyzbar.read(gray(f)),
        "zxing": lambda f: zxing.read_default(f),
        "zxing_fast": lambda f: zxing.read(gray(f)),
        "pipeline": lambda f: pipeline.decode(f),
    }


def frame_set(width: int, height: int, with_code: bool, n: int, seed: int) -> list[tuple]:
    out = []
    for i in range(n):
        rng = random.Random(seed + i)
        if with_code:
            payload = rng.randbytes(rng.choice((40, 150, 300)))
            symbology = ("qr", "datamatrix")[i % 2]
            condition = CODE_CONDITIONS[i % len(CODE_CONDITIONS)]
            out.append((frames.render_frame(width, height, payload, symbology, condition, seed + i), payload, symbology))
        else:
            sim = CameraSim(width, height, fps=0, seed=seed + i, variants=1)
            sim.idle(clutter=i % 2 == 0)
            out.append((sim._next_frame(), None, None))
    return out


def time_decoder(decode, frame_list: list[tuple], reps: int) -> dict:
    per_frame, read = [], 0
    for frame, payload, _symbology in frame_list:
        runs = []
        for _ in range(reps):
            t = time.perf_counter()
            found = decode(frame)
            runs.append(time.perf_counter() - t)
        per_frame.append(statistics.median(runs))
        read += payload is not None and payload in [d.data for d in found]
    ms = sorted(x * 1000 for x in per_frame)
    return {"fps": round(len(per_frame) / sum(per_frame), 1), "ms_p50": round(statistics.median(ms), 2),
            "ms_p90": round(ms[int(0.9 * (len(ms) - 1))], 2), "read": read, "frames": len(per_frame)}


def driver_cost(width: int, height: int, with_code: bool, seconds: float) -> dict:
    """The whole driver on an emulated camera at 60 frames/s: CPU per decoded frame
    (capture thread, mailbox, decode thread, pipeline, dedupe), and what one core could
    decode at that cost. An unpaced camera would only measure the capture thread spinning."""
    sim = CameraSim(width, height, fps=60, seed=7)
    if with_code:
        sim.show(random.Random(7).randbytes(150), "qr", "clean")
    scanner = ScannerCamera("bench", capture_factory=sim.capture, dedupe_ms=1500)
    with scanner:
        time.sleep(0.3)  # warm up
        before, cpu = scanner.stats, time.process_time()
        time.sleep(seconds)  # a bench measures over wall time: this is the measurement window
        after, cpu = scanner.stats, time.process_time() - cpu
    decoded = max(1, after["decoded"] - before["decoded"])
    return {"camera_fps": 60, "decoded": decoded, "dropped": after["dropped"] - before["dropped"],
            "cpu_ms_per_frame": round(cpu * 1000 / decoded, 2), "capacity_fps": round(decoded / cpu, 1) if cpu else None}


def hard_rates(variants: int) -> dict:
    zxing, pyzbar = ZxingDecoder(("qr", "datamatrix")), PyzbarDecoder(("qr",))
    out: dict = {}
    for width, height in SIZES:
        camera = ScanPipeline()
        still = ScanPipeline()
        counts = {k: 0 for k in ("pyzbar", "zxing", "zxing_fast", "pipeline", "pipeline_all")}
        by_condition: dict = {}
        total = qr_total = 0
        for condition in frames.HARD:
            hits = 0
            for i in range(variants):
                rng = random.Random(1000 + i)
                payload, symbology = rng.randbytes(rng.choice((40, 150, 300))), ("qr", "datamatrix")[i % 2]
                frame = frames.render_frame(width, height, payload, symbology, condition, 5000 + i)
                gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                total += 1
                qr_total += symbology == "qr"
                got = {
                    "pyzbar": pyzbar.read(gray) if symbology == "qr" else [],
                    "zxing": zxing.read_default(frame), "zxing_fast": zxing.read(gray),
                    "pipeline": camera.decode(frame), "pipeline_all": still.decode(frame, thorough=True)}
                for key, found in got.items():
                    counts[key] += payload in [d.data for d in found]
                hits += payload in [d.data for d in got["pipeline"]]
            by_condition[condition] = f"{hits}/{variants}"
        rates = {k: round(v / total, 3) for k, v in counts.items()}
        rates["pyzbar_qr_only"] = round(counts["pyzbar"] / qr_total, 3)
        out[f"{width}x{height}"] = {"frames": total, "rate": rates, "pipeline_by_condition": by_condition}
    return out


def photo_rates() -> dict:
    zxing, pyzbar = ZxingDecoder(("qr", "datamatrix")), PyzbarDecoder(("qr",))
    pipeline = ScanPipeline()
    counts = {"pyzbar": 0, "zxing": 0, "pipeline_camera": 0, "pipeline_all": 0}
    pngs = sorted(PHOTOS.glob("*.png"))
    for png in pngs:
        expected = png.with_suffix(".txt").read_bytes()
        frame = cv2.imread(str(png))
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        counts["pyzbar"] += expected in [d.data for d in pyzbar.read(gray)]
        counts["zxing"] += expected in [d.data for d in zxing.read_default(frame)]
        counts["pipeline_camera"] += expected in [d.data for d in pipeline.decode(frame, thorough=False)]
        counts["pipeline_all"] += expected in [d.data for d in pipeline.decode(frame, thorough=True)]
    return {"photos": len(pngs), "read": counts}


def last_pass_cost(n: int, reps: int) -> dict:
    """What the pipeline's last pass (zbar, after every zxing-cpp pass missed) adds to a
    thorough run that finds nothing: ms per frame, on idle frames."""
    zbar = PyzbarDecoder(("qr",))
    out = {}
    for width, height in SIZES:
        frame_list = frame_set(width, height, False, n, seed=width + 1)
        out[f"{width}x{height}_ms"] = time_decoder(lambda f: zbar.read(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)),
                                                   frame_list, reps)["ms_p50"]
    return out


def one_core() -> str:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    return f"cpu {cpu}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--quick", action="store_true", help="fewer frames (a smoke run, not a measurement)")
    args = parser.parse_args()
    n_code, n_idle, reps, variants, seconds = (6, 4, 1, 2, 0.5) if args.quick else (24, 12, 3, 8, 2.0)
    pinned = one_core()
    from importlib.metadata import version
    result: dict = {"machine": {"pinned_to": pinned, "python": platform.python_version(), "opencv": cv2.__version__,
                                "zxing_cpp": version("zxing-cpp"), "pyzbar": version("pyzbar")},
                    "fps": {}, "goal": {}}
    for width, height in SIZES:
        size = f"{width}x{height}"
        for with_code in (True, False):
            frame_list = frame_set(width, height, with_code, n_code if with_code else n_idle, seed=width)
            key = f"{size} {'code' if with_code else 'idle'}"
            cell = {name: time_decoder(fn, frame_list, reps) for name, fn in decoders().items()}
            cell["driver"] = driver_cost(width, height, with_code, seconds)
            result["fps"][key] = cell
    cell = result["fps"]["1280x720 code"]
    raw = {name: cell[name]["fps"] for name in ("zxing", "zxing_fast")}
    fastest = max(raw, key=raw.get)
    ratio = raw[fastest] / cell["pipeline"]["fps"]
    result["goal"] = {"pipeline_fps_720p_code": cell["pipeline"]["fps"], "fastest_raw": fastest,
                      "fastest_raw_fps": raw[fastest], "slowdown_vs_fastest_raw": round(ratio, 3),
                      "met": cell["pipeline"]["fps"] >= GOAL_FPS and ratio <= GOAL_RATIO}
    result["zbar_last_pass"] = last_pass_cost(n_idle, reps)
    result["hard_frames"] = hard_rates(variants)
    result["real_photos"] = photo_rates()
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
