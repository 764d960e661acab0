"""Fleet fixtures: a private Mosquitto (plain TCP on loopback; TLS where a test asks), the
operator's key and subscriber, and light sites linked to the broker (hwsim.fleet)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.broker import Broker, find
from hwsim.fleet.operator import Operator
from hwsim.fleet.sites import light_settings, start_light_site
from kiosk.clock import SystemClock

if find("mosquitto") is None or find("mosquitto_passwd") is None:
    pytest.skip("mosquitto is not installed (scripts/debian-packages.txt)", allow_module_level=True)

PASSWORDS = {"operator": "operator-pw", "s1": "pw-s1", "s2": "pw-s2", "s3": "pw-s3", "k1": "pw-k1"}
FAST = {"keepalive_s": 2, "reconnect_max_s": 1, "publish_interval_s": 3600}


@pytest.fixture
def broker(tmp_path):
    with Broker(tmp_path / "broker", users=PASSWORDS) as b:
        yield b


@pytest.fixture
def operator_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def operator(broker, operator_key):
    op = Operator(broker.url, PASSWORDS["operator"], operator_key).start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture
async def sites(tmp_path, broker, operator_key):
    """``make("s1")``: a light site linked to the broker (a database and a fleet link);
    every one made is stopped after the test."""
    made: list = []

    def make(site: str, *, clock=None, url: str | None = None, password: str | None = None, **settings):
        s = start_light_site(tmp_path / site, site, light_settings(url or broker.url, site, **(FAST | settings)),
                             password=password or PASSWORDS[site], operator_key=operator_key.public_key(),
                             clock=clock or SystemClock())
        made.append(s)
        return s

    yield make
    for s in made:
        await s.stop()
