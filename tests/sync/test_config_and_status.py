"""[store] and [verification] in the config; `kiosk status` and `kiosk site-key`."""

import json
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.site import FAST_HASH, write_config
from kiosk import cli, config
from kiosk.errors import ConfigError
from kiosk.security.keys import load_or_create_site_key, public_key_text
from tests.sync.conftest import linked_site, queue_events

# A fixed key: it is in the parametrized tests' ids, which must be the same in every
# pytest-xdist worker (a fresh key per import made each worker collect other tests).
KEY = public_key_text(Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key())


def problems(tmp_path, extra: str) -> dict:
    with pytest.raises(ConfigError) as err:
        config.load(write_config(tmp_path, locks="gpio", doors=4, hash_params=FAST_HASH, extra=extra))
    return dict(err.value.problems)


def test_defaults_without_a_store(tmp_path):
    cfg = config.load(write_config(tmp_path, locks="gpio", doors=4))
    assert not cfg.store.enabled and cfg.store.batch_size == 100
    assert cfg.site_key_path == tmp_path / "site_key.pem"
    assert cfg.verification.mode("locker") == "local" and cfg.verification.fallback == "local"


def test_a_linked_store(tmp_path):
    cfg = config.load(write_config(tmp_path, locks="gpio", doors=4, extra=f"""
[store]
url = "http://127.0.0.1:8700/"
public_key = "{KEY}"
site_key = "keys/site.pem"
batch_size = 250
[verification]
locker = "online"
fallback = "see_staff"
"""))
    assert cfg.store.url == "http://127.0.0.1:8700" and cfg.store.batch_size == 250
    assert cfg.site_key_path == (tmp_path / "keys" / "site.pem").resolve()
    assert cfg.verification.mode("locker") == "online" and cfg.verification.mode("secret") == "local"


@pytest.mark.parametrize("extra, key, words", [
    (f'[store]\nurl = "http://store.example.com"\npublic_key = "{KEY}"', "store.url", "loopback"),
    (f'[store]\nurl = "https://store.example.com"\npublic_key = "{KEY}"', "store.url", "ca_file"),
    (f'[store]\nurl = "https://store.example.com"\npublic_key = "{KEY}"\nca_file = "nope.pem"', "store.ca_file",
     "no such file"),
    ('[store]\nurl = "http://127.0.0.1:1"', "store.public_key", "required"),
    ('[store]\npublic_key = "AAAA"', "store.public_key", "Ed25519"),
    (f'[store]\nurl = "ftp://127.0.0.1"\npublic_key = "{KEY}"', "store.url", "https"),
    ('[store]\nbatch_size = 501', "store.batch_size", "between"),
    ('[store]\nbackoff_initial_s = 10\nbackoff_max_s = 5', "store.backoff_max_s", "less"),
    ('[store]\nretries = 3', "store.retries", "unknown key"),
    ('[verification]\nlocker = "online"', "verification.locker", "url is not set"),
    ('[verification]\nsecret = "remote"', "verification.secret", "'local' or 'online'"),
    ('[verification]\nfallback = "guess"', "verification.fallback", "see_staff"),
])
def test_every_store_problem_is_named(tmp_path, extra, key, words):
    found = problems(tmp_path, "\n" + extra + "\n")
    assert key in found and words in found[key]


async def test_status_shows_the_link_read_only_and_site_key_prints_the_registered_key(tmp_path, clock, store,
                                                                                        capsys):
    site = await linked_site(tmp_path, clock, store)
    c = site.controller
    await c.sync.settle()
    store.set_fault("down")
    queue_events(c.site.db, c.clock.now(), 3)
    await c.sync.settle()
    live = c.status()["store_link"]
    await c.stop()
    path = tmp_path / "site" / "kiosk.toml"

    assert cli.main(["status", "--config", str(path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    link = status["store_link"]
    # The shutdown queued one more: the audit chain's head (kiosk.service.anchoring).
    assert link["pending"] == 4 and not status["live"] and live["pending"] == 3 and link["quarantined"] == 0
    assert link["channels"]["events"]["failures"] == 1 == live["channels"]["events"]["failures"]
    assert "StoreUnreachable" in link["channels"]["events"]["last_error"]
    assert link["store"] == store.url and link["channels"]["manifest"]["last_success_at"]

    assert cli.main(["status", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "4 event(s) waiting for the store, oldest from" in text and "FAILING (1 in a row)" in text

    assert cli.main(["site-key", "--config", str(path)]) == 0
    printed = capsys.readouterr().out.strip()
    key_file = tmp_path / "site" / "site_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert printed == public_key_text(load_or_create_site_key(key_file).public_key())


def test_site_key_is_created_on_first_use(tmp_path, capsys):
    path = write_config(tmp_path, locks="gpio", doors=4)
    assert cli.main(["site-key", "--config", str(path)]) == 0
    first = capsys.readouterr().out
    assert cli.main(["site-key", "--config", str(path)]) == 0
    assert capsys.readouterr().out == first and len(first.strip()) == 43
