"""The kiosk command: run (as systemd would), status, audit verify, hash-secret."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys

import pytest

from hwsim.site import write_config
from kiosk import cli
from kiosk.security.secrets import verify_secret


@pytest.fixture
def ran_site(tmp_path):
    """A config whose database has been through one start of `kiosk run`."""
    config = write_config(tmp_path, locks="kerong", doors=4)
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(60)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)],
                            env=dict(os.environ, NOTIFY_SOCKET=sock_path), stderr=subprocess.PIPE, text=True)
    try:
        messages = b""
        while b"READY=1" not in messages:
            messages += sock.recv(4096)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
        sock.close()
    return config


@pytest.mark.slow
def test_run_notifies_ready_and_stops_on_sigterm(ran_site, capsys):
    assert cli.main(["status", "--config", str(ran_site), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [lk["door"] for lk in status["lockers"]] == ["closed"] * 4
    assert cli.main(["audit", "verify", "--config", str(ran_site)]) == 0
    assert "audit chain ok" in capsys.readouterr().out


@pytest.mark.slow
def test_audit_verify_detects_a_forged_entry(ran_site, tmp_path, capsys):
    db = tmp_path / "kiosk.db"
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'clerk:mallory' WHERE seq = 1")
    conn.commit()
    conn.close()
    assert cli.main(["audit", "verify", "--db", str(db)]) == 1
    assert "BROKEN at entry 1" in capsys.readouterr().out


def test_status_without_a_database_is_a_clear_error(tmp_path, capsys):
    config = write_config(tmp_path)
    assert cli.main(["status", "--config", str(config)]) == 1
    assert "no such database" in capsys.readouterr().err


def test_hash_secret_reads_stdin():
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "hash-secret"], input="13579\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    encoded = run.stdout.strip()
    assert verify_secret("13579", encoded) and "13579" not in encoded
