"""Mosquitto (the Debian package) as the fleet's broker, private to one test or run.

``Broker(folder, users={...})`` writes a config into ``folder`` — one loopback listener on
a free port, no anonymous clients, a password file made by ``mosquitto_passwd``, an ACL
file in which each site may write only ``kiosk/v1/<its user>/#`` and read only its own
``cmd`` (the operator reads and writes everything), persistence on (so a restart keeps
retained state, sessions and queued messages) — and, with ``tls=True``, a test CA and a
server certificate (hwsim.fleet.pki) on that listener. Never the system's mosquitto
service: a process of our own, stopped by ``stop()``.

    with Broker(tmp / "broker", users={"operator": "pw", "s1": "pw1"}) as broker:
        broker.url            # mqtt://127.0.0.1:PORT (mqtts:// with tls=True)
        broker.restart()      # SIGTERM (it saves its database), then start again on the same port
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from hwsim.fleet.pki import TestCA, make_ca

OPERATOR = "operator"
SEARCH = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def find(program: str) -> str | None:
    """A Mosquitto program's path (root's sbin is not on every user's PATH), or None."""
    found = shutil.which(program)
    if found:
        return found
    for folder in SEARCH:
        if os.access(Path(folder) / program, os.X_OK):
            return str(Path(folder) / program)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def acl_text(operator: str = OPERATOR) -> str:
    return (f"# The operator reads every site and sends commands.\nuser {operator}\ntopic readwrite kiosk/v1/#\n\n"
            "# Each site (its user name is its site id) writes only its own topics and reads only its commands.\n"
            "pattern write kiosk/v1/%u/#\npattern read kiosk/v1/%u/cmd\n")


class Broker:
    def __init__(self, folder: Path, *, users: dict[str, str], tls: bool = False, port: int | None = None,
                 max_queued: int = 1_000_000):
        mosquitto, passwd = find("mosquitto"), find("mosquitto_passwd")
        if mosquitto is None or passwd is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.mosquitto, self.passwd = mosquitto, passwd
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.tls = tls
        self.ca: TestCA | None = None
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.log_path = folder / "mosquitto.log"
        self._write_passwords(users)
        (folder / "acl").write_text(acl_text(), encoding="utf-8")
        (folder / "data").mkdir(exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous false",
                 f"password_file {folder / 'passwd'}", f"acl_file {folder / 'acl'}",
                 "persistence true", f"persistence_location {folder / 'data'}/", "autosave_interval 60",
                 f"max_queued_messages {max_queued}", "max_inflight_messages 100", "max_keepalive 3600",
                 f"log_dest file {self.log_path}", "log_type error", "log_type warning", "log_type notice",
                 "log_type information", "connection_messages true"]
        if os.geteuid() == 0:
            lines.append("user root")   # stay who we are: the folder is ours alone
        if tls:
            self.ca = make_ca(folder / "pki")
            cert, key = self.ca.issue_server(folder / "pki")
            lines += [f"cafile {self.ca.path}", f"certfile {cert}", f"keyfile {key}", "tls_version tlsv1.2"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _write_passwords(self, users: dict[str, str]) -> None:
        """All users at once: a plain-text file hashed in place by ``mosquitto_passwd -U``."""
        path = self.folder / "passwd"
        path.write_text("".join(f"{user}:{password}\n" for user, password in users.items()), encoding="utf-8")
        path.chmod(0o600)
        subprocess.run([self.passwd, "-U", str(path)], check=True, capture_output=True, timeout=60)

    def add_user(self, user: str, password: str) -> None:
        """One more user (``mosquitto_passwd -b``), read by a running broker at once (SIGHUP)."""
        subprocess.run([self.passwd, "-b", str(self.folder / "passwd"), user, password], check=True,
                       capture_output=True, timeout=30)
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGHUP)

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> Broker:
        self.process = subprocess.Popen([self.mosquitto, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited ({self.process.returncode}): {err.strip()} {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log_tail()}") from None
                time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (mosquitto saves its database and exits), SIGKILL if it does not."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if process.stderr:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
