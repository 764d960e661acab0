"""The service and UI benchmarks still run (a couple of rounds each, figures not judged:
speed is measured on demand by ``./dev bench``, never asserted in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("script", "args", "keys"), [
    ("ui_latency.py", ["--rounds", "2"], {"in_process", "socket", "socket_extra_key_p50_ms"}),
    ("service_socket.py", ["--calls", "8"], {"in_process", "socket", "socket_extra_read_p50_ms"}),
])
def test_the_benchmark_runs_and_prints_its_figures(script, args, keys):
    run = subprocess.run([sys.executable, str(BENCH / script), "--json", *args], capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert keys <= set(figures)
    assert all(value > 0 for value in figures["socket"].values())


def test_the_finger_and_token_benchmark_runs():
    run = subprocess.run([sys.executable, str(BENCH / "finger_token.py"), "--json", "--rounds", "2"],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert set(figures) == {"finger_local", "finger_online", "token_counter"}
    assert all(f["n"] == 2 and f["p50_ms"] > 0 for f in figures.values())


def test_the_fleet_fanin_benchmark_runs():
    run = subprocess.run([sys.executable, str(BENCH / "fleet_fanin.py"), "--json", "--sites", "3", "--events", "5",
                          "--seconds", "1", "--plain"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert figures["engine"]["complete"] and figures["bare"]["complete"]
    assert figures["engine_msgs_per_s"] > 0 and figures["bare_msgs_per_s"] > 0 and figures["p99_ms"] > 0
