"""Shared fixtures: a whole simulated pickup point on either lock driver, and leak checks;
Hypothesis's profiles."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, settings

from kiosk.clock import ManualClock
from hwsim.site import start_site
from tests.support import no_thread_leaks, strict_no_leaks

# Hypothesis: "ci" (chosen when CI=true, as .ci/run sets) is derandomized, so a CI run is
# repeatable and a failure shows up again on the next run; "dev" explores new examples on
# every run and keeps the failing ones in .hypothesis/. Neither has a deadline: a shared,
# busy machine makes any per-example time limit flaky. HYPOTHESIS_PROFILE overrides.
# A test's own @settings (e.g. a larger max_examples) still wins over the profile.
settings.register_profile("ci", derandomize=True, database=None, max_examples=100, deadline=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev"))


@pytest.fixture(params=["kerong", "gpio"])
def lock_driver(request):
    """Run the test once per LockBank driver: each against its own emulator."""
    return request.param


@pytest.fixture
async def site(tmp_path, lock_driver):
    """A started controller with 6 lockers and the real driver of ``lock_driver``."""
    s = await start_site(tmp_path / "site", clock=ManualClock(), locks=lock_driver, doors=6)
    try:
        yield s
    finally:
        await s.controller.stop()


@pytest.fixture
def rng():
    return random.Random(1234)


@pytest.fixture(autouse=True)
def leak_check(request):
    """Fail a test that leaves a driver or emulator thread running (python-can's leak check);
    a test marked ``strict_leaks`` may leave no thread and no file descriptor at all."""
    strict = request.node.get_closest_marker("strict_leaks") is not None
    with strict_no_leaks() if strict else no_thread_leaks():
        yield
