"""`hwsim scenario crash-day`: SIGKILLs at random instants while people deposit and
collect; the books against the doors. Safety figures are always 0, and with occupancy
sensors no locker needs a person."""

from __future__ import annotations

import pytest

from hwsim.scenarios import crash_day

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2])
async def test_crash_day_holds(seed, tmp_path):
    result = await crash_day.run(seed=seed, kills=4, folder=tmp_path)
    assert result["kills"] == 4 and result["parcels"] == 24
    assert {k: result[k] for k in crash_day.MUST_BE_ZERO} == dict.fromkeys(crash_day.MUST_BE_ZERO, 0), result
    assert result["audit_chain_ok"] and result["lockers_needing_a_person"] == 0
    assert not crash_day.failed(result)


def test_the_verdict_fails_on_any_safety_figure():
    good = {k: 0 for k in crash_day.MUST_BE_ZERO} | {"audit_chain_ok": True, "unexpected": [],
                                                      "occupancy_sensors": True, "lockers_needing_a_person": 0}
    assert not crash_day.failed(good)
    for key in crash_day.MUST_BE_ZERO:
        assert crash_day.failed(good | {key: 1})
    assert crash_day.failed(good | {"lockers_needing_a_person": 1})
    assert not crash_day.failed(good | {"lockers_needing_a_person": 1, "occupancy_sensors": False})
