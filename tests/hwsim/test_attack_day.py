"""`hwsim scenario attack-day`: the red team's attacks hold on several seeds, and the
scenario notices when a guard is taken away (so its zeros mean something)."""

from __future__ import annotations

import pytest

from kiosk.domain import parcels
from kiosk.service.scans import ScanRouter
from hwsim.scenarios import attack_day

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("locks,seed", [("gpio", 1), ("kerong", 2)])
async def test_every_attack_is_held(locks, seed, tmp_path):
    result = await attack_day.run(locks=locks, seed=seed, folder=tmp_path)
    assert {key: result[key] for key in attack_day.MUST_BE_ZERO} == dict.fromkeys(attack_day.MUST_BE_ZERO, 0), \
        result["by_attack"]
    assert not attack_day.failed(result)
    assert result["attacks_run"] > 1000


async def test_it_sees_an_unpaid_release(mocker, tmp_path):
    mocker.patch.object(parcels, "check_paid", lambda parcel: None)
    mocker.patch("kiosk.service.clerk.check_paid", lambda parcel: None)
    result = await attack_day.run(locks="gpio", seed=3, folder=tmp_path)
    assert result["unpaid_releases"] >= 3
    assert attack_day.failed(result)


async def test_it_sees_a_read_from_the_wrong_scanner(mocker, tmp_path):
    real_feed = ScanRouter.feed
    mocker.patch.object(ScanRouter, "feed", lambda self, scan, desk=None: real_feed(self, scan, "counter"))
    result = await attack_day.run(locks="gpio", seed=4, folder=tmp_path)
    assert result["foreign_reads_accepted"] == 1
