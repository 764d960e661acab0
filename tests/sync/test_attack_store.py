"""The store-link attacks of issue 8 (§2, §3) against the real controller and the emulator:
every one must fail, on more than one seed. (With the v1.1 defences switched off, the
same run reports replays and undetected audit rewrites: the counts are not vacuous.)"""

import json
import subprocess
import sys

import pytest

from hwsim.scenarios.attack_store import attacks, run_attacks

MUST_BE_ZERO = ("replays_accepted", "forged_acks_accepted", "rollbacks_accepted", "audit_rewrites_undetected")


@pytest.mark.parametrize("seed", [0, 3])
async def test_every_attack_fails(tmp_path, seed):
    result = await attacks(tmp_path, seed)
    assert {k: result[k] for k in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), result["notes"]
    assert result["attacks_run"] >= 18 and result["notes"] == []


def test_run_attacks_from_synchronous_code(tmp_path):
    result = run_attacks(tmp_path, 1)
    assert result["attacks_run"] >= 18 and not any(result[k] for k in MUST_BE_ZERO)


def test_hook_prints_the_figures():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "attack-store", "--json", "--seed", "2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["scenario"] == "attack-store" and all(result[k] == 0 for k in MUST_BE_ZERO)
