"""Log lines never draw over a screen: while one owns the terminal they go to a file, or
stay on stderr when stderr is systemd's journal (kiosk.logs)."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest

from kiosk.logs import JOURNAL, away_from_screen, is_journal, screen_log_path

log = logging.getLogger("kiosk.test")


@pytest.fixture
def to_stderr():
    """Adds a handler to the root logger writing to stderr as it is when called (inside
    the test, where capsys has replaced it), as `hwsim demo` sets one up."""
    root = logging.getLogger()
    level = root.level
    added = []

    def add() -> logging.Handler:
        added.append(logging.StreamHandler(sys.stderr))
        root.addHandler(added[-1])
        root.setLevel(logging.INFO)
        return added[-1]
    yield add
    for handler in added:
        root.removeHandler(handler)
    root.setLevel(level)


def test_while_a_screen_shows_log_lines_go_to_a_private_file(tmp_path, capsys, to_stderr):
    handler = to_stderr()
    path = tmp_path / "demo.log"
    with away_from_screen(path) as where:
        log.warning("door 3 did not open")
        assert handler not in logging.getLogger().handlers
    assert where == str(path)
    assert capsys.readouterr().err == ""
    assert "WARNING kiosk.test: door 3 did not open" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    log.warning("the screen is gone")   # stderr again afterwards
    assert "the screen is gone" in capsys.readouterr().err
    assert "the screen is gone" not in path.read_text()


def test_under_systemd_with_stderr_in_the_journal_nothing_moves(tmp_path, monkeypatch, to_stderr):
    journal = open(tmp_path / "journal-stream", "w")   # stands for the socket systemd connects
    seen = os.fstat(journal.fileno())
    monkeypatch.setattr(sys, "stderr", journal)
    monkeypatch.setenv("JOURNAL_STREAM", f"{seen.st_dev}:{seen.st_ino}")
    assert is_journal(sys.stderr)
    handler = to_stderr()
    with away_from_screen(tmp_path / "demo.log") as where:
        assert handler in logging.getLogger().handlers
    journal.close()
    assert where == JOURNAL
    assert not (tmp_path / "demo.log").exists()


def test_a_journal_stream_of_another_file_is_not_this_stderr(tmp_path, monkeypatch):
    other = os.stat(tmp_path)
    monkeypatch.setenv("JOURNAL_STREAM", f"{other.st_dev}:{other.st_ino}")
    assert not is_journal(sys.stderr)
    monkeypatch.setenv("JOURNAL_STREAM", "garbage")
    assert not is_journal(sys.stderr)


def test_a_screen_run_by_hand_logs_under_xdg_state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = screen_log_path("recipient")
    assert path == tmp_path / "state" / "kiosk" / "recipient.log"
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
