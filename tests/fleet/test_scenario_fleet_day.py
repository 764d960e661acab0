"""The fleet-day scenario, small: its invariants hold, and the hook prints the figures asked for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_fleet_day_with_five_sites_holds_its_invariants():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "fleet-day", "--json", "--sites", "5",
                          "--locks", "gpio", "--seed", "3"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    result = json.loads(run.stdout)
    for key in ("sites", "events_published", "events_received", "lost", "forged_commands_executed",
                "replayed_commands_executed", "offline_detected_s"):
        assert key in result
    assert result["sites"] == 5 and result["unexpected"] == []
    assert result["lost"] == 0 and result["forged_commands_executed"] == 0
    assert result["replayed_commands_executed"] == 0
    assert result["events_received"] == result["events_published"] > 0
    assert result["valid_commands_done"] == result["valid_commands_sent"] > 0
    assert result["doors_opened_on_evidence"] == result["full_sites"] >= 1
    assert result["broker_restarts"] == 1 and result["network_cuts"] >= 1
    assert 0 < result["offline_detected_s"] < 1.5 * result["keepalive_s"] + 10
    assert result["refusals_unaudited"] == 0 and result["audit_chains_ok"]
