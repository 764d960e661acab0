"""The token-bio-day scenario holds its invariants, its judge notices a module left holding a
template, and its hook prints the JSON the issue asks for."""

import json
import subprocess
import sys

import pytest

from drivers.biometrics.r30x import FingerprintR30x
from hwsim.scenarios import token_bio_day

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("locks, seed", [("gpio", 0), ("kerong", 3)])
async def test_token_bio_day(locks, seed):
    result = await token_bio_day.run(locks=locks, seed=seed)
    assert result["unexpected"] == []
    assert result["pickups"] == 22 and result["released"] == 20          # every rightful one; no impostor
    assert result["impostors_locked_out"] == 2
    for key in ("token_forgery_accepted", "wrong_finger_accepted", "templates_left_behind", "crashes",
                "released_without_door_evidence", "released_twice"):
        assert result[key] == 0, key
    assert result["tamper_alarms"] == 4 and result["audit_chain_ok"]     # a copied and an edited token, per mode


async def test_the_judge_sees_a_module_that_is_not_wiped(monkeypatch):
    monkeypatch.setattr(FingerprintR30x, "_wipe_quietly", lambda self: None)
    result = await token_bio_day.run(seed=1)
    assert result["templates_left_behind"] > 0
    assert any("templates_left_behind" in line for line in result["unexpected"])


def test_hook_prints_one_json_object():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "token-bio-day", "--json", "--locks", "gpio"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    result = json.loads(run.stdout)
    for key in ("pickups", "released", "token_forgery_accepted", "wrong_finger_accepted", "templates_left_behind",
                "crashes"):
        assert key in result
