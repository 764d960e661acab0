"""Fixtures of the crash tests: an emulated Kerong bus owned by the test (it outlives the
controller the test kills) and one parcel."""

import pytest

from hwsim.kerong_board import KerongBoardSim
from hwsim.parcels import make_parcels
from hwsim.site import FAST_HASH
from kiosk.clock import SystemClock


@pytest.fixture
def bus():
    with KerongBoardSim(boards=1, doors=4) as sim:
        yield sim


@pytest.fixture
def parcel(rng):
    return make_parcels(1, rng, FAST_HASH, now=SystemClock().now())[0]
