"""screens-day: screens as processes on the service socket, SIGKILLed mid-operation and
restarted, the controller restarted under them; nothing applied twice, nothing lost, no
staff call answered to a screen that did not sign in."""

import json
import subprocess
import sys

import pytest

from hwsim.scenarios import screens_day

pytestmark = pytest.mark.slow


async def test_a_day_of_dying_screens_loses_nothing_and_repeats_nothing():
    result = await screens_day.run(seed=3, parcels=6, kill_p=0.3)
    assert not screens_day.failed(result), result
    assert result["screen_restarts"] > 0 and result["controller_restarts"] == 1   # the faults happened
    assert result["collected"] == result["parcels"] == 9 and result["operations"] > 30


def test_the_judge_fails_a_bad_day():
    good = {"applied_twice": 0, "lost": 0, "unauthorised_calls_accepted": 0, "unexpected": []}
    assert not screens_day.failed(good)
    for key in ("applied_twice", "lost", "unauthorised_calls_accepted"):
        assert screens_day.failed(good | {key: 1})


def test_the_hook_prints_the_figures():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "screens-day", "--json", "--seed", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-1500:]
    result = json.loads(run.stdout)
    assert {"operations", "applied_twice", "lost", "screen_restarts", "unauthorised_calls_accepted"} <= set(result)
