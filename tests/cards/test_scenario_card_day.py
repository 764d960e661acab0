"""The card-day scenario holds its invariants, and its hook prints the JSON the issue asks for."""

import json
import subprocess
import sys

import pytest

from hwsim.scenarios import card_day

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("locks, seed", [("gpio", 0), ("kerong", 5)])
async def test_card_day(pcscd, locks, seed):
    result = await card_day.run(locks=locks, seed=seed)
    assert result["unexpected"] == []
    assert result["wrong_card_accepted"] == 0 and result["blocked_card_retried"] == 0
    assert result["released_without_signature"] == 0
    assert result["released"] == result["pickups"] == 10 and result["cards_reused"] == 2
    assert result["signatures_written"] == result["signatures_verified_by_store"] == 10
    assert result["released_without_door_evidence"] == 0 and result["released_twice"] == 0
    assert result["audit_chain_ok"] and result["returned_receipts_bad"] == 0


def test_hook_prints_one_json_object(pcscd):
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "card-day", "--json", "--locks", "gpio"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    result = json.loads(run.stdout)
    for key in ("pickups", "released", "signatures_written", "signatures_verified_by_store", "wrong_card_accepted",
                "blocked_card_retried", "released_without_signature", "cards_reused"):
        assert key in result
