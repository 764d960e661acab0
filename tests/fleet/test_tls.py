"""TLS to the broker with its CA pinned: the right CA connects, any other is refused."""

from __future__ import annotations

import pytest

from hwsim.fleet.broker import Broker
from hwsim.fleet.operator import Operator
from hwsim.fleet.pki import make_ca
from tests.fleet.conftest import PASSWORDS
from tests.support import wait_until_async


@pytest.fixture
def tls_broker(tmp_path):
    with Broker(tmp_path / "tls-broker", users=PASSWORDS, tls=True) as b:
        yield b


async def test_the_pinned_ca_connects_and_another_ca_is_refused(tls_broker, sites, operator_key, tmp_path):
    assert tls_broker.url.startswith("mqtts://")
    operator = Operator(tls_broker.url, PASSWORDS["operator"], operator_key, ca_file=tls_broker.ca.path).start()
    try:
        good = sites("s1", url=tls_broker.url, ca_file=tls_broker.ca.path)
        impostor_ca = make_ca(tmp_path / "other-ca", "other")
        bad = sites("s2", url=tls_broker.url, ca_file=impostor_ca.path)
        await wait_until_async(lambda: operator.view("s1").online, "s1 online over TLS")
        good.alarm("tamper", 1)
        await wait_until_async(lambda: operator.view("s1").events, "an event over TLS")
        await wait_until_async(lambda: bad.fleet.link.last_error, "s2's failure")
        assert "certificate verify failed" in bad.fleet.link.last_error
        assert not bad.fleet.link.connected and operator.view("s2").online is None
    finally:
        operator.stop()


def test_plain_mqtt_is_refused_off_loopback_and_mqtts_needs_a_ca():
    from kiosk.fleet.settings import url_problem
    assert "loopback" in url_problem("mqtt://fleet.example.jp:1883", None)
    assert "ca_file" in url_problem("mqtts://fleet.example.jp:8883", None)
    assert url_problem("mqtts://fleet.example.jp:8883", "ca.pem") is None
    assert url_problem("mqtt://127.0.0.1:1883", None) is None
    assert "credentials" in url_problem("mqtts://site:pw@fleet.example.jp", "ca.pem")
