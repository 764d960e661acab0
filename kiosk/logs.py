"""Where the controller's log lines go.

Headless (``kiosk run``) they go to stderr, which systemd hands to the journal. While a
Textual screen owns the terminal, a line written to stderr would be drawn over the
screen, in the middle of what a person is reading: ``away_from_screen`` sends them to a
file instead for that time — or leaves them on stderr when stderr is the journal
(systemd sets ``JOURNAL_STREAM`` to the device and inode of the stream it connected), as
it is then no terminal at all. A unit that gives a screen the tty must therefore say
``StandardError=journal``.

Wiring a screen (``kiosk screen``, ``hwsim demo``)::

    with away_from_screen(screen_log_path("recipient")) as where:
        print(f"log: {where}")
        await RecipientApp(...).run_async()
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from kiosk import journal

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL = "the journal (journalctl)"


def setup(verbose: bool = False, identifier: str = "kiosk") -> None:
    """Log to stderr: INFO, or DEBUG when ``verbose``; httpx's one line per request only when
    verbose. When stderr is the journal (under systemd), straight to the journal instead,
    with the structured fields of kiosk.journal, tagged ``identifier``."""
    level = logging.DEBUG if verbose else logging.INFO
    to_journal = journal.handler(identifier) if is_journal(sys.stderr) else None
    if to_journal is not None:
        logging.basicConfig(level=level, handlers=[to_journal])
    else:
        logging.basicConfig(level=level, format=FORMAT)
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def screen_log_path(name: str) -> Path:
    """Where a screen run by hand logs while it shows: ``$XDG_STATE_HOME/kiosk/NAME.log``
    (``~/.local/state`` by default); the folder is made private (0700)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    folder = Path(base) / "kiosk"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{name}.log"


def is_journal(stream: TextIO) -> bool:
    """True when ``stream`` is the journal stream systemd connected (``JOURNAL_STREAM``)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        seen = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False   # closed, or not a file (a test's StringIO)
    return (seen.st_dev, seen.st_ino) == (int(device), int(inode))


def _to_terminal(handler: logging.Handler) -> bool:
    """A handler writing to this process's stderr or stdout (not a file it opened itself)."""
    if isinstance(handler, logging.FileHandler) or not isinstance(handler, logging.StreamHandler):
        return False
    return handler.stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


@contextlib.contextmanager
def away_from_screen(path: Path) -> Iterator[str]:
    """For the ``with`` block (a screen owns the terminal): the root logger's handlers that
    write to stderr or stdout give way to one appending to ``path`` (created 0600, as log
    lines may name parcels), with the same level and format; restored afterwards. When
    stderr is the journal, nothing changes. Yields where the lines go, to tell the user."""
    root = logging.getLogger()
    if is_journal(sys.stderr):
        yield JOURNAL
        return
    moved = [h for h in root.handlers if _to_terminal(h)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(moved[0].formatter if moved and moved[0].formatter else logging.Formatter(FORMAT))
    if moved:
        to_file.setLevel(min(h.level for h in moved))
    for handler in moved:
        root.removeHandler(handler)
    root.addHandler(to_file)
    try:
        yield str(path)
    finally:
        root.removeHandler(to_file)
        to_file.close()
        for handler in moved:
            root.addHandler(handler)
