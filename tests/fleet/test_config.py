"""The [fleet] table: off when absent, checked like the others when present."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.sites import fleet_toml
from hwsim.site import write_config
from kiosk.config import load
from kiosk.errors import ConfigError


def test_no_fleet_table_means_no_fleet_link(tmp_path):
    config = load(write_config(tmp_path / "site"))
    assert not config.fleet.enabled


def test_a_fleet_table_is_read_with_its_defaults(tmp_path):
    key = Ed25519PrivateKey.generate().public_key()
    extra = fleet_toml(tmp_path / "secrets", "mqtt://127.0.0.1:1883", "s-0042", password="pw", operator_key=key)
    fleet = load(write_config(tmp_path / "site", extra=extra)).fleet
    assert (fleet.broker, fleet.site, fleet.user, fleet.protocol) == ("mqtt://127.0.0.1:1883", "s-0042", "s-0042", "5")
    assert fleet.password_file.is_absolute() and fleet.operator_key_file.is_absolute()
    assert fleet.publish_interval_s == 60 and fleet.keepalive_s == 30


@pytest.mark.parametrize(("lines", "key", "words"), [
    ('broker = "mqtt://fleet.example.jp:1883"', "fleet.broker", "loopback"),
    ('broker = "mqtts://fleet.example.jp:8883"', "fleet.broker", "ca_file"),
    ('broker = "https://fleet.example.jp"', "fleet.broker", "mqtts://"),
    ('broker = "mqtt://127.0.0.1:1883"\nsite = "a/b"', "fleet.site", "letters"),
    ('broker = "mqtt://127.0.0.1:1883"\nprotocol = "4"', "fleet.protocol", "'5'"),
    ('broker = "mqtt://127.0.0.1:1883"\nca_file = "missing.pem"', "fleet.ca_file", "no such file"),
])
def test_a_wrong_fleet_table_says_which_key_and_why(tmp_path, lines, key, words):
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path / "site", extra=f"\n[fleet]\n{lines}\n"))
    problems = dict(info.value.problems)
    assert key in problems and words in problems[key], problems


def test_commands_need_the_operators_key(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path / "site", extra='\n[fleet]\nbroker = "mqtt://127.0.0.1:1883"\n'))
    assert "fleet.operator_key_file" in dict(info.value.problems)
    bad = tmp_path / "operator.pub"
    bad.write_text("garbage\n")
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path / "site", extra=f'\n[fleet]\nbroker = "mqtt://127.0.0.1:1883"\n'
                                                     f'operator_key_file = "{bad}"\n'))
    assert "not an Ed25519 public key" in dict(info.value.problems)["fleet.operator_key_file"]
