"""A private pcscd with vpcd readers, for tests, scenarios, the bench and ``hwsim card``.

pcscd 1.9 always serves ``/run/pcscd/pcscd.comm`` (it ignores ``PCSCLITE_CSOCK_NAME``;
only the client library reads it). So the private daemon runs in its own mount
namespace, where a temporary directory is bind-mounted over ``/run/pcscd``: its socket
appears in that directory, and ``PCSCLITE_CSOCK_NAME`` points this process's PC/SC
client there. Its ``reader.conf.d`` has one vpcd entry on a free pair of TCP ports
(vpcd gives two slots per entry), named ``HWSIM Card Reader 00 00`` and ``... 00 01``.
No system service is touched, and two test runs on one machine do not meet.

Needs root (or CAP_SYS_ADMIN) for the namespace, the ``pcscd`` binary and vpcd's
``libifdvpcd.so``; ``missing()`` says which is absent.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

VPCD_LIB = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
PCSCD = shutil.which("pcscd", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or "/usr/sbin/pcscd"
UNSHARE = shutil.which("unshare", path=os.environ.get("PATH", "") + ":/usr/bin:/bin") or "/usr/bin/unshare"
READER = "HWSIM Card Reader"


def missing() -> str | None:
    """Why a private pcscd cannot run here, or None."""
    if not os.path.exists(PCSCD):
        return "pcscd is not installed (Debian: apt-get install pcscd)"
    if not os.path.exists(VPCD_LIB):
        return f"vpcd is not installed ({VPCD_LIB}; Debian: apt-get install vsmartcard-vpcd)"
    if not os.path.exists(UNSHARE):
        return "unshare (util-linux) is not installed"
    if os.geteuid() != 0:
        return "a private pcscd needs root (a mount namespace over /run/pcscd)"
    return None


def _free_port_pair() -> int:
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1   # Linux hands out odd ports to bind(0)
        if port < 1024 or port > 65000:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", port))
                b.bind(("0.0.0.0", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of TCP ports for vpcd")


class PrivatePcscd:
    """One pcscd in its own mount namespace; ``ports`` are its two vpcd slots and
    ``reader_names`` their PC/SC names."""

    def __init__(self) -> None:
        self.port = _free_port_pair()
        self.dir = tempfile.mkdtemp(prefix="hwsim-pcscd-")
        self.socket_path = os.path.join(self.dir, "run", "pcscd.comm")
        self.ports = (self.port, self.port + 1)
        self.reader_names = (f"{READER} 00 00", f"{READER} 00 01")
        self._proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> "PrivatePcscd":
        """Start it and wait for its socket and the vpcd listeners. Raises RuntimeError
        (with pcscd's own output) when it does not come up."""
        why = missing()
        if why:
            raise RuntimeError(why)
        conf = os.path.join(self.dir, "reader.conf.d")
        run = os.path.join(self.dir, "run")
        os.makedirs(conf)
        os.makedirs(run)
        with open(os.path.join(conf, "vpcd"), "w") as f:
            f.write(f'FRIENDLYNAME "{READER}"\nDEVICENAME /dev/null:{self.port}\n'
                    f"LIBPATH {VPCD_LIB}\nCHANNELID {self.port}\n")
        # The daemon lives as long as this process holds the pipe's write end: when the
        # process ends, however it ends (even SIGKILL), the read below returns and pcscd is
        # killed (it keeps nothing worth a graceful stop, and a SIGTERM can leave it hanging
        # on vpcd), so no private daemon outlives its test run holding its ports.
        self._log = open(os.path.join(self.dir, "pcscd.log"), "wb")
        lifeline_r, self._lifeline = os.pipe()
        # The lifeline is the shell's stdin: a redirection from the pipe's own descriptor
        # (``<&12``) is a syntax error in dash once the number has two digits.
        script = (f"mkdir -p /run/pcscd && mount --bind '{run}' /run/pcscd || exit 1; "
                  f"'{PCSCD}' --foreground --config '{conf}' </dev/null & daemon=$!; "
                  f"read _; kill -KILL $daemon; wait $daemon; rm -rf '{self.dir}'")
        try:
            self._proc = subprocess.Popen(
                [UNSHARE, "--mount", "--propagation", "private", "sh", "-c", script],
                stdin=lifeline_r, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            os.close(lifeline_r)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.socket_path) and self._listening()):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.dir, "pcscd.log"), "rb") as f:
                    output = f.read()[-2000:].decode(errors="replace")
                self.stop()
                raise RuntimeError(f"private pcscd did not start: {output}")
            time.sleep(0.05)
        os.environ["PCSCLITE_CSOCK_NAME"] = self.socket_path
        return self

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                pass
        except OSError:
            return False
        # That probe was a card that came and went: fine, vpcd takes the next one.
        return True

    def stop(self) -> None:
        """Stop the daemon and remove its directory. Idempotent."""
        proc, self._proc = self._proc, None
        lifeline, self._lifeline = getattr(self, "_lifeline", None), None
        if lifeline is not None:
            os.close(lifeline)                    # the shell stops pcscd and exits
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:   # the shell and the daemon share a process group: nothing of it may remain
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<PrivatePcscd {self.socket_path} vpcd ports {self.ports}>"


_shared: PrivatePcscd | None = None
_shared_lock = threading.Lock()


def shared_pcscd() -> PrivatePcscd:
    """The process's one private pcscd, started on first use and stopped at exit.

    One per process because the PC/SC client library reads ``PCSCLITE_CSOCK_NAME`` once."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PrivatePcscd().start()
            atexit.register(_shared.stop)
        return _shared
