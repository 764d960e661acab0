"""The store-outage scenario holds its invariants on two seeds, one of them through the hook."""

import json
import subprocess
import sys

import pytest

from hwsim.scenarios import store_outage

pytestmark = pytest.mark.slow

HEADLINE = ("events_created", "events_at_store", "duplicates_at_store", "lost", "out_of_order",
            "bad_signatures_accepted")


def holds(result: dict) -> None:
    assert result["unexpected"] == []
    assert result["events_created"] == result["events_at_store"] > 50
    assert result["duplicates_at_store"] == result["lost"] == result["out_of_order"] == 0
    assert result["bad_signatures_accepted"] == 0
    assert result["kills"] == 2 and result["resends_deduplicated"] > 0   # retries happened, and were harmless
    assert result["released_twice"] == result["released_without_door_evidence"] == 0
    assert result["audit_chain_ok"] and result["secrets_at_rest"] == 0
    assert result["verified"]["online"] > 0 and result["verified"]["local_fallback"] > 0


async def test_scenario_in_process():
    holds(await store_outage.run(locks="gpio", seed=0))


def test_hook_prints_the_headline_figures():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "store-outage", "--json", "--locks", "gpio",
                          "--seed", "5"], capture_output=True, text=True, timeout=300)
    result = json.loads(run.stdout) if run.stdout.strip().startswith("{") else {}
    assert run.returncode == 0, ({key: result.get(key) for key in ("unexpected", "kills", *HEADLINE)},
                                 run.stderr[-600:])
    assert list(result)[3:3 + len(HEADLINE)] == list(HEADLINE)
    holds(result)
