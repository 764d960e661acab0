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
async def test_token_bio_day(pcscd, locks, seed):
    result = await token_bio_day.run(locks=locks, seed=seed)
    assert result["unexpected"] == []
    assert result["pickups"] == 27 and result["released"] == 25          # every rightful one; no impostor
    assert result["nfc_pickups"] == 5
    assert result["impostors_locked_out"] == 2
    for key in ("token_forgery_accepted", "wrong_finger_accepted", "templates_left_behind", "crashes",
                "released_without_door_evidence", "released_twice"):
        assert result[key] == 0, key
    # 125 kHz: a copied and an edited token per run (two runs); NFC: a copied (genuine, another
    # parcel's) token; an edited NFC token is refused at the read (check digits, signature).
    assert result["tamper_alarms"] == 5 and result["audit_chain_ok"]


async def test_the_judge_sees_a_module_that_is_not_wiped(monkeypatch):
    monkeypatch.setattr(FingerprintR30x, "_wipe_quietly", lambda self: None)
    result = await token_bio_day.run(seed=1, nfc=False)
    assert result["templates_left_behind"] > 0
    assert any("templates_left_behind" in line for line in result["unexpected"])


def test_hook_prints_one_json_object(pcscd):
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "token-bio-day", "--json", "--locks", "gpio"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    result = json.loads(run.stdout)
    for key in ("pickups", "released", "token_forgery_accepted", "wrong_finger_accepted", "templates_left_behind",
                "crashes"):
        assert key in result
