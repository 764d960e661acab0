"""check-config never tracebacks (issue 9 §3): 10,000 mutated copies of the shipped configs.

Each case goes through ``config.load`` as ``kiosk check-config`` calls it, and every tenth
case also through ``kiosk check-config`` itself (``cli.main``, in this process: building
its argument parser costs more than checking a config). Allowed outcomes: a Config / exit 0, or ConfigError / exit 2 with every
problem printed as ``key: reason``. Anything else (a traceback, exit 1, another exception)
fails the test with the case's number and text. Seeded, so CI sees the same 10,000 cases
every run; ``KIOSK_FUZZ_SEED`` and ``KIOSK_FUZZ_CASES`` explore further by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random

import pytest

from kiosk import cli, config
from kiosk.errors import ConfigError
from tests.config.mutate import cases

SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "20240917"))
CASES = int(os.environ.get("KIOSK_FUZZ_CASES", "10000"))


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.slow
def test_mutated_configs_give_problems_not_tracebacks(tmp_path, monkeypatch):
    # argparse asks gettext for every help string, and gettext searches the locale folders
    # afresh each time a translation is missing: 60% of this test's time. Untranslated
    # help text changes nothing that is checked here.
    monkeypatch.setattr(argparse, "_", lambda text: text)
    folder = tmp_path / "etc" / "kiosk"      # "../var/kiosk.db" lands inside tmp_path
    folder.mkdir(parents=True)
    path = folder / "kiosk.toml"
    path.write_text("")
    before = _tree(tmp_path)
    outcomes = {"ok": 0, "problems": 0}
    for number, data in enumerate(cases(random.Random(SEED), CASES)):
        path.write_bytes(data)
        where = f"case {number} (seed {SEED}):\n{data[:600]!r}"
        try:
            config.load(path, check_writable=True)
            loaded = True
        except ConfigError as err:
            assert err.problems and all(isinstance(k, str) and isinstance(r, str) and r for k, r in err.problems), where
            loaded = False
        except Exception as err:  # the point of the test
            raise AssertionError(f"config.load raised {type(err).__name__}: {err}\n{where}") from err
        outcomes["ok" if loaded else "problems"] += 1
        if number % 10:
            continue

        out, errors = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errors):
                code = cli.main(["check-config", str(path)])
        except Exception as err:
            raise AssertionError(f"check-config raised {type(err).__name__}: {err}\n{where}") from err
        assert code in (0, 2), f"exit {code}: {errors.getvalue()}\n{where}"
        assert code == (0 if loaded else 2), f"check-config and config.load disagree\n{where}"
        if code == 2:
            lines = errors.getvalue().splitlines()
            assert lines[0].endswith("problem(s)") and all(": " in line for line in lines[1:]), where
    assert _tree(tmp_path) == before, "checking a config created or removed files"
    # The mutations must reach both outcomes, or the test proves little.
    assert outcomes["ok"] > CASES // 50 and outcomes["problems"] > CASES // 2, outcomes


def test_a_config_path_that_cannot_be_a_path(tmp_path, capsys):
    for bad in ("kiosk\x00.toml", "x" * 300 + ".toml", str(tmp_path)):
        assert cli.main(["check-config", bad]) == 2
        assert "Traceback" not in capsys.readouterr().err
