"""`hwsim store`: serve as a command, and the commands that talk to a running emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.cli import main as hwsim_main
from hwsim.store import StoreEmulator
from hwsim.store.cli import store_main
from kiosk.security.keys import public_key_text
from tests.hwsim.conftest import CHEAP


@pytest.fixture
def running(tmp_path, clock):
    store = StoreEmulator(tmp_path / "store", clock=clock, hash_params=CHEAP, seed=3)
    store.start(admin_port=0)
    yield store
    store.close()


def run(capsys, *argv) -> tuple[int, str, str]:
    status = hwsim_main(["store", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_technician_s_session(running, capsys):
    url = ["--url", running.admin_url]
    key = public_key_text(Ed25519PrivateKey.generate().public_key())
    # "--": a base64url key may start with "-" (1 key in 64), which argparse would take for an option.
    assert run(capsys, "register-site", *url, "--", "sim-0001", key)[0] == 0
    assert run(capsys, "register-site", *url, "--", "sim-0002", "-" + key[1:])[0] == 0

    status, out, _ = run(capsys, "create-parcel", "--site", "sim-0001", "--amount", "1200", "--locker", "2", *url)
    assert status == 0
    trade = out.split("trade number:")[1].split()[0]
    secret = out.split("secret:")[1].split()[0]
    assert len(secret) == 6 and running.parcel_state("sim-0001", trade) == "expected"

    status, out, _ = run(capsys, "create-parcel", "--site", "sim-0001", "--method", "biometric", "--json", *url)
    told = json.loads(out)
    assert told["secret"] is None and told["template"]

    assert run(capsys, "cancel-parcel", "--site", "sim-0001", trade, *url)[0] == 0
    assert running.parcel_state("sim-0001", trade) == "cancelled"

    status, out, _ = run(capsys, "fault", "http_500", "p=0.25", "path=/events", *url)
    assert status == 0 and running.faults["http_500"]["p"] == 0.25 and running.faults["http_500"]["path"] == "/events"
    run(capsys, "fault", "timeout_after_processing", "mode=hold", "seconds=5", *url)
    assert running.faults["timeout_after_processing"]["mode"] == "hold"
    run(capsys, "fault", "down", *url)
    assert "down" in running.faults                  # the admin port still answers while the store is down
    assert run(capsys, "clear-faults", "down", *url)[0] == 0
    assert set(running.faults) == {"http_500", "timeout_after_processing"}
    assert run(capsys, "clear-faults", *url)[0] == 0 and running.faults == {}

    status, out, _ = run(capsys, "events", *url)
    assert status == 0 and "0 event(s), 0 duplicate(s) received" in out
    status, out, _ = run(capsys, "info", *url)
    assert json.loads(out)["public_key"] == running.public_key_text


def test_mistakes_are_reported_not_raised(running, capsys):
    url = ["--url", running.admin_url]
    status, _, err = run(capsys, "create-parcel", "--site", "nobody", *url)
    assert status == 1 and "not registered" in err
    status, _, err = run(capsys, "fault", "slow", "seconds=-3", *url)
    assert status == 1 and "seconds" in err
    status, _, err = run(capsys, "fault", "slow", "bogus", *url)
    assert status == 1 and "key=value" in err
    status, _, err = run(capsys, "register-site", "sim-1", "not-a-key", *url)
    assert status == 1


def test_no_emulator_running(capsys):
    status, _, err = run(capsys, "events", "--url", "http://127.0.0.1:9")
    assert status == 1 and "hwsim store serve" in err


def test_admin_api_answers_json_errors(running):
    base = running.admin_url
    assert httpx.get(base + "/_admin/nothing").status_code == 404
    assert httpx.delete(base + "/_admin/faults").status_code == 405
    assert httpx.post(base + "/_admin/faults", content=b"[1]").status_code == 400
    assert httpx.post(base + "/_admin/parcels", json={}).json()["error"] == "invalid"
    assert httpx.get(base + "/_admin/requests?last=x").status_code == 400
    assert httpx.get(running.url + "/_admin/info").status_code == 404   # not on the store's port


@pytest.mark.slow
def test_serve_runs_until_terminated(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "hwsim.cli", "store", "serve", "--folder", str(tmp_path / "s"),
                             "--port", "0", "--admin-port", "0", "--hash-memory-kib", "1024",
                             "--hash-iterations", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = {}
        while "folder" not in lines:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            key, _, value = line.partition(":")
            lines[key.strip()] = value.strip()
        assert lines["store url"].startswith("http://127.0.0.1:")
        key = public_key_text(Ed25519PrivateKey.generate().public_key())
        assert store_main(["register-site", "sim-0001", key, "--url", lines["admin url"]]) == 0
        assert store_main(["create-parcel", "--site", "sim-0001", "--url", lines["admin url"]]) == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    with StoreEmulator(tmp_path / "s") as again:   # what it kept is still there
        assert again.public_key_text == lines["public key"]
