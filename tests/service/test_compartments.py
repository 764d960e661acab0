"""Sizes and reachable doors through the whole chain (issue 15 §3): the store emulator
tags parcels with a size and low_door (contract v1.3), the kiosk pulls them through the
real signed manifest, and the courier's deposits open the right doors — the smallest
that fits, the next size up when it is full, a low door for a recipient who asked, and
the counter (said why) when nothing fits; a [lockers.sizes] that gives a door two sizes
is a config error."""

from __future__ import annotations

import pytest

from hwsim.site import COURIER_CODE, FAST_HASH, start_site, write_config
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import ConfigError, NoLockerFree
from tests.sync.conftest import LINK

SITE = "sim-site"
SIZES = {"S": (1, 3), "M": (2, 4), "XL": (5,)}


@pytest.fixture
async def linked(tmp_path):
    clock = ManualClock()
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=3) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio",
                               doors=5, low_doors=(1, 2), sizes=SIZES)
        try:
            yield sim, store
        finally:
            await sim.controller.stop()


async def test_each_parcel_in_the_door_that_fits(linked):
    sim, store = linked
    c = sim.controller
    small = store.create_parcel(SITE, "locker", size="S")
    medium = store.create_parcel(SITE, "locker", size="M")
    reach = store.create_parcel(SITE, "locker", size="S", low_door=True)
    large = store.create_parcel(SITE, "locker", size="L")
    large2 = store.create_parcel(SITE, "locker", size="L")
    await c.pull_manifest()
    kept = c.site.db.parcel(reach.trade_number)
    assert (kept.size, kept.low_door) == ("S", True)
    token = (await c.courier_login(COURIER_CODE)).token
    assert await sim.put_in(token, small.trade_number) == 3        # S, and the high one: low doors kept
    assert await sim.put_in(token, reach.trade_number) == 1        # S and low
    assert await sim.put_in(token, medium.trade_number) == 4       # M, high
    assert await sim.put_in(token, large.trade_number) == 5        # L is not here: XL
    with pytest.raises(NoLockerFree) as refused:                  # door 2 (M) is free, nothing L or bigger
        await c.deposit(token, large2.trade_number)
    assert refused.value.reason == "no_fitting_door"
    assert c.site.db.parcel(large2.trade_number).state.value == "expected"


async def test_a_low_door_recipient_never_gets_a_high_door(linked):
    sim, store = linked
    c = sim.controller
    first = store.create_parcel(SITE, "locker", size="S", low_door=True)
    second = store.create_parcel(SITE, "locker", size="S", low_door=True)
    third = store.create_parcel(SITE, "locker", low_door=True)
    await c.pull_manifest()
    token = (await c.courier_login(COURIER_CODE)).token
    assert await sim.put_in(token, first.trade_number) == 1
    assert await sim.put_in(token, second.trade_number) == 2       # an M door that is low
    with pytest.raises(NoLockerFree) as refused:                  # high doors 3, 4, 5 are free, but high
        await c.deposit(token, third.trade_number)
    assert refused.value.reason == "no_low_door"


def test_a_door_with_two_sizes_is_a_config_error(tmp_path):
    path = write_config(tmp_path / "site", locks="gpio", doors=4, sizes={"S": (1, 2), "M": (2,)})
    with pytest.raises(ConfigError) as err:
        load(path)
    assert any(key == "lockers.sizes.m" and "door 2" in why for key, why in err.value.problems)
