"""The cash-day scenario holds the money invariants on several seeds, and the hook prints JSON."""

import json
import subprocess
import sys

import pytest

from hwsim.scenarios import cash_day

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_leaks():
    yield  # a whole controller: the suite-wide thread check (tests/conftest.py) applies instead


@pytest.mark.parametrize("seed", [0, 5])
async def test_cash_day(seed):
    result = await cash_day.run(locks="gpio", seed=seed)
    assert result["unexpected"] == []
    assert result["released_unpaid"] == 0 and result["paid_twice"] == 0 and result["money_unaccounted"] == 0
    assert result["ledger_total"] == result["acceptor_counted_total"] - result["change_paid"]
    assert result["ledger_total"] == result["paid_total"] + result["refund_owed_total"]
    assert result["paid"] == result["visits"] and result["counter_paid"] == 4
    assert result["collected"] == result["cash_collected_events"] == result["visits"] + result["counter_paid"]
    assert result["counter_cash_total"] == result["counter_books_total"] > 0
    assert result["restarts"] == 1 and set(cash_day.BEHAVIOURS) <= set(result["behaviours"])
    assert result["audit_chain_ok"] and result["released_without_door_evidence"] == 0


def test_hook_prints_one_json_object():
    run = subprocess.run([sys.executable, "-m", "hwsim.cli", "scenario", "cash-day", "--json", "--locks", "gpio",
                          "--seed", "2"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for key in ("payments", "paid_total", "ledger_total", "acceptor_counted_total", "change_paid",
                "refund_owed_total", "released_unpaid", "paid_twice", "money_unaccounted"):
        assert key in result
