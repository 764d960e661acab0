"""`hwsim scenario network-day` (issue 15): sizes, low doors, several parcels per visit,
re-opens, extensions, drop-offs and the courier's round on a day, judged from the site's records."""

from __future__ import annotations

import pytest

from hwsim.scenarios import network_day

pytestmark = pytest.mark.slow


async def test_the_day_holds_its_invariants(tmp_path):
    result = await network_day.run(seed=1, folder=tmp_path)
    assert result["unexpected"] == []
    assert (result["wrong_size_allocations"], result["released_twice"], result["collected_without_evidence"]) == (0, 0, 0)
    assert result["audit_chain_ok"]
    assert result["visits"] > 0 and result["parcels_collected"] > result["visits"] - result["extensions"] - 1
    assert result["reopens"] > 0 and result["low_door_requests"] > 0 and result["next_size_up"] > 0
    assert sum(result["sent_to_counter"].values()) >= 1
    assert result["dropoffs_collected"] == result["dropoffs"] == 2 and result["returned_without_evidence"] == 0
    assert result["round_doors"] == result["dropoffs_collected"] + result["expired_returned"]
